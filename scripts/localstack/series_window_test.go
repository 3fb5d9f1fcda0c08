package localstack

import (
	"testing"
	"time"
)

// TestDeletedSeriesBeyondGooglesWindowGoneAfterDailyFullResync (issue 15 item 7), end to
// end: Google reportedly reports a deleted series' instances as cancelled only about six
// months ahead (the fake's CancelledInstancesWindow, 183 days here; a user report, see
// shared/fakegoogle/README.md). The push-driven incremental sync therefore leaves the
// later instances; a day later the scheduler tick's RenewChannels enqueues the daily full
// resync (lastFullSyncAt older than FULL_RESYNC_INTERVAL), whose sweep removes them.
func TestDeletedSeriesBeyondGooglesWindowGoneAfterDailyFullResync(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	window := 183 * 24 * time.Hour
	h.FG.SetCancelledInstancesWindow(window)
	primary, _ := h.addAccount("zoe@example.com")
	first := h.FG.Now().Add(26 * time.Hour).Truncate(time.Hour)
	series := eventAt("Weekly", first)
	series.Start.DateTime = first.UTC().Format("2006-01-02T15:04:05")
	series.End.DateTime = first.Add(time.Hour).UTC().Format("2006-01-02T15:04:05")
	series.Start.TimeZone, series.End.TimeZone = "UTC", "UTC"
	series.Recurrence = []string{"RRULE:FREQ=WEEKLY;COUNT=52"}
	m, err := h.FG.CreateEvent(primary, series)
	if err != nil {
		t.Fatal(err)
	}
	conn := mustConnect(t, h, "t1", "zoe", "zoe@example.com")
	h.selectCal("t1", "zoe", conn, primary, true)
	eventually(t, 30*time.Second, "52 instances synced", func() bool { return len(h.storedEvents("t1", "zoe", conn, primary)) == 52 })
	h.quiesce("t1", "zoe", conn, primary)

	deletedAt := h.FG.Now()
	if err := h.FG.DeleteEvent(primary, m.Id); err != nil {
		t.Fatal(err)
	}
	beyond := 0
	for i := 0; i < 52; i++ {
		if first.AddDate(0, 0, 7*i).After(deletedAt.Add(window)) {
			beyond++
		}
	}
	eventually(t, 30*time.Second, "the push-driven sync to remove the instances Google reported", func() bool {
		return len(h.storedEvents("t1", "zoe", conn, primary)) == beyond
	})
	h.quiesce("t1", "zoe", conn, primary)
	if n := len(h.storedEvents("t1", "zoe", conn, primary)); n != beyond || beyond == 0 {
		t.Fatalf("%d instances left after the incremental sync, want the %d beyond Google's window", n, beyond)
	}
	// A day later the scheduler's tick enqueues the daily full resync.
	h.FG.Advance(25 * time.Hour)
	h.tick()
	eventually(t, 60*time.Second, "the daily full resync to sweep the rest", func() bool {
		return len(h.storedEvents("t1", "zoe", conn, primary)) == 0
	})
	if c := h.calendarDoc("t1", "zoe", conn, primary); c.LastFullSyncAt.Before(deletedAt) {
		t.Fatalf("lastFullSyncAt %s: the removal was not the full resync's", c.LastFullSyncAt)
	}
}
