package secrets

import (
	"context"
	"fmt"
	"strconv"
	"sync"
)

// Static is an in-memory Source for tests. The zero value is empty and ready to use.
type Static struct {
	mu     sync.Mutex
	values map[string]map[string][]byte // name → version → value
	latest map[string]string            // name → latest version
}

// NewStatic returns a Static holding values (name → version → value) with latest
// (name → version) as the newest version of each. It copies both maps.
func NewStatic(values map[string]map[string][]byte, latest map[string]string) *Static {
	s := &Static{}
	for name, vs := range values {
		for v, val := range vs {
			s.Put(name, v, val, latest[name] == v)
		}
	}
	return s
}

// Put stores value as the given version of name, and makes it latest if asked.
func (s *Static) Put(name, version string, value []byte, latest bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(name, version, value, latest)
}

func (s *Static) put(name, version string, value []byte, latest bool) {
	if s.values == nil {
		s.values = map[string]map[string][]byte{}
		s.latest = map[string]string{}
	}
	if s.values[name] == nil {
		s.values[name] = map[string][]byte{}
	}
	s.values[name][version] = clone(value)
	if latest {
		s.latest[name] = version
	}
}

// Add stores value as the next numbered version of name ("1", "2", …, like Secret
// Manager), makes it latest and returns its version id.
func (s *Static) Add(name string, value []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := strconv.Itoa(len(s.values[name]) + 1)
	s.put(name, v, value, true)
	return v
}

// Latest implements Source.
func (s *Static) Latest(_ context.Context, name string) ([]byte, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.latest[name]
	if !ok {
		return nil, "", fmt.Errorf("secrets: static secret %q has no latest version: %w", name, ErrNotFound)
	}
	return clone(s.values[name][v]), v, nil
}

// Version implements Source.
func (s *Static) Version(_ context.Context, name, version string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	val, ok := s.values[name][version]
	if !ok {
		return nil, fmt.Errorf("secrets: static secret %q has no version %q: %w", name, version, ErrNotFound)
	}
	return clone(val), nil
}
