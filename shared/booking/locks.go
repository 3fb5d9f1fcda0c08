package booking

// Serialising booking transactions: the per-day lock documents, the retry of aborted
// transactions, and this process's striped per-staff locks.

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/store"
)

// lockRefs are tenants/{t}/staff/{s}/bookingLocks/{yyyy-mm-dd}: one per UTC day. Every
// booking transaction reads and writes the lock docs of the UTC days its occupied span
// [start − bufferBefore, end + bufferAfter) touches. Two bookings whose occupied spans
// overlap share at least one such day, so their transactions conflict and Firestore
// serialises them, whatever its isolation of queries is.
func lockRefs(st *store.Store, tenant, staff string, from, to time.Time) []*firestore.DocumentRef {
	var refs []*firestore.DocumentRef
	d := time.Date(from.UTC().Year(), from.UTC().Month(), from.UTC().Day(), 0, 0, 0, 0, time.UTC)
	for ; d.Before(to); d = d.AddDate(0, 0, 1) {
		refs = append(refs, st.BookingLock(tenant, staff, d))
	}
	return refs
}

// lockExpiry is when a lock doc (id yyyy-mm-dd) may go: two days after its UTC day.
func lockExpiry(day string) time.Time {
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		return time.Time{}
	}
	return d.AddDate(0, 0, 2)
}

// runContended runs a booking transaction, retrying aborted attempts (lost races on the
// day's lock docs) with jittered backoff until ContentionDeadline. A transaction that
// never gets through is ErrContended — never an internal error.
func (s *Service) runContended(ctx context.Context, f func(context.Context, *firestore.Transaction) error) error {
	limit := s.ContentionDeadline
	if limit <= 0 {
		limit = 10 * time.Second
	}
	deadline := time.Now().Add(limit)
	// One attempt per RunTransaction: the client's own retry backs off from 1 s up to
	// 30 s, far too slow for a customer waiting on a slot; this loop starts at 10 ms.
	backoff := 10 * time.Millisecond
	for {
		err := s.Store.RunTransaction(ctx, f, firestore.MaxAttempts(1))
		if err == nil || !contention(err) {
			return err
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return ErrContended
		}
		sleep := backoff/2 + rand.N(backoff)
		select {
		case <-ctx.Done():
			return ErrContended
		case <-time.After(sleep):
		}
		backoff = min(2*backoff, time.Second)
	}
}

func contention(err error) bool {
	switch status.Code(err) {
	case codes.Aborted, codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded:
		return true
	}
	return false
}

// lockStripes is the fixed number of local locks: a key (tenant/staff) maps to one of
// them by hash, so memory never grows with the ids callers send. Two staff members that
// share a stripe only wait for each other on this instance; correctness comes from the
// transaction either way.
const lockStripes = 256

// Locks serialises this process's booking transactions per staff member with a fixed
// set of striped, context- and time-bounded mutexes.
type Locks struct {
	once    sync.Once
	stripes [lockStripes]chan struct{}
}

var processLocks = &Locks{}

func (l *Locks) lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	l.once.Do(func() {
		for i := range l.stripes {
			l.stripes[i] = make(chan struct{}, 1)
		}
	})
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	ch := l.stripes[h.Sum32()%lockStripes]
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, ErrContended
	}
}
