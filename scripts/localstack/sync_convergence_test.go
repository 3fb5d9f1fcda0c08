package localstack

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/calevents"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// TestSyncConvergenceThroughPush runs a few seeded histories through the deployed path:
// the fake Google pushes to CalendarWebhook (with dropped and duplicated notifications),
// the webhook publishes to calendar-sync, the emulator's push subscription delivers to
// SyncCalendar (429/500 answers make Pub/Sub redeliver with backoff; 410s force full
// resyncs). After quiescing and a safety-net sync published to the topic, the store must
// equal what the fake holds. The bulk of the histories run in-process in
// shared/syncer's TestConvergence.
func TestSyncConvergenceThroughPush(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			pushHistory(t, seed)
		})
	}
}

func pushHistory(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 77))
	h := newHarness(t, harnessOptions{Push: true})
	email := fmt.Sprintf("conv%d@example.com", seed)
	primary, _ := h.addAccount(email)
	conn := mustConnect(t, h, "t1", "s1", email)
	if code, body := h.manage("PUT", staffPath("t1", "s1")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true}); code != 200 {
		t.Fatalf("select: %d %s", code, body)
	}
	var ids []string
	now := h.FG.Now()
	for step := range 12 {
		switch rng.IntN(8) {
		case 0:
			_ = h.FG.AddFault(fakegoogle.Fault{Push: "drop"})
		case 1:
			_ = h.FG.AddFault(fakegoogle.Fault{Push: "duplicate"})
		case 2:
			_ = h.FG.AddFault(fakegoogle.Fault{Op: "events.list", Status: []int{429, 500}[rng.IntN(2)]})
		case 3:
			_ = h.FG.InvalidateSyncTokens(primary)
		}
		switch op := rng.IntN(5); {
		case op <= 1 || len(ids) == 0:
			st := now.Add(time.Duration(rng.IntN(20*24*4)) * 15 * time.Minute)
			ev := &calendar.Event{Summary: fmt.Sprintf("e%d", step), Start: &calendar.EventDateTime{DateTime: st.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: st.Add(time.Hour).Format(time.RFC3339)}}
			if rng.IntN(4) == 0 {
				ev.Recurrence = []string{"RRULE:FREQ=WEEKLY;COUNT=4"}
				ev.Start.TimeZone, ev.End.TimeZone = "Europe/Berlin", "Europe/Berlin"
			}
			out, err := h.FG.CreateEvent(primary, ev)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, out.Id)
		case op == 2:
			d := now.Add(time.Duration(rng.IntN(20)) * 24 * time.Hour).Format("2006-01-02")
			e, _ := time.Parse("2006-01-02", d)
			out, err := h.FG.CreateEvent(primary, &calendar.Event{Summary: "ad", Start: &calendar.EventDateTime{Date: d}, End: &calendar.EventDateTime{Date: e.AddDate(0, 0, 1).Format("2006-01-02")}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, out.Id)
		case op == 3:
			_, _ = h.FG.PatchEvent(primary, ids[rng.IntN(len(ids))], &calendar.Event{Summary: "edited", Transparency: []string{"opaque", "transparent"}[rng.IntN(2)]})
		default:
			_ = h.FG.DeleteEvent(primary, ids[rng.IntN(len(ids))])
		}
	}
	// Quiesce: pushes delivered, faults cleared, then the safety-net sync via the topic.
	ctx := context.Background()
	if err := h.FG.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	h.FG.ClearFaults()
	ref := store.CalRef{Tenant: "t1", Staff: "s1", Connection: conn, Calendar: store.CalendarDocID(primary)}
	st := h.Stack.Platform.Store
	var want, got map[string]string
	deadline := time.Now().Add(90 * time.Second)
	for published := false; ; {
		// Publish the safety sync once no lease is held (a held lease would only mark dirty,
		// which is also correct, but waiting keeps the check simple).
		if !published {
			if c, err := st.GetCalendar(ctx, ref); err == nil && c.LeaseOwner == "" {
				if err := h.Stack.Platform.Publish(ctx, topology.CalendarSync, messages.Sync{Tenant: "t1", Staff: "s1", Connection: conn, Calendar: ref.Calendar, Reason: "safety"}); err != nil {
					t.Fatal(err)
				}
				published = true
			}
		}
		want, got = expectedView(t, h, primary, ref), storedView(t, h, ref)
		if published && equalViews(want, got) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("seed %d: store did not converge through the push path:\nwant %v\ngot  %v\nrerun: go test -run 'TestSyncConvergenceThroughPush/seed=%d' ./scripts/localstack/", seed, want, got, seed)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func equalViews(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// storedView: event id → times|busy and busy id → months, from Firestore.
func storedView(t *testing.T, h *harness, ref store.CalRef) map[string]string {
	ctx := context.Background()
	st := h.Stack.Platform.Store
	out := map[string]string{}
	snaps, err := st.Doc(ref).Collection("events").Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		var e store.Event
		if err := s.DataTo(&e); err != nil {
			t.Fatal(err)
		}
		out["ev:"+s.Ref.ID] = viewKey(e)
	}
	bs, err := st.Busy(ref.Tenant, ref.Staff).Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	months := map[string][]string{}
	for _, s := range bs {
		var bm store.BusyMonth
		if err := s.DataTo(&bm); err != nil {
			t.Fatal(err)
		}
		for id := range bm.Items {
			months[id] = append(months[id], bm.Month)
		}
	}
	for id, m := range months {
		sort.Strings(m)
		out["busy:"+id] = strings.Join(m, ",")
	}
	return out
}

func expectedView(t *testing.T, h *harness, cal string, ref store.CalRef) map[string]string {
	c, err := h.Stack.Platform.Store.GetCalendar(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation("Europe/Berlin")
	now := h.FG.Now()
	out := map[string]string{}
	for _, g := range h.FG.Events(cal, true, time.Time{}, time.Time{}) {
		e, cancelled, err := calevents.FromGoogle(g, zone)
		if err != nil || cancelled || !e.Start.Before(c.HorizonEnd) || !e.End.After(now.Add(-31*24*time.Hour)) {
			continue
		}
		out["ev:"+e.ID] = viewKey(e)
		if e.Busy {
			m := append([]string{}, e.Months...)
			sort.Strings(m)
			out["busy:"+e.ID] = strings.Join(m, ",")
		}
	}
	return out
}

func viewKey(e store.Event) string {
	return fmt.Sprintf("%s|%s|%v|%v|%s", e.Start.UTC().Format(time.RFC3339), e.End.UTC().Format(time.RFC3339), e.AllDay, e.Busy, e.Title)
}
