// Package booking creates, cancels and exports the product's own appointments.
//
// Create re-checks the slot with the same engine as Slots (availability.Free) inside a
// Firestore transaction whose read set covers the staff doc, the busy docs, the bookings
// near the slot and one lock document per UTC day the appointment occupies, so two
// customers racing for overlapping times get exactly one booking. Export writes bookings
// into the staff member's Google calendar under a deterministic event id with a private
// extended property; CheckEcho lets the inbound sync report Google-side changes to those
// events without touching the booking.
//
// Customer details never reach logs: only booking, tenant and staff ids are logged. The
// cancel token is returned once and stored only as its SHA-256 hash.
package booking

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/safetext"
)

// Limits of a booking request.
const (
	MaxBody        = 8 << 10
	MinDurationMin = 5
	MaxDurationMin = 480
	MaxNameLen     = 100 // characters
	MaxServiceLen  = 100 // characters
	MaxEmailLen    = 254 // bytes
)

// Customer is who booked.
type Customer struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Request is the body of Book's POST / and of Manage's POST /bookings (where tenant and
// staff come from the path and may be omitted). A request names a service of the
// tenant's catalogue (ServiceID) or, where free-form booking is allowed, gives
// DurationMin and Service itself — never both.
type Request struct {
	Tenant      string   `json:"tenant"`
	Staff       string   `json:"staff"`
	Start       string   `json:"start"`
	ServiceID   string   `json:"serviceId"`
	DurationMin int      `json:"durationMin"`
	Service     string   `json:"service"`
	Customer    Customer `json:"customer"`
}

// Input is a validated request. With ServiceID set, Duration, Service and the buffers are
// filled in from the catalogue by Service.Resolve.
type Input struct {
	Tenant, Staff string
	Start         time.Time
	ServiceID     string
	FreeForm      bool // DurationMin and Service came from the request
	Duration      time.Duration
	Service       string
	// Buffers of the service (minutes); the effective buffers are the larger of these
	// and the staff member's.
	BufferBeforeMin, BufferAfterMin int
	CustomerName                    string
	CustomerEmail                   string
}

// FieldError is an invalid request field (answered 400).
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// DecodeRequest parses a JSON body strictly (unknown fields and trailing data rejected).
func DecodeRequest(body []byte) (Request, error) {
	var r Request
	if len(body) > MaxBody {
		return r, fieldErr("body", "exceeds %d bytes", MaxBody)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fieldErr("body", "is not valid JSON for this call")
	}
	if dec.More() {
		return r, fieldErr("body", "holds more than one JSON value")
	}
	return r, nil
}

// ParseRequest decodes and validates a Book body.
func ParseRequest(body []byte) (Input, error) {
	r, err := DecodeRequest(body)
	if err != nil {
		return Input{}, err
	}
	return r.Validate()
}

// Validate checks every field and cleans text (safetext.Clean: NFC, no invisible or
// control characters, length-limited; e-mail address only).
func (r Request) Validate() (Input, error) {
	var in Input
	if !messages.ValidID(r.Tenant) {
		return in, fieldErr("tenant", "must be 1–128 of A–Z a–z 0–9 _ - (not __…__)")
	}
	if !messages.ValidID(r.Staff) {
		return in, fieldErr("staff", "must be 1–128 of A–Z a–z 0–9 _ - (not __…__)")
	}
	in.Tenant, in.Staff = r.Tenant, r.Staff
	t, err := time.Parse(time.RFC3339, r.Start)
	if err != nil || t.Year() < 2000 || t.Year() > 2199 {
		return in, fieldErr("start", "must be an RFC 3339 instant such as 2026-11-02T10:00:00+01:00")
	}
	in.Start = t
	switch {
	case r.ServiceID != "":
		if r.DurationMin != 0 || r.Service != "" {
			return in, fieldErr("serviceId", "give serviceId, or durationMin and service where free-form booking is allowed, not both")
		}
		if !messages.ValidID(r.ServiceID) {
			return in, fieldErr("serviceId", "must be 1–128 of A–Z a–z 0–9 _ - (not __…__)")
		}
		in.ServiceID = r.ServiceID
	case r.DurationMin == 0 && r.Service == "":
		return in, ErrServiceRequired
	default:
		in.FreeForm = true
		if r.DurationMin < MinDurationMin || r.DurationMin > MaxDurationMin {
			return in, fieldErr("durationMin", "must be from %d to %d minutes", MinDurationMin, MaxDurationMin)
		}
		in.Duration = time.Duration(r.DurationMin) * time.Minute
		svc, err := text("service", r.Service, MaxServiceLen)
		if err != nil {
			return in, err
		}
		in.Service = svc
	}
	name, err := text("customer.name", r.Customer.Name, MaxNameLen)
	if err != nil {
		return in, err
	}
	in.CustomerName = name
	email := strings.TrimSpace(r.Customer.Email)
	if email == "" || len(email) > MaxEmailLen {
		return in, fieldErr("customer.email", "is required (at most %d characters)", MaxEmailLen)
	}
	addr, err := mail.ParseAddress(email)
	if clean, _, ok := safetext.Clean(email, MaxEmailLen); err != nil || !ok || clean != email || addr.Address != email || !strings.Contains(addr.Address, "@") {
		return in, fieldErr("customer.email", "is not a valid e-mail address")
	}
	in.CustomerEmail = addr.Address
	return in, nil
}

// text cleans s with safetext.Clean and checks 1..max characters remain.
func text(field, s string, maxLen int) (string, error) {
	out, why, ok := safetext.Clean(s, maxLen)
	if !ok {
		return "", fieldErr(field, "%s", why)
	}
	return out, nil
}

// IsFieldError reports whether err is a request validation error.
func IsFieldError(err error) (*FieldError, bool) {
	var fe *FieldError
	ok := errors.As(err, &fe)
	return fe, ok
}
