// Package tokencrypt keeps Google refresh tokens encrypted at rest.
//
// A token is sealed with AES-256-GCM under the newest version of the "token-key" secret
// (32 random bytes, stored in standard base64), with the connection's Firestore path as
// associated data, so a sealed token copied onto another connection does not open. The
// key version travels with the ciphertext (Sealed.KeyVersion): after a key rotation old
// tokens still open, NeedsRotation reports them and Reseal moves them to the new key.
//
// Ciphertext layout (Sealed.Ciphertext):
//
//	format byte (0x01) || nonce (12 random bytes) || AES-GCM ciphertext || tag (16 bytes)
//
// The format byte is also authenticated (it is prefixed to the associated data), so the
// layout can evolve without ambiguity.
//
// The core (SealWithKey, OpenWithKey) does no I/O and is fuzzed. This package must never
// log, return in an error, or otherwise expose a plaintext token or a key; callers must
// never persist the plaintext or write it anywhere but to Google's token endpoint.
package tokencrypt

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/belbo/calsync/shared/secrets"
)

// KeyName is the secret holding the key.
const KeyName = secrets.TokenKey

const (
	formatV1  byte = 0x01
	keySize        = 32
	nonceSize      = 12
	tagSize        = 16
	overhead       = 1 + nonceSize + tagSize
)

// ErrOpen is returned when a ciphertext does not open: wrong key, wrong associated data,
// tampering, truncation or an unknown format. The cause is deliberately not told apart.
var ErrOpen = errors.New("tokencrypt: cannot open sealed token")

// Sealed is an encrypted token as stored in Firestore.
type Sealed struct {
	KeyVersion string `firestore:"keyVersion" json:"keyVersion"`
	Ciphertext []byte `firestore:"ciphertext" json:"ciphertext"` // format || nonce || ciphertext || tag
}

// LogValue shows the key version and size only, so a Sealed in a log line reveals nothing.
func (s Sealed) LogValue() slog.Value {
	return slog.GroupValue(slog.String("keyVersion", s.KeyVersion), slog.Int("bytes", len(s.Ciphertext)))
}

// ParseKey decodes a token-key secret value: 32 bytes in standard base64. Surrounding
// ASCII whitespace (a trailing newline from `gcloud secrets versions add --data-file`)
// is ignored.
func ParseKey(value []byte) ([]byte, error) {
	trimmed := trimSpace(value)
	key := make([]byte, base64.StdEncoding.DecodedLen(len(trimmed)))
	n, err := base64.StdEncoding.Strict().Decode(key, trimmed)
	if err != nil {
		return nil, errors.New("tokencrypt: key is not valid standard base64")
	}
	if n != keySize {
		return nil, fmt.Errorf("tokencrypt: key is %d bytes after base64 decoding, want %d (AES-256)", n, keySize)
	}
	return key[:n], nil
}

func trimSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("tokencrypt: key is %d bytes, want %d (AES-256)", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("tokencrypt: %w", err)
	}
	return cipher.NewGCM(block)
}

// SealWithKey encrypts plaintext under a raw 32-byte key with a fresh random nonce.
func SealWithKey(key, plaintext []byte, aad string) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return seal(aead, plaintext, aad), nil
}

// OpenWithKey decrypts the output of SealWithKey. Any failure is ErrOpen (or a key-size
// error); it never panics, whatever the input.
func OpenWithKey(key, sealed []byte, aad string) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return open(aead, sealed, aad)
}

func seal(aead cipher.AEAD, plaintext []byte, aad string) []byte {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+tagSize)
	out[0] = formatV1
	// crypto/rand.Read never fails (it crashes the program rather than return weak bytes).
	_, _ = rand.Read(out[1:])
	return aead.Seal(out, out[1:1+nonceSize], plaintext, additionalData(formatV1, aad))
}

func open(aead cipher.AEAD, sealed []byte, aad string) ([]byte, error) {
	if len(sealed) < overhead || sealed[0] != formatV1 {
		return nil, ErrOpen
	}
	pt, err := aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], additionalData(formatV1, aad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

func additionalData(format byte, aad string) []byte {
	b := make([]byte, 0, 1+len(aad))
	return append(append(b, format), aad...)
}

// Sealer seals and opens tokens with keys from a secrets.Source. It is safe for
// concurrent use; parsed keys are cached per version (versions are immutable).
type Sealer struct {
	src   secrets.Source
	mu    sync.Mutex
	aeads map[string]cipher.AEAD // key version → cipher
}

// New returns a Sealer reading the "token-key" secret from src.
func New(src secrets.Source) *Sealer {
	return &Sealer{src: src, aeads: map[string]cipher.AEAD{}}
}

// Seal encrypts plaintext under the latest key. aad is the connection's Firestore path.
func (s *Sealer) Seal(ctx context.Context, plaintext []byte, aad string) (Sealed, error) {
	value, version, err := s.src.Latest(ctx, KeyName)
	if err != nil {
		return Sealed{}, fmt.Errorf("tokencrypt: latest key: %w", err)
	}
	aead, err := s.aead(version, value)
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{KeyVersion: version, Ciphertext: seal(aead, plaintext, aad)}, nil
}

// Open decrypts in with the key version it was sealed under.
func (s *Sealer) Open(ctx context.Context, in Sealed, aad string) ([]byte, error) {
	if in.KeyVersion == "" {
		return nil, errors.New("tokencrypt: sealed token has no key version")
	}
	aead, err := s.aeadFor(ctx, in.KeyVersion)
	if err != nil {
		return nil, err
	}
	pt, err := open(aead, in.Ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("%w (key version %s)", err, in.KeyVersion)
	}
	return pt, nil
}

// NeedsRotation reports whether in was sealed under a key other than the latest.
func (s *Sealer) NeedsRotation(ctx context.Context, in Sealed) (bool, error) {
	_, version, err := s.src.Latest(ctx, KeyName)
	if err != nil {
		return false, fmt.Errorf("tokencrypt: latest key: %w", err)
	}
	return in.KeyVersion != version, nil
}

// Reseal opens in and seals the plaintext again under the latest key.
func (s *Sealer) Reseal(ctx context.Context, in Sealed, aad string) (Sealed, error) {
	pt, err := s.Open(ctx, in, aad)
	if err != nil {
		return Sealed{}, err
	}
	defer clear(pt)
	return s.Seal(ctx, pt, aad)
}

func (s *Sealer) aeadFor(ctx context.Context, version string) (cipher.AEAD, error) {
	s.mu.Lock()
	aead, ok := s.aeads[version]
	s.mu.Unlock()
	if ok {
		return aead, nil
	}
	value, err := s.src.Version(ctx, KeyName, version)
	if err != nil {
		return nil, fmt.Errorf("tokencrypt: key version %s: %w", version, err)
	}
	return s.aead(version, value)
}

// aead returns the cached cipher for version, building it from value when missing.
func (s *Sealer) aead(version string, value []byte) (cipher.AEAD, error) {
	defer clear(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if aead, ok := s.aeads[version]; ok {
		return aead, nil
	}
	key, err := ParseKey(value)
	if err != nil {
		return nil, fmt.Errorf("%w (key version %s)", err, version)
	}
	aead, err := newAEAD(key)
	clear(key)
	if err != nil {
		return nil, err
	}
	s.aeads[version] = aead
	return aead, nil
}
