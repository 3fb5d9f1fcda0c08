package localstack

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/belbo/calsync/shared/opcount"
	"github.com/belbo/calsync/shared/secrets"
)

// meter counts what a stack costs, at the wire: Firestore and Pub/Sub operations on the
// clients' gRPC connections (opcount), function invocations and their duration (every
// request the stack's server answered, Pub/Sub pushes included), and secret accesses.
type meter struct {
	C *opcount.Counter

	mu  sync.Mutex
	fns map[string]*fnStat
	// hook, when set, sees every request after it was served (freshness stages).
	hook func(fn string, arrived time.Time, took time.Duration, status int)
}

type fnStat struct {
	N    int64
	Busy time.Duration
}

func newMeter() *meter { return &meter{C: opcount.New(), fns: map[string]*fnStat{}} }

func (m *meter) observe(fn string, arrived time.Time, took time.Duration, status int) {
	m.mu.Lock()
	s, ok := m.fns[fn]
	if !ok {
		s = &fnStat{}
		m.fns[fn] = s
	}
	s.N++
	s.Busy += took
	hook := m.hook
	m.mu.Unlock()
	if hook != nil {
		hook(fn, arrived, took, status)
	}
}

func (m *meter) setHook(f func(fn string, arrived time.Time, took time.Duration, status int)) {
	m.mu.Lock()
	m.hook = f
	m.mu.Unlock()
}

// functions returns a copy of the per-function counts, sorted by name.
func (m *meter) functions() map[string]fnStat {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]fnStat{}
	for k, v := range m.fns {
		out[k] = *v
	}
	return out
}

func (m *meter) reset() {
	m.mu.Lock()
	m.fns = map[string]*fnStat{}
	m.mu.Unlock()
	m.C.Reset()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// countingSecrets counts every secret access the functions make. The deployed Secret
// Manager source caches (secrets.LatestTTL), so this is an upper bound of billed accesses.
type countingSecrets struct {
	secrets.Source
	c *opcount.Counter
}

const secretAccesses = "secretmanager.accesses"

func (s countingSecrets) Latest(ctx context.Context, name string) ([]byte, string, error) {
	s.c.Add(secretAccesses, 1)
	return s.Source.Latest(ctx, name)
}

func (s countingSecrets) Version(ctx context.Context, name, version string) ([]byte, error) {
	s.c.Add(secretAccesses, 1)
	return s.Source.Version(ctx, name, version)
}
