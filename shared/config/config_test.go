package config

import (
	"strings"
	"testing"
	"time"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	e, err := Load(lookup(map[string]string{"GOOGLE_CLOUD_PROJECT": "p"}))
	if err != nil {
		t.Fatal(err)
	}
	if e.CalendarEndpoint != DefaultCalendarEndpoint || e.TokenURL != DefaultTokenURL {
		t.Errorf("defaults not applied: %+v", e)
	}
	if e.SyncHorizon != 400*24*time.Hour || e.ChannelTTL != 7*24*time.Hour {
		t.Errorf("duration defaults wrong: horizon %v ttl %v", e.SyncHorizon, e.ChannelTTL)
	}
	if e.SecretsProject != "p" || e.LocalSecrets {
		t.Errorf("secrets defaults wrong: %q %v", e.SecretsProject, e.LocalSecrets)
	}
}

func TestLoadAndNeed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		need    []string
		wantErr string
	}{
		{"ok", map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "OAUTH_REDIRECT_URL": "https://x.example/cb"}, []string{"GOOGLE_CLOUD_PROJECT", "OAUTH_REDIRECT_URL"}, ""},
		{"missing project", map[string]string{}, []string{"GOOGLE_CLOUD_PROJECT"}, "GOOGLE_CLOUD_PROJECT is required"},
		{"relative url", map[string]string{"WEBHOOK_URL": "/hook"}, []string{"WEBHOOK_URL"}, "absolute"},
		{"bad return url", map[string]string{"ALLOWED_RETURN_URLS": "https://a.example/x, ftp://b"}, []string{"ALLOWED_RETURN_URLS"}, "ftp://b"},
		{"short local key", map[string]string{"FIRESTORE_EMULATOR_HOST": "127.0.0.1:1", "MANAGE_API_KEY": "short"}, []string{"MANAGE_API_KEY"}, "16 characters"},
		{"bad days", map[string]string{"SYNC_HORIZON_DAYS": "-3"}, nil, "SYNC_HORIZON_DAYS"},
		{"bad duration", map[string]string{"CHANNEL_TTL": "soon"}, nil, "CHANNEL_TTL"},
		{"bad export field", map[string]string{"EXPORT_FIELDS": "service,title"}, nil, "title"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Load(lookup(tc.env))
			if err == nil {
				err = e.Need(tc.need...)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	got := List(" a, ,b ,")
	if strings.Join(got, "|") != "a|b" {
		t.Fatalf("List = %q", got)
	}
}
