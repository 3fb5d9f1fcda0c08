// Package calevents turns a Google Calendar event into what the product keeps of it
// (store.Event) and derives its busy-index entry. It is pure: no I/O, no clock.
//
// Kept: id, title (summary), details (description), start, end, all-day dates, status,
// updated, recurringEventId and the product's own booking id (private extended property
// "calsyncBooking"). Never kept: attendees, location, attachments, conference data,
// links, creator/organizer e-mails — they are read only to decide "busy" and dropped.
//
// Busy rules (docs/design.md "Flows", Sync): not cancelled, not transparent, not declined by the
// calendar owner (the attendee with self=true), not a workingLocation or birthday event.
// outOfOffice and focusTime events block time and are busy. The product's own events
// (bookingId set) are never busy in the index: the booking itself blocks its slot with
// its buffers, and counting the echo again would block the slot twice.
package calevents

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/store"
)

// BookingProperty is the private extended property ExportBooking puts on the product's
// own events.
const BookingProperty = "calsyncBooking"

// zoneSlack widens an all-day event's months so that it is found from any time zone
// (offsets are within ±14 h of UTC).
const zoneSlack = 14 * time.Hour

const dateLayout = "2006-01-02"

// ErrInvalid is wrapped for an event whose times cannot be understood.
var ErrInvalid = errors.New("invalid event")

// FromGoogle converts an events.list item. cancelled reports a deletion (Google's
// cancelled items carry only an id; the returned Event then holds only ID and Status).
// staffZone places all-day events (nil = UTC).
func FromGoogle(ev *calendar.Event, staffZone *time.Location) (store.Event, bool, error) {
	if ev == nil || ev.Id == "" {
		return store.Event{}, false, fmt.Errorf("%w: no id", ErrInvalid)
	}
	if ev.Status == "cancelled" {
		return store.Event{ID: ev.Id, Status: "cancelled"}, true, nil
	}
	if staffZone == nil {
		staffZone = time.UTC
	}
	out := store.Event{
		ID:          ev.Id,
		Title:       ev.Summary,
		Details:     ev.Description,
		Status:      ev.Status,
		RecurringID: ev.RecurringEventId,
	}
	if ev.ExtendedProperties != nil {
		out.BookingID = ev.ExtendedProperties.Private[BookingProperty]
	}
	if out.BookingID != "" {
		// The product's own booking: its text is the customer's data (EXPORT_FIELDS), which
		// the booking already holds under its own retention; the copy keeps none of it.
		out.Title, out.Details = "", ""
	}
	if ev.Updated != "" {
		if u, err := time.Parse(time.RFC3339Nano, ev.Updated); err == nil {
			out.Updated = u.UTC()
		}
	}
	if ev.Start == nil || ev.End == nil {
		return store.Event{}, false, fmt.Errorf("%w: %s has no start or end", ErrInvalid, ev.Id)
	}
	switch {
	case ev.Start.Date != "":
		sd, err1 := time.ParseInLocation(dateLayout, ev.Start.Date, staffZone)
		ed, err2 := time.ParseInLocation(dateLayout, ev.End.Date, staffZone)
		if err1 != nil || err2 != nil {
			return store.Event{}, false, fmt.Errorf("%w: %s has bad dates", ErrInvalid, ev.Id)
		}
		if !ed.After(sd) {
			ed = sd.AddDate(0, 0, 1)
		}
		out.AllDay = true
		out.StartDate, out.EndDate = sd.Format(dateLayout), ed.Format(dateLayout)
		out.Start, out.End = sd.UTC(), ed.UTC()
	case ev.Start.DateTime != "":
		s, err1 := time.Parse(time.RFC3339Nano, ev.Start.DateTime)
		e, err2 := time.Parse(time.RFC3339Nano, ev.End.DateTime)
		if err1 != nil || err2 != nil {
			return store.Event{}, false, fmt.Errorf("%w: %s has bad times", ErrInvalid, ev.Id)
		}
		if e.Before(s) {
			e = s
		}
		out.Start, out.End = s.UTC(), e.UTC()
	default:
		return store.Event{}, false, fmt.Errorf("%w: %s has no start", ErrInvalid, ev.Id)
	}
	out.Busy = busy(ev) && (out.BookingID == "" || movedEcho(ev, out))
	if out.Busy {
		out.Months = Months(out)
	} else {
		out.Months = []string{}
	}
	return out, false, nil
}

// Properties ExportBooking writes next to BookingProperty: the booked instants, so an
// echo can be told from an event the staff member moved in Google.
const (
	BookingStartProperty = "calsyncStart"
	BookingEndProperty   = "calsyncEnd"
)

// movedEcho reports whether one of the product's own events no longer sits where the
// booking put it (the staff member moved or resized it in Google). Such an event blocks
// its new time like any other: the staff member is busy there, and the booking itself is
// flagged for attention (booking.CheckEcho), never changed. An event without the
// properties (written before they existed) counts as unmoved.
func movedEcho(ev *calendar.Event, e store.Event) bool {
	if ev.ExtendedProperties == nil || e.AllDay {
		return e.AllDay
	}
	p := ev.ExtendedProperties.Private
	bs, err1 := time.Parse(time.RFC3339, p[BookingStartProperty])
	be, err2 := time.Parse(time.RFC3339, p[BookingEndProperty])
	if err1 != nil || err2 != nil {
		return false
	}
	return !bs.Equal(e.Start) || !be.Equal(e.End)
}

func busy(ev *calendar.Event) bool {
	if ev.Status == "cancelled" || ev.Transparency == "transparent" {
		return false
	}
	switch ev.EventType {
	case "workingLocation", "birthday":
		return false
	}
	for _, a := range ev.Attendees {
		if a != nil && a.Self && a.ResponseStatus == "declined" {
			return false
		}
	}
	return true
}

// Months lists the busy-index months of an event: for a timed event the UTC months its
// [start, end) touches; for an all-day event the months its dates touch, widened by
// ±14 h so that a reader in any time zone finds it in the months it reads.
func Months(e store.Event) []string {
	if e.AllDay {
		sd, err1 := time.Parse(dateLayout, e.StartDate)
		ed, err2 := time.Parse(dateLayout, e.EndDate)
		if err1 == nil && err2 == nil {
			return store.MonthsSpanned(sd.Add(-zoneSlack), ed.Add(zoneSlack))
		}
	}
	return store.MonthsSpanned(e.Start, e.End)
}

// MaxIndexedMonths bounds the months one event is indexed into. Longer than any sync
// window (SYNC_PAST_DAYS + SYNC_HORIZON_DAYS ≤ 20 years), it is only reached by an event
// spanning decades or millennia (event dates are RFC 3339 full-dates: any year up to
// 9999), which ClipMonths then keeps to the months a sync window can be asked about.
const MaxIndexedMonths = 240

// ClipMonths keeps, when there are more than MaxIndexedMonths, only the months from
// from's to to's (inclusive, UTC); otherwise months is returned as it is.
func ClipMonths(months []string, from, to time.Time) []string {
	if len(months) <= MaxIndexedMonths {
		return months
	}
	lo, hi := store.MonthKey(from), store.MonthKey(to)
	out := []string{}
	for _, m := range months {
		if len(m) == len(lo) && m >= lo && m <= hi {
			out = append(out, m)
		}
	}
	return out
}

// Item is the busy-index entry of a busy event.
func Item(e store.Event) store.BusyItem {
	if e.AllDay {
		return store.BusyItem{StartDate: e.StartDate, EndDate: e.EndDate}
	}
	return store.BusyItem{Start: e.Start, End: e.End}
}

// Fields is the Firestore document of an event: exactly the kept fields.
func Fields(e store.Event) map[string]any {
	m := map[string]any{
		"title": e.Title, "details": e.Details, "start": e.Start, "end": e.End,
		"allDay": e.AllDay, "busy": e.Busy, "status": e.Status, "updated": e.Updated,
		"months": e.Months,
	}
	if e.Months == nil {
		m["months"] = []string{}
	}
	if e.AllDay {
		m["startDate"], m["endDate"] = e.StartDate, e.EndDate
	}
	if e.RecurringID != "" {
		m["recurringId"] = e.RecurringID
	}
	if e.BookingID != "" {
		m["bookingId"] = e.BookingID
	}
	return m
}
