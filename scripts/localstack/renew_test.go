package localstack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/functions/renewchannels"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/renewal"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// renewer builds the same renewer the deployed RenewChannels uses, on a platform scoped to
// RenewChannels' declaration and with its Config, as deployed.
func (h *harness) renewer() *renewal.Renewer {
	h.t.Helper()
	p, err := h.Stack.Platform.For("RenewChannels")
	if err != nil {
		h.t.Fatal(err)
	}
	return renewchannels.Renewer(p, config.Select[renewchannels.Config](h.Stack.Env))
}

// tick publishes a scheduler tick to renew-channels, exactly as Cloud Scheduler does.
func (h *harness) tick() {
	h.t.Helper()
	if err := h.Stack.Platform.PublishRaw(context.Background(), topology.RenewChannels, []byte("tick"), nil); err != nil {
		h.t.Fatalf("publish tick: %v", err)
	}
}

func (h *harness) selectCal(tenant, staff, conn, googleID string, on bool) {
	h.t.Helper()
	code, body := h.manage("PUT", staffPath(tenant, staff)+"/connections/"+conn+"/calendars/"+url.PathEscape(googleID), map[string]bool{"selected": on})
	if code != 200 {
		h.t.Fatalf("select %s=%v: %d %s", googleID, on, code, body)
	}
}

func (h *harness) calendarDoc(tenant, staff, conn, googleID string) *store.Calendar {
	h.t.Helper()
	c, err := h.Stack.Platform.Store.GetCalendar(context.Background(), store.CalRef{Tenant: tenant, Staff: staff, Connection: conn, Calendar: store.CalendarDocID(googleID)})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// storedEvents returns event id → title of a calendar in Firestore.
func (h *harness) storedEvents(tenant, staff, conn, googleID string) map[string]string {
	h.t.Helper()
	ref := store.CalRef{Tenant: tenant, Staff: staff, Connection: conn, Calendar: store.CalendarDocID(googleID)}
	snaps, err := h.Stack.Platform.Store.Doc(ref).Collection("events").Documents(context.Background()).GetAll()
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range snaps {
		title, _ := s.DataAt("title")
		out[s.Ref.ID], _ = title.(string)
	}
	return out
}

// googleEvents returns event id → title of what Google holds (live, expanded) in the
// window the syncer keeps.
func (h *harness) googleEvents(googleID string) map[string]string {
	now := h.FG.Now()
	out := map[string]string{}
	for _, e := range h.FG.Events(googleID, true, now.Add(-31*24*time.Hour), now.Add(400*24*time.Hour)) {
		out[e.Id] = e.Summary
	}
	return out
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// assertOneLiveChannel checks, for a selected calendar: exactly one live channel at Google,
// it is the one the calendar records, its lookup exists and no other lookup points at the
// calendar.
func (h *harness) assertOneLiveChannel(tenant, staff, conn, googleID string) fakegoogle.Channel {
	h.t.Helper()
	live := liveChannels(h.FG, googleID)
	if len(live) != 1 {
		h.t.Fatalf("calendar %s: %d live channels at Google, want exactly 1: %+v", googleID, len(live), live)
	}
	c := h.calendarDoc(tenant, staff, conn, googleID)
	if c == nil || c.Channel == nil || c.Channel.ID != live[0].ID {
		h.t.Fatalf("calendar %s records channel %+v, Google's live one is %s", googleID, c.Channel, live[0].ID)
	}
	if !c.ChannelExpiry.Equal(c.Channel.Expiry) {
		h.t.Errorf("calendar %s channelExpiry %v != channel expiry %v", googleID, c.ChannelExpiry, c.Channel.Expiry)
	}
	snaps, err := h.Stack.Platform.Store.FS.Collection("channels").Where("calendar", "==", c.DocID).Documents(context.Background()).GetAll()
	if err != nil {
		h.t.Fatal(err)
	}
	if len(snaps) != 1 || snaps[0].Ref.ID != live[0].ID {
		ids := []string{}
		for _, s := range snaps {
			ids = append(ids, s.Ref.ID)
		}
		h.t.Fatalf("calendar %s: channel lookups %v, want only %s", googleID, ids, live[0].ID)
	}
	return live[0]
}

func eventAt(summary string, start time.Time) *calendar.Event {
	return &calendar.Event{Summary: summary,
		Start: &calendar.EventDateTime{DateTime: start.Format(time.RFC3339)},
		End:   &calendar.EventDateTime{DateTime: start.Add(time.Hour).Format(time.RFC3339)}}
}

func stopped(fg *fakegoogle.Server, id string) bool {
	for _, c := range fg.Channels() {
		if c.ID == id {
			return c.Stopped
		}
	}
	return false
}

// quiesce waits until no sync of the calendar has run or been pending for half a second
// and no push is in flight, so that the test can jump the fake clock without a sync
// straddling the jump (an access token fetched before a jump of days is expired at the
// fake after it, which the syncer rightly reads as a revoked grant).
func (h *harness) quiesce(tenant, staff, conn, googleID string) {
	h.t.Helper()
	quiet, lastRuns := 0, int64(-1)
	eventually(h.t, 30*time.Second, "syncs to settle", func() bool {
		c := h.calendarDoc(tenant, staff, conn, googleID)
		if c == nil {
			h.t.Fatalf("calendar %s is gone", googleID)
		}
		if c.LeaseOwner != "" || c.Dirty || c.SyncRuns != lastRuns {
			quiet, lastRuns = 0, c.SyncRuns
			return false
		}
		quiet++
		return quiet >= 25
	})
	if err := h.FG.WaitIdle(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// TestRenewKeepsNotificationsFlowing: end to end through Pub/Sub. The clock moves to a day
// before the channel expires; a scheduler tick renews it (new channel, old one stopped at
// Google); after the old one's expiry, a change in Google still reaches Firestore through
// webhook → calendar-sync → SyncCalendar.
func TestRenewKeepsNotificationsFlowing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("anna@example.com")
	if _, err := h.FG.CreateEvent(primary, eventAt("Dentist", h.FG.Now().Add(30*time.Hour).Truncate(time.Hour))); err != nil {
		t.Fatal(err)
	}
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	h.selectCal("t1", "anna", conn, primary, true)
	eventually(t, 30*time.Second, "first sync", func() bool { return len(h.storedEvents("t1", "anna", conn, primary)) == 1 })
	first := h.assertOneLiveChannel("t1", "anna", conn, primary)

	for round := 1; round <= 3; round++ {
		// Into the renewal margin (channel TTL 7 days, margin 24 h).
		before := h.assertOneLiveChannel("t1", "anna", conn, primary)
		h.FG.SetTime(before.Expiration.Add(-12 * time.Hour))
		h.tick()
		eventually(t, 30*time.Second, fmt.Sprintf("round %d: a new channel replacing %s", round, before.ID), func() bool {
			live := liveChannels(h.FG, primary)
			return len(live) == 1 && live[0].ID != before.ID && stopped(h.FG, before.ID)
		})
		// Settle: the per-connection run releases its lease after stopping the old channel.
		eventually(t, 30*time.Second, "channelExpiry to follow the new channel", func() bool {
			c := h.calendarDoc("t1", "anna", conn, primary)
			return c.Channel != nil && c.ChannelExpiry.Equal(c.Channel.Expiry)
		})
		now := h.assertOneLiveChannel("t1", "anna", conn, primary)
		// Past the old channel's expiry: a change still arrives through the new channel.
		h.FG.SetTime(before.Expiration.Add(time.Minute))
		title := fmt.Sprintf("Created after renewal %d", round)
		ev, err := h.FG.CreateEvent(primary, eventAt(title, h.FG.Now().Add(48*time.Hour).Truncate(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "the new event synced through the renewed channel", func() bool {
			return h.storedEvents("t1", "anna", conn, primary)[ev.Id] == title
		})
		// Let the full resync the renewal enqueued finish before the clock jumps again (an
		// access token fetched before a jump of days is expired at the fake afterwards).
		h.quiesce("t1", "anna", conn, primary)
		got := false
		for _, d := range h.FG.Deliveries() {
			if d.ChannelID == now.ID && d.State == "exists" && d.Status == 200 {
				got = true
			}
			if d.ChannelID == before.ID && d.At.After(before.Expiration) {
				t.Errorf("delivery on the old channel after it was stopped: %+v", d)
			}
		}
		if !got {
			t.Fatalf("round %d: no notification delivered on the renewed channel %s", round, now.ID)
		}
	}
	if !stopped(h.FG, first.ID) {
		t.Error("the first channel was never stopped")
	}
	logs := h.Logs.String()
	if !strings.Contains(logs, `"event":"renew.channel"`) || !strings.Contains(logs, `"outcome":"renewed"`) {
		t.Errorf("no renew.channel log with outcome renewed")
	}
	if strings.Contains(logs, "anna@example.com") && strings.Contains(logs, "renew.") {
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, "renew.") && strings.Contains(l, "anna@example.com") {
				t.Errorf("renewal log carries the e-mail address: %s", l)
			}
		}
	}
}

// twoSelected connects an account and selects both its calendars (no Pub/Sub consumers).
func twoSelected(t *testing.T, h *harness, email string) (conn, primary, second string) {
	t.Helper()
	primary, second = h.addAccount(email)
	staff := strings.Split(email, "@")[0]
	conn = mustConnect(t, h, "t1", staff, email)
	h.selectCal("t1", staff, conn, primary, true)
	h.selectCal("t1", staff, conn, second, true)
	return conn, primary, second
}

// TestRenewConcurrentRunsLeaveOneChannel runs the renewal of one connection from eight
// goroutines at once (two scheduler ticks' messages, redeliveries…).
func TestRenewConcurrentRunsLeaveOneChannel(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conn, primary, second := twoSelected(t, h, "bea@example.com")
	old1 := h.assertOneLiveChannel("t1", "bea", conn, primary)
	old2 := h.assertOneLiveChannel("t1", "bea", conn, second)
	h.FG.Advance(6*24*time.Hour + 12*time.Hour)
	now := h.FG.Now()

	r := h.renewer()
	msg := messages.Renew{Tenant: "t1", Staff: "bea", Connection: conn}
	var wg sync.WaitGroup
	results := make([]renewal.Result, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = r.RenewConnection(context.Background(), msg, now) })
	}
	wg.Wait()
	renewed, busy := 0, 0
	for i, e := range errs {
		if e != nil {
			t.Fatalf("run %d: %v", i, e)
		}
		renewed += results[i].Renewed
		busy += results[i].Busy
	}
	if renewed != 2 {
		t.Errorf("channels renewed across 8 concurrent runs = %d, want 2 (busy %d)", renewed, busy)
	}
	n1 := h.assertOneLiveChannel("t1", "bea", conn, primary)
	n2 := h.assertOneLiveChannel("t1", "bea", conn, second)
	if n1.ID == old1.ID || n2.ID == old2.ID || !stopped(h.FG, old1.ID) || !stopped(h.FG, old2.ID) {
		t.Fatalf("old channels not replaced and stopped")
	}
	if w := h.FG.Calls("events.watch"); w != 4 { // 2 on select + 2 renewals
		t.Errorf("events.watch calls = %d, want 4: concurrent runs opened extra channels", w)
	}
	// A rerun has nothing to do.
	res, err := r.RenewConnection(context.Background(), msg, now)
	if err != nil || res.Renewed != 0 || res.Stopped != 0 {
		t.Fatalf("rerun: %+v %v", res, err)
	}
}

// TestRenewCrashedRunIsRepaired simulates an instance dying (a) right after events.watch,
// before the switch, and (b) after the switch, before the old channel is stopped. After
// the lease expires, the next run (found by the tick's query) leaves exactly one live
// channel and stops the orphans.
func TestRenewCrashedRunIsRepaired(t *testing.T) {
	t.Parallel()
	for _, point := range []string{"afterWatch", "afterSwitch"} {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			conn, primary, second := twoSelected(t, h, "cem@example.com")
			old := h.assertOneLiveChannel("t1", "cem", conn, primary)
			h.FG.Advance(6*24*time.Hour + 12*time.Hour)
			msg := messages.Renew{Tenant: "t1", Staff: "cem", Connection: conn}

			crashing := h.renewer()
			die := func(ref store.CalRef) error {
				if ref.Calendar == store.CalendarDocID(primary) {
					return errors.New("instance killed")
				}
				return nil
			}
			if point == "afterWatch" {
				crashing.AfterWatch = die
			} else {
				crashing.AfterSwitch = die
			}
			if _, err := crashing.RenewConnection(context.Background(), msg, h.FG.Now()); !errors.Is(err, renewal.ErrCrash) {
				t.Fatalf("crashing run: %v", err)
			}
			if n := len(liveChannels(h.FG, primary)); n != 2 {
				t.Fatalf("after the crash Google has %d live channels, want 2 (old + new)", n)
			}
			// Another run while the dead run's lease is still valid leaves the calendar alone.
			r := h.renewer()
			res, err := r.RenewConnection(context.Background(), msg, h.FG.Now())
			if err != nil || res.Busy != 1 {
				t.Fatalf("run during the dead lease: %+v %v", res, err)
			}
			// The lease expires; the tick finds the connection again and the run repairs it.
			h.FG.Advance(5 * time.Minute)
			st, err := r.Scan(context.Background(), h.FG.Now())
			if err != nil || st.Candidates != 1 || st.Published != 1 {
				t.Fatalf("tick after the crash: %+v %v", st, err)
			}
			res, err = r.RenewConnection(context.Background(), msg, h.FG.Now())
			if err != nil {
				t.Fatalf("repair run: %v", err)
			}
			h.assertOneLiveChannel("t1", "cem", conn, primary)
			h.assertOneLiveChannel("t1", "cem", conn, second)
			if !stopped(h.FG, old.ID) {
				t.Fatalf("old channel %s still live", old.ID)
			}
			// Nothing left over: a further run does nothing at Google.
			before := h.FG.Calls("")
			if res, err := r.RenewConnection(context.Background(), msg, h.FG.Now()); err != nil || res.GoogleCalls != 0 {
				t.Fatalf("run after repair: %+v %v (calls %d)", res, err, h.FG.Calls("")-before)
			}
		})
	}
}
