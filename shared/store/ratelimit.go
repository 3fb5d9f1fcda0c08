package store

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
)

// Booking quotas are fixed-window counters shared by every instance:
// tenants/{t}/bookingQuota/{dimension}_{hash of key}_{window start}. A document holds
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
	return s.Tenant(t).Collection("bookingQuota").Doc(fmt.Sprintf("%s_%s_%d", q.Dimension, shortHash(t+"\x00"+q.Dimension+"\x00"+q.Key, 32), start.Unix()))
}

// TakeQuota checks every quota at now in one transaction: if any is exhausted it answers
// the one whose window ends last (and takes nothing); otherwise it counts one against each and answers nil.
func (s *Store) TakeQuota(ctx context.Context, t string, qs []Quota, now time.Time) (*QuotaDenied, error) {
	refs := make([]*firestore.DocumentRef, len(qs))
	ends := make([]time.Time, len(qs))
	for i, q := range qs {
		start, end := QuotaWindow(now, q.Window)
		refs[i], ends[i] = s.quotaRef(t, q, start), end
	}
	var denied *QuotaDenied
	err := s.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		denied = nil
		snaps, err := tx.GetAll(refs)
		if err != nil {
			return fmt.Errorf("read booking quota: %w", err)
		}
		counts := make([]int, len(qs))
		for i, sn := range snaps {
			if sn.Exists() {
				var d quotaDoc
				if err := sn.DataTo(&d); err != nil {
					return fmt.Errorf("decode booking quota: %w", err)
				}
				counts[i] = d.Count
			}
			if counts[i] >= qs[i].Limit && (denied == nil || ends[i].After(denied.WindowEnd)) {
				denied = &QuotaDenied{Quota: qs[i], WindowEnd: ends[i]}
			}
		}
		if denied != nil {
			return nil
		}
		for i, ref := range refs {
			if err := tx.Set(ref, quotaDoc{Count: counts[i] + 1, Dimension: qs[i].Dimension, WindowEnd: ends[i], ExpireAt: ends[i].Add(24 * time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return denied, nil
}
