package manageapi

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/store"
)

func (c *Controller) bookings() *booking.Service {
	return &booking.Service{Store: c.p.Store, Publish: c.p.Publish}
}

type bookingJSON struct {
	ID            string `json:"id"`
	Start         string `json:"start"`
	End           string `json:"end"`
	Service       string `json:"service"`
	CustomerName  string `json:"customerName"`
	CustomerEmail string `json:"customerEmail"`
	Status        string `json:"status"`
	Source        string `json:"source"`
	GoogleEventID string `json:"googleEventId"`
	ExportState   string `json:"exportState"`
	Conflict      string `json:"conflict"`
}

func toJSON(b *store.Booking) bookingJSON {
	return bookingJSON{
		ID: b.ID, Start: b.Start.UTC().Format(time.RFC3339), End: b.End.UTC().Format(time.RFC3339),
		Service: b.Service, CustomerName: b.CustomerName, CustomerEmail: b.CustomerEmail,
		Status: b.Status, Source: b.Source, GoogleEventID: b.GoogleEventID, ExportState: b.ExportState, Conflict: b.Conflict,
	}
}

// ListBookings: GET …/bookings?from=&to= → the bookings (any status) starting in
// [from, to), by start (booking.Service.List).
func (c *Controller) ListBookings(w http.ResponseWriter, r *http.Request) {
	from, err1 := time.Parse(time.RFC3339, r.URL.Query().Get("from"))
	to, err2 := time.Parse(time.RFC3339, r.URL.Query().Get("to"))
	var list []*store.Booking
	err := booking.ErrInvalidRange // an instant that does not parse
	if err1 == nil && err2 == nil {
		list, err = c.bookings().List(r.Context(), r.PathValue("tenant"), r.PathValue("staff"), from, to)
	}
	switch {
	case errors.Is(err, booking.ErrInvalidRange):
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_range", "from and to must be RFC 3339 instants, from < to, at most 366 days apart")
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	out := make([]bookingJSON, len(list))
	for i, b := range list {
		out[i] = toJSON(b)
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, map[string]any{"bookings": out})
}

// CreateBooking is a staff-created appointment: the Book body, with tenant and staff
// taken from the path (if the body names them they must match). It skips minimum notice
// and the booking horizon, nothing else (docs/booking.md).
func (c *Controller) CreateBooking(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, booking.MaxBody))
	if err != nil {
		jsonhttp.Error(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds 8 KiB")
		return
	}
	req, err := booking.DecodeRequest(body)
	if err != nil {
		c.domainError(w, r, err)
		return
	}
	tenant, staff := r.PathValue("tenant"), r.PathValue("staff")
	if req.Tenant != "" && req.Tenant != tenant || req.Staff != "" && req.Staff != staff {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_request", "tenant and staff in the body must match the path")
		return
	}
	req.Tenant, req.Staff = tenant, staff
	in, err := req.Validate()
	if err != nil {
		c.domainError(w, r, err)
		return
	}
	now, ok := c.now(w, r)
	if !ok {
		return
	}
	created, err := c.bookings().CreateByStaff(r.Context(), in, now)
	if err != nil {
		c.domainError(w, r, err)
		return
	}
	b := created.Booking
	jsonhttp.Write(w, http.StatusCreated, map[string]string{
		"id": b.ID, "start": b.Start.In(created.Zone).Format(time.RFC3339), "end": b.End.In(created.Zone).Format(time.RFC3339),
		"staff": b.Staff, "cancelToken": created.CancelToken,
	})
}

// CancelBooking: DELETE …/bookings/{booking} → 204 (also for one already cancelled).
func (c *Controller) CancelBooking(w http.ResponseWriter, r *http.Request) {
	now, ok := c.now(w, r)
	if !ok {
		return
	}
	err := c.bookings().CancelByStaff(r.Context(), r.PathValue("tenant"), r.PathValue("staff"), r.PathValue("booking"), now)
	if err != nil {
		c.domainError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
