// Package config reads the environment every function is configured by (the table in
// README.md is the one list of variables) and validates it once at start.
//
// Each function states which variables it needs (Need); a missing or malformed value is
// an error at start-up, not at the first request. Secret values are never read here:
// they come from the secrets package, by name.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Google's real endpoints, used when the GOOGLE_* variables are unset.
const (
	DefaultAuthURL          = "https://accounts.google.com/o/oauth2/v2/auth"
	DefaultTokenURL         = "https://oauth2.googleapis.com/token"
	DefaultRevokeURL        = "https://oauth2.googleapis.com/revoke"
	DefaultUserinfoURL      = "https://openidconnect.googleapis.com/v1/userinfo"
	DefaultCalendarEndpoint = "https://www.googleapis.com/calendar/v3/"
)

// Env is the whole configuration. Zero durations mean "use the default".
type Env struct {
	Project               string // GOOGLE_CLOUD_PROJECT
	FirestoreEmulatorHost string // FIRESTORE_EMULATOR_HOST (local only)
	PubsubEmulatorHost    string // PUBSUB_EMULATOR_HOST (local only)

	AuthURL          string // GOOGLE_AUTH_URL
	TokenURL         string // GOOGLE_TOKEN_URL
	RevokeURL        string // GOOGLE_REVOKE_URL
	UserinfoURL      string // GOOGLE_USERINFO_URL
	CalendarEndpoint string // GOOGLE_CALENDAR_ENDPOINT

	OAuthClientID     string   // OAUTH_CLIENT_ID
	OAuthRedirectURL  string   // OAUTH_REDIRECT_URL
	WebhookURL        string   // WEBHOOK_URL
	AllowedReturnURLs []string // ALLOWED_RETURN_URLS
	WidgetOrigins     []string // WIDGET_ORIGINS
	ManageAPIKey      string   // MANAGE_API_KEY (local only; deployed: IAM)
	ClockURL          string   // CLOCK_URL (local only)
	SecretsProject    string   // SECRETS_PROJECT (deployed: Secret Manager project; default GOOGLE_CLOUD_PROJECT)
	LocalSecrets      bool     // true when any SECRET_* variable is set: secrets come from the environment

	SyncHorizon        time.Duration // SYNC_HORIZON_DAYS (default 400 days ≈ 13 months)
	SyncPast           time.Duration // SYNC_PAST_DAYS (default 31 days)
	SafetySyncInterval time.Duration // SAFETY_SYNC_INTERVAL (default 30m)
	FullResyncInterval time.Duration // FULL_RESYNC_INTERVAL (default 24h)
	ChannelTTL         time.Duration // CHANNEL_TTL (default 7 days, Google's maximum for events)
	ChannelRenewMargin time.Duration // CHANNEL_RENEW_MARGIN (default 24h)
	ExportFields       []string      // EXPORT_FIELDS: what a booking writes into Google (default service,customerName)
	// SlotsCacheTTL is how long a Slots instance reuses an answer it computed
	// (SLOTS_CACHE_TTL, default 5s; zero, as in an Env built by hand, disables the cache).
	SlotsCacheTTL time.Duration
}

// Load reads the configuration through lookup (os.LookupEnv in production).
func Load(lookup func(string) (string, bool)) (Env, error) {
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	or := func(k, def string) string {
		if v := get(k); v != "" {
			return v
		}
		return def
	}
	e := Env{
		Project:               get("GOOGLE_CLOUD_PROJECT"),
		FirestoreEmulatorHost: get("FIRESTORE_EMULATOR_HOST"),
		PubsubEmulatorHost:    get("PUBSUB_EMULATOR_HOST"),
		AuthURL:               or("GOOGLE_AUTH_URL", DefaultAuthURL),
		TokenURL:              or("GOOGLE_TOKEN_URL", DefaultTokenURL),
		RevokeURL:             or("GOOGLE_REVOKE_URL", DefaultRevokeURL),
		UserinfoURL:           or("GOOGLE_USERINFO_URL", DefaultUserinfoURL),
		CalendarEndpoint:      or("GOOGLE_CALENDAR_ENDPOINT", DefaultCalendarEndpoint),
		OAuthClientID:         get("OAUTH_CLIENT_ID"),
		OAuthRedirectURL:      get("OAUTH_REDIRECT_URL"),
		WebhookURL:            get("WEBHOOK_URL"),
		AllowedReturnURLs:     List(get("ALLOWED_RETURN_URLS")),
		WidgetOrigins:         List(get("WIDGET_ORIGINS")),
		ManageAPIKey:          get("MANAGE_API_KEY"),
		ClockURL:              get("CLOCK_URL"),
		SecretsProject:        get("SECRETS_PROJECT"),
		ExportFields:          List(or("EXPORT_FIELDS", "service,customerName")),
	}
	for _, k := range []string{"SECRET_OAUTH_CLIENT_SECRET", "SECRET_STATE_KEY", "SECRET_TOKEN_KEY"} {
		if get(k) != "" {
			e.LocalSecrets = true
		}
	}
	if e.SecretsProject == "" {
		e.SecretsProject = e.Project
	}
	var errs []error
	days := func(k string, def int) time.Duration {
		v := get(k)
		if v == "" {
			return time.Duration(def) * 24 * time.Hour
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			errs = append(errs, fmt.Errorf("%s: want a whole number of days from 1 to 3650, got %q", k, v))
			return time.Duration(def) * 24 * time.Hour
		}
		return time.Duration(n) * 24 * time.Hour
	}
	dur := func(k string, def time.Duration) time.Duration {
		v := get(k)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive Go duration such as 30m, got %q", k, v))
			return def
		}
		return d
	}
	e.SyncHorizon = days("SYNC_HORIZON_DAYS", 400)
	e.SyncPast = days("SYNC_PAST_DAYS", 31)
	e.SafetySyncInterval = dur("SAFETY_SYNC_INTERVAL", 30*time.Minute)
	e.FullResyncInterval = dur("FULL_RESYNC_INTERVAL", 24*time.Hour)
	e.ChannelTTL = dur("CHANNEL_TTL", 7*24*time.Hour)
	e.ChannelRenewMargin = dur("CHANNEL_RENEW_MARGIN", 24*time.Hour)
	e.SlotsCacheTTL = dur("SLOTS_CACHE_TTL", 5*time.Second)
	for _, f := range e.ExportFields {
		if !ExportField(f) {
			errs = append(errs, fmt.Errorf("EXPORT_FIELDS: unknown field %q (allowed: service, customerName, customerEmail)", f))
		}
	}
	return e, errors.Join(errs...)
}

// FromOS loads the process environment.
func FromOS() (Env, error) { return Load(os.LookupEnv) }

// ExportField reports whether f may be written into a staff member's Google calendar.
func ExportField(f string) bool {
	switch f {
	case "service", "customerName", "customerEmail":
		return true
	}
	return false
}

// List splits a comma-separated value, dropping blanks.
func List(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Need checks that each named variable is set and well-formed for a function.
func (e Env) Need(names ...string) error {
	var errs []error
	for _, n := range names {
		if err := e.check(n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (e Env) check(name string) error {
	missing := func(v string) error {
		if v == "" {
			return fmt.Errorf("%s is required", name)
		}
		return nil
	}
	absURL := func(v string) error {
		if err := missing(v); err != nil {
			return err
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s must be an absolute http(s) URL, got %q", name, v)
		}
		return nil
	}
	switch name {
	case "GOOGLE_CLOUD_PROJECT":
		return missing(e.Project)
	case "OAUTH_CLIENT_ID":
		return missing(e.OAuthClientID)
	case "OAUTH_REDIRECT_URL":
		return absURL(e.OAuthRedirectURL)
	case "WEBHOOK_URL":
		return absURL(e.WebhookURL)
	case "GOOGLE_AUTH_URL":
		return absURL(e.AuthURL)
	case "GOOGLE_TOKEN_URL":
		return absURL(e.TokenURL)
	case "GOOGLE_REVOKE_URL":
		return absURL(e.RevokeURL)
	case "GOOGLE_USERINFO_URL":
		return absURL(e.UserinfoURL)
	case "GOOGLE_CALENDAR_ENDPOINT":
		return absURL(e.CalendarEndpoint)
	case "CLOCK_URL":
		if e.ClockURL == "" {
			return nil
		}
		return absURL(e.ClockURL)
	case "ALLOWED_RETURN_URLS":
		if len(e.AllowedReturnURLs) == 0 {
			return fmt.Errorf("%s is required", name)
		}
		for _, u := range e.AllowedReturnURLs {
			if err := absURL(u); err != nil {
				return fmt.Errorf("%s: %q is not an absolute http(s) URL", name, u)
			}
		}
		return nil
	case "MANAGE_API_KEY":
		// Deployed, IAM protects Manage; locally (emulators), a key is mandatory.
		if e.FirestoreEmulatorHost != "" && len(e.ManageAPIKey) < 16 {
			return fmt.Errorf("%s must be at least 16 characters when running locally", name)
		}
		return nil
	}
	return fmt.Errorf("config: unknown variable %s", name)
}
