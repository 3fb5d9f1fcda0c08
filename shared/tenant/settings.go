// Package tenant holds a business's (a tenant's) settings: how its customers may book,
// the abuse limits on public booking, how long customer data is kept, and what the product
// does while a staff member's Google connection needs reauthorisation. It is pure: types,
// defaults, validation and merge-patching, no I/O (shared/store persists them).
//
// Every setting has a safe default, so a tenant that never wrote its settings behaves
// exactly like one that wrote the defaults.
package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Settings are one tenant's settings (tenants/{t}, field "settings").
type Settings struct {
	// FreeFormBooking accepts Book bodies with durationMin/service instead of a serviceId
	// from the catalogue. Off by default: duration and title then come from the catalogue.
	FreeFormBooking bool `json:"freeFormBooking" firestore:"freeFormBooking"`
	// SlotsWhenReauthNeeded offers slots for a staff member whose Google connection needs
	// reauthorisation (their calendar cannot be seen, so those slots may collide). Off by
	// default: no slots, and Book refuses, until they reconnect.
	SlotsWhenReauthNeeded bool `json:"slotsWhenReauthNeeded" firestore:"slotsWhenReauthNeeded"`
	// Limits bound public booking (Book) per client address, customer e-mail, staff member
	// and tenant.
	Limits Limits `json:"limits" firestore:"limits"`
	// Retention says how long customer data and unused connections are kept.
	Retention Retention `json:"retention" firestore:"retention"`
	// Erasure says what erasing a customer's data does to the events exported to Google.
	Erasure Erasure `json:"erasure" firestore:"erasure"`
}

// Window is a limit per hour and per day.
type Window struct {
	Hour int `json:"hour" firestore:"hour"`
	Day  int `json:"day" firestore:"day"`
}

// Limits are the booking limits per dimension.
type Limits struct {
	PerIP     Window `json:"perIp" firestore:"perIp"`
	PerEmail  Window `json:"perEmail" firestore:"perEmail"`
	PerStaff  Window `json:"perStaff" firestore:"perStaff"`
	PerTenant Window `json:"perTenant" firestore:"perTenant"`
}

// Retention periods, in days.
type Retention struct {
	// CustomerDataDays: a booking's customer name and e-mail are scrubbed this many days
	// after the appointment ends.
	CustomerDataDays int `json:"customerDataDays" firestore:"customerDataDays"`
	// CancelledCustomerDataDays: the same for a cancelled booking, counted from the
	// cancellation (sooner: a cancelled appointment needs them less).
	CancelledCustomerDataDays int `json:"cancelledCustomerDataDays" firestore:"cancelledCustomerDataDays"`
	// ReauthConnectionDays: a connection that needs reauthorisation is deleted (e-mail,
	// Google subject id, calendar list) this many days after it turned so, unless the staff
	// member reconnects.
	ReauthConnectionDays int `json:"reauthConnectionDays" firestore:"reauthConnectionDays"`
}

const day = 24 * time.Hour

// ScrubAt is when a booking's customer data goes: CustomerDataDays after the
// appointment ends.
func (r Retention) ScrubAt(end time.Time) time.Time {
	return end.Add(time.Duration(r.CustomerDataDays) * day)
}

// CancelledScrubAt is when a booking cancelled at cancelledAt loses its customer data:
// CancelledCustomerDataDays after the cancellation, or the regular ScrubAt(end) if that
// comes first.
func (r Retention) CancelledScrubAt(end, cancelledAt time.Time) time.Time {
	at := cancelledAt.Add(time.Duration(r.CancelledCustomerDataDays) * day)
	if reg := r.ScrubAt(end); reg.Before(at) {
		return reg
	}
	return at
}

// ReauthDeleteAt is when a connection that turned reauth_required at changed is deleted
// unless the staff member reconnects.
func (r Retention) ReauthDeleteAt(changed time.Time) time.Time {
	return changed.Add(time.Duration(r.ReauthConnectionDays) * day)
}

// What erasing a customer does to the bookings' events in Google.
const (
	ExportedEventsDelete    = "delete"
	ExportedEventsAnonymise = "anonymise"
)

// Erasure settings.
type Erasure struct {
	// ExportedEvents is ExportedEventsDelete (the exported Google event is deleted) or
	// ExportedEventsAnonymise (it stays, as busy time, without the customer's name).
	ExportedEvents string `json:"exportedEvents" firestore:"exportedEvents"`
}

// Defaults are the settings of a tenant that never wrote any.
func Defaults() Settings {
	return Settings{
		Limits: Limits{
			PerIP:     Window{Hour: 10, Day: 30},
			PerEmail:  Window{Hour: 5, Day: 10},
			PerStaff:  Window{Hour: 20, Day: 60},
			PerTenant: Window{Hour: 200, Day: 1000},
		},
		Retention: Retention{CustomerDataDays: 30, CancelledCustomerDataDays: 7, ReauthConnectionDays: 30},
		Erasure:   Erasure{ExportedEvents: ExportedEventsDelete},
	}
}

// Bounds of the numeric settings.
const (
	MaxLimit         = 100_000
	MaxRetentionDays = 3650
)

// ValidationError names the field that is wrong.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Validate checks every field.
func (s Settings) Validate() error {
	for _, w := range []struct {
		name string
		w    Window
	}{{"limits.perIp", s.Limits.PerIP}, {"limits.perEmail", s.Limits.PerEmail}, {"limits.perStaff", s.Limits.PerStaff}, {"limits.perTenant", s.Limits.PerTenant}} {
		if err := w.w.validate(w.name); err != nil {
			return err
		}
	}
	r := s.Retention
	if r.CustomerDataDays < 1 || r.CustomerDataDays > MaxRetentionDays {
		return &ValidationError{"retention.customerDataDays", fmt.Sprintf("must be 1–%d", MaxRetentionDays)}
	}
	if r.CancelledCustomerDataDays < 0 || r.CancelledCustomerDataDays > r.CustomerDataDays {
		return &ValidationError{"retention.cancelledCustomerDataDays", "must be 0–customerDataDays"}
	}
	if r.ReauthConnectionDays < 1 || r.ReauthConnectionDays > 365 {
		return &ValidationError{"retention.reauthConnectionDays", "must be 1–365"}
	}
	switch s.Erasure.ExportedEvents {
	case ExportedEventsDelete, ExportedEventsAnonymise:
	default:
		return &ValidationError{"erasure.exportedEvents", `must be "delete" or "anonymise"`}
	}
	return nil
}

func (w Window) validate(name string) error {
	if w.Hour < 1 || w.Hour > MaxLimit {
		return &ValidationError{name + ".hour", fmt.Sprintf("must be 1–%d", MaxLimit)}
	}
	if w.Day < w.Hour || w.Day > MaxLimit {
		return &ValidationError{name + ".day", fmt.Sprintf("must be hour–%d", MaxLimit)}
	}
	return nil
}

// ErrPatch is wrapped by Patch for a body that is not a valid merge patch of Settings.
var ErrPatch = errors.New("invalid settings patch")

// Patch applies a JSON merge patch (RFC 7396 for objects; a field left out keeps its
// value) to s and validates the result. Unknown fields are refused.
func (s Settings) Patch(body []byte) (Settings, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil || probe == nil {
		return s, fmt.Errorf("%w: the body must be a JSON object", ErrPatch)
	}
	next := s
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&next); err != nil {
		return s, fmt.Errorf("%w: %v", ErrPatch, err)
	}
	if err := next.Validate(); err != nil {
		return s, err
	}
	return next, nil
}
