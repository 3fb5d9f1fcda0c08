package connect

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/belbo/calsync/shared/secrets"
)

// The OAuth state is "<key version>.<id>.<mac>": the id names the single-use
// oauthStates document; the MAC (HMAC-SHA256 under the state key, version recorded so
// the key can rotate) lets forged states be refused before any read.

var stateRe = regexp.MustCompile(`^[0-9A-Za-z_-]{1,32}\.[0-9A-Za-z_-]{43}\.[0-9A-Za-z_-]{43}$`)

// ErrBadState is any state that is malformed, forged, replayed or expired.
var ErrBadState = errors.New("invalid state")

func stateKey(ctx context.Context, src secrets.Source, version string) ([]byte, string, error) {
	var raw []byte
	var err error
	if version == "" {
		raw, version, err = src.Latest(ctx, "state-key")
	} else {
		raw, err = src.Version(ctx, "state-key", version)
	}
	if err != nil {
		return nil, "", fmt.Errorf("state key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != 32 {
		return nil, "", errors.New("state key: want 32 bytes in standard base64")
	}
	return key, version, nil
}

func mac(key []byte, version, id string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(version + "." + id))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// NewState makes a fresh state and its document id.
func NewState(ctx context.Context, src secrets.Source) (state, id string, err error) {
	key, version, err := stateKey(ctx, src, "")
	if err != nil {
		return "", "", err
	}
	if !regexp.MustCompile(`^[0-9A-Za-z_-]{1,32}$`).MatchString(version) {
		return "", "", fmt.Errorf("state key version %q is not usable", version)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	id = base64.RawURLEncoding.EncodeToString(b)
	return version + "." + id + "." + mac(key, version, id), id, nil
}

// VerifyState checks a state's form and MAC and returns its document id. It does not
// check single use or expiry (the document does that).
func VerifyState(ctx context.Context, src secrets.Source, state string) (string, error) {
	if len(state) > 200 || !stateRe.MatchString(state) {
		return "", ErrBadState
	}
	parts := strings.Split(state, ".")
	// The version comes from the caller: accept only recent numeric versions, so a forged
	// state cannot make us look up arbitrary secret versions (each a Secret Manager call).
	if err := recentVersion(ctx, src, parts[0]); err != nil {
		return "", ErrBadState
	}
	key, _, err := stateKey(ctx, src, parts[0])
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if !hmac.Equal([]byte(mac(key, parts[0], parts[1])), []byte(parts[2])) {
		return "", ErrBadState
	}
	return parts[1], nil
}

// MaxStateKeyAge is how many versions back a state's key version may be: states live 15
// minutes, so only the versions of the last few rotations can still be in flight.
const MaxStateKeyAge = 5

func recentVersion(ctx context.Context, src secrets.Source, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return ErrBadState
	}
	_, latest, err := src.Latest(ctx, "state-key")
	if err != nil {
		return err
	}
	l, err := strconv.Atoi(latest)
	if err != nil {
		return nil // a source without numbered versions: the MAC still decides
	}
	if n > l || n < l-MaxStateKeyAge {
		return ErrBadState
	}
	return nil
}
