package manageapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/store"
)

// The refusals of GET and POST …/bookings, answered before any read.
func TestBookingRefusals(t *testing.T) {
	t.Parallel()
	c := testController(nil)
	base := "/v1/tenants/t1/staff/anna/bookings"
	var ranges []refusal
	for _, q := range []string{"", "?from=2026-03-01&to=2026-03-02", "?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
		"?from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z", "?from=2026-01-01T00:00:00Z&to=2027-01-03T00:00:00Z"} {
		ranges = append(ranges, refusal{q, base + q, "", http.StatusBadRequest, "invalid_range"})
	}
	expect(t, "GET "+staffPath+"/bookings", c.ListBookings, ranges)
	expect(t, "POST "+staffPath+"/bookings", c.CreateBooking, []refusal{
		{"too large", base, `{"service":"` + strings.Repeat("n", 9<<10) + `"}`, http.StatusRequestEntityTooLarge, "body_too_large"},
		{"other tenant", base, `{"tenant":"t2","staff":"anna"}`, http.StatusBadRequest, "must match the path"},
		{"other staff", base, `{"staff":"ben"}`, http.StatusBadRequest, "must match the path"},
	})
}

// A listed booking's instants are UTC RFC 3339.
func TestBookingJSON(t *testing.T) {
	t.Parallel()
	berlin := time.FixedZone("CET", 3600)
	b := toJSON(&store.Booking{ID: "b1", Start: time.Date(2026, 3, 2, 10, 0, 0, 0, berlin), End: time.Date(2026, 3, 2, 10, 30, 0, 0, berlin), Status: store.BookingConfirmed})
	if b.ID != "b1" || b.Start != "2026-03-02T09:00:00Z" || b.End != "2026-03-02T09:30:00Z" || b.Status != store.BookingConfirmed {
		t.Errorf("%+v", b)
	}
}
