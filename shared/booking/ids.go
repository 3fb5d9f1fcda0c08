package booking

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/belbo/calsync/shared/messages"
)

var b32 = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewID returns a random booking id: 26 characters of base32hex (a–v, 0–9), 128 bits.
// It is also a valid Google event id fragment and a valid Firestore/path id.
func NewID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return b32.EncodeToString(b)
}

// Prefixes of the event ids the product chooses: "cs" + a base32hex booking id, or "ct"
// + base32hex of the bytes of any other valid booking id.
const (
	eventPrefix    = "cs"
	eventPrefixEnc = "ct0"
)

func base32hexID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'v') {
			return false
		}
	}
	return true
}

// EventID is the Google event id of a booking: "cs" + the booking id when that is already
// base32hex (every id NewID makes), otherwise "ct0" + base32hex of its bytes. Both are
// 5–1024 characters of [a-v0-9] for any valid booking id (≤ 128 bytes → ≤ 207), and
// deterministic, so a retried insert answers 409 instead of creating a second event.
func EventID(bookingID string) string {
	if base32hexID(bookingID) && len(bookingID) >= 3 {
		return eventPrefix + bookingID
	}
	return eventPrefixEnc + b32.EncodeToString([]byte(bookingID))
}

// BookingIDFromEventID inverts EventID; ok is false for ids the product did not choose.
func BookingIDFromEventID(eventID string) (string, bool) {
	if rest, ok := strings.CutPrefix(eventID, eventPrefix); ok && base32hexID(rest) && len(rest) >= 3 && messages.ValidID(rest) {
		return rest, true
	}
	if rest, ok := strings.CutPrefix(eventID, eventPrefixEnc); ok && base32hexID(rest) {
		b, err := b32.DecodeString(rest)
		if err != nil || !messages.ValidID(string(b)) || EventID(string(b)) != eventID {
			return "", false
		}
		return string(b), true
	}
	return "", false
}

// NewCancelToken returns a cancel token for a booking of tenant/staff:
// "{tenant}.{staff}.{secret}" where secret is 32 random bytes in base64url. The ids make
// the booking findable from the token and id alone; the secret makes it unguessable.
// Only store.HashToken of the whole token is stored.
func NewCancelToken(tenant, staff string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return tenant + "." + staff + "." + base64.RawURLEncoding.EncodeToString(b)
}

var errBadToken = errors.New("malformed cancel token")

// ParseCancelToken returns the tenant and staff a token names.
func ParseCancelToken(tok string) (tenant, staff string, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || !messages.ValidID(parts[0]) || !messages.ValidID(parts[1]) || len(parts[2]) != 43 {
		return "", "", errBadToken
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return "", "", errBadToken
	}
	return parts[0], parts[1], nil
}
