package secrets

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/secrets/secretstest"
)

// fakeClock is a manually advanced clock for the "latest" TTL.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newSM(t *testing.T) (*secretManager, *secretstest.Fake, *fakeClock) {
	t.Helper()
	f := secretstest.NewFake(t)
	clk := &fakeClock{t: time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)}
	s := NewSecretManager(f.Client(), "test-project").(*secretManager)
	s.now = clk.now
	return s, f, clk
}

func TestSecretManagerAccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f, _ := newSM(t)
	f.Add(TokenKey, []byte("old"))
	f.Add(TokenKey, []byte("new"))
	f.Add(StateKey, []byte("s1"))
	f.Add(StateKey, []byte("s2-disabled"))
	f.Disable(StateKey, "2")

	tests := []struct {
		name, secret, version string // version "" means Latest
		want, wantVersion     string
		wantErr               error // nil: success; errAny: any error
	}{
		{name: "latest is newest", secret: TokenKey, want: "new", wantVersion: "2"},
		{name: "specific old version", secret: TokenKey, version: "1", want: "old"},
		{name: "specific new version", secret: TokenKey, version: "2", want: "new"},
		{name: "latest skips disabled", secret: StateKey, want: "s1", wantVersion: "1"},
		{name: "disabled version", secret: StateKey, version: "2", wantErr: errAny},
		{name: "unknown secret latest", secret: "nope", wantErr: ErrNotFound},
		{name: "unknown secret version", secret: "nope", version: "1", wantErr: ErrNotFound},
		{name: "unknown version", secret: TokenKey, version: "9", wantErr: ErrNotFound},
		{name: "latest is not a version", secret: TokenKey, version: "latest", wantErr: errAny},
		{name: "path injection", secret: "token-key/versions/1", wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				got    []byte
				gotVer string
				err    error
			)
			if tt.version == "" {
				got, gotVer, err = s.Latest(ctx, tt.secret)
			} else {
				got, err = s.Version(ctx, tt.secret, tt.version)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("got %q, want error", got)
				}
				if tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v does not wrap %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "secrets:") {
					t.Errorf("error %q lacks context", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want || gotVer != tt.wantVersion {
				t.Errorf("got %q version %q, want %q version %q", got, gotVer, tt.want, tt.wantVersion)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestSecretManagerCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f, clk := newSM(t)
	f.Add(TokenKey, []byte("k1"))

	mustLatest := func(want, wantVer string) {
		t.Helper()
		v, ver, err := s.Latest(ctx, TokenKey)
		if err != nil {
			t.Fatal(err)
		}
		if string(v) != want || ver != wantVer {
			t.Fatalf("Latest = %q, %q; want %q, %q", v, ver, want, wantVer)
		}
	}
	mustAccesses := func(want int) {
		t.Helper()
		if got := f.Accesses(); got != want {
			t.Fatalf("AccessSecretVersion calls = %d, want %d", got, want)
		}
	}

	mustLatest("k1", "1")
	mustLatest("k1", "1")
	mustAccesses(1)

	// The version resolved by Latest is cached as that version too.
	if v, err := s.Version(ctx, TokenKey, "1"); err != nil || string(v) != "k1" {
		t.Fatalf("Version 1 = %q, %v", v, err)
	}
	mustAccesses(1)

	// A rotation is not seen until the TTL passes, then it is.
	f.Add(TokenKey, []byte("k2"))
	clk.add(LatestTTL - time.Second)
	mustLatest("k1", "1")
	mustAccesses(1)
	clk.add(2 * time.Second)
	mustLatest("k2", "2")
	mustAccesses(2)

	// A version stays cached for the version TTL, then is read again.
	clk.add(24 * time.Hour)
	if v, err := s.Version(ctx, TokenKey, "1"); err != nil || string(v) != "k1" {
		t.Fatalf("Version 1 = %q, %v", v, err)
	}
	mustAccesses(3)

	// Callers get copies: scribbling over a value does not poison the cache.
	v, _ := s.Version(ctx, TokenKey, "1")
	v[0] = 'X'
	if v, _ := s.Version(ctx, TokenKey, "1"); string(v) != "k1" {
		t.Fatalf("cache was modified through a returned slice: %q", v)
	}

	// Errors are not cached.
	if _, err := s.Version(ctx, TokenKey, "3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Version 3: %v", err)
	}
	f.Add(TokenKey, []byte("k3"))
	if v, err := s.Version(ctx, TokenKey, "3"); err != nil || string(v) != "k3" {
		t.Fatalf("Version 3 after add = %q, %v", v, err)
	}
}

func TestSecretManagerErrorsHoldNoValues(t *testing.T) {
	t.Parallel()
	s, f, _ := newSM(t)
	f.Add(TokenKey, []byte("supersecretvalue"))
	_, err := s.Version(context.Background(), TokenKey, "2")
	if err == nil || strings.Contains(err.Error(), "supersecretvalue") {
		t.Fatalf("error = %v", err)
	}
}

func TestSecretManagerConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f, clk := newSM(t)
	f.Add(TokenKey, []byte("k1"))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 20 {
				if i%4 == 0 {
					clk.add(LatestTTL)
				}
				if _, _, err := s.Latest(ctx, TokenKey); err != nil {
					t.Error(err)
				}
				if _, err := s.Version(ctx, TokenKey, "1"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// TestSecretManagerDisabledVersionStopsWorking: the runbook's "withdraw a compromised key"
// step (disable the version in Secret Manager) takes effect on a warm instance within
// the version TTL, without a redeploy; the current version keeps working.
func TestSecretManagerDisabledVersionStopsWorking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := secretstest.NewFake(t)
	clk := &fakeClock{t: time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)}
	s := NewSecretManagerTTL(f.Client(), "test-project", 2*time.Minute).(*secretManager)
	s.now = clk.now
	f.Add(TokenKey, []byte("old"))
	if v, err := s.Version(ctx, TokenKey, "1"); err != nil || string(v) != "old" {
		t.Fatalf("Version 1 = %q, %v", v, err)
	}
	f.Add(TokenKey, []byte("new"))
	f.Disable(TokenKey, "1")
	if v, err := s.Version(ctx, TokenKey, "1"); err != nil || string(v) != "old" {
		t.Fatalf("within the TTL the cached value is served: %q, %v", v, err)
	}
	clk.add(2*time.Minute + time.Second)
	if v, err := s.Version(ctx, TokenKey, "1"); err == nil {
		t.Fatalf("a disabled version still works after the cache TTL: %q", v)
	}
	clk.add(LatestTTL)
	if v, ver, err := s.Latest(ctx, TokenKey); err != nil || string(v) != "new" || ver != "2" {
		t.Fatalf("Latest after withdrawal = %q %q %v", v, ver, err)
	}
}
