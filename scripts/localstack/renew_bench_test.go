package localstack

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"golang.org/x/oauth2"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/benchtable"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/renewal"
	"github.com/belbo/calsync/shared/store"
)

// simConn is one seeded connection.
type simConn struct {
	tenant, staff, id, email string
	cals                     []string // Google calendar ids
}

// seedConnections creates n accounts with k calendars each in the fake, gets each a real
// refresh token through the fake's OAuth flow, and writes the connections and selected
// calendars (no channel yet) straight into Firestore, as a connect + select would leave
// them. workers bounds the parallelism.
func seedConnections(t testing.TB, h *harness, n, k, workers int) []simConn {
	t.Helper()
	ctx := context.Background()
	cfg := h.FG.OAuthConfig("http://app.example.test/cb", googlecal.Scopes...)
	out := make([]simConn, n)
	now := h.FG.Now()
	var firstErr atomic.Value
	work := make(chan int)
	var wg sync.WaitGroup
	bw := h.Stack.Platform.Store.FS.BulkWriter(ctx)
	var bwMu sync.Mutex
	for range workers {
		wg.Go(func() {
			for i := range work {
				c, err := seedOne(ctx, h, cfg, i, k, now)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				out[i] = c
				bwMu.Lock()
				err = writeSeed(h, bw, c, now)
				bwMu.Unlock()
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	bw.End()
	if e := firstErr.Load(); e != nil {
		t.Fatalf("seed: %v", e)
	}
	return out
}

func seedOne(ctx context.Context, h *harness, cfg *oauth2.Config, i, k int, now time.Time) (simConn, error) {
	email := fmt.Sprintf("sim%05d@example.com", i)
	c := simConn{tenant: fmt.Sprintf("t%02d", i%20), staff: fmt.Sprintf("s%05d", i), email: email}
	acct, err := h.FG.CreateAccount(fakegoogle.Account{Email: email, Name: "Sim"})
	if err != nil {
		return c, err
	}
	for j := range k {
		cal, err := h.FG.CreateCalendar(fakegoogle.CalendarSpec{Email: email, Summary: fmt.Sprintf("Cal %d", j), TimeZone: "Europe/Berlin", Primary: j == 0})
		if err != nil {
			return c, err
		}
		c.cals = append(c.cals, cal.ID)
	}
	v := oauth2.GenerateVerifier()
	u := cfg.AuthCodeURL("s", oauth2.AccessTypeOffline, oauth2.ApprovalForce, oauth2.S256ChallengeOption(v))
	redirect, err := h.FG.Consent(ctx, u, email, fakegoogle.ConsentOptions{})
	if err != nil {
		return c, err
	}
	tok, err := cfg.Exchange(ctx, redirect.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		return c, err
	}
	c.id = store.ConnectionID(c.tenant, acct.Sub)
	sealed, err := h.Stack.Platform.Sealer.Seal(ctx, []byte(tok.RefreshToken), accounts.AAD(c.tenant, c.staff, c.id))
	if err != nil {
		return c, err
	}
	conn := store.Connection{Tenant: c.tenant, Staff: c.staff, Email: email, Subject: acct.Sub, Status: store.StatusActive,
		Token: sealed, Scopes: googlecal.Scopes, WriteCalendarID: c.cals[0], CreatedAt: now, UpdatedAt: now, StatusChangedAt: now, LastListSyncAt: now}
	_, err = h.Stack.Platform.Store.Connection(c.tenant, c.staff, c.id).Set(ctx, conn)
	return c, err
}

func writeSeed(h *harness, bw *firestore.BulkWriter, c simConn, now time.Time) error {
	st := h.Stack.Platform.Store
	for _, g := range c.cals {
		doc := st.Calendar(c.tenant, c.staff, c.id, store.CalendarDocID(g))
		if _, err := bw.Set(doc, map[string]any{"googleId": g, "name": "Cal", "color": "#7986cb", "timeZone": "Europe/Berlin",
			"accessRole": "owner", "selected": true, "channelExpiry": time.Time{}, "lastSyncAt": now, "lastFullSyncAt": now}); err != nil {
			return err
		}
	}
	return nil
}

// touch marks every calendar synced and every list fresh at now (what SyncCalendar and
// the hourly list pass keep true in steady state), so a measured pass is channel work only.
func touch(t testing.TB, h *harness, conns []simConn, now time.Time) {
	t.Helper()
	ctx := context.Background()
	st := h.Stack.Platform.Store
	bw := st.FS.BulkWriter(ctx)
	for _, c := range conns {
		if _, err := bw.Update(st.Connection(c.tenant, c.staff, c.id), []firestore.Update{{Path: "lastListSyncAt", Value: now}}); err != nil {
			t.Fatal(err)
		}
		for _, g := range c.cals {
			if _, err := bw.Update(st.Calendar(c.tenant, c.staff, c.id, store.CalendarDocID(g)), []firestore.Update{{Path: "lastSyncAt", Value: now}, {Path: "lastFullSyncAt", Value: now}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	bw.End()
}

// fanOut runs RenewConnection for every connection with `workers` at once (standing in
// for the function instances Pub/Sub fans the messages out to).
func fanOut(t testing.TB, r *renewal.Renewer, conns []simConn, now time.Time, workers int) (renewed, stopped int64) {
	t.Helper()
	var ren, stp atomic.Int64
	var firstErr atomic.Value
	work := make(chan simConn)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range work {
				res, err := r.RenewConnection(context.Background(), messages.Renew{Tenant: c.tenant, Staff: c.staff, Connection: c.id}, now)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
				ren.Add(int64(res.Renewed))
				stp.Add(int64(res.Stopped))
			}
		})
	}
	for _, c := range conns {
		work <- c
	}
	close(work)
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		t.Fatalf("renew: %v", e)
	}
	return ren.Load(), stp.Load()
}

// TestRenewSimulation renews N channels (N/5 connections × 5 selected calendars) against
// the emulators and the fake Google and prints the cost per channel. N defaults to 250;
// RENEW_SIM_CHANNELS=10000 runs the full-size simulation (docs/benchmarks.md).
func TestRenewSimulation(t *testing.T) {
	t.Parallel()
	channels := 250
	if v := os.Getenv("RENEW_SIM_CHANNELS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 {
			t.Fatalf("RENEW_SIM_CHANNELS=%q", v)
		}
		channels = n
	}
	const perConn = 5
	workers := 32
	n := channels / perConn
	h := newHarness(t, harnessOptions{})
	t0 := time.Now()
	conns := seedConnections(t, h, n, perConn, 16)
	seedDur := time.Since(t0)

	// Pass 1: every calendar gets its first channel (the "missing" path).
	t1 := time.Now()
	created, _ := fanOut(t, h.renewer(), conns, h.FG.Now(), workers)
	if int(created) != n*perConn {
		t.Fatalf("first pass created %d channels, want %d", created, n*perConn)
	}
	createDur := time.Since(t1)

	// A day before expiry, in steady state (synced, lists fresh): the measured pass.
	h.FG.Advance(6*24*time.Hour + 12*time.Hour)
	now := h.FG.Now()
	touch(t, h, conns, now)
	h.FG.ResetCalls()
	r := h.renewer()
	t2 := time.Now()
	st, err := r.Scan(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	scanDur := time.Since(t2)
	if st.Candidates != n || st.Published != n {
		t.Fatalf("tick: %+v, want %d connections", st, n)
	}
	scanReads := r.Counters.Reads.Load()
	t3 := time.Now()
	renewed, stoppedN := fanOut(t, r, conns, now, workers)
	renewDur := time.Since(t3)
	if int(renewed) != channels || int(stoppedN) != channels {
		t.Fatalf("renewed %d, stopped %d, want %d each", renewed, stoppedN, channels)
	}

	// Exactly one live channel per calendar.
	live := map[string]int{}
	for _, c := range h.FG.Channels() {
		if !c.Stopped && !c.Expired {
			live[c.Calendar]++
		}
	}
	for _, c := range conns {
		for _, g := range c.cals {
			if live[g] != 1 {
				t.Fatalf("calendar %s has %d live channels", g, live[g])
			}
		}
	}
	maxPerMin := 0
	for _, c := range conns {
		for _, v := range h.FG.CallsPerMinute(c.email) {
			maxPerMin = max(maxPerMin, v)
		}
	}
	if maxPerMin >= 600 {
		t.Fatalf("one user made %d Google calls in one minute", maxPerMin)
	}
	watch, stop, list := h.FG.Calls("events.watch"), h.FG.Calls("channels.stop"), h.FG.Calls("calendarList.list")
	google := watch + stop + list
	reads := r.Counters.Reads.Load() - scanReads
	writes := r.Counters.Writes.Load()
	per := func(v int64) string { return strconv.FormatFloat(float64(v)/float64(channels), 'f', 2, 64) }
	t.Logf("RENEWAL SIMULATION: %d channels = %d connections × %d calendars, %d concurrent runs", channels, n, perConn, workers)
	t.Logf("  seed %v; first pass (create) %v", seedDur.Round(time.Millisecond), createDur.Round(time.Millisecond))
	t.Logf("  tick: %d candidates, %d messages, %d reads, %d pages in %v", st.Candidates, st.Published, st.Reads, st.Pages, scanDur.Round(time.Millisecond))
	t.Logf("  renewal: %v wall (%.1f channels/s)", renewDur.Round(time.Millisecond), float64(channels)/renewDur.Seconds())
	t.Logf("  Google calls: %d (watch %d, stop %d, list %d) = %s per channel; token refreshes %d (%s per channel)",
		google, watch, stop, list, per(int64(google)), h.FG.Calls("token"), per(int64(h.FG.Calls("token"))))
	t.Logf("  Firestore: %d reads (%s/channel) + tick %d reads (%s/channel); %d writes (%s/channel)",
		reads, per(reads), scanReads, per(scanReads), writes, per(writes))
	t.Logf("  max Google calls by one user in one fake minute: %d (quota ~600)", maxPerMin)
	benchtable.Emit(benchtable.Table{Title: "Renewal simulation (TestRenewSimulation)",
		Columns: []string{"N channels", "tick", "renewal wall time", "Google calls / channel", "Firestore reads / channel", "Firestore writes / channel", "max calls by one user in one minute"},
		Rows: [][]string{{fmt.Sprintf("%d (%d × %d)", channels, n, perConn),
			fmt.Sprintf("%d messages, %d reads, %d pages, %v", st.Published, st.Reads, st.Pages, scanDur.Round(time.Millisecond)),
			fmt.Sprintf("%v (%.0f channels/s)", renewDur.Round(time.Millisecond), float64(channels)/renewDur.Seconds()),
			per(int64(google)) + " + " + per(int64(h.FG.Calls("token"))) + " token refreshes",
			per(reads) + " + " + per(scanReads) + " for the tick", per(writes), strconv.Itoa(maxPerMin)}}})
}
