package localstack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
)

// TestRenewSafetyNetAfterDroppedPushes: the fake drops every notification for an hour
// while events change; the safety-net sync that a renewal tick enqueues once
// SafetySyncInterval (30 min) has passed brings Firestore back in line with Google.
func TestRenewSafetyNetAfterDroppedPushes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("dora@example.com")
	base := h.FG.Now().Add(30 * time.Hour).Truncate(time.Hour)
	a, err := h.FG.CreateEvent(primary, eventAt("A", base))
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.FG.CreateEvent(primary, eventAt("B", base.Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	conn := mustConnect(t, h, "t1", "dora", "dora@example.com")
	h.selectCal("t1", "dora", conn, primary, true)
	eventually(t, 30*time.Second, "first sync", func() bool { return len(h.storedEvents("t1", "dora", conn, primary)) == 2 })
	h.quiesce("t1", "dora", conn, primary)

	until := h.FG.Now().Add(time.Hour)
	if err := h.FG.AddFault(fakegoogle.Fault{Push: "drop", Until: until.Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	seq := len(h.FG.Deliveries())
	c, err := h.FG.CreateEvent(primary, eventAt("C", base.Add(4*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.FG.PatchEventJSON(primary, a.Id, []byte(`{"summary":"A moved"}`)); err != nil {
		t.Fatal(err)
	}
	if err := h.FG.DeleteEvent(primary, b.Id); err != nil {
		t.Fatal(err)
	}
	if err := h.FG.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, d := range h.FG.Deliveries()[seq:] {
		if !d.Dropped {
			t.Fatalf("a notification got through during the outage: %+v", d)
		}
	}
	want := h.googleEvents(primary)
	if len(want) != 2 || want[c.Id] != "C" || want[a.Id] != "A moved" {
		t.Fatalf("Google holds %v", want)
	}
	if got := h.storedEvents("t1", "dora", conn, primary); sameMap(got, want) {
		t.Fatalf("Firestore already in line without notifications: %v", got)
	}

	// Not yet due: a tick 10 minutes later enqueues no sync for the calendar.
	h.FG.Advance(10 * time.Minute)
	st, err := h.renewer().Scan(context.Background(), h.FG.Now())
	if err != nil || st.SafetyDue != 0 {
		t.Fatalf("tick at +10 min: %+v %v", st, err)
	}
	// Past SafetySyncInterval, still inside the outage: the scheduler tick repairs it.
	h.FG.Advance(21 * time.Minute)
	if !h.FG.Now().Before(until) {
		t.Fatal("test set-up: the outage should still be on")
	}
	h.tick()
	eventually(t, 30*time.Second, "Firestore to match Google after the safety-net sync", func() bool {
		return sameMap(h.storedEvents("t1", "dora", conn, primary), want)
	})
	eventually(t, 10*time.Second, "a sync.done with reason safety", func() bool {
		for _, l := range strings.Split(h.Logs.String(), "\n") {
			if strings.Contains(l, `"event":"sync.done"`) && strings.Contains(l, `"reason":"safety"`) && strings.Contains(l, `"outcome":"ok"`) {
				return true
			}
		}
		return false
	})
}

// TestRenewCalendarListChanges: the hourly list pass of a renewal run deletes a calendar
// removed in Google with its events, busy data and channel, updates a renamed/recoloured
// one, and lists a new one unselected. Checked in Firestore (Manage's GET would refresh
// the list itself).
func TestRenewCalendarListChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, second := h.addAccount("eva@example.com")
	if _, err := h.FG.CreateEvent(second, eventAt("Private", h.FG.Now().Add(26*time.Hour).Truncate(time.Hour))); err != nil {
		t.Fatal(err)
	}
	conn := mustConnect(t, h, "t1", "eva", "eva@example.com")
	h.selectCal("t1", "eva", conn, primary, true)
	h.selectCal("t1", "eva", conn, second, true)
	eventually(t, 30*time.Second, "the second calendar's event synced", func() bool { return len(h.storedEvents("t1", "eva", conn, second)) == 1 })
	h.quiesce("t1", "eva", conn, second)
	h.quiesce("t1", "eva", conn, primary)
	fs := h.Stack.Platform.Store
	busyOf := func(calGoogleID string) int {
		snaps, err := fs.Busy("t1", "eva").Documents(context.Background()).GetAll()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range snaps {
			if strings.HasPrefix(s.Ref.ID, conn+"_"+store.CalendarDocID(calGoogleID)+"_") {
				n++
			}
		}
		return n
	}
	if busyOf(second) == 0 {
		t.Fatal("set-up: no busy data for the second calendar")
	}

	if err := h.FG.DeleteCalendar(second); err != nil {
		t.Fatal(err)
	}
	if _, err := h.FG.UpdateCalendar(primary, fakegoogle.CalendarPatch{Summary: ptr("Studio"), BackgroundColor: ptr("#123456")}); err != nil {
		t.Fatal(err)
	}
	third, err := h.FG.CreateCalendar(fakegoogle.CalendarSpec{Email: "eva@example.com", Summary: "Holidays", BackgroundColor: "#abcdef", TimeZone: "Europe/Berlin"})
	if err != nil {
		t.Fatal(err)
	}
	// Within the hour nothing is listed again.
	h.FG.Advance(20 * time.Minute)
	r := h.renewer()
	res, err := r.RenewConnection(context.Background(), messages.Renew{Tenant: "t1", Staff: "eva", Connection: conn}, h.FG.Now())
	if err != nil || res.ListRefresh {
		t.Fatalf("run within the hour: %+v %v", res, err)
	}
	h.quiesce("t1", "eva", conn, primary)
	h.FG.Advance(45 * time.Minute)
	h.tick()
	eventually(t, 30*time.Second, "the deleted calendar to be removed", func() bool { return h.calendarDoc("t1", "eva", conn, second) == nil })
	if n := len(h.storedEvents("t1", "eva", conn, second)); n != 0 {
		t.Errorf("%d events of the deleted calendar remain", n)
	}
	if n := busyOf(second); n != 0 {
		t.Errorf("%d busy docs of the deleted calendar remain", n)
	}
	if n := len(liveChannels(h.FG, second)); n != 0 {
		t.Errorf("the deleted calendar still has %d live channels", n)
	}
	p := h.calendarDoc("t1", "eva", conn, primary)
	if p.Name != "Studio" || p.Color != "#123456" || !p.Selected {
		t.Errorf("renamed calendar = %q %q selected=%v", p.Name, p.Color, p.Selected)
	}
	n := h.calendarDoc("t1", "eva", conn, third.ID)
	if n == nil || n.Selected || n.Name != "Holidays" || n.Color != "#abcdef" {
		t.Errorf("new calendar = %+v", n)
	}
	h.quiesce("t1", "eva", conn, primary)
	h.assertOneLiveChannel("t1", "eva", conn, primary)
}

// TestRenewRevokedTokenTurnsReauthRequired: the user removed access at Google; the next
// renewal run gets invalid_grant, turns the connection reauth_required (Manage shows it),
// deletes the channel lookups, acknowledges, and later ticks skip the connection.
func TestRenewRevokedTokenTurnsReauthRequired(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conn, primary, second := twoSelected(t, h, "finn@example.com")
	ch1 := h.assertOneLiveChannel("t1", "finn", conn, primary)
	ch2 := h.assertOneLiveChannel("t1", "finn", conn, second)
	h.FG.RevokeAccount("finn@example.com")
	h.FG.Advance(6*24*time.Hour + 12*time.Hour)

	r := h.renewer()
	res, err := r.RenewConnection(context.Background(), messages.Renew{Tenant: "t1", Staff: "finn", Connection: conn}, h.FG.Now())
	if err != nil || res.Outcome != "reauth_required" {
		t.Fatalf("renewal of a revoked connection: %+v %v (want acknowledged, reauth_required)", res, err)
	}
	c, err := h.Stack.Platform.Store.GetConnection(context.Background(), "t1", "finn", conn)
	if err != nil || c.Status != store.StatusReauthRequired {
		t.Fatalf("stored status after renewal: %+v %v", c, err)
	}
	for _, id := range []string{ch1.ID, ch2.ID} {
		if _, err := h.Stack.Platform.Store.Channel(id).Get(context.Background()); !store.NotFound(err) {
			t.Errorf("channel lookup %s kept: %v", id, err)
		}
	}
	if got := h.connections("t1", "finn"); got.Connections[0].Status != store.StatusReauthRequired {
		t.Fatalf("Manage shows %+v", got.Connections[0])
	}
	st, err := r.Scan(context.Background(), h.FG.Now())
	if err != nil || st.Published != 0 {
		t.Fatalf("tick after reauth_required: %+v %v (want no message for the connection)", st, err)
	}
}

// TestRenewRateLimitedRetriesLater: with Google answering 403 rateLimitExceeded the run
// returns an error at once (Pub/Sub redelivers with backoff) instead of spinning; the
// redelivery after the limit lifts finishes the job with one channel per calendar.
func TestRenewRateLimitedRetriesLater(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conn, primary, second := twoSelected(t, h, "gus@example.com")
	h.FG.Advance(6*24*time.Hour + 12*time.Hour)
	if err := h.FG.AddFault(fakegoogle.Fault{UserRateLimit: 1}); err != nil {
		t.Fatal(err)
	}
	r := h.renewer()
	msg := messages.Renew{Tenant: "t1", Staff: "gus", Connection: conn}
	before := h.FG.CallsByAccount("gus@example.com", "")
	res, err := r.RenewConnection(context.Background(), msg, h.FG.Now())
	if err == nil || googlecal.Classify(err) != googlecal.ClassRateLimited || res.Outcome != "rate_limited" {
		t.Fatalf("rate-limited run: %+v %v", res, err)
	}
	// calendarList.list is the one call the limit allows; the next one (events.watch) is
	// refused and the run stops there.
	if n := h.FG.CallsByAccount("gus@example.com", "") - before; n != 2 || res.GoogleCalls != 2 {
		t.Errorf("%d Google calls while rate limited; the run should stop at the first 403", n)
	}
	if err := h.FG.AddFault(fakegoogle.Fault{UserRateLimit: -1}); err != nil {
		t.Fatal(err)
	}
	h.FG.Advance(3 * time.Minute) // redelivery after backoff; any lease of the failed run has expired
	if _, err := r.RenewConnection(context.Background(), msg, h.FG.Now()); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	h.assertOneLiveChannel("t1", "gus", conn, primary)
	h.assertOneLiveChannel("t1", "gus", conn, second)
}

// TestRenewRecreatesExpiredMissingAndRejectedChannels: a channel already past expiry is
// logged as renew.expired_unrenewed and replaced; a calendar without a channel gets one; a
// channel whose lookup is gone (the webhook would ignore its pushes) is replaced. Each
// also gets a catch-up sync.
func TestRenewRecreatesExpiredMissingAndRejectedChannels(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conn, primary, second := twoSelected(t, h, "hal@example.com")
	fs := h.Stack.Platform.Store
	r := h.renewer()
	msg := messages.Renew{Tenant: "t1", Staff: "hal", Connection: conn}
	ctx := context.Background()

	// Missing: the second calendar's channel is gone (as after a reauth: record cleared,
	// lookup deleted, stopped or expired at Google).
	c2 := h.calendarDoc("t1", "hal", conn, second)
	if _, err := fs.Channel(c2.Channel.ID).Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if err := fs.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		return tx.Update(fs.Doc(store.CalRef{Tenant: "t1", Staff: "hal", Connection: conn, Calendar: c2.DocID}),
			[]firestore.Update{{Path: "channel", Value: nil}, {Path: "channelExpiry", Value: time.Time{}}})
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.FG.StopChannel(c2.Channel.ID, c2.Channel.ResourceID); err != nil {
		t.Fatal(err)
	}
	// Rejected: the primary's lookup is gone.
	c1 := h.calendarDoc("t1", "hal", conn, primary)
	if _, err := fs.Channel(c1.Channel.ID).Delete(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := r.RenewConnection(ctx, msg, h.FG.Now())
	if err != nil || res.Renewed != 2 {
		t.Fatalf("missing+rejected: %+v %v", res, err)
	}
	h.assertOneLiveChannel("t1", "hal", conn, primary)
	h.assertOneLiveChannel("t1", "hal", conn, second)
	if !stopped(h.FG, c1.Channel.ID) {
		t.Error("the rejected channel was not stopped at Google")
	}

	// Expired: eight days pass with no renewal at all.
	h.FG.Advance(8 * 24 * time.Hour)
	res, err = r.RenewConnection(ctx, msg, h.FG.Now())
	if err != nil || res.Renewed != 2 || res.SafetySyncs+res.FullSyncs != 2 {
		t.Fatalf("expired: %+v %v", res, err)
	}
	if !strings.Contains(h.Logs.String(), `"event":"renew.expired_unrenewed"`) {
		t.Error("no renew.expired_unrenewed log")
	}
	h.assertOneLiveChannel("t1", "hal", conn, primary)
	h.assertOneLiveChannel("t1", "hal", conn, second)

	// A calendar deleted at Google between list passes: watch answers 404; the run is
	// acknowledged (the next list pass removes the calendar), the other calendar renews.
	if err := h.FG.DeleteCalendar(second); err != nil {
		t.Fatal(err)
	}
	h.FG.Advance(6*24*time.Hour + 12*time.Hour)
	if _, err := fs.Connection("t1", "hal", conn).Update(ctx, []firestore.Update{{Path: "lastListSyncAt", Value: h.FG.Now()}}); err != nil {
		t.Fatal(err)
	}
	res, err = r.RenewConnection(ctx, msg, h.FG.Now())
	if err != nil || res.Renewed != 1 {
		t.Fatalf("with a calendar gone at Google: %+v %v", res, err)
	}
	h.assertOneLiveChannel("t1", "hal", conn, primary)
	if errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
