package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestEnvVar(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		OAuthClientSecret: "SECRET_OAUTH_CLIENT_SECRET",
		StateKey:          "SECRET_STATE_KEY",
		TokenKey:          "SECRET_TOKEN_KEY",
	} {
		if got := EnvVar(name); got != want {
			t.Errorf("EnvVar(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	const (
		k1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // 32 bytes
		k2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=" // 32 bytes
	)
	tests := []struct {
		name     string
		env      string // value of SECRET_TOKEN_KEY; "-" means unset
		version  string // "" means Latest
		want     string
		wantVer  string
		wantErr  bool
		notFound bool
	}{
		{name: "plain", env: k1, want: k1, wantVer: "1"},
		{name: "plain by version", env: k1, version: "1", want: k1},
		{name: "plain non base64", env: "GOCSPX-abc_def", want: "GOCSPX-abc_def", wantVer: "1"},
		{name: "plain unknown version", env: k1, version: "2", wantErr: true, notFound: true},
		{name: "rotation latest", env: "2=" + k2 + ",1=" + k1, want: k2, wantVer: "2"},
		{name: "rotation old", env: "2=" + k2 + ",1=" + k1, version: "1", want: k1},
		{name: "rotation new", env: "2=" + k2 + ",1=" + k1, version: "2", want: k2},
		{name: "rotation spaces", env: "2=" + k2 + ", 1=" + k1, version: "1", want: k1},
		{name: "rotation single", env: "7=" + k2, want: k2, wantVer: "7"},
		{name: "rotation unknown version", env: "2=" + k2 + ",1=" + k1, version: "3", wantErr: true, notFound: true},
		{name: "rotation bad base64", env: "2=not*base64!,1=" + k1, wantErr: true},
		{name: "rotation bad base64 in old entry", env: "2=" + k2 + ",1=%%%", version: "2", wantErr: true},
		{name: "rotation url base64", env: "1=-_-_", wantErr: true},
		{name: "rotation bad padding", env: "1=AAE", wantErr: true},
		{name: "rotation empty value", env: "2=" + k2 + ",1=", wantErr: true},
		{name: "rotation bad version", env: "2=" + k2 + ",x=" + k1, wantErr: true},
		{name: "rotation version zero", env: "0=" + k1, wantErr: true},
		{name: "rotation duplicate", env: "1=" + k2 + ",1=" + k1, wantErr: true},
		{name: "rotation trailing comma", env: "1=" + k1 + ",", wantErr: true},
		{name: "unset", env: "-", wantErr: true, notFound: true},
		{name: "empty", env: "", wantErr: true, notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(func(k string) (string, bool) {
				if k != "SECRET_TOKEN_KEY" || tt.env == "-" {
					return "", false
				}
				return tt.env, true
			})
			var (
				got    []byte
				gotVer string
				err    error
			)
			if tt.version == "" {
				got, gotVer, err = e.Latest(context.Background(), TokenKey)
			} else {
				got, err = e.Version(context.Background(), TokenKey, tt.version)
			}
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %q, want error", got)
				}
				if errors.Is(err, ErrNotFound) != tt.notFound {
					t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, !tt.notFound, tt.notFound)
				}
				for _, secret := range []string{k1, k2, "not*base64", "GOCSPX"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains a secret value", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want || gotVer != tt.wantVer {
				t.Errorf("got %q, %q; want %q, %q", got, gotVer, tt.want, tt.wantVer)
			}
		})
	}
}

func TestStatic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewStatic(map[string]map[string][]byte{TokenKey: {"1": []byte("a"), "2": []byte("b")}}, map[string]string{TokenKey: "2"})
	if v, ver, err := s.Latest(ctx, TokenKey); err != nil || string(v) != "b" || ver != "2" {
		t.Fatalf("Latest = %q, %q, %v", v, ver, err)
	}
	if ver := s.Add(TokenKey, []byte("c")); ver != "3" {
		t.Fatalf("Add = %q, want 3", ver)
	}
	if v, ver, err := s.Latest(ctx, TokenKey); err != nil || string(v) != "c" || ver != "3" {
		t.Fatalf("Latest after Add = %q, %q, %v", v, ver, err)
	}
	if v, err := s.Version(ctx, TokenKey, "1"); err != nil || string(v) != "a" {
		t.Fatalf("Version 1 = %q, %v", v, err)
	}
	if _, err := s.Version(ctx, TokenKey, "9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Version 9: %v", err)
	}
	var zero Static
	if _, _, err := zero.Latest(ctx, TokenKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("zero Latest: %v", err)
	}
	if ver := zero.Add(StateKey, []byte("x")); ver != "1" {
		t.Fatalf("zero Add = %q", ver)
	}
}

// Every source satisfies Source.
var (
	_ Source = (*Env)(nil)
	_ Source = (*Static)(nil)
	_ Source = (*secretManager)(nil)
)
