package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	var c struct {
		Platform
		Google
		SyncWindow
		Channels
	}
	err := Load(&c, lookup(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "OAUTH_CLIENT_ID": "id", "WEBHOOK_URL": "https://hook.example/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.CalendarEndpoint != DefaultCalendarEndpoint || c.TokenURL != DefaultTokenURL {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.SyncHorizon != 400*24*time.Hour || c.ChannelTTL != 7*24*time.Hour {
		t.Errorf("duration defaults wrong: horizon %v ttl %v", c.SyncHorizon, c.ChannelTTL)
	}
	if c.SecretsProject != "p" || c.LocalSecrets {
		t.Errorf("secrets defaults wrong: %q %v", c.SecretsProject, c.LocalSecrets)
	}
	var local Platform
	if err := Load(&local, lookup(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "SECRETS_PROJECT": "s", "SECRET_TOKEN_KEY": "k"})); err != nil {
		t.Fatal(err)
	}
	if local.SecretsProject != "s" || !local.LocalSecrets {
		t.Errorf("secrets from the environment: %q %v", local.SecretsProject, local.LocalSecrets)
	}
}

// A configuration checks exactly the variables of its groups: what a function does not
// embed it neither reads nor requires, and what it embeds fails at load when missing or
// malformed.
func TestLoadChecksItsGroups(t *testing.T) {
	t.Parallel()
	type widget struct {
		Platform
		Widget
	}
	type flow struct {
		Platform
		Google
		Connect
		Channels
	}
	type manage struct {
		Platform
		ManageKey
	}
	type export struct {
		Platform
		Export
	}
	type schedule struct {
		Platform
		SyncWindow
		SyncSchedule
		Channels
	}
	ok := map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "OAUTH_CLIENT_ID": "id", "OAUTH_REDIRECT_URL": "https://x.example/cb",
		"WEBHOOK_URL": "https://x.example/hook", "ALLOWED_RETURN_URLS": "https://a.example/"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range ok {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		dst     any
		env     map[string]string
		wantErr string
	}{
		{"ok", &flow{}, ok, ""},
		{"a group not embedded is not required", &widget{}, map[string]string{"GOOGLE_CLOUD_PROJECT": "p"}, ""},
		{"missing project", &widget{}, map[string]string{}, "GOOGLE_CLOUD_PROJECT is required"},
		{"missing client id", &flow{}, with("OAUTH_CLIENT_ID", ""), "OAUTH_CLIENT_ID is required"},
		{"missing redirect", &flow{}, with("OAUTH_REDIRECT_URL", " "), "OAUTH_REDIRECT_URL"},
		{"relative url", &flow{}, with("WEBHOOK_URL", "/hook"), "absolute"},
		{"bad endpoint", &flow{}, with("GOOGLE_TOKEN_URL", "token"), "GOOGLE_TOKEN_URL"},
		{"missing return urls", &flow{}, with("ALLOWED_RETURN_URLS", ""), "ALLOWED_RETURN_URLS is required"},
		{"bad return url", &flow{}, with("ALLOWED_RETURN_URLS", "https://a.example/x, ftp://b"), "ftp://b"},
		{"bad clock url", &widget{}, map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "CLOCK_URL": "clock"}, "CLOCK_URL"},
		{"short local key", &manage{}, map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "FIRESTORE_EMULATOR_HOST": "127.0.0.1:1", "MANAGE_API_KEY": "short"}, "16 characters"},
		{"no key deployed", &manage{}, map[string]string{"GOOGLE_CLOUD_PROJECT": "p"}, ""},
		{"bad days", &schedule{}, with("SYNC_HORIZON_DAYS", "-3"), "SYNC_HORIZON_DAYS"},
		{"bad duration", &schedule{}, with("CHANNEL_TTL", "soon"), "CHANNEL_TTL"},
		{"bad interval", &schedule{}, with("POLL_INTERVAL", "0s"), "POLL_INTERVAL"},
		{"bad export field", &export{}, with("EXPORT_FIELDS", "service,title"), "title"},
		{"bad cache ttl", &struct {
			Platform
			SlotsCache
		}{}, with("SLOTS_CACHE_TTL", "5"), "SLOTS_CACHE_TTL"},
		{"every problem at once", &flow{}, map[string]string{"WEBHOOK_URL": "/hook"}, "GOOGLE_CLOUD_PROJECT is required\nOAUTH_CLIENT_ID is required\nOAUTH_REDIRECT_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Load(tc.dst, lookup(tc.env))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

// Load reads only the variables of the groups it is given.
func TestLoadReadsOnlyItsGroups(t *testing.T) {
	t.Parallel()
	var read []string
	var c struct {
		Platform
		Widget
	}
	_ = Load(&c, func(k string) (string, bool) { read = append(read, k); return "", false })
	want := append(Variables(reflect.TypeFor[Platform]()), localSecretVars...)
	want = append(want, "WIDGET_ORIGINS")
	slices.Sort(read)
	slices.Sort(want)
	if !slices.Equal(read, want) {
		t.Fatalf("read %v, want %v", read, want)
	}
}

// Select copies a function's groups out of a whole Env, nested groups included, and
// refuses a configuration that holds anything but groups.
func TestSelect(t *testing.T) {
	t.Parallel()
	env := Env{
		Platform: Platform{Project: "p"},
		Google:   Google{OAuthClientID: "id"},
		Connect:  Connect{OAuthRedirectURL: "https://x.example/cb"},
		Channels: Channels{WebhookURL: "https://x.example/hook"},
		Widget:   Widget{WidgetOrigins: []string{"https://w.example"}},
	}
	type Flow struct {
		Google
		Connect
	}
	c := Select[struct {
		Platform
		Flow
		Channels
	}](env)
	if c.Project != "p" || c.OAuthClientID != "id" || c.OAuthRedirectURL != env.OAuthRedirectURL || c.WebhookURL != env.WebhookURL {
		t.Fatalf("Select = %+v", c)
	}
	if all := Select[Env](env); !reflect.DeepEqual(all, env) {
		t.Fatalf("Select[Env] = %+v", all)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Select accepted a field outside the groups")
		}
	}()
	Select[struct {
		Platform
		Extra string
	}](env)
}

func TestGroups(t *testing.T) {
	t.Parallel()
	type Flow struct {
		Google
		Connect
	}
	got := Groups(reflect.TypeFor[struct {
		Platform
		Flow
		ManageKey
	}]())
	if strings.Join(got, ",") != "Platform,Google,Connect,ManageKey" {
		t.Fatalf("Groups = %v", got)
	}
	if len(Groups(reflect.TypeFor[Env]())) != reflect.TypeFor[Env]().NumField() {
		t.Fatalf("Groups(Env) = %v", Groups(reflect.TypeFor[Env]()))
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	got := List(" a, ,b ,")
	if strings.Join(got, "|") != "a|b" {
		t.Fatalf("List = %q", got)
	}
}

// Check applies the tags to values built by code.
func TestCheck(t *testing.T) {
	t.Parallel()
	if err := Check(Platform{}); err == nil || !strings.Contains(err.Error(), "GOOGLE_CLOUD_PROJECT is required") {
		t.Fatalf("Check(Platform{}) = %v", err)
	}
	if err := Check(&Platform{Project: "p", ClockURL: "clock"}); err == nil || !strings.Contains(err.Error(), "CLOCK_URL") {
		t.Fatalf("Check(bad clock) = %v", err)
	}
	if err := Check(struct {
		Platform
		Widget
	}{Platform: Platform{Project: "p"}}); err != nil {
		t.Fatal(err)
	}
}
