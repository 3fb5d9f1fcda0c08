package manage

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/store"
)

// Events API limits.
const (
	eventsMaxRange = 62 * 24 * time.Hour
	eventsPageSize = 500
	// eventsMaxSpan: an event is found when it starts at most this long before `from`.
	// Firestore allows a range on one field per query, so the query is
	// start ∈ [from − eventsMaxSpan, to) and end > from is checked in memory; an event
	// longer than this that began before the window is not returned (documented limit).
	eventsMaxSpan = 92 * 24 * time.Hour
)

type eventJSON struct {
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

type eventsCursor struct {
	From   int64 `json:"f"`
	To     int64 `json:"t"`
	Offset int   `json:"o"`
}

// listEvents: GET …/events?from=&to=&pageToken= — the events of the staff member's
// selected calendars of active connections overlapping [from, to), sorted by start.
func (a *api) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := time.Parse(time.RFC3339, q.Get("from"))
	to, err2 := time.Parse(time.RFC3339, q.Get("to"))
	if err1 != nil || err2 != nil {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_range", "from and to are required RFC 3339 instants")
		return
	}
	if !to.After(from) || to.Sub(from) > eventsMaxRange {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_range", "to must be after from and at most 62 days later")
		return
	}
	offset := 0
	if pt := q.Get("pageToken"); pt != "" {
		var c eventsCursor
		raw, err := base64.RawURLEncoding.DecodeString(pt)
		if err != nil || len(pt) > 200 || json.Unmarshal(raw, &c) != nil || c.From != from.UnixNano() || c.To != to.UnixNano() || c.Offset <= 0 {
			jsonhttp.Error(w, http.StatusBadRequest, "invalid_page_token", "pageToken does not belong to this query")
			return
		}
		offset = c.Offset
	}
	ctx := r.Context()
	tenant, staff := r.PathValue("tenant"), r.PathValue("staff")
	conns, err := a.p.Store.ListConnections(ctx, tenant, staff)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := []eventJSON{}
	for _, conn := range conns {
		if conn.Status != store.StatusActive {
			continue
		}
		cals, err := a.p.Store.ListCalendars(ctx, tenant, staff, conn.ID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		for _, cal := range cals {
			if !cal.Selected {
				continue
			}
			ref := store.CalRef{Tenant: tenant, Staff: staff, Connection: conn.ID, Calendar: cal.DocID}
			evs, err := a.p.Store.EventsStartingIn(ctx, ref, from.Add(-eventsMaxSpan), to)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			for _, e := range evs {
				if !e.End.After(from) {
					continue
				}
				out = append(out, eventJSON{ID: e.ID, CalendarID: cal.GoogleID, Title: e.Title, Details: e.Details,
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
	if offset > len(out) {
		offset = len(out)
	}
	page := out[offset:]
	next := ""
	if len(page) > eventsPageSize {
		page = page[:eventsPageSize]
		b, _ := json.Marshal(eventsCursor{From: from.UnixNano(), To: to.UnixNano(), Offset: offset + eventsPageSize})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	w.Header().Set("Cache-Control", "no-store")
	resp := map[string]any{"events": page}
	if next != "" {
		resp["nextPageToken"] = next
	}
	jsonhttp.Write(w, http.StatusOK, resp)
}
