package synccalendar

import (
	"context"
	"errors"
	"testing"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
)

// A malformed message is permanent (platform.Dispatch dead-letters and acknowledges it);
// it is rejected before any clock, Firestore or Google call.
func TestMalformedMessageIsPermanent(t *testing.T) {
	t.Parallel()
	h, err := New(&platform.Platform{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{``, `{`, `[]`, `{"tenant":"t"}`,
		`{"tenant":"t","staff":"s","connection":"c","calendar":"x","reason":"nope"}`,
		`{"tenant":"t/../x","staff":"s","connection":"c","calendar":"x","reason":"push"}`,
		`{"tenant":"t","staff":"s","connection":"c","calendar":"x","reason":"push","extra":1}`} {
		if err := h(context.Background(), []byte(data), nil); !errors.Is(err, messages.ErrPermanent) {
			t.Errorf("%q: %v, want ErrPermanent", data, err)
		}
	}
}

func FuzzSyncMessage(f *testing.F) {
	f.Add([]byte(`{"tenant":"t","staff":"s","connection":"c","calendar":"x","reason":"push"}`))
	f.Add([]byte(`{"tenant":"","reason":"full"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := messages.DecodeSync(data)
		if err != nil {
			if !errors.Is(err, messages.ErrPermanent) {
				t.Fatalf("non-permanent decode error %v", err)
			}
			return
		}
		for _, id := range []string{m.Tenant, m.Staff, m.Connection, m.Calendar} {
			if !messages.ValidID(id) {
				t.Fatalf("accepted id %q", id)
			}
		}
	})
}
