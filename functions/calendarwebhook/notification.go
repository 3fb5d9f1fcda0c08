package calendarwebhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/belbo/calsync/shared/watch"
)

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

// ParseHeaders validates a push notification's headers. It never panics.
func ParseHeaders(h http.Header) (Notification, error) {
	n := Notification{
		ChannelID:  h.Get("X-Goog-Channel-Id"),
		Token:      h.Get("X-Goog-Channel-Token"),
		ResourceID: h.Get("X-Goog-Resource-Id"),
		State:      h.Get("X-Goog-Resource-State"),
	}
	if !validChannelID(n.ChannelID) {
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

// validChannelID accepts only ids of the shape the product creates (watch.NewChannelID).
func validChannelID(s string) bool { return watch.ValidChannelID(s) }

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
