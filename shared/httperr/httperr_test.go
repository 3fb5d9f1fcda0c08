package httperr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/slotquery"
)

func answer(t *testing.T, rec *httptest.ResponseRecorder) (int, string) {
	t.Helper()
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, b.Error.Code
}

func TestWriteMapsDomainErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{booking.ErrTaken, 409, "slot_taken"},
		{fmt.Errorf("create: %w", booking.ErrContended), 409, "slot_taken"},
		{booking.ErrNotBookable, 404, "staff_not_found"},
		{slotquery.ErrUnknownStaff, 404, "staff_not_found"},
		{booking.ErrNotFound, 404, "booking_not_found"},
		{&availability.ValidationError{Field: "x", Message: "bad"}, 400, "invalid_request"},
		{&booking.FieldError{}, 400, "invalid_request"},
	} {
		rec := httptest.NewRecorder()
		if !Write(rec, tc.err) {
			t.Fatalf("%v: not mapped", tc.err)
		}
		if st, code := answer(t, rec); st != tc.status || code != tc.code {
			t.Errorf("%v → %d %s, want %d %s", tc.err, st, code, tc.status, tc.code)
		}
	}
	for _, err := range []error{nil, errors.New("boom")} {
		rec := httptest.NewRecorder()
		if Write(rec, err) || rec.Body.Len() != 0 {
			t.Errorf("%v: answered, want left to the caller", err)
		}
	}
}

func TestNow(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := httptest.NewRecorder()
	if got, ok := Now(rec, r, func(context.Context) (time.Time, error) { return want, nil }); !ok || !got.Equal(want) || rec.Body.Len() != 0 {
		t.Fatalf("Now = %v, %v", got, ok)
	}
	rec = httptest.NewRecorder()
	if _, ok := Now(rec, r, func(context.Context) (time.Time, error) { return time.Time{}, errors.New("down") }); ok {
		t.Fatal("Now ok on a failing clock")
	}
	if st, code := answer(t, rec); st != 503 || code != "clock_unavailable" {
		t.Fatalf("failing clock → %d %s", st, code)
	}
}
