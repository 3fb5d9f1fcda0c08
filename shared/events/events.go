// Package events lists the stored events of a staff member's calendars for the calendar
// view: the events of the selected calendars of active connections overlapping a window,
// sorted, in pages with an opaque cursor. It reads only what store holds (ids, titles,
// details, times, colours) and never calls Google.
package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/belbo/calsync/shared/store"
)

// Listing limits.
const (
	MaxRange = 62 * 24 * time.Hour
	PageSize = 500
	// MaxSpan: an event is found when it starts at most this long before `from`.
	// Firestore allows a range on one field per query, so the query is
	// start ∈ [from − MaxSpan, to) and end > from is checked in memory; an event
	// longer than this that began before the window is not returned (documented limit).
	MaxSpan = 92 * 24 * time.Hour
)

// Errors of List; the caller's request is at fault.
var (
	ErrInvalidRange     = errors.New("to must be after from and at most 62 days later")
	ErrInvalidPageToken = errors.New("pageToken does not belong to this query")
)

// Event is one listed event, as the calendar view shows it.
type Event struct {
	ID         string    `json:"id"`
	CalendarID string    `json:"calendarId"`
	Title      string    `json:"title"`
	Details    string    `json:"details"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	AllDay     bool      `json:"allDay"`
	StartDate  string    `json:"startDate,omitempty"`
	EndDate    string    `json:"endDate,omitempty"`
	Color      string    `json:"color"`
	Busy       bool      `json:"busy"`
	BookingID  string    `json:"bookingId,omitempty"`
}

// Page is one page of a listing; NextPageToken is "" on the last page.
type Page struct {
	Events        []Event
	NextPageToken string
}

type cursor struct {
	From   int64 `json:"f"`
	To     int64 `json:"t"`
	Offset int   `json:"o"`
}

// List returns the page at pageToken ("" for the first) of the events of the staff
// member's selected calendars of active connections overlapping [from, to), sorted by
// start, then calendar id, then event id.
func List(ctx context.Context, st *store.Store, tenant, staff string, from, to time.Time, pageToken string) (Page, error) {
	if !to.After(from) || to.Sub(from) > MaxRange {
		return Page{}, ErrInvalidRange
	}
	offset := 0
	if pageToken != "" {
		var c cursor
		raw, err := base64.RawURLEncoding.DecodeString(pageToken)
		if err != nil || len(pageToken) > 200 || json.Unmarshal(raw, &c) != nil || c.From != from.UnixNano() || c.To != to.UnixNano() || c.Offset <= 0 {
			return Page{}, ErrInvalidPageToken
		}
		offset = c.Offset
	}
	out, err := overlapping(ctx, st, tenant, staff, from, to)
	if err != nil {
		return Page{}, err
	}
	if offset > len(out) {
		offset = len(out)
	}
	page := Page{Events: out[offset:]}
	if len(page.Events) > PageSize {
		page.Events = page.Events[:PageSize]
		page.NextPageToken, _ = pageOf(from, to, offset+PageSize)
	}
	return page, nil
}

// pageOf is the opaque token of the page at offset of the listing of [from, to).
func pageOf(from, to time.Time, offset int) (string, error) {
	b, err := json.Marshal(cursor{From: from.UnixNano(), To: to.UnixNano(), Offset: offset})
	return base64.RawURLEncoding.EncodeToString(b), err
}

// overlapping reads every event of the listing, sorted.
func overlapping(ctx context.Context, st *store.Store, tenant, staff string, from, to time.Time) ([]Event, error) {
	conns, err := st.ListConnections(ctx, tenant, staff)
	if err != nil {
		return nil, err
	}
	out := []Event{}
	for _, conn := range conns {
		if conn.Status != store.StatusActive {
			continue
		}
		cals, err := st.ListCalendars(ctx, tenant, staff, conn.ID)
		if err != nil {
			return nil, err
		}
		for _, cal := range cals {
			if !cal.Selected {
				continue
			}
			ref := store.CalRef{Tenant: tenant, Staff: staff, Connection: conn.ID, Calendar: cal.DocID}
			evs, err := st.EventsStartingIn(ctx, ref, from.Add(-MaxSpan), to)
			if err != nil {
				return nil, err
			}
			for _, e := range evs {
				if !e.End.After(from) {
					continue
				}
				out = append(out, Event{ID: e.ID, CalendarID: cal.GoogleID, Title: e.Title, Details: e.Details,
					Start: e.Start, End: e.End, AllDay: e.AllDay, StartDate: e.StartDate, EndDate: e.EndDate,
					Color: cal.Color, Busy: e.Busy, BookingID: e.BookingID})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		if out[i].CalendarID != out[j].CalendarID {
			return out[i].CalendarID < out[j].CalendarID
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
