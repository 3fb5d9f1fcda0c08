package exportbooking

import (
	"context"
	"errors"
	"testing"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
)

// A malformed message is permanent (dead-lettered and acknowledged); it is rejected
// before any clock, Firestore or Google call.
func TestMalformedMessageIsPermanent(t *testing.T) {
	t.Parallel()
	h, err := New(&platform.Platform{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{``, `{`, `[]`, `{"tenant":"t"}`, `{"tenant":"t/../x","staff":"s","booking":"b"}`} {
		if err := h(context.Background(), []byte(data), nil); !errors.Is(err, messages.ErrPermanent) {
			t.Errorf("%q: %v, want ErrPermanent", data, err)
		}
	}
}
