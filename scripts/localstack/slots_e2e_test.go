package localstack

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
)

// TestSlotsFollowGoogleThroughPush: an event the staff member creates in Google removes
// exactly the overlapping slots from the Slots answer once the push-driven sync has run
// (webhook → Pub/Sub → SyncCalendar, nothing called directly), and deleting it brings
// them back.
func TestSlotsFollowGoogleThroughPush(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("anna@example.com")
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	h.setRules("t1", "anna", weekdayRules())
	h.freeFormTenant("t1")
	if code, body := h.manage("PUT", staffPath("t1", "anna")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true}); code != 200 {
		t.Fatalf("select: %d %s", code, body)
	}
	const day = "2026-11-04"
	at := func(hm string) string { return day + "T" + hm + ":00+01:00" }
	before := h.slotStarts("t1", "anna", day)
	for _, s := range []string{"13:30", "14:00", "14:30", "15:00"} {
		if !slices.Contains(before, at(s)) {
			t.Fatalf("%s not offered before the event: %v", s, before)
		}
	}
	ev, err := h.FG.CreateEvent(primary, &calendar.Event{Summary: "Physio",
		Start: &calendar.EventDateTime{DateTime: at("14:00")}, End: &calendar.EventDateTime{DateTime: at("15:00")}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "14:00 and 14:30 to disappear", func() bool {
		s := h.slotStarts("t1", "anna", day)
		return !slices.Contains(s, at("14:00")) && !slices.Contains(s, at("14:30"))
	})
	after := h.slotStarts("t1", "anna", day)
	if !slices.Contains(after, at("13:30")) || !slices.Contains(after, at("15:00")) {
		t.Fatalf("slots touching the event's edges were removed too: %v", after)
	}
	if err := h.FG.DeleteEvent(primary, ev.Id); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "14:00 and 14:30 to come back", func() bool {
		s := h.slotStarts("t1", "anna", day)
		return slices.Contains(s, at("14:00")) && slices.Contains(s, at("14:30"))
	})
}
