package watch

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
)

// The receiving side of a push channel: what CalendarWebhook checks in the headers of a
// notification before its one read (docs/design.md "Flows", Push).

// TokenMatches compares sha256(token) with the stored hex hash in constant time.
func TokenMatches(token, hash string) bool {
	want, err := hex.DecodeString(hash)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// Resource states.
const (
	StateSync      = "sync"
	StateExists    = "exists"
	StateNotExists = "not_exists"
)

// Notification is what the headers of one push say.
type Notification struct {
	ChannelID, Token, ResourceID, State string
}

// ErrHeaders is wrapped by every header error.
var ErrHeaders = errors.New("bad notification headers")

const maxHeader = 512

// ParseHeaders validates a push notification's headers: a channel id of the shape
// NewChannelID makes, a known resource state, a printable resource id and a token of
// bounded length. It never panics.
func ParseHeaders(h http.Header) (Notification, error) {
	n := Notification{
		ChannelID:  h.Get("X-Goog-Channel-Id"),
		Token:      h.Get("X-Goog-Channel-Token"),
		ResourceID: h.Get("X-Goog-Resource-Id"),
		State:      h.Get("X-Goog-Resource-State"),
	}
	if !ValidChannelID(n.ChannelID) {
		return Notification{}, errors.Join(ErrHeaders, errors.New("X-Goog-Channel-ID is not a channel id this product creates"))
	}
	switch n.State {
	case StateSync, StateExists, StateNotExists:
	default:
		return Notification{}, errors.Join(ErrHeaders, errors.New("X-Goog-Resource-State must be sync, exists or not_exists"))
	}
	if n.ResourceID == "" || len(n.ResourceID) > maxHeader || !printable(n.ResourceID) {
		return Notification{}, errors.Join(ErrHeaders, errors.New("X-Goog-Resource-ID is missing or invalid"))
	}
	if len(n.Token) > maxHeader {
		return Notification{}, errors.Join(ErrHeaders, errors.New("X-Goog-Channel-Token is too long"))
	}
	return n, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
