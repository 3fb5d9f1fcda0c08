// Package config reads the environment every function is configured by and validates it
// once at start.
//
// Each variable is declared once, as a field of Env with its name, default and check in
// struct tags; Load reads them all and a test holds the README's table (the one list of
// variables for operators) to them. Each function states which variables it needs (Need);
// a missing or malformed value is an error at start-up, not at the first request. Secret
// values are never read here: they come from the secrets package, by name.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
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

// Env is the whole configuration. Each field names its variable (env), its default when
// unset or blank (default) and what Need checks (check: required, url, optional-url,
// urls, local-key; a variable without a check cannot be needed). Durations read from a
// *_DAYS variable are whole days from 1 to 3650; other durations are Go durations > 0.
type Env struct {
	Project               string `env:"GOOGLE_CLOUD_PROJECT" check:"required"`
	FirestoreEmulatorHost string `env:"FIRESTORE_EMULATOR_HOST"` // local only
	PubsubEmulatorHost    string `env:"PUBSUB_EMULATOR_HOST"`    // local only

	AuthURL          string `env:"GOOGLE_AUTH_URL" default:"https://accounts.google.com/o/oauth2/v2/auth" check:"url"`
	TokenURL         string `env:"GOOGLE_TOKEN_URL" default:"https://oauth2.googleapis.com/token" check:"url"`
	RevokeURL        string `env:"GOOGLE_REVOKE_URL" default:"https://oauth2.googleapis.com/revoke" check:"url"`
	UserinfoURL      string `env:"GOOGLE_USERINFO_URL" default:"https://openidconnect.googleapis.com/v1/userinfo" check:"url"`
	CalendarEndpoint string `env:"GOOGLE_CALENDAR_ENDPOINT" default:"https://www.googleapis.com/calendar/v3/" check:"url"`

	OAuthClientID     string   `env:"OAUTH_CLIENT_ID" check:"required"`
	OAuthRedirectURL  string   `env:"OAUTH_REDIRECT_URL" check:"url"`
	WebhookURL        string   `env:"WEBHOOK_URL" check:"url"`
	AllowedReturnURLs []string `env:"ALLOWED_RETURN_URLS" check:"urls"`
	WidgetOrigins     []string `env:"WIDGET_ORIGINS"`
	ManageAPIKey      string   `env:"MANAGE_API_KEY" check:"local-key"` // local only; deployed: IAM
	ClockURL          string   `env:"CLOCK_URL" check:"optional-url"`   // local only
	SecretsProject    string   `env:"SECRETS_PROJECT"`                  // Secret Manager project; default GOOGLE_CLOUD_PROJECT
	// LocalSecrets is true when any SECRET_* variable is set: secrets come from the environment.
	LocalSecrets bool

	SyncHorizon        time.Duration `env:"SYNC_HORIZON_DAYS" default:"400"` // ≈ 13 months
	SyncPast           time.Duration `env:"SYNC_PAST_DAYS" default:"31"`
	SafetySyncInterval time.Duration `env:"SAFETY_SYNC_INTERVAL" default:"6h"`
	PollInterval       time.Duration `env:"POLL_INTERVAL" default:"5m"` // sync interval of calendars Google cannot watch
	FullResyncInterval time.Duration `env:"FULL_RESYNC_INTERVAL" default:"24h"`
	ChannelTTL         time.Duration `env:"CHANNEL_TTL" default:"168h"` // Google's maximum for events
	ChannelRenewMargin time.Duration `env:"CHANNEL_RENEW_MARGIN" default:"24h"`
	ExportFields       []string      `env:"EXPORT_FIELDS" default:"service,customerName"` // what a booking writes into Google
	SecretCacheTTL     time.Duration `env:"SECRET_CACHE_TTL" default:"5m"`                // how long a Secret Manager version is trusted
	// SlotsCacheTTL is how long a Slots instance reuses an answer it computed (zero, as in
	// an Env built by hand, disables the cache).
	SlotsCacheTTL time.Duration `env:"SLOTS_CACHE_TTL" default:"5s"`
}

// localSecretVars are the variables that switch secrets to the environment.
var localSecretVars = []string{"SECRET_OAUTH_CLIENT_SECRET", "SECRET_STATE_KEY", "SECRET_TOKEN_KEY"}

// Load reads the configuration through lookup (os.LookupEnv in production).
func Load(lookup func(string) (string, bool)) (Env, error) {
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	var e Env
	var errs []error
	v := reflect.ValueOf(&e).Elem()
	for i, f := range reflect.VisibleFields(v.Type()) {
		name := f.Tag.Get("env")
		if name == "" {
			continue
		}
		raw := get(name)
		if err := set(v.Field(i), name, raw, f.Tag.Get("default")); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range localSecretVars {
		if get(k) != "" {
			e.LocalSecrets = true
		}
	}
	if e.SecretsProject == "" {
		e.SecretsProject = e.Project
	}
	for _, f := range e.ExportFields {
		if !ExportField(f) {
			errs = append(errs, fmt.Errorf("EXPORT_FIELDS: unknown field %q (allowed: service, customerName, customerEmail)", f))
		}
	}
	return e, errors.Join(errs...)
}

// set parses one variable's value (or its default, when blank) into a field. A malformed
// value is an error, and the field keeps the default.
func set(field reflect.Value, name, raw, def string) error {
	v := raw
	if v == "" {
		v = def
	}
	switch field.Interface().(type) {
	case string:
		field.SetString(v)
	case []string:
		field.Set(reflect.ValueOf(List(v)))
	case time.Duration:
		d, err := duration(name, v)
		if err != nil && raw != "" {
			d, _ = duration(name, def)
			field.Set(reflect.ValueOf(d))
			return err
		}
		field.Set(reflect.ValueOf(d))
	default:
		panic("config: unsupported field type for " + name)
	}
	return nil
}

func duration(name, v string) (time.Duration, error) {
	if strings.HasSuffix(name, "_DAYS") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return 0, fmt.Errorf("%s: want a whole number of days from 1 to 3650, got %q", name, v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: want a positive Go duration such as 30m, got %q", name, v)
	}
	return d, nil
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

// check applies the check tag of the field that reads name.
func (e Env) check(name string) error {
	v := reflect.ValueOf(e)
	for i, f := range reflect.VisibleFields(v.Type()) {
		if f.Tag.Get("env") != name || f.Tag.Get("check") == "" {
			continue
		}
		val := v.Field(i).Interface()
		switch f.Tag.Get("check") {
		case "required":
			return required(name, val.(string))
		case "url":
			return absURL(name, val.(string))
		case "optional-url":
			if val.(string) == "" {
				return nil
			}
			return absURL(name, val.(string))
		case "urls":
			list := val.([]string)
			if len(list) == 0 {
				return fmt.Errorf("%s is required", name)
			}
			for _, u := range list {
				if err := absURL(name, u); err != nil {
					return fmt.Errorf("%s: %q is not an absolute http(s) URL", name, u)
				}
			}
			return nil
		case "local-key":
			// Deployed, IAM protects Manage; locally (emulators), a key is mandatory.
			if e.FirestoreEmulatorHost != "" && len(val.(string)) < 16 {
				return fmt.Errorf("%s must be at least 16 characters when running locally", name)
			}
			return nil
		}
	}
	return fmt.Errorf("config: unknown variable %s", name)
}

func required(name, v string) error {
	if v == "" {
		return fmt.Errorf("%s is required", name)
	}
	return nil
}

func absURL(name, v string) error {
	if err := required(name, v); err != nil {
		return err
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s must be an absolute http(s) URL, got %q", name, v)
	}
	return nil
}
