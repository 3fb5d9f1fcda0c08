package store

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
)

// Booking quotas are fixed-window counters shared by every instance:
// tenants/{t}/bookingQuota/{dimension}_{hash of key}_{window length}s_{window start}. A document holds
// the count of the window, its end, and expireAt (end + 1 day) for a Firestore TTL
// policy to delete it. The key (a client address, a customer e-mail) is stored only as
// a SHA-256 prefix, never in the clear.

// Quota is one limit to check and take: at most Limit per Window (time.Hour or 24 h,
// aligned to UTC) for Key in Dimension.
type Quota struct {
	Dimension string // ip | email | staff | tenant
	Key       string
	Window    time.Duration
	Limit     int
}

// QuotaDenied names the first quota that is exhausted and when its window ends.
type QuotaDenied struct {
	Quota     Quota
	WindowEnd time.Time
}

type quotaDoc struct {
	Count     int       `firestore:"count"`
	Dimension string    `firestore:"dimension"`
	WindowEnd time.Time `firestore:"windowEnd"`
	ExpireAt  time.Time `firestore:"expireAt"`
}

// QuotaWindow returns the window [start, end) of w that holds now.
func QuotaWindow(now time.Time, w time.Duration) (time.Time, time.Time) {
	start := now.UTC().Truncate(w)
	return start, start.Add(w)
}

func (s *Store) quotaRef(t string, q Quota, start time.Time) *firestore.DocumentRef {
	// The window's length is part of the id: an hour and a day that start at the same
	// instant (midnight UTC) are different counters.
	return s.Tenant(t).Collection("bookingQuota").Doc(fmt.Sprintf("%s_%s_%ds_%d", q.Dimension, shortHash(t+"\x00"+q.Dimension+"\x00"+q.Key, 32), int64(q.Window/time.Second), start.Unix()))
}

// TakeQuota checks every quota at now and, if none is exhausted, counts one against
// each; if any is exhausted it answers the one whose window ends last and counts nothing.
//
// The check is one GetAll outside any transaction and the count one batch of
// server-side increments, so requests never lock or abort each other on the shared
// counters (a tenant's and a staff member's are written by every booking): under a
// flood, refused requests only read. The price is that requests racing for the last
// unit of one key can overshoot its limit by at most the number of them in flight at
// that moment.
func (s *Store) TakeQuota(ctx context.Context, t string, qs []Quota, now time.Time) (*QuotaDenied, error) {
	refs := make([]*firestore.DocumentRef, len(qs))
	ends := make([]time.Time, len(qs))
	for i, q := range qs {
		start, end := QuotaWindow(now, q.Window)
		refs[i], ends[i] = s.quotaRef(t, q, start), end
	}
	snaps, err := s.FS.GetAll(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("read booking quota: %w", err)
	}
	var denied *QuotaDenied
	for i, sn := range snaps {
		count := 0
		if sn.Exists() {
			var d quotaDoc
			if err := sn.DataTo(&d); err != nil {
				return nil, fmt.Errorf("decode booking quota: %w", err)
			}
			count = d.Count
		}
		if count >= qs[i].Limit && (denied == nil || ends[i].After(denied.WindowEnd)) {
			denied = &QuotaDenied{Quota: qs[i], WindowEnd: ends[i]}
		}
	}
	if denied != nil {
		return denied, nil
	}
	batch := s.FS.BulkWriter(ctx)
	jobs := make([]*firestore.BulkWriterJob, len(refs))
	for i, ref := range refs {
		jobs[i], err = batch.Set(ref, map[string]any{
			"count": firestore.Increment(1), "dimension": qs[i].Dimension,
			"windowEnd": ends[i], "expireAt": ends[i].Add(24 * time.Hour),
		}, firestore.MergeAll)
		if err != nil {
			batch.End()
			return nil, fmt.Errorf("count booking quota: %w", err)
		}
	}
	batch.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return nil, fmt.Errorf("count booking quota: %w", err)
		}
	}
	return nil, nil
}
