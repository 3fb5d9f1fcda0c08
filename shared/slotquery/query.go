package slotquery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
)

// Limits of a Slots request.
const (
	MinDurationMin = 5
	MaxDurationMin = 480
	MaxRange       = 62 * 24 * time.Hour
	MaxStaff       = 20 // named staff members per request
	MaxAnyStaff    = 20 // staff members "any" considers (the first by id; a service's list is capped alike)
)

// Params are the only query parameters Slots accepts; any other is refused, so a
// cache-busting parameter cannot make every request a cache miss.
var Params = map[string]bool{"tenant": true, "staff": true, "serviceId": true, "durationMin": true, "from": true, "to": true, "tz": true}

// Query is a parsed Slots request.
type Query struct {
	Tenant   string
	Staff    []string // nil with Any
	Any      bool
	Duration time.Duration
	From, To time.Time
	TZ       *time.Location // nil: the (first) staff member's zone
	// ServiceID names a service of the tenant's catalogue; the caller resolves it into
	// Duration, the buffers and (with Any) the staff list before calling Slots.
	ServiceID string
	// Lenient skips named staff members without availability instead of failing (used
	// for a service's staff list, as Any does for the tenant's).
	Lenient bool
	// Service buffers (minutes): the effective buffers are the larger of these and the
	// staff member's.
	BufferBeforeMin, BufferAfterMin int
}

// QueryError is a bad parameter; Slots answers 400 with it.
type QueryError struct {
	Param   string
	Message string
	Code    string // the error code when it is not invalid_{param}
}

func (e *QueryError) Error() string { return e.Param + ": " + e.Message }

func bad(param, format string, args ...any) *QueryError {
	return &QueryError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// ParseQuery validates the Slots query parameters. Unknown parameters are refused (a
// cache buster would bypass every cache); each known one may appear once. A request
// names serviceId or durationMin, not both.
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	unknown := ""
	for name := range v {
		if !Params[name] && (unknown == "" || name < unknown) {
			unknown = name
		}
	}
	if unknown != "" {
		if len(unknown) > 40 {
			unknown = unknown[:40] + "…"
		}
		return q, &QueryError{Param: unknown, Message: "unknown parameter (Slots takes tenant, staff, serviceId, durationMin, from, to, tz)", Code: "unknown_parameter"}
	}
	one := func(name string) (string, error) {
		vs := v[name]
		if len(vs) > 1 {
			return "", bad(name, "given more than once")
		}
		if len(vs) == 0 || vs[0] == "" {
			return "", nil
		}
		return vs[0], nil
	}
	tenant, err := one("tenant")
	if err != nil {
		return q, err
	}
	if !messages.ValidID(tenant) {
		return q, bad("tenant", "is required: 1–128 of A–Z a–z 0–9 _ -")
	}
	q.Tenant = tenant

	staff, err := one("staff")
	if err != nil {
		return q, err
	}
	switch {
	case staff == "":
		return q, bad("staff", "is required: a staff id, several separated by commas, or any")
	case staff == "any":
		q.Any = true
	default:
		parts := strings.Split(staff, ",")
		if len(parts) > MaxStaff {
			return q, bad("staff", "at most %d staff members per request", MaxStaff)
		}
		seen := map[string]bool{}
		for _, s := range parts {
			if !messages.ValidID(s) || s == "any" {
				return q, bad("staff", "each staff id must be 1–128 of A–Z a–z 0–9 _ -")
			}
			if !seen[s] {
				seen[s] = true
				q.Staff = append(q.Staff, s)
			}
		}
	}

	svc, err := one("serviceId")
	if err != nil {
		return q, err
	}
	dur, err := one("durationMin")
	if err != nil {
		return q, err
	}
	switch {
	case svc != "" && dur != "":
		return q, bad("serviceId", "give serviceId or durationMin, not both")
	case svc != "":
		if !messages.ValidID(svc) {
			return q, bad("serviceId", "must be 1–128 of A–Z a–z 0–9 _ - (not __…__)")
		}
		q.ServiceID = svc
	case dur == "":
		return q, &QueryError{Param: "serviceId", Message: "serviceId is required", Code: "service_required"}
	default:
		n, perr := strconv.Atoi(dur)
		if perr != nil || n < MinDurationMin || n > MaxDurationMin {
			return q, bad("durationMin", "must be a whole number of minutes from %d to %d", MinDurationMin, MaxDurationMin)
		}
		q.Duration = time.Duration(n) * time.Minute
	}

	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		s, err := one(p.name)
		if err != nil {
			return q, err
		}
		t, perr := time.Parse(time.RFC3339, s)
		if perr != nil || t.Year() < 2000 || t.Year() > 2199 {
			return q, bad(p.name, "must be an RFC 3339 instant such as 2026-11-02T00:00:00+01:00")
		}
		*p.dst = t
	}
	if !q.To.After(q.From) {
		return q, bad("to", "must be after from")
	}
	if q.To.Sub(q.From) > MaxRange {
		return q, bad("to", "at most %d days after from", int(MaxRange/(24*time.Hour)))
	}

	tz, err := one("tz")
	if err != nil {
		return q, err
	}
	if tz != "" {
		loc, lerr := LoadZone(tz)
		if lerr != nil {
			return q, bad("tz", "is not a known IANA time zone")
		}
		q.TZ = loc
	}
	return q, nil
}

// LoadZone loads an IANA zone (cached); "Local" and names with spaces are refused.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 || strings.TrimSpace(name) != name {
		return nil, fmt.Errorf("not an IANA zone: %q", name)
	}
	return availability.LoadLocation(name)
}

// Slot is one entry of the Slots answer: instants and the staff id, nothing else.
type Slot struct {
	Start time.Time
	End   time.Time
	Staff string
}

// ErrUnknownStaff is returned when a named staff member has no availability.
var ErrUnknownStaff = errors.New("unknown staff member")

// Result is the answer of Slots.
type Result struct {
	Slots []Slot
	Zone  *time.Location
	Reads int
	// Withheld lists the staff members asked for whose slots were not offered because a
	// connection of theirs needs reauthorisation (see Data.ReauthNeeded).
	Withheld []string
}

// Slots computes the free slots of q at now for every staff member asked for. With Any,
// the tenant's staff members that have availability (at most MaxAnyStaff, in id order)
// are unioned; every slot names its staff member. Slots are sorted by start, then staff.
func Slots(ctx context.Context, st *store.Store, q Query, now time.Time) (Result, error) {
	return SlotsWithIndex(ctx, st, nil, q, now)
}

// SlotsWithIndex is Slots with a per-instance CalendarIndex (see there).
func SlotsWithIndex(ctx context.Context, st *store.Store, idx *CalendarIndex, q Query, now time.Time) (Result, error) {
	var res Result
	staff := q.Staff
	var pre []*firestore.DocumentSnapshot
	if q.Any {
		// The staff docs come back whole and are handed to LoadData: no second read. A warm
		// index knows the ids, and the staff docs are read with the busy data in one round.
		ids, snaps, reads, err := idx.anyStaff(ctx, st, q.Tenant)
		if err != nil {
			return res, err
		}
		res.Reads += reads
		staff, pre = append(staff, ids...), snaps
	}
	datas, errs, batched := []Data(nil), []error(nil), false
	if len(staff) > 1 {
		datas, errs, batched = loadWarmMany(ctx, st, idx, q.Tenant, staff, pre, q.From, q.To)
	}
	if !batched {
		datas = make([]Data, len(staff))
		errs = make([]error, len(staff))
	}
	var wg sync.WaitGroup
	for i, s := range staff {
		if batched {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var snap *firestore.DocumentSnapshot
			if pre != nil {
				snap = pre[i]
			}
			datas[i], errs[i] = loadData(ctx, st.Reader(), st, idx, q.Tenant, s, q.From, q.To, snap)
		}()
	}
	wg.Wait()
	policy := &reauthPolicy{st: st, tenant: q.Tenant}
	for i := range staff {
		res.Reads += datas[i].Reads
		if errors.Is(errs[i], ErrNoAvailability) {
			if q.Any || q.Lenient {
				continue
			}
			return res, fmt.Errorf("%w: %s", ErrUnknownStaff, staff[i])
		}
		if errs[i] != nil {
			return res, errs[i]
		}
		d := datas[i]
		if res.Zone == nil {
			res.Zone = q.TZ
			if res.Zone == nil {
				loc, err := LoadZone(d.Rules.TimeZone)
				if err != nil {
					return res, fmt.Errorf("zone of %s: %w", d.Staff, err)
				}
				res.Zone = loc
			}
		}
		withhold, err := policy.withhold(ctx, d)
		res.Reads += policy.reads
		policy.reads = 0
		if err != nil {
			return res, err
		}
		if withhold {
			res.Withheld = append(res.Withheld, d.Staff)
			continue
		}
		rules := d.Rules
		rules.BufferBeforeMin = max(rules.BufferBeforeMin, q.BufferBeforeMin)
		rules.BufferAfterMin = max(rules.BufferAfterMin, q.BufferAfterMin)
		slots, err := availability.Compute(rules, d.Busy, d.Bookings, availability.Request{Duration: q.Duration, From: q.From, To: q.To, Now: now})
		if err != nil {
			return res, fmt.Errorf("compute slots of %s: %w", d.Staff, err)
		}
		for _, s := range slots {
			res.Slots = append(res.Slots, Slot{Start: s.Start.In(res.Zone), End: s.End.In(res.Zone), Staff: d.Staff})
		}
	}
	if res.Zone == nil {
		res.Zone = q.TZ
		if res.Zone == nil {
			res.Zone = time.UTC
		}
	}
	sort.SliceStable(res.Slots, func(a, b int) bool {
		if !res.Slots[a].Start.Equal(res.Slots[b].Start) {
			return res.Slots[a].Start.Before(res.Slots[b].Start)
		}
		return res.Slots[a].Staff < res.Slots[b].Staff
	})
	return res, nil
}
