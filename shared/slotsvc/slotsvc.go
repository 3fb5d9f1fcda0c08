// Package slotsvc is what the public Slots function does with a parsed query: resolve
// the tenant's service (duration, buffers, which staff offer it) from the tenant document
// (remembered by the instance's slotquery.CalendarIndex for its TTL), compute the free slots with shared/slotquery, and remember the encoded
// answer for a few seconds in a small per-instance cache, so the same widget query
// repeated by many browsers (or by one hostile client) costs no reads at all.
package slotsvc

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/slotquery"
	"github.com/belbo/calsync/shared/store"
)

// The errors of Answer are Book's, so both functions answer them alike (httperr).
var (
	// ErrServiceRequired: durationMin without serviceId where the tenant does not allow
	// free-form booking.
	ErrServiceRequired = booking.ErrServiceRequired
	// ErrServiceNotFound: no such service in the tenant's catalogue.
	ErrServiceNotFound = booking.ErrServiceNotFound
	// ErrServiceNotOffered: a staff member asked for does not offer the service.
	ErrServiceNotOffered = booking.ErrServiceNotOffered
)

// Service answers Slots queries.
type Service struct {
	Store *store.Store
	Index *slotquery.CalendarIndex
	Cache *Cache // nil: no answer cache
	// Reads counts the Firestore document reads of every computed (uncached) answer.
	Reads atomic.Int64
}

// Answer returns the JSON body of the 200 answer for q at now, or one of the errors
// above, slotquery.ErrUnknownStaff, or an internal error (never cached).
func (s *Service) Answer(ctx context.Context, q slotquery.Query, now time.Time) ([]byte, error) {
	key := Key(q)
	if body, err, ok := s.Cache.get(key, now); ok {
		return body, err
	}
	body, err := s.compute(ctx, q, now)
	if err == nil || isAnswer(err) {
		s.Cache.put(key, now, body, err)
	}
	return body, err
}

func isAnswer(err error) bool {
	return errors.Is(err, ErrServiceRequired) || errors.Is(err, ErrServiceNotFound) ||
		errors.Is(err, ErrServiceNotOffered) || errors.Is(err, slotquery.ErrUnknownStaff)
}

func (s *Service) compute(ctx context.Context, q slotquery.Query, now time.Time) ([]byte, error) {
	cfg, reads, err := s.Index.TenantConfig(ctx, s.Store, q.Tenant)
	s.Reads.Add(int64(reads))
	if err != nil {
		return nil, err
	}
	if q.ServiceID == "" {
		if !cfg.Settings.FreeFormBooking {
			return nil, ErrServiceRequired
		}
	} else {
		sv, ok := cfg.Service(q.ServiceID)
		if !ok {
			return nil, ErrServiceNotFound
		}
		q.Duration = time.Duration(sv.DurationMin) * time.Minute
		q.BufferBeforeMin, q.BufferAfterMin = sv.BufferBeforeMin, sv.BufferAfterMin
		if q.Any {
			// The service's own staff list (at most slotquery.MaxAnyStaff, checked when
			// the service is written) replaces the tenant-wide listing.
			q.Any, q.Lenient = false, true
			q.Staff = append([]string(nil), sv.Staff...)
			if len(q.Staff) > slotquery.MaxAnyStaff {
				q.Staff = q.Staff[:slotquery.MaxAnyStaff]
			}
		} else {
			for _, st := range q.Staff {
				if !sv.Offers(st) {
					return nil, ErrServiceNotOffered
				}
			}
		}
	}
	res, err := slotquery.SlotsWithIndex(ctx, s.Store, s.Index, q, now)
	s.Reads.Add(int64(res.Reads))
	if err != nil {
		return nil, err
	}
	return Encode(res.Slots), nil
}

// Encode is the 200 body for slots: {"slots":[{"start","end","staff"}…]} and a newline,
// byte for byte what encoding/json writes for the same values, without reflection or a
// copy per slot (a staff=any answer holds thousands of slots; BenchmarkEncode compares).
func Encode(slots []slotquery.Slot) []byte {
	b := make([]byte, 0, 16+len(slots)*96)
	b = append(b, `{"slots":[`...)
	for i, sl := range slots {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"start":"`...)
		b = sl.Start.AppendFormat(b, time.RFC3339)
		b = append(b, `","end":"`...)
		b = sl.End.AppendFormat(b, time.RFC3339)
		b = append(b, `","staff":`...)
		b = appendString(b, sl.Staff)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

// appendString appends s as a JSON string; ids are plain ASCII, anything else is left to
// encoding/json so the escaping is exactly its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Key is the normalised cache key of q: tenant, the staff set (sorted) or any, the
// service or duration, the range as UTC instants and the zone name. Two queries that
// differ only in spelling (staff order, offsets, duplicate staff) share one entry.
func Key(q slotquery.Query) string {
	staff := "*any"
	if !q.Any {
		ss := append([]string(nil), q.Staff...)
		sort.Strings(ss)
		staff = strings.Join(ss, ",")
	}
	what := "d" + strconv.FormatInt(int64(q.Duration/time.Minute), 10)
	if q.ServiceID != "" {
		what = "s" + q.ServiceID
	}
	tz := ""
	if q.TZ != nil {
		tz = q.TZ.String()
	}
	return q.Tenant + "|" + staff + "|" + what + "|" + strconv.FormatInt(q.From.Unix(), 10) + "|" + strconv.FormatInt(q.To.Unix(), 10) + "|" + tz
}

// Cache holds encoded answers for TTL, bounded by entry count and total bytes; when
// full, the oldest entries go first. An entry also expires when the business clock
// (the now the answer was computed for) has moved by more than TTL either way.
type Cache struct {
	TTL        time.Duration
	MaxEntries int   // default 2048
	MaxBytes   int64 // default 16 MiB; answers larger than MaxBytes/64 are not cached
	Wall       func() time.Time

	mu    sync.Mutex
	m     map[string]*entry
	order []string // insertion order (FIFO eviction)
	bytes int64
	hits  atomic.Int64
}

type entry struct {
	body      []byte
	err       error
	wall, now time.Time
}

func (c *Cache) wall() time.Time {
	if c.Wall != nil {
		return c.Wall()
	}
	return time.Now()
}

func (c *Cache) limits() (int, int64) {
	n, b := c.MaxEntries, c.MaxBytes
	if n <= 0 {
		n = 2048
	}
	if b <= 0 {
		b = 16 << 20
	}
	return n, b
}

// Hits is how many answers came from the cache.
func (c *Cache) Hits() int64 {
	if c == nil {
		return 0
	}
	return c.hits.Load()
}

// Len and Bytes report the cache's size.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Bytes is the total size of the cached bodies.
func (c *Cache) Bytes() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func (c *Cache) get(key string, now time.Time) ([]byte, error, bool) {
	if c == nil || c.TTL <= 0 {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || c.wall().Sub(e.wall) > c.TTL || now.Sub(e.now) > c.TTL || e.now.Sub(now) > c.TTL {
		return nil, nil, false
	}
	c.hits.Add(1)
	return e.body, e.err, true
}

func (c *Cache) put(key string, now time.Time, body []byte, err error) {
	if c == nil || c.TTL <= 0 {
		return
	}
	maxN, maxB := c.limits()
	size := int64(len(body) + len(key) + 64)
	if size > maxB/64 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*entry{}
	}
	if old, ok := c.m[key]; ok {
		c.bytes -= int64(len(old.body) + len(key) + 64)
		delete(c.m, key)
	}
	for len(c.order) > 0 && (len(c.m) >= maxN || c.bytes+size > maxB) {
		k := c.order[0]
		c.order = c.order[1:]
		if e, ok := c.m[k]; ok {
			c.bytes -= int64(len(e.body) + len(k) + 64)
			delete(c.m, k)
		}
	}
	// order may hold keys replaced or evicted already; compact it when it grows.
	if len(c.order) > 2*maxN {
		live := c.order[:0]
		for _, k := range c.order {
			if _, ok := c.m[k]; ok {
				live = append(live, k)
			}
		}
		c.order = live
	}
	c.m[key] = &entry{body: body, err: err, wall: c.wall(), now: now}
	c.order = append(c.order, key)
	c.bytes += size
}
