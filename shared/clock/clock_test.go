package clock

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestURLClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body    string
		status  int
		want    time.Time
		wantErr bool
	}{
		{"2026-03-29T01:30:00Z\n", 200, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), false},
		{"2026-03-29T03:30:00+02:00", 200, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), false},
		{"yesterday", 200, time.Time{}, true},
		{"2026-03-29T01:30:00Z", 500, time.Time{}, true},
	}
	for _, tc := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		got, err := URL{Addr: srv.URL}.Now(context.Background())
		srv.Close()
		if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
			t.Errorf("body %q status %d: got %v, %v", tc.body, tc.status, got, err)
		}
	}
}

func TestManual(t *testing.T) {
	t.Parallel()
	m := NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if got := m.Advance(90 * time.Minute); !got.Equal(time.Date(2026, 1, 1, 1, 30, 0, 0, time.UTC)) {
		t.Fatalf("Advance = %v", got)
	}
	m.Set(time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)))
	if now, _ := m.Now(context.Background()); now.Location() != time.UTC || now.Hour() != 23 {
		t.Fatalf("Set/Now = %v", now)
	}
}
