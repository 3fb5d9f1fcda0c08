package store

import (
	"reflect"
	"strings"
	"time"
)

// This file is THE list of what calsync may keep in Firestore: every collection, and in
// it every field path a document may hold. Nothing else may be stored.
//
//   - scripts/localstack TestPrivacyAllowList walks every collection and subcollection of
//     the database after a full scenario (connect, sync, book, cancel, export, disconnect,
//     erase) and fails on any collection or field path not listed here;
//   - TestAllowListCoversStoredStructs (this package) fails when a field of a stored struct
//     (Structs below) is missing here, so a new struct field fails even before a scenario
//     writes it;
//   - TestPrivacyDocMatchesAllowList fails when docs/privacy.md and this list differ.
//
// Adding a field: add it to the struct, to Fields here, and to docs/privacy.md with its
// purpose, its retention and the sentence of the privacy statement it falls under.
// Adding a collection: a new CollectionSpec (and register its struct in Structs).
//
// Paths: collection paths use "*" for a document id ("tenants/*/staff"). Field paths are
// dotted; "*" stands for a map key chosen at run time (an event id), "[]" for the elements
// of an array of maps.

// CollectionSpec is one allow-listed collection.
type CollectionSpec struct {
	Path    string   // e.g. "tenants/*/staff/*/bookings"
	Fields  []string // every allowed field path
	Structs []any    // the Go types documents of this collection are written from
}

// AllowList is every collection calsync writes, with every field it may hold.
var AllowList = []CollectionSpec{
	{
		Path: "tenants",
		Fields: []string{
			"settings.freeFormBooking", "settings.slotsWhenReauthNeeded",
			"settings.limits.perIp.hour", "settings.limits.perIp.day",
			"settings.limits.perEmail.hour", "settings.limits.perEmail.day",
			"settings.limits.perStaff.hour", "settings.limits.perStaff.day",
			"settings.limits.perTenant.hour", "settings.limits.perTenant.day",
			"settings.retention.customerDataDays", "settings.retention.cancelledCustomerDataDays",
			"settings.retention.reauthConnectionDays", "settings.erasure.exportedEvents",
			"settingsUpdatedAt",
			// The service catalogue (shared/store/services.go): a map from service id.
			"services.*.id", "services.*.name", "services.*.durationMin",
			"services.*.bufferBeforeMin", "services.*.bufferAfterMin", "services.*.staff",
			"servicesUpdatedAt",
		},
		Structs: []any{tenantDoc{}, tenantConfigDoc{}},
	},
	{
		Path: "tenants/*/staff",
		Fields: []string{
			// availability.Rules has no firestore tags: Go field names are the keys.
			"availability.TimeZone", "availability.Weekly.*[].Start", "availability.Weekly.*[].End",
			"availability.Overrides[].Date", "availability.Overrides[].Ranges[].Start", "availability.Overrides[].Ranges[].End",
			"availability.BufferBeforeMin", "availability.BufferAfterMin",
			"availability.MinNoticeMin", "availability.HorizonDays", "availability.StepMin",
			"updatedAt",
		},
		Structs: []any{Staff{}},
	},
	{
		Path:    "tenants/*/accounts",
		Fields:  []string{"staff", "updatedAt"},
		Structs: []any{AccountLink{}},
	},
	{
		Path: "tenants/*/staff/*/connections",
		Fields: []string{
			"tenant", "staff", "email", "subject", "status", "token.keyVersion", "token.ciphertext",
			"scopes", "writeCalendarId", "createdAt", "updatedAt", "statusChangedAt", "lastListSyncAt",
		},
		Structs: []any{Connection{}},
	},
	{
		Path: "tenants/*/staff/*/connections/*/calendars",
		Fields: []string{
			"googleId", "name", "color", "timeZone", "primary", "accessRole", "hidden", "selected", "syncMode",
			"syncToken", "epoch", "leaseOwner", "leaseUntil", "dirty",
			"channel.id", "channel.resourceId", "channel.expiry", "channel.tokenHash", "channelExpiry",
			"horizonEnd", "lastSyncAt", "lastFullSyncAt", "lastPushAt", "lastErrorAt", "lastErrorClass",
			"consecutiveFailures", "syncRuns", "passStartedAt",
			// shared/renewal's write-ahead record of channels being replaced.
			"renewal.owner", "renewal.until", "renewal.pending.id", "renewal.pending.resourceId",
			"renewal.retired[].id", "renewal.retired[].resourceId", "renewal.resourceId",
		},
		Structs: []any{Calendar{}},
	},
	{
		Path: "tenants/*/staff/*/connections/*/calendars/*/events",
		Fields: []string{
			"title", "details", "start", "end", "allDay", "startDate", "endDate", "busy", "status",
			"updated", "recurringId", "bookingId", "months",
			// shared/syncer bookkeeping: the run that wrote it, the calendar doc path.
			"runId", "calendar",
		},
		Structs: []any{Event{}},
	},
	{
		Path: "tenants/*/staff/*/busy",
		Fields: []string{
			"calendar", "month", "items.*.s", "items.*.e", "items.*.sd", "items.*.ed",
		},
		Structs: []any{BusyMonth{}},
	},
	{
		Path: "tenants/*/staff/*/bookings",
		Fields: []string{
			"tenant", "staff", "start", "end", "service", "serviceId", "customerName", "customerEmail",
			"customerEmailHash", "scrubAt", "scrubbedAt",
			"status", "cancelTokenHash", "source", "googleEventId", "exportCalendar",
			"exportConnection", "exportState", "conflict", "createdAt", "updatedAt",
		},
		Structs: []any{Booking{}},
	},
	{
		// shared/booking: one per UTC day a booking occupies, so overlapping bookings
		// conflict in their transactions.
		Path:   "tenants/*/staff/*/bookingLocks",
		Fields: []string{"lastBooking", "updatedAt", "expireAt"},
	},
	{
		// shared/store/ratelimit.go: Book's abuse-limit counters, one per dimension, hashed
		// key and window; deleted by Firestore TTL a day after the window ends.
		Path:    "tenants/*/bookingQuota",
		Fields:  []string{"count", "dimension", "windowEnd", "expireAt"},
		Structs: []any{quotaDoc{}},
	},
	{
		Path: "channels",
		Fields: []string{
			"calendarPath", "tenant", "staff", "connection", "calendar", "tokenHash", "resourceId", "expiry",
		},
		Structs: []any{ChannelLookup{}},
	},
	{
		Path: "oauthStates",
		Fields: []string{
			"tenant", "staff", "returnUrl", "verifier", "connectId", "createdAt", "expireAt",
		},
		Structs: []any{OAuthState{}},
	},
}

// AllowedCollection returns the spec whose path pattern matches a collection path
// ("tenants/t1/staff/anna/bookings"), or nil.
func AllowedCollection(collectionPath string) *CollectionSpec {
	segs := strings.Split(collectionPath, "/")
	for i := range AllowList {
		pat := strings.Split(AllowList[i].Path, "/")
		if len(pat) != len(segs) {
			continue
		}
		ok := true
		for j := range pat {
			if pat[j] != "*" && pat[j] != segs[j] {
				ok = false
				break
			}
		}
		if ok {
			return &AllowList[i]
		}
	}
	return nil
}

// Allows reports whether a stored field path (dotted, "[]" for array elements, map keys
// literal) is on the list. A path that ends early (an empty map, a null) is allowed
// when it is a prefix of a listed path.
func (c *CollectionSpec) Allows(fieldPath string) bool {
	got := splitPath(fieldPath)
	for _, f := range c.Fields {
		want := splitPath(f)
		if len(got) > len(want) {
			continue
		}
		ok := true
		for i := range got {
			if want[i] != "*" && want[i] != got[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// splitPath splits "a.b[].c" into a, b, [], c.
func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, ".") {
		for strings.HasSuffix(s, "[]") {
			base := strings.TrimSuffix(s, "[]")
			if base != "" {
				out = append(out, base)
			}
			out = append(out, "[]")
			s = ""
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// LeafPaths flattens a Firestore document's data into field paths: nested maps with
// dots, arrays of maps with "[]"; arrays of scalars and scalars are leaves.
func LeafPaths(data map[string]any) []string {
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 0 {
				out = append(out, prefix)
			}
			for k, vv := range x {
				walk(join(prefix, k), vv)
			}
		case []any:
			leaf := true
			for _, e := range x {
				if m, ok := e.(map[string]any); ok {
					leaf = false
					walk(prefix+"[]", m)
				}
			}
			if leaf {
				out = append(out, prefix)
			}
		default:
			out = append(out, prefix)
		}
	}
	for k, v := range data {
		walk(k, v)
	}
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// StructPaths lists the field paths a Go value of type t is stored under by the Firestore
// client (tag name, or the Go field name without a tag; "-" skipped; embedded structs
// promoted; map keys "*"; arrays of structs "[]").
func StructPaths(t reflect.Type) []string {
	var out []string
	var walk func(prefix string, t reflect.Type, depth int)
	walk = func(prefix string, t reflect.Type, depth int) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if depth > 8 {
			out = append(out, prefix)
			return
		}
		switch {
		case t == reflect.TypeOf(time.Time{}):
			out = append(out, prefix)
		case t.Kind() == reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("firestore"), ",")
				if name == "-" {
					continue
				}
				if f.Anonymous && name == "" {
					walk(prefix, f.Type, depth+1)
					continue
				}
				if name == "" {
					name = f.Name
				}
				walk(join(prefix, name), f.Type, depth+1)
			}
		case t.Kind() == reflect.Map:
			walk(join(prefix, "*"), t.Elem(), depth+1)
		case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8 && isStruct(t.Elem()):
			walk(prefix+"[]", t.Elem(), depth+1)
		default:
			out = append(out, prefix)
		}
	}
	walk("", t, 0)
	return out
}

func isStruct(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && t != reflect.TypeOf(time.Time{})
}
