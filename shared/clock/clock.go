// Package clock is the one source of "now" for every function.
//
// Deployed, that is the system clock. Locally, when CLOCK_URL is set, the time is
// asked from that URL (GET → an RFC 3339 instant as plain text) so that end-to-end
// tests, the fake Google and every function share one adjustable clock. A function
// reads the clock once at the start of each request or message and passes the
// instant down; pure packages never call a clock.
package clock

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Clock tells the current time.
type Clock interface {
	Now(ctx context.Context) (time.Time, error)
}

// System is the machine's clock.
type System struct{}

// Now returns time.Now in UTC.
func (System) Now(context.Context) (time.Time, error) { return time.Now().UTC(), nil }

// URL asks a shared clock server for the time.
type URL struct {
	Addr   string
	Client *http.Client
}

// Now fetches the instant from the clock server.
func (u URL) Now(ctx context.Context) (time.Time, error) {
	c := u.Client
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.Addr, nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("clock request: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("clock %s: %w", u.Addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil {
		return time.Time{}, fmt.Errorf("clock %s: read: %w", u.Addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("clock %s: status %d", u.Addr, resp.StatusCode)
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	if err != nil {
		return time.Time{}, fmt.Errorf("clock %s: %w", u.Addr, err)
	}
	return t.UTC(), nil
}

// Manual is an adjustable clock for tests and the fake Google. The zero value starts
// at the zero time; use NewManual.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a clock standing at t.
func NewManual(t time.Time) *Manual { return &Manual{now: t.UTC()} }

// Now returns the clock's instant.
func (m *Manual) Now(context.Context) (time.Time, error) { return m.Time(), nil }

// Time returns the clock's instant without a context.
func (m *Manual) Time() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = t.UTC()
}

// Advance moves the clock forward by d and returns the new instant.
func (m *Manual) Advance(d time.Duration) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
	return m.now
}
