package fakegoogle

import (
	"time"

	"google.golang.org/api/calendar/v3"
)

// DemoEmail is the account SeedDemo creates.
const DemoEmail = "demo@example.com"

// SeedDemo creates demo@example.com with three Europe/Berlin calendars (primary
// "Work", "Personal", "Team") and realistic events relative to the fake's now: single
// meetings, a weekly recurring series, an all-day event, a transparent event and one
// the owner declined.
func (s *Server) SeedDemo() error {
	if _, err := s.CreateAccount(Account{Email: DemoEmail, Name: "Demo User"}); err != nil {
		return err
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return err
	}
	cals := []CalendarSpec{
		{Email: DemoEmail, Summary: "Work", BackgroundColor: "#4285f4", ForegroundColor: "#ffffff", ColorID: "9", TimeZone: "Europe/Berlin", Primary: true},
		{Email: DemoEmail, Summary: "Personal", BackgroundColor: "#0b8043", ForegroundColor: "#ffffff", ColorID: "10", TimeZone: "Europe/Berlin"},
		{Email: DemoEmail, Summary: "Team", BackgroundColor: "#f4511e", ForegroundColor: "#ffffff", ColorID: "6", TimeZone: "Europe/Berlin"},
	}
	var ids []string
	for _, c := range cals {
		out, err := s.CreateCalendar(c)
		if err != nil {
			return err
		}
		ids = append(ids, out.ID)
	}
	now := s.Now().In(berlin)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, berlin)
	at := func(days, h, m int) *calendar.EventDateTime {
		t := time.Date(day.Year(), day.Month(), day.Day()+days, h, m, 0, 0, berlin)
		return &calendar.EventDateTime{DateTime: t.Format(time.RFC3339), TimeZone: "Europe/Berlin"}
	}
	date := func(days int) *calendar.EventDateTime {
		return &calendar.EventDateTime{Date: day.AddDate(0, 0, days).Format(dateLayout)}
	}
	events := []struct {
		cal int
		ev  *calendar.Event
	}{
		{0, &calendar.Event{Summary: "Customer call", Description: "Quarterly review", Start: at(1, 10, 0), End: at(1, 11, 0)}},
		{0, &calendar.Event{Summary: "Dentist", Start: at(2, 14, 30), End: at(2, 15, 15)}},
		{0, &calendar.Event{Summary: "Weekly planning", Start: at(0, 9, 0), End: at(0, 9, 30),
			Recurrence: []string{"RRULE:FREQ=WEEKLY;BYDAY=MO,WE"}}},
		{0, &calendar.Event{Summary: "Focus time", Start: at(3, 8, 0), End: at(3, 10, 0), EventType: "focusTime", Transparency: "transparent"}},
		{0, &calendar.Event{Summary: "Declined sync", Start: at(1, 16, 0), End: at(1, 17, 0),
			Attendees: []*calendar.EventAttendee{{Email: DemoEmail, Self: true, ResponseStatus: "declined"}, {Email: "boss@example.com", ResponseStatus: "accepted"}}}},
		{1, &calendar.Event{Summary: "Vacation", Start: date(7), End: date(10)}},
		{1, &calendar.Event{Summary: "Gym", Start: at(0, 18, 0), End: at(0, 19, 0),
			Recurrence: []string{"RRULE:FREQ=DAILY;INTERVAL=2;COUNT=20"}}},
		{2, &calendar.Event{Summary: "Team offsite", Start: date(14), End: date(15)}},
		{2, &calendar.Event{Summary: "Standup", Start: at(1, 9, 45), End: at(1, 10, 0),
			Recurrence: []string{"RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=" + day.AddDate(0, 3, 0).UTC().Format("20060102T150405Z")}}},
	}
	for _, e := range events {
		if _, err := s.CreateEvent(ids[e.cal], e.ev); err != nil {
			return err
		}
	}
	return nil
}
