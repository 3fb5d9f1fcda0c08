// Package httperr is the one mapping from domain errors to the API's HTTP answers
// ({"error":{"code","message"}}, see shared/jsonhttp), used by every HTTP function, so
// the same error answers the same wherever it surfaces.
package httperr

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/slotquery"
)

// Clock is a clock that can fail (platform.Platform.Now).
type Clock func(context.Context) (time.Time, error)

// Now reads the clock; when it cannot be read it answers 503 clock_unavailable and
// reports false.
func Now(w http.ResponseWriter, r *http.Request, clock Clock) (time.Time, bool) {
	now, err := clock(r.Context())
	if err != nil {
		jsonhttp.Error(w, http.StatusServiceUnavailable, "clock_unavailable", "the clock could not be read")
		return now, false
	}
	return now, true
}

// Write answers err when it is a known domain error and reports whether it did; for
// any other error the caller logs it and answers 500.
//
//   - booking.ErrTaken, booking.ErrContended → 409 slot_taken
//   - booking.ErrNotBookable (the staff member does not exist or has no availability
//     rules), slotquery.ErrUnknownStaff → 404 staff_not_found: either way this staff
//     member does not take bookings (Manage's GET availability answers
//     availability_not_set for a staff member without rules, a different question)
//   - booking.ErrReauthRequired → 409 calendar_reauth_required: the staff member's Google
//     calendar needs to be reconnected before they can be booked (tenant setting
//     slotsWhenReauthNeeded off)
//   - booking.ErrNotFound → 404 booking_not_found
//   - *availability.ValidationError, a booking field error → 400 invalid_request
//   - booking.ErrServiceRequired → 400 service_required, booking.ErrServiceNotFound →
//     404 service_not_found, booking.ErrServiceNotOffered → 400 service_not_offered
//     (Slots answers the same errors: slotsvc uses booking's)
//   - *booking.LimitError → 429 rate_limited with Retry-After (whole seconds, ≥ 1)
func Write(w http.ResponseWriter, err error) bool {
	var ve *availability.ValidationError
	var le *booking.LimitError
	switch {
	case err == nil:
		return false
	case errors.Is(err, booking.ErrServiceRequired):
		jsonhttp.Error(w, http.StatusBadRequest, "service_required", "name a service of the catalogue with serviceId")
	case errors.Is(err, booking.ErrServiceNotFound):
		jsonhttp.Error(w, http.StatusNotFound, "service_not_found", "no such service")
	case errors.Is(err, booking.ErrServiceNotOffered):
		jsonhttp.Error(w, http.StatusBadRequest, "service_not_offered", "a staff member asked for does not offer this service")
	case errors.As(err, &le):
		secs := int((le.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		jsonhttp.Error(w, http.StatusTooManyRequests, "rate_limited", "Too many bookings ("+le.Dimension+", per "+le.Window+"). Please try again later.")
	case errors.Is(err, booking.ErrTaken):
		jsonhttp.Error(w, http.StatusConflict, "slot_taken", "This time was just booked by someone else. Please choose another slot.")
	case errors.Is(err, booking.ErrContended):
		jsonhttp.Error(w, http.StatusConflict, "slot_taken", "This time is being booked by someone else right now. Please choose another slot.")
	case errors.Is(err, booking.ErrNotBookable), errors.Is(err, slotquery.ErrUnknownStaff):
		jsonhttp.Error(w, http.StatusNotFound, "staff_not_found", "a staff member asked for does not take bookings")
	case errors.Is(err, booking.ErrReauthRequired):
		jsonhttp.Error(w, http.StatusConflict, "calendar_reauth_required", "This staff member cannot be booked until their Google Calendar is reconnected.")
	case errors.Is(err, booking.ErrNotFound):
		jsonhttp.Error(w, http.StatusNotFound, "booking_not_found", "no such booking (or a wrong cancel token)")
	case errors.As(err, &ve):
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_request", ve.Error())
	default:
		fe, ok := booking.IsFieldError(err)
		if !ok {
			return false
		}
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_request", fe.Error())
	}
	return true
}
