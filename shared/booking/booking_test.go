package booking

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
)

func TestIDs(t *testing.T) {
	for range 100 {
		id := NewID()
		if len(id) != 26 || !base32hexID(id) {
			t.Fatalf("id %q", id)
		}
		ev := EventID(id)
		if ev != "cs"+id {
			t.Fatalf("event id %q", ev)
		}
		if back, ok := BookingIDFromEventID(ev); !ok || back != id {
			t.Fatalf("back %q %v", back, ok)
		}
	}
	for _, id := range []string{"A", "ab", "Zz_-9", strings.Repeat("Z", 128), "abc"} {
		ev := EventID(id)
		if len(ev) < 5 || len(ev) > 1024 || !base32hexID(ev) {
			t.Fatalf("EventID(%q) = %q", id, ev)
		}
		if back, ok := BookingIDFromEventID(ev); !ok || back != id {
			t.Fatalf("BookingIDFromEventID(%q) = %q %v", ev, back, ok)
		}
	}
	if _, ok := BookingIDFromEventID("someoneelses"); ok {
		t.Fatal("foreign id accepted")
	}
	tok := NewCancelToken("t1", "s_1")
	if te, st, err := ParseCancelToken(tok); err != nil || te != "t1" || st != "s_1" {
		t.Fatalf("token %q: %v", tok, err)
	}
	for _, bad := range []string{"", "t1.s1", "t1.s1.short", "t/1.s1." + strings.Repeat("a", 43)} {
		if _, _, err := ParseCancelToken(bad); err == nil {
			t.Fatalf("accepted %q", bad)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := `{"tenant":"t","staff":"s","start":"2026-11-03T10:00:00+01:00","durationMin":30,"service":"Cut","customer":{"name":"Erika","email":"erika@example.org"}}`
	if _, err := ParseRequest([]byte(ok)); err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"unknown field":  strings.Replace(ok, `"service"`, `"extra":1,"service"`, 1),
		"duration":       strings.Replace(ok, `30`, `481`, 1),
		"email":          strings.Replace(ok, `erika@example.org`, `Erika <erika@example.org>`, 1),
		"no at":          strings.Replace(ok, `erika@example.org`, `erika`, 1),
		"name empty":     strings.Replace(ok, `"Erika"`, `"  "`, 1),
		"name long":      strings.Replace(ok, `"Erika"`, `"`+strings.Repeat("é", 101)+`"`, 1),
		"start":          strings.Replace(ok, `2026-11-03T10:00:00+01:00`, `2026-11-03 10:00`, 1),
		"tenant":         strings.Replace(ok, `"t"`, `"a/b"`, 1),
		"trailing":       ok + "{}",
		"reserved":       strings.Replace(ok, `"t"`, `"__t__"`, 1),
		"only invisible": strings.Replace(ok, `"Erika"`, `"\u200b\u202e\u2066"`, 1),
		"both":           strings.Replace(ok, `"service"`, `"serviceId":"cut","service"`, 1),
	}
	for name, body := range bad {
		if _, err := ParseRequest([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"tenant":"t","staff":"s","start":"2026-11-03T10:00:00+01:00","durationMin":30,"service":"Cut","customer":{"name":"Erika","email":"erika@example.org"}}`))
	f.Add([]byte(`{"tenant":"t","staff":"s","start":"2026-11-03T10:00:00Z","durationMin":5,"service":"x","customer":{"name":"a","email":"a@b"}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := ParseRequest(body)
		if err != nil {
			return
		}
		if in.ServiceID == "" && (in.Duration < 5*time.Minute || in.Duration > 480*time.Minute || in.Service == "") || in.CustomerName == "" ||
			len(in.CustomerEmail) > MaxEmailLen || !strings.Contains(in.CustomerEmail, "@") || in.Start.IsZero() {
			t.Fatalf("accepted invalid input %+v", in)
		}
	})
}

func setupStaff(t testing.TB, fs *firestore.Client, tenant, staff string) *store.Store {
	t.Helper()
	st := store.New(fs)
	r := availability.Default()
	if _, err := st.Staff(tenant, staff).Set(context.Background(), map[string]any{"availability": r}); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestCreateAcrossInstances: 100 concurrent bookings of one slot through 4 independent
// services (own Firestore client, own local lock registry — like 4 function instances)
// → exactly one booking; the transaction alone decides.
func TestCreateAcrossInstances(t *testing.T) {
	fs, project := testenv.Firestore(t)
	setupStaff(t, fs, "t1", "s1")
	var svcs []*Service
	for i := range 4 {
		c := fs
		if i > 0 {
			var err error
			c, err = firestore.NewClient(context.Background(), project)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
		}
		svcs = append(svcs, &Service{Store: store.New(c), Local: &Locks{}})
	}
	now := time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)
	start := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC) // 10:00 Berlin
	var mu sync.Mutex
	count := map[string]int{}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svcs[i%4].Create(context.Background(), Input{Tenant: "t1", Staff: "s1", Start: start, Duration: 30 * time.Minute, Service: "x", CustomerName: "n", CustomerEmail: "a@b.c"}, now, Options{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				count["created"]++
			case errors.Is(err, ErrTaken), errors.Is(err, ErrContended):
				count["409"]++
			default:
				t.Errorf("create: %v", err)
			}
		}()
	}
	wg.Wait()
	if count["created"] != 1 || count["409"] != 99 {
		t.Fatalf("counts %v", count)
	}
	snaps, _ := svcs[0].Store.Bookings("t1", "s1").Documents(context.Background()).GetAll()
	if len(snaps) != 1 {
		t.Fatalf("%d docs", len(snaps))
	}
}

func TestCancel(t *testing.T) {
	fs, _ := testenv.Firestore(t)
	st := setupStaff(t, fs, "t1", "s1")
	var mu sync.Mutex
	var published []string
	svc := &Service{Store: st, Publish: func(ctx context.Context, topic string, v any) error {
		mu.Lock()
		defer mu.Unlock()
		m, _ := v.(messages.Export)
		published = append(published, topic+":"+m.Op)
		return nil
	}}
	now := time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)
	in := Input{Tenant: "t1", Staff: "s1", Start: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), Duration: 30 * time.Minute, Service: "x", CustomerName: "n", CustomerEmail: "a@b.c"}
	c, err := svc.Create(context.Background(), in, now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(context.Background(), in, now, Options{}); !errors.Is(err, ErrTaken) {
		t.Fatalf("second: %v", err)
	}
	wrong := NewCancelToken("t1", "s1")
	if err := svc.Cancel(context.Background(), c.Booking.ID, wrong, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("wrong token: %v", err)
	}
	if err := svc.Cancel(context.Background(), c.Booking.ID, c.CancelToken, now); err != nil {
		t.Fatal(err)
	}
	if err := svc.Cancel(context.Background(), c.Booking.ID, c.CancelToken, now); err != nil {
		t.Fatalf("idempotent: %v", err)
	}
	if _, err := svc.Create(context.Background(), in, now, Options{}); err != nil {
		t.Fatalf("slot not free after cancel: %v", err)
	}
	b, _ := Get(context.Background(), st, "t1", "s1", c.Booking.ID)
	if b.Status != store.BookingCancelled || b.CancelTokenHash != store.HashToken(c.CancelToken) || strings.Contains(b.CancelTokenHash, c.CancelToken) {
		t.Fatalf("stored %+v", b)
	}
	// create, cancel, cancel again (idempotent, still tells the exporter), create again.
	want := "calendar-export:upsert calendar-export:delete calendar-export:delete calendar-export:upsert"
	if got := strings.Join(published, " "); got != want {
		t.Fatalf("published %q, want %q", got, want)
	}
}

// TestBookingIndex: Create adds the booking (instants only) to the month index Slots reads,
// in the same transaction; cancel removes it; a booking across a month boundary is in both.
func TestBookingIndex(t *testing.T) {
	fs, _ := testenv.Firestore(t)
	st := setupStaff(t, fs, "t1", "s1")
	svc := &Service{Store: st}
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)
	items := func(month string) map[string]store.BusyItem {
		snap, err := st.Busy("t1", "s1").Doc(store.BookingIndexDocID(month)).Get(ctx)
		if err != nil {
			return nil
		}
		var bm store.BusyMonth
		if err := snap.DataTo(&bm); err != nil {
			t.Fatal(err)
		}
		return bm.Items
	}
	in := Input{Tenant: "t1", Staff: "s1", Start: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), Duration: 30 * time.Minute, Service: "x", CustomerName: "n", CustomerEmail: "a@b.c"}
	a, err := svc.Create(ctx, in, now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in.Start = in.Start.Add(time.Hour)
	b, err := svc.Create(ctx, in, now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := items("2026-11")
	if len(got) != 2 || !got[a.Booking.ID].Start.Equal(a.Booking.Start) || !got[b.Booking.ID].End.Equal(b.Booking.End) {
		t.Fatalf("index after two bookings = %v", got)
	}
	if err := svc.CancelByStaff(ctx, "t1", "s1", a.Booking.ID, now); err != nil {
		t.Fatal(err)
	}
	got = items("2026-11")
	if _, still := got[a.Booking.ID]; still || len(got) != 1 {
		t.Fatalf("index after cancel = %v", got)
	}
	// A staff-created booking across the month boundary sits in both months.
	in.Start = time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)
	in.Duration = time.Hour
	if _, err := st.Staff("t1", "s1").Set(ctx, map[string]any{"availability": map[string]any{"timeZone": "UTC", "weekly": map[string]any{"mon": []map[string]string{{"start": "00:00", "end": "24:00"}}, "tue": []map[string]string{{"start": "00:00", "end": "24:00"}}}, "overrides": []any{}, "bufferBeforeMin": 0, "bufferAfterMin": 0, "minNoticeMin": 0, "horizonDays": 60, "stepMin": 30}}); err != nil {
		t.Fatal(err)
	}
	c, err := svc.Create(ctx, in, now, Options{Source: SourceStaff})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := items("2026-11")[c.Booking.ID]; !ok {
		t.Fatal("not in November's index")
	}
	if _, ok := items("2026-12")[c.Booking.ID]; !ok {
		t.Fatal("not in December's index")
	}
}

// TestCreateReplayAfterLostCommit: when a commit landed but its answer was lost, the
// retry finds the booking it made itself and succeeds instead of answering "taken"; a
// different booking under the same id is refused.
func TestCreateReplayAfterLostCommit(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	st := setupStaff(t, fs, "t1", "s1")
	id, tok := NewID(), NewCancelToken("t1", "s1")
	svc := &Service{Store: st, NewIDs: func(string, string) (string, string) { return id, tok }}
	now := time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)
	in := Input{Tenant: "t1", Staff: "s1", Start: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), Duration: 30 * time.Minute, Service: "x", CustomerName: "n", CustomerEmail: "a@b.c"}
	if _, err := svc.Create(context.Background(), in, now, Options{}); err != nil {
		t.Fatal(err)
	}
	again, err := svc.Create(context.Background(), in, now, Options{})
	if err != nil || again.Booking.ID != id {
		t.Fatalf("replayed create = %+v, %v; want the same booking", again, err)
	}
	other := &Service{Store: st, NewIDs: func(string, string) (string, string) { return id, NewCancelToken("t1", "s1") }}
	in.Start = in.Start.Add(2 * time.Hour)
	if _, err := other.Create(context.Background(), in, now, Options{}); err == nil || errors.Is(err, ErrTaken) {
		t.Fatalf("a different booking under an existing id: err = %v", err)
	}
	snaps, _ := st.Bookings("t1", "s1").Documents(context.Background()).GetAll()
	if len(snaps) != 1 {
		t.Fatalf("%d booking docs, want 1", len(snaps))
	}
}

// List refuses an empty, reversed or over-long range before reading anything.
func TestListRange(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, to := range []time.Time{from, from.Add(-time.Hour), from.Add(MaxListSpan + time.Second)} {
		if _, err := (&Service{}).List(context.Background(), "t1", "anna", from, to); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("to %s: %v, want ErrInvalidRange", to, err)
		}
	}
}
