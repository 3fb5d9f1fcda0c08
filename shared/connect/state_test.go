package connect

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/belbo/calsync/shared/secrets"
)

func stateSource(t testing.TB) *secrets.Static {
	t.Helper()
	s := secrets.NewStatic(nil, nil)
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	s.Add("state-key", []byte(base64.StdEncoding.EncodeToString(b)))
	return s
}

func TestStateRoundTripAndRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := stateSource(t)
	st, id, err := NewState(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyState(ctx, src, st)
	if err != nil || got != id {
		t.Fatalf("VerifyState = %q, %v; want %q", got, err, id)
	}
	// A new key version does not break states issued under the old one.
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	src.Add("state-key", []byte(base64.StdEncoding.EncodeToString(b)))
	if got, err := VerifyState(ctx, src, st); err != nil || got != id {
		t.Fatalf("after rotation: %q, %v", got, err)
	}
	st2, _, _ := NewState(ctx, src)
	if !strings.HasPrefix(st2, "2.") {
		t.Fatalf("new state not under the new key version: %s", st2)
	}
}

func TestStateRejectsForgeries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := stateSource(t)
	st, _, _ := NewState(ctx, src)
	parts := strings.Split(st, ".")
	other, _, _ := NewState(ctx, stateSource(t)) // signed with another key
	for _, bad := range []string{
		"", "x", st + "x", parts[0] + "." + parts[1] + "." + strings.Repeat("A", 43),
		"9." + parts[1] + "." + parts[2], // unknown key version
		"x." + parts[1] + "." + parts[2], // not a number
		"0." + parts[1] + "." + parts[2],
		parts[0] + "." + strings.Repeat("B", 43) + "." + parts[2],
		other,
	} {
		if _, err := VerifyState(ctx, src, bad); !errors.Is(err, ErrBadState) {
			t.Errorf("VerifyState(%q) = %v, want ErrBadState", bad, err)
		}
	}
}

func TestAllowedReturn(t *testing.T) {
	t.Parallel()
	allow := []string{"https://app.example/settings", "http://127.0.0.1:8080/", "https://root.example"}
	tests := map[string]bool{
		"https://app.example/settings":              true,
		"https://app.example/settings/x?y=1":        true,
		"https://app.example/settingsevil":          false,
		"https://app.example.evil/settings":         false,
		"http://app.example/settings":               false,
		"https://user@app.example/settings":         false,
		"https://app.example/settings#frag":         false,
		"http://127.0.0.1:8080/settings.html":       true,
		"http://127.0.0.1:8081/settings.html":       false,
		"javascript:alert(1)//app.example/settings": false,
		"//app.example/settings":                    false,
	}
	for u, want := range tests {
		if got := AllowedReturn(allow, u); got != want {
			t.Errorf("AllowedReturn(%q) = %v, want %v", u, got, want)
		}
	}
}

func FuzzVerifyState(f *testing.F) {
	src := stateSource(f)
	st, _, _ := NewState(context.Background(), src)
	f.Add(st)
	f.Add("1.a.b")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := VerifyState(context.Background(), src, s)
		if err == nil && s != st {
			t.Fatalf("forged state %q accepted (id %q)", s, id)
		}
	})
}

type countingSource struct {
	*secrets.Static
	versions int
}

func (c *countingSource) Version(ctx context.Context, name, version string) ([]byte, error) {
	c.versions++
	return c.Static.Version(ctx, name, version)
}

// TestForgedStateVersionsCostNoSecretLookups: a forged state names any key version it
// likes; only recent numbered versions may be looked up.
func TestForgedStateVersionsCostNoSecretLookups(t *testing.T) {
	t.Parallel()
	src := &countingSource{Static: stateSource(t)}
	st, _, _ := NewState(context.Background(), src)
	parts := strings.Split(st, ".")
	for _, v := range []string{"2", "999", "007x", "-1", "latest"} {
		if _, err := VerifyState(context.Background(), src, v+"."+parts[1]+"."+parts[2]); !errors.Is(err, ErrBadState) {
			t.Fatalf("version %q accepted: %v", v, err)
		}
	}
	if src.versions != 0 {
		t.Fatalf("forged versions caused %d secret lookups", src.versions)
	}
	if _, err := VerifyState(context.Background(), src, st); err != nil || src.versions != 1 {
		t.Fatalf("genuine state: %v after %d lookups", err, src.versions)
	}
}
