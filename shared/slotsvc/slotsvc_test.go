package slotsvc

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/slotquery"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tenant"
	"github.com/belbo/calsync/shared/testenv"
)

func parse(t *testing.T, q string) slotquery.Query {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	p, err := slotquery.ParseQuery(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeyNormalises(t *testing.T) {
	a := parse(t, "tenant=t&staff=a,b&serviceId=cut&from=2026-11-02T00:00:00%2B01:00&to=2026-11-09T00:00:00%2B01:00&tz=Europe/Berlin")
	b := parse(t, "tz=Europe/Berlin&to=2026-11-08T23:00:00Z&from=2026-11-01T23:00:00Z&serviceId=cut&staff=b,a,b&tenant=t")
	if Key(a) != Key(b) {
		t.Fatalf("same query, two keys:\n%s\n%s", Key(a), Key(b))
	}
	for _, other := range []string{
		"tenant=t&staff=a&serviceId=cut&from=2026-11-02T00:00:00%2B01:00&to=2026-11-09T00:00:00%2B01:00&tz=Europe/Berlin",
		"tenant=t&staff=any&serviceId=cut&from=2026-11-02T00:00:00%2B01:00&to=2026-11-09T00:00:00%2B01:00&tz=Europe/Berlin",
		"tenant=t&staff=a,b&serviceId=colour&from=2026-11-02T00:00:00%2B01:00&to=2026-11-09T00:00:00%2B01:00&tz=Europe/Berlin",
		"tenant=t&staff=a,b&durationMin=30&from=2026-11-02T00:00:00%2B01:00&to=2026-11-09T00:00:00%2B01:00&tz=Europe/Berlin",
		"tenant=t&staff=a,b&serviceId=cut&from=2026-11-02T00:00:00%2B01:00&to=2026-11-09T00:00:00%2B01:00",
		"tenant=u&staff=a,b&serviceId=cut&from=2026-11-02T00:00:00%2B01:00&to=2026-11-09T00:00:00%2B01:00&tz=Europe/Berlin",
	} {
		if Key(parse(t, other)) == Key(a) {
			t.Errorf("%s shares the key of a different query", other)
		}
	}
}

func TestCacheBounded(t *testing.T) {
	wall := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Cache{TTL: 5 * time.Second, MaxEntries: 100, MaxBytes: 1 << 20, Wall: func() time.Time { return wall }}
	now := time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)
	body := make([]byte, 1000)
	for i := 0; i < 10000; i++ {
		c.put("k"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+time.Duration(i).String(), now, body, nil)
		if c.Len() > 100 || c.Bytes() > 1<<20 {
			t.Fatalf("after %d puts: %d entries, %d bytes", i+1, c.Len(), c.Bytes())
		}
	}
	if len(c.order) > 2*100+1 {
		t.Fatalf("the eviction order grew to %d", len(c.order))
	}
	// Too big to keep.
	c.put("big", now, make([]byte, 1<<20), nil)
	if _, _, ok := c.get("big", now); ok {
		t.Fatal("an answer of MaxBytes was cached")
	}
	c.put("k", now, body, nil)
	if _, _, ok := c.get("k", now); !ok {
		t.Fatal("fresh entry missed")
	}
	if _, _, ok := c.get("k", now.Add(6*time.Second)); ok {
		t.Fatal("entry served after the business clock moved past the TTL")
	}
	wall = wall.Add(6 * time.Second)
	if _, _, ok := c.get("k", now); ok {
		t.Fatal("entry served after the TTL")
	}
}

// TestRepeatedLoadsCostNoReads: the second identical query (spelt differently) is served
// from the cache with no Firestore read; without the cache it reads again.
func TestRepeatedLoadsCostNoReads(t *testing.T) {
	fs, _ := testenv.Firestore(t)
	st := store.New(fs)
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)
	if _, err := st.Staff("t1", "anna").Set(ctx, map[string]any{"availability": availability.Default()}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutService(ctx, "t1", tenant.Service{ID: "cut", Name: "Cut", DurationMin: 30, Staff: []string{"anna"}}, now); err != nil {
		t.Fatal(err)
	}
	for _, cached := range []bool{true, false} {
		s := &Service{Store: st}
		if cached {
			s.Cache = &Cache{TTL: 5 * time.Second}
		}
		q1 := parse(t, "tenant=t1&staff=anna&serviceId=cut&from=2026-11-02T00:00:00%2B01:00&to=2026-11-09T00:00:00%2B01:00")
		q2 := parse(t, "tenant=t1&staff=anna&serviceId=cut&from=2026-11-01T23:00:00Z&to=2026-11-08T23:00:00Z")
		b1, err := s.Answer(ctx, q1, now)
		if err != nil || !strings.Contains(string(b1), `"staff":"anna"`) {
			t.Fatalf("answer: %v %s", err, b1)
		}
		first := s.Reads.Load()
		b2, err := s.Answer(ctx, q2, now)
		if err != nil || string(b2) != string(b1) {
			t.Fatalf("second answer: %v", err)
		}
		if again := s.Reads.Load() - first; cached && again != 0 || !cached && again == 0 {
			t.Fatalf("cached=%v: the repeated query read %d documents", cached, again)
		}
	}
	// Unknown services are answered from the cache too.
	s := &Service{Store: st, Cache: &Cache{TTL: 5 * time.Second}}
	q := parse(t, "tenant=t1&staff=anna&serviceId=nope&from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z")
	for range 2 {
		if _, err := s.Answer(ctx, q, now); !errors.Is(err, ErrServiceNotFound) {
			t.Fatalf("unknown service: %v", err)
		}
	}
	if s.Reads.Load() != 1 {
		t.Fatalf("two unknown-service answers read %d documents, want 1", s.Reads.Load())
	}
}
