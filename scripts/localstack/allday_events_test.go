package localstack

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
)

// TestAllDayEventsKeepTheirDatesInEventsAPI (issue 15 item 9): an all-day event comes out
// of GET /events with the calendar dates Google gave (startDate, endDate exclusive) next to
// the instants, so a calendar view in any zone shows it on its days. Timed events carry no
// dates.
func TestAllDayEventsKeepTheirDatesInEventsAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("ida@example.com")
	conn := mustConnect(t, h, "t1", "ida", "ida@example.com")
	if code, body := h.manage("PUT", staffPath("t1", "ida")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true}); code != 200 {
		t.Fatalf("select: %d %s", code, body)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := h.FG.Now()
	y, m, d := now.In(berlin).AddDate(0, 0, 10).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	sd, ed := day.Format("2006-01-02"), day.AddDate(0, 0, 2).Format("2006-01-02")
	if _, err := h.FG.CreateEvent(primary, &calendar.Event{Summary: "Holiday",
		Start: &calendar.EventDateTime{Date: sd}, End: &calendar.EventDateTime{Date: ed}}); err != nil {
		t.Fatal(err)
	}
	start := now.Add(26 * time.Hour).Truncate(time.Hour)
	if _, err := h.FG.CreateEvent(primary, &calendar.Event{Summary: "Dentist",
		Start: &calendar.EventDateTime{DateTime: start.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: start.Add(time.Hour).Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	type ev struct {
		Title              string
		Start, End         time.Time
		AllDay             bool
		StartDate, EndDate *string
	}
	var got struct{ Events []ev }
	from, to := now.Add(-24*time.Hour), now.Add(30*24*time.Hour)
	eventually(t, 30*time.Second, "both events in GET /events", func() bool {
		_, _, raw := h.events("t1", "ida", from, to)
		got.Events = nil
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		return len(got.Events) == 2
	})
	for _, e := range got.Events {
		switch e.Title {
		case "Holiday":
			wantStart := time.Date(y, m, d, 0, 0, 0, 0, berlin)
			if !e.AllDay || e.StartDate == nil || e.EndDate == nil || *e.StartDate != sd || *e.EndDate != ed ||
				!e.Start.Equal(wantStart) || !e.End.Equal(wantStart.AddDate(0, 0, 2)) {
				t.Fatalf("all-day event = %+v (dates %v %v), want %s..%s (end exclusive) and instants from %s", e, deref(e.StartDate), deref(e.EndDate), sd, ed, wantStart)
			}
		case "Dentist":
			if e.AllDay || e.StartDate != nil || e.EndDate != nil || !e.Start.Equal(start) {
				t.Fatalf("timed event = %+v", e)
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<absent>"
	}
	return *s
}
