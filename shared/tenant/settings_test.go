package tenant

import (
	"errors"
	"testing"
)

func TestDefaultsAreValid(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	d := Defaults()
	if d.FreeFormBooking || d.SlotsWhenReauthNeeded {
		t.Fatal("the safe defaults are: no free-form booking, no slots while reauth is needed")
	}
}

func TestPatchMergesAndValidates(t *testing.T) {
	s, err := Defaults().Patch([]byte(`{"freeFormBooking":true,"limits":{"perEmail":{"hour":2}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.FreeFormBooking || s.Limits.PerEmail.Hour != 2 || s.Limits.PerEmail.Day != Defaults().Limits.PerEmail.Day {
		t.Fatalf("merge lost or ignored fields: %+v", s)
	}
	if s.Limits.PerIP != Defaults().Limits.PerIP || s.Retention != Defaults().Retention {
		t.Fatalf("fields left out changed: %+v", s)
	}
	for name, body := range map[string]string{
		"unknown field":      `{"freeFormBookings":true}`,
		"not an object":      `[1]`,
		"null":               `null`,
		"zero limit":         `{"limits":{"perIp":{"hour":0}}}`,
		"day below hour":     `{"limits":{"perTenant":{"hour":50,"day":10}}}`,
		"retention too long": `{"retention":{"customerDataDays":4000}}`,
		"cancelled longer":   `{"retention":{"cancelledCustomerDataDays":31}}`,
		"erasure mode":       `{"erasure":{"exportedEvents":"keep"}}`,
		"wrong type":         `{"freeFormBooking":"yes"}`,
	} {
		_, err := Defaults().Patch([]byte(body))
		var ve *ValidationError
		if err == nil || !errors.Is(err, ErrPatch) && !errors.As(err, &ve) {
			t.Errorf("%s: want a patch or validation error, got %v", name, err)
		}
	}
}
