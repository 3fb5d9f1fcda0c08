// Package config reads the environment a function is configured by and validates it once
// at start.
//
// Each variable is declared once, as a field of one group struct below (Platform, Google,
// Connect, …) with its name, default and check in struct tags. A function's configuration
// is a struct embedding exactly the groups it uses (`type Config struct{ config.Platform;
// config.Widget }`); Load reads and checks every variable of it, so a missing or malformed
// value is an error at start-up, not at the first request, and a function never reads or
// requires a variable it does not use. Env embeds every group: it is the whole system's
// configuration (the processes that run all functions at once, the README's table, which a
// test holds to the groups). Secret values are never read here: they come from the secrets
// package, by name.
package config

import (
	"errors"
	"fmt"
	"net/url"
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

// The groups. Each field names its variable (env), its default when unset or blank
// (default) and the check Load applies (check: required, url, optional-url, urls,
// export-fields). Durations read from a *_DAYS variable are whole days from 1 to 3650;
// other durations are Go durations > 0. Rules across variables are a group's finish method.

// Platform is what every function reads: the project, the local emulators and clock, and
// where secrets come from (shared/platform).
type Platform struct {
	Project               string        `env:"GOOGLE_CLOUD_PROJECT" check:"required"`
	FirestoreEmulatorHost string        `env:"FIRESTORE_EMULATOR_HOST"`        // local only
	PubsubEmulatorHost    string        `env:"PUBSUB_EMULATOR_HOST"`           // local only
	ClockURL              string        `env:"CLOCK_URL" check:"optional-url"` // local only
	SecretsProject        string        `env:"SECRETS_PROJECT"`                // Secret Manager project; default GOOGLE_CLOUD_PROJECT
	SecretCacheTTL        time.Duration `env:"SECRET_CACHE_TTL" default:"5m"`  // how long a Secret Manager version is trusted
	// LocalSecrets is true when any SECRET_* variable is set: secrets come from the environment.
	LocalSecrets bool
}

// localSecretVars are the variables that switch secrets to the environment.
var localSecretVars = []string{"SECRET_OAUTH_CLIENT_SECRET", "SECRET_STATE_KEY", "SECRET_TOKEN_KEY"}

func (p *Platform) finish(get func(string) string) error {
	for _, k := range localSecretVars {
		if get(k) != "" {
			p.LocalSecrets = true
		}
	}
	if p.SecretsProject == "" {
		p.SecretsProject = p.Project
	}
	return nil
}

// PlatformConfig returns the group. Every function's configuration embeds Platform, so it
// has this method: it is how shared/platform finds its part of any function's configuration.
func (p Platform) PlatformConfig() Platform { return p }

// Google is the OAuth client and Google's endpoints: what opening a connected account needs
// (shared/accounts, shared/googlecal).
type Google struct {
	OAuthClientID    string `env:"OAUTH_CLIENT_ID" check:"required"`
	AuthURL          string `env:"GOOGLE_AUTH_URL" default:"https://accounts.google.com/o/oauth2/v2/auth" check:"url"`
	TokenURL         string `env:"GOOGLE_TOKEN_URL" default:"https://oauth2.googleapis.com/token" check:"url"`
	RevokeURL        string `env:"GOOGLE_REVOKE_URL" default:"https://oauth2.googleapis.com/revoke" check:"url"`
	UserinfoURL      string `env:"GOOGLE_USERINFO_URL" default:"https://openidconnect.googleapis.com/v1/userinfo" check:"url"`
	CalendarEndpoint string `env:"GOOGLE_CALENDAR_ENDPOINT" default:"https://www.googleapis.com/calendar/v3/" check:"url"`
}

// Connect is what starting and completing a connection reads (shared/connect Start and
// Callback): where Google sends the browser back, and where we may send it afterwards.
type Connect struct {
	OAuthRedirectURL  string   `env:"OAUTH_REDIRECT_URL" check:"url"`
	AllowedReturnURLs []string `env:"ALLOWED_RETURN_URLS" check:"urls"`
}

// Channels is what opening and renewing watch channels reads (shared/watch, shared/renewal).
type Channels struct {
	WebhookURL         string        `env:"WEBHOOK_URL" check:"url"`
	ChannelTTL         time.Duration `env:"CHANNEL_TTL" default:"168h"` // Google's maximum for events
	ChannelRenewMargin time.Duration `env:"CHANNEL_RENEW_MARGIN" default:"24h"`
}

// SyncWindow is the span of time a sync keeps (shared/syncer).
type SyncWindow struct {
	SyncHorizon time.Duration `env:"SYNC_HORIZON_DAYS" default:"400"` // ≈ 13 months
	SyncPast    time.Duration `env:"SYNC_PAST_DAYS" default:"31"`
}

// SyncSchedule is how often calendars are synced besides pushes (shared/renewal; the
// health of a connection is judged against it).
type SyncSchedule struct {
	SafetySyncInterval time.Duration `env:"SAFETY_SYNC_INTERVAL" default:"6h"`
	PollInterval       time.Duration `env:"POLL_INTERVAL" default:"5m"` // sync interval of calendars Google cannot watch
	FullResyncInterval time.Duration `env:"FULL_RESYNC_INTERVAL" default:"24h"`
}

// Export is what a booking writes into Google (shared/booking Exporter, shared/erasure).
type Export struct {
	ExportFields []string `env:"EXPORT_FIELDS" default:"service,customerName" check:"export-fields"`
}

// Widget is the booking widget's origins (CORS of Slots and Book).
type Widget struct {
	WidgetOrigins []string `env:"WIDGET_ORIGINS"`
}

// SlotsCache is how long a Slots instance reuses an answer it computed (zero, as in an Env
// built by hand, disables the cache).
type SlotsCache struct {
	SlotsCacheTTL time.Duration `env:"SLOTS_CACHE_TTL" default:"5s"`
}

// ManageKey is Manage's local bearer key. Deployed, IAM protects Manage and the key is
// unset; locally (emulators), a key of at least 16 characters is mandatory.
type ManageKey struct {
	ManageAPIKey string `env:"MANAGE_API_KEY"`
}

func (k *ManageKey) finish(get func(string) string) error {
	if get("FIRESTORE_EMULATOR_HOST") != "" && len(k.ManageAPIKey) < 16 {
		return errors.New("MANAGE_API_KEY must be at least 16 characters when running locally")
	}
	return nil
}

// Env is the whole system's configuration: every group. The processes that run every
// function at once (scripts/devserver, the test stacks) load it and hand each function its
// part (Select).
type Env struct {
	Platform
	Google
	Connect
	Channels
	SyncWindow
	SyncSchedule
	Export
	Widget
	SlotsCache
	ManageKey
}

// groups are the group types: the fields of Env.
var groups = func() map[reflect.Type]bool {
	m := map[reflect.Type]bool{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Env]()) {
		if len(f.Index) == 1 {
			m[f.Type] = true
		}
	}
	return m
}()

// finisher is a group with a rule across variables; Load calls it after setting the
// group's fields (not again for a struct that embeds the group and so has the method).
type finisher interface {
	finish(get func(string) string) error
}

// Load reads the variables of dst, a pointer to a struct of groups (any struct whose
// fields carry env tags, nested structs included), through lookup (os.LookupEnv in
// production): it applies the defaults and every check, and returns all problems at once.
func Load(dst any, lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("config: Load needs a pointer to a struct, got %T", dst))
	}
	get := func(k string) string {
		s, _ := lookup(k)
		return strings.TrimSpace(s)
	}
	return errors.Join(load(v.Elem(), get, map[string]bool{})...)
}

// load fills one struct and the structs it holds. seen catches a variable declared twice.
func load(v reflect.Value, get func(string) string, seen map[string]bool) []error {
	var errs []error
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		name := f.Tag.Get("env")
		switch {
		case name != "":
			if seen[name] {
				panic("config: " + name + " is declared twice in " + t.String())
			}
			seen[name] = true
			if err := set(fv, name, get(name), f.Tag.Get("default")); err != nil {
				errs = append(errs, err)
			} else if err := check(f.Tag.Get("check"), name, fv.Interface()); err != nil {
				errs = append(errs, err)
			}
		case fv.Kind() == reflect.Struct && !f.IsExported():
			panic("config: " + t.String() + "." + f.Name + " is unexported, so it cannot be loaded")
		case fv.Kind() == reflect.Struct:
			errs = append(errs, load(fv, get, seen)...)
		}
	}
	if fin, ok := v.Addr().Interface().(finisher); ok && groups[t] {
		if err := fin.finish(get); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
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

// check applies a check tag to a loaded value.
func check(kind, name string, val any) error {
	switch kind {
	case "":
		return nil
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
	case "export-fields":
		var errs []error
		for _, f := range val.([]string) {
			if !ExportField(f) {
				errs = append(errs, fmt.Errorf("%s: unknown field %q (allowed: service, customerName, customerEmail)", name, f))
			}
		}
		return errors.Join(errs...)
	}
	panic("config: unknown check " + kind + " on " + name)
}

// Check applies the check tags of v, a struct of groups (or a pointer to one), to the
// values it holds: for a configuration built by code rather than loaded. It does not apply
// defaults or the rules across variables.
func Check(v any) error {
	var errs []error
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			switch {
			case f.Tag.Get("env") != "":
				if err := check(f.Tag.Get("check"), f.Tag.Get("env"), fv.Interface()); err != nil {
					errs = append(errs, err)
				}
			case fv.Kind() == reflect.Struct && f.IsExported():
				walk(fv)
			}
		}
	}
	walk(reflect.Indirect(reflect.ValueOf(v)))
	return errors.Join(errs...)
}

// Select returns the part of a whole-system configuration a function's configuration type
// C is made of: every group C embeds, copied from env. It checks nothing: env was checked
// when it was loaded (or built by a test). C may hold only groups.
func Select[C any](env Env) C {
	var c C
	from := map[reflect.Type]reflect.Value{}
	ev := reflect.ValueOf(env)
	for i := range ev.NumField() {
		from[ev.Field(i).Type()] = ev.Field(i)
	}
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			switch g, ok := from[f.Type]; {
			case ok:
				fv.Set(g)
			case fv.Kind() == reflect.Struct && f.Tag.Get("env") == "":
				fill(fv)
			default:
				panic(fmt.Sprintf("config: %s.%s is not a group of config.Env", v.Type(), f.Name))
			}
		}
	}
	fill(reflect.ValueOf(&c).Elem())
	return c
}

// Groups names the groups a configuration type is made of, in declaration order.
func Groups(c reflect.Type) []string {
	var out []string
	walkType(c, func(f reflect.StructField) bool {
		if groups[f.Type] {
			out = append(out, f.Type.Name())
			return true
		}
		return false
	})
	return out
}

// Variables names the variables a configuration type reads, in declaration order.
func Variables(c reflect.Type) []string {
	var out []string
	walkType(c, func(f reflect.StructField) bool {
		if name := f.Tag.Get("env"); name != "" {
			out = append(out, name)
			return true
		}
		return false
	})
	return out
}

// walkType calls take with each field of c, depth first, and goes into a struct field
// unless take took it.
func walkType(c reflect.Type, take func(reflect.StructField) bool) {
	for i := range c.NumField() {
		if f := c.Field(i); !take(f) && f.Type.Kind() == reflect.Struct {
			walkType(f.Type, take)
		}
	}
}

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
