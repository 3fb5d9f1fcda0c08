package localstack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/opcount"
	"github.com/belbo/calsync/shared/store"
)

// pushStack is a stack with the Pub/Sub push topology, one connected account and its
// primary calendar selected, synced and watched.
type pushStack struct {
	*harness
	M       *meter
	Conn    string
	Primary string
	Ref     store.CalRef
}

func newPushStack(b testing.TB, email string) *pushStack {
	m := newMeter()
	h := newHarness(b, harnessOptions{Push: true, Meter: m})
	primary, _ := h.addAccount(email)
	conn := mustConnect(b, h, "t1", "eve", email)
	if code, body := h.manage("PUT", staffPath("t1", "eve")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true}); code != 200 {
		b.Fatalf("select: %d %s", code, body)
	}
	ps := &pushStack{harness: h, M: m, Conn: conn, Primary: primary,
		Ref: store.CalRef{Tenant: "t1", Staff: "eve", Connection: conn, Calendar: store.CalendarDocID(primary)}}
	eventually(b, 30*time.Second, "the first sync done and a channel open", func() bool {
		c, err := h.Stack.Platform.Store.GetCalendar(context.Background(), ps.Ref)
		return err == nil && c.SyncToken != "" && c.LeaseOwner == "" && !c.Dirty && ps.channel().ID != ""
	})
	return ps
}

func (ps *pushStack) channel() fakegoogle.Channel {
	for _, c := range ps.FG.Channels() {
		if c.Calendar == ps.Primary && !c.Stopped && !c.Expired {
			return c
		}
	}
	return fakegoogle.Channel{}
}

// notify posts one "exists" notification to the channel's address exactly as Google does.
func notify(client *http.Client, ch fakegoogle.Channel, n int64) (int, error) {
	req, err := http.NewRequest(http.MethodPost, ch.Address, http.NoBody)
	if err != nil {
		return 0, err
	}
	h := req.Header
	h.Set("X-Goog-Channel-ID", ch.ID)
	if ch.Token != "" {
		h.Set("X-Goog-Channel-Token", ch.Token)
	}
	h.Set("X-Goog-Channel-Expiration", ch.Expiration.UTC().Format(http.TimeFormat))
	h.Set("X-Goog-Resource-ID", ch.ResourceID)
	h.Set("X-Goog-Resource-URI", "https://www.googleapis.com/calendar/v3/calendars/"+url.PathEscape(ch.Calendar)+"/events")
	h.Set("X-Goog-Resource-State", "exists")
	h.Set("X-Goog-Message-Number", strconv.FormatInt(n, 10))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// BenchmarkStormPush: one change in Google, then 200 notifications for the calendar
// posted at once to the real CalendarWebhook over HTTP (the fake's own push is the 201st);
// each becomes a Pub/Sub message on the emulator, pushed to SyncCalendar by the push
// subscription. Counted: sync runs (= events.list calls at the fake Google, the calendar
// fitting one page), messages published and delivered. Asserted: ≤ 3 sync runs per storm,
// every notification published and every message delivered, the change stored.
func BenchmarkStormPush(b *testing.B) {
	const storm = 200
	ps := newPushStack(b, "storm@example.com")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: storm}}
	var runs, published, quiet float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ps.FG.ResetCalls()
		ps.M.reset()
		ch := ps.channel()
		start := ps.FG.Now().Add(time.Duration(26+i) * time.Hour).Truncate(time.Hour)
		b.StartTimer()
		t0 := time.Now()
		ev, err := ps.FG.CreateEvent(ps.Primary, &calendar.Event{Summary: fmt.Sprintf("storm %d", i),
			Start: &calendar.EventDateTime{DateTime: start.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: start.Add(time.Hour).Format(time.RFC3339)}})
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		for j := range storm {
			wg.Go(func() {
				if code, err := notify(client, ch, ch.Messages+100+int64(j)); err != nil || code != 200 {
					b.Errorf("notification %d: %d %v", j, code, err)
				}
			})
		}
		wg.Wait()
		// Quiet: every published sync message was pushed to SyncCalendar and acknowledged,
		// the lease is free and the change is stored.
		eventually(b, 60*time.Second, "every message delivered and the lease released", func() bool {
			pub := ps.M.C.Get(opcount.PSPublished + ".calendar-sync")
			if pub < storm+1 || int64(ps.M.functions()["SyncCalendar"].N) < pub {
				return false
			}
			c, err := ps.Stack.Platform.Store.GetCalendar(context.Background(), ps.Ref)
			if err != nil || c.LeaseOwner != "" || c.Dirty {
				return false
			}
			_, err = ps.Stack.Platform.Store.Doc(ps.Ref).Collection("events").Doc(ev.Id).Get(context.Background())
			return err == nil
		})
		quiet += time.Since(t0).Seconds()
		b.StopTimer()
		runs += float64(ps.FG.Calls("events.list"))
		published += float64(ps.M.C.Get(opcount.PSPublished + ".calendar-sync"))
		if n := ps.FG.Calls("events.list"); n > 3 || n < 1 {
			b.Errorf("storm %d cost %d sync runs (events.list calls); the target is ≤ 3", i, n)
		}
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(runs/n, "sync-runs/storm")
	b.ReportMetric(published/n, "published/storm")
	b.ReportMetric(quiet/n, "s-until-quiet/storm")
}
