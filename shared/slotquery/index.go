package slotquery

import (
	"context"

	"cloud.google.com/go/firestore"
	"fmt"
	"sync"
	"time"

	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tenant"
)

// CalendarIndex remembers, per function instance and for TTL, what a Slots request needs
// before it can read the staff member's busy data, and what changes only when the
// business edits its set-up:
//   - which (connection, calendar) pairs of a staff member are selected, so a warm
//     request needs one round of reads instead of three dependent ones;
//   - the tenant's settings and service catalogue (TenantConfig);
//   - for staff=any without a service, which staff members have availability.
//
// A calendar selected or deselected, a service edited or a staff member added in the
// meantime is seen at most TTL later — the same staleness the Slots answer's shared cache
// (Cache-Control max-age) already allows. Book never uses the index: it re-reads the
// tenant document and re-checks the slot exactly inside its transaction, so a stale slot
// can be refused but never double-booked. The connection ids are remembered too; their
// status is read fresh on every request (see loadWarm), and so are the staff documents.
// The zero value (or nil) caches nothing.
type CalendarIndex struct {
	TTL time.Duration
	Now func() time.Time // default time.Now (instance-local freshness, not business time)

	cals    ttlMap[indexEntry]
	tenants ttlMap[tenant.Config]
	staff   ttlMap[[]string]
}

type indexEntry struct {
	pairs []pair
	conns []string // the staff member's connection ids
}

// MaxIndexEntries bounds each of the index's maps per instance.
const MaxIndexEntries = 10000

func (ci *CalendarIndex) on() bool { return ci != nil && ci.TTL > 0 }

func (ci *CalendarIndex) lookup(tenant, staff string) (indexEntry, bool) {
	if !ci.on() {
		return indexEntry{}, false
	}
	return ci.cals.get(tenant+"/"+staff, ci.now(), ci.TTL)
}

func (ci *CalendarIndex) remember(tenant, staff string, pairs []pair, conns []string) {
	if ci.on() {
		ci.cals.put(tenant+"/"+staff, indexEntry{pairs: pairs, conns: conns}, ci.now())
	}
}

// TenantConfig is st.TenantConfig, remembered for TTL; reads is the documents read (0 or 1).
func (ci *CalendarIndex) TenantConfig(ctx context.Context, st *store.Store, t string) (cfg tenant.Config, reads int, err error) {
	if ci.on() {
		if c, ok := ci.tenants.get(t, ci.now(), ci.TTL); ok {
			return c, 0, nil
		}
	}
	cfg, err = st.TenantConfig(ctx, t)
	if err == nil && ci.on() {
		ci.tenants.put(t, cfg, ci.now())
	}
	return cfg, 1, err
}

// anyStaff returns the ids of the tenant's first MaxAnyStaff staff members that have
// availability, and (only when it read them) their documents; reads counts as billed.
func (ci *CalendarIndex) anyStaff(ctx context.Context, st *store.Store, t string) (ids []string, snaps []*firestore.DocumentSnapshot, reads int, err error) {
	if ci.on() {
		if ids, ok := ci.staff.get(t, ci.now(), ci.TTL); ok {
			return ids, nil, 0, nil
		}
	}
	all, err := st.FirstStaff(ctx, t, MaxAnyStaff)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("list staff of %s: %w", t, err)
	}
	for _, s := range all {
		if av, err := s.DataAt("availability"); err != nil || av == nil {
			continue
		}
		ids = append(ids, s.Ref.ID)
		snaps = append(snaps, s)
	}
	if ci.on() {
		ci.staff.put(t, ids, ci.now())
	}
	return ids, snaps, queryReads(len(all)), nil
}

func (ci *CalendarIndex) now() time.Time {
	if ci.Now != nil {
		return ci.Now()
	}
	return time.Now()
}

// ttlMap is a map whose entries are good for a TTL, cleared whole when it reaches
// MaxIndexEntries (memory stays bounded whatever ids strangers send).
type ttlMap[V any] struct {
	mu sync.Mutex
	m  map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

func (t *ttlMap[V]) get(key string, now time.Time, ttl time.Duration) (V, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[key]
	if !ok || now.Sub(e.at) > ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (t *ttlMap[V]) put(key string, v V, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m) >= MaxIndexEntries {
		t.m = map[string]ttlEntry[V]{}
	}
	t.m[key] = ttlEntry[V]{v: v, at: now}
}
