package tokencrypt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/secrets/secretstest"
)

const (
	pathA = "tenants/t1/staff/s1/connections/c1"
	pathB = "tenants/t1/staff/s1/connections/c2"
	token = "1//0gexampleRefreshTokenValue-abc_DEF"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, keySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func encodedKey(t testing.TB) []byte {
	return []byte(base64.StdEncoding.EncodeToString(newKey(t)))
}

func TestSealOpenWithKey(t *testing.T) {
	t.Parallel()
	key, other := newKey(t), newKey(t)
	good, err := SealWithKey(key, []byte(token), pathA)
	if err != nil {
		t.Fatal(err)
	}
	if len(good) != overhead+len(token) || good[0] != formatV1 {
		t.Fatalf("sealed layout: len %d, format %#x", len(good), good[0])
	}
	if bytes.Contains(good, []byte(token)) {
		t.Fatal("plaintext visible in ciphertext")
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name   string
		key    []byte
		sealed []byte
		aad    string
		ok     bool
	}{
		{name: "round trip", key: key, sealed: good, aad: pathA, ok: true},
		{name: "wrong aad", key: key, sealed: good, aad: pathB},
		{name: "empty aad", key: key, sealed: good, aad: ""},
		{name: "wrong key", key: other, sealed: good, aad: pathA},
		{name: "format byte changed", key: key, sealed: flip(0), aad: pathA},
		{name: "nonce tampered", key: key, sealed: flip(1), aad: pathA},
		{name: "ciphertext tampered", key: key, sealed: flip(1 + nonceSize), aad: pathA},
		{name: "tag tampered", key: key, sealed: flip(len(good) - 1), aad: pathA},
		{name: "truncated", key: key, sealed: good[:len(good)-1], aad: pathA},
		{name: "too short", key: key, sealed: good[:overhead-1], aad: pathA},
		{name: "empty", key: key, sealed: nil, aad: pathA},
		{name: "appended", key: key, sealed: append(bytes.Clone(good), 0), aad: pathA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := OpenWithKey(tt.key, tt.sealed, tt.aad)
			if !tt.ok {
				if !errors.Is(err, ErrOpen) {
					t.Fatalf("err = %v, want ErrOpen", err)
				}
				return
			}
			if err != nil || string(got) != token {
				t.Fatalf("OpenWithKey = %q, %v", got, err)
			}
		})
	}
}

func TestNonceIsFresh(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	a, _ := SealWithKey(key, []byte(token), pathA)
	b, _ := SealWithKey(key, []byte(token), pathA)
	if bytes.Equal(a[1:1+nonceSize], b[1:1+nonceSize]) || bytes.Equal(a, b) {
		t.Fatal("two seals share a nonce")
	}
}

func TestKeySize(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := SealWithKey(make([]byte, n), []byte("x"), ""); err == nil {
			t.Errorf("SealWithKey accepted a %d-byte key", n)
		}
		if _, err := OpenWithKey(make([]byte, n), make([]byte, 40), ""); err == nil {
			t.Errorf("OpenWithKey accepted a %d-byte key", n)
		}
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	raw := newKey(t)
	enc := base64.StdEncoding.EncodeToString(raw)
	tests := []struct {
		name    string
		value   string
		wantErr string
	}{
		{name: "standard", value: enc},
		{name: "trailing newline", value: enc + "\n"},
		{name: "16 bytes", value: base64.StdEncoding.EncodeToString(raw[:16]), wantErr: "16 bytes"},
		{name: "33 bytes", value: base64.StdEncoding.EncodeToString(append(raw, 1)), wantErr: "33 bytes"},
		{name: "raw bytes, not base64", value: string(raw), wantErr: "base64"},
		{name: "url encoding", value: base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), wantErr: "base64"},
		{name: "unpadded", value: strings.TrimRight(enc, "="), wantErr: "base64"},
		{name: "empty", value: "", wantErr: "0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKey([]byte(tt.value))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				if tt.value != "" && strings.Contains(err.Error(), tt.value) {
					t.Fatalf("error %q contains the key", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("ParseKey = %x, %v", got, err)
			}
		})
	}
}

// rotationSource sets up a secrets.Source for the key. add stores a new key version;
// fresh returns the source as a newly started instance would see it.
type rotationSource struct {
	name  string
	setup func(t *testing.T) (add func(value []byte) string, fresh func() secrets.Source)
}

var rotationSources = []rotationSource{
	{"static", func(t *testing.T) (func([]byte) string, func() secrets.Source) {
		s := &secrets.Static{}
		return func(v []byte) string { return s.Add(KeyName, v) }, func() secrets.Source { return s }
	}},
	{"secret manager fake", func(t *testing.T) (func([]byte) string, func() secrets.Source) {
		// The Secret Manager source caches "latest" for a minute (secrets tests cover
		// that); a new source over the same client is what a new instance sees.
		client, add := secretstest.NewFakeServer(t)
		return func(v []byte) string { return add(KeyName, v) },
			func() secrets.Source { return secrets.NewSecretManager(client, "test-project") }
	}},
}

func TestSealerRotation(t *testing.T) {
	t.Parallel()
	for _, rs := range rotationSources {
		t.Run(rs.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			add, fresh := rs.setup(t)
			if v := add(encodedKey(t)); v != "1" {
				t.Fatalf("first version = %q", v)
			}
			s := New(fresh())

			v1, err := s.Seal(ctx, []byte(token), pathA)
			if err != nil {
				t.Fatal(err)
			}
			if v1.KeyVersion != "1" {
				t.Fatalf("KeyVersion = %q, want 1", v1.KeyVersion)
			}
			mustOpen(t, s, v1, pathA)
			if _, err := s.Open(ctx, v1, pathB); !errors.Is(err, ErrOpen) {
				t.Fatalf("Open with another connection's path: %v", err)
			}
			if need, err := s.NeedsRotation(ctx, v1); err != nil || need {
				t.Fatalf("NeedsRotation before rotation = %v, %v", need, err)
			}

			add(encodedKey(t))
			s = New(fresh())
			mustOpen(t, s, v1, pathA)
			if need, err := s.NeedsRotation(ctx, v1); err != nil || !need {
				t.Fatalf("NeedsRotation after rotation = %v, %v", need, err)
			}
			v2, err := s.Reseal(ctx, v1, pathA)
			if err != nil {
				t.Fatal(err)
			}
			if v2.KeyVersion != "2" || bytes.Equal(v2.Ciphertext, v1.Ciphertext) {
				t.Fatalf("Reseal = version %q", v2.KeyVersion)
			}
			mustOpen(t, s, v2, pathA)
			if need, err := s.NeedsRotation(ctx, v2); err != nil || need {
				t.Fatalf("NeedsRotation after Reseal = %v, %v", need, err)
			}
			// Claiming the wrong key version fails.
			wrong := Sealed{KeyVersion: "1", Ciphertext: v2.Ciphertext}
			if _, err := s.Open(ctx, wrong, pathA); !errors.Is(err, ErrOpen) {
				t.Fatalf("Open under the wrong key version: %v", err)
			}
			if _, err := s.Open(ctx, Sealed{KeyVersion: "9", Ciphertext: v2.Ciphertext}, pathA); !errors.Is(err, secrets.ErrNotFound) {
				t.Fatalf("Open under a missing key version: %v", err)
			}
			if _, err := s.Open(ctx, Sealed{Ciphertext: v2.Ciphertext}, pathA); err == nil {
				t.Fatal("Open without key version succeeded")
			}
		})
	}
}

func mustOpen(t *testing.T, s *Sealer, in Sealed, aad string) {
	t.Helper()
	got, err := s.Open(context.Background(), in, aad)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if string(got) != token {
		t.Fatalf("Open = %q", got)
	}
}

func TestSealerBadKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		value string
	}{
		{"short key", base64.StdEncoding.EncodeToString(make([]byte, 16))},
		{"not base64", "this is not a key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := &secrets.Static{}
			src.Add(KeyName, []byte(tt.value))
			_, err := New(src).Seal(ctx, []byte(token), pathA)
			if err == nil || !strings.Contains(err.Error(), "key version 1") {
				t.Fatalf("err = %v", err)
			}
			if strings.Contains(err.Error(), tt.value) {
				t.Fatalf("error %q contains the key", err)
			}
		})
	}
	if _, err := New(&secrets.Static{}).Seal(ctx, []byte(token), pathA); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
}

func TestSealerConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := &secrets.Static{}
	src.Add(KeyName, encodedKey(t))
	s := New(src)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				sealed, err := s.Seal(ctx, []byte(token), pathA)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := s.Open(ctx, sealed, pathA); err != nil || string(got) != token {
					t.Errorf("Open = %q, %v", got, err)
				}
			}
		})
	}
	wg.Wait()
}

func FuzzOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, keySize)
	good, _ := SealWithKey(key, []byte(token), pathA)
	f.Add(good, pathA)
	f.Add(good[:overhead], pathA)
	f.Add([]byte{}, "")
	f.Add([]byte{formatV1}, pathB)
	f.Fuzz(func(t *testing.T, sealed []byte, aad string) {
		pt, err := OpenWithKey(key, sealed, aad)
		// The only ciphertexts that may open are seeds sealed above (in this process or
		// in the fuzzing coordinator, whose nonce differs): same key, aad and token.
		if err == nil && (aad != pathA || string(pt) != token) {
			t.Fatalf("forged ciphertext opened: %q", pt)
		}
		if err != nil && !errors.Is(err, ErrOpen) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	key := bytes.Repeat([]byte{9}, keySize)
	f.Add([]byte(token), pathA)
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, plaintext []byte, aad string) {
		sealed, err := SealWithKey(key, plaintext, aad)
		if err != nil {
			t.Fatal(err)
		}
		got, err := OpenWithKey(key, sealed, aad)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("round trip = %q, %v; want %q", got, err, plaintext)
		}
		if _, err := OpenWithKey(key, sealed, aad+"x"); !errors.Is(err, ErrOpen) {
			t.Fatalf("opened with different aad: %v", err)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	src := &secrets.Static{}
	src.Add(KeyName, encodedKey(b))
	s := New(src)
	ctx := context.Background()
	pt := []byte(strings.Repeat("t", 103)) // a typical refresh token length
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Seal(ctx, pt, pathA); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	src := &secrets.Static{}
	src.Add(KeyName, encodedKey(b))
	s := New(src)
	ctx := context.Background()
	sealed, err := s.Seal(ctx, []byte(strings.Repeat("t", 103)), pathA)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open(ctx, sealed, pathA); err != nil {
			b.Fatal(err)
		}
	}
}
