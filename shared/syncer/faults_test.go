package syncer_test

// Fault injection at the Firestore transport for the convergence test: every history's
// Firestore client shares one gRPC connection to the real emulator, and that connection
// carries client interceptors that act on the worker identity the test puts in the
// context of each syncer.RunStats call. The syncer and the Firestore client library run
// unmodified; only what crosses the wire is disturbed.

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/testenv"
)

// Fault kinds, each counted when it actually fired (not when it was armed).
const (
	fDropped          = "notification_dropped"
	fDuplicated       = "notification_duplicated"
	fConcurrent3      = "three_or_more_concurrent_runs"
	fGoogle429        = "google_429_first_page"
	fGoogle500        = "google_500_first_page"
	fTokenInvalidated = "google_410_sync_token_invalidated"
	fStaleLeftover    = "stale_event_only_sweep_removes"
	f410MidPaging     = "google_410_later_page"
	f429LaterPage     = "google_429_later_page"
	f500LaterPage     = "google_500_later_page"
	f429Full          = "google_429_full_listing"
	f500Full          = "google_500_full_listing"
	fChangeWhilePage  = "google_change_while_paging"
	fDiesBetweenPages = "worker_dies_between_pages"
	fCrashMidPage     = "worker_dies_mid_page_writes"
	fAborted          = "firestore_aborted"
	fDeadlineUnsent   = "firestore_deadline_exceeded_unsent"
	fDeadlineLost     = "firestore_deadline_exceeded_reply_lost"
	fLeaseTakenOver   = "slow_worker_writes_after_takeover"
	fHandover         = "handover_after_run_budget"
	fRedeliverExpired = "redelivery_after_lease_expiry"
)

var allFaults = []string{fDropped, fDuplicated, fConcurrent3, fGoogle429, fGoogle500, fTokenInvalidated,
	fStaleLeftover, f410MidPaging, f429LaterPage, f500LaterPage, f429Full, f500Full, fChangeWhilePage,
	fDiesBetweenPages, fCrashMidPage, fAborted, fDeadlineUnsent, fDeadlineLost, fLeaseTakenOver,
	fHandover, fRedeliverExpired}

// faultCounts counts fired faults across one test run.
type faultCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *faultCounts) add(kind string) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[kind]++
	c.mu.Unlock()
}

func (c *faultCounts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, k := range allFaults {
		out[k] = c.n[k]
	}
	return out
}

// worker is one simulated function instance running syncer.RunStats. Its plan says
// which of its Firestore commits fail and how; once dead it sends nothing more.
type worker struct {
	counts *faultCounts
	mu     sync.Mutex
	// commits seen so far, and page-write commits (events or busy documents)
	commits, pageCommits int
	abortAt, abortN      int  // commits abortAt..abortAt+abortN-1 answer Aborted (unsent)
	deadlineAt           int  // this commit answers DeadlineExceeded
	deadlineSent         bool // …after it was applied (reply lost) rather than unsent
	crashAtPage          int  // the worker dies right after this page-write commit
	crashBefore          bool // …before sending it
	dead                 atomic.Bool
}

type workerKey struct{}

func (w *worker) ctx(parent context.Context) context.Context {
	return context.WithValue(parent, workerKey{}, w)
}

var errDead = status.Error(codes.Canceled, "convergence test: this worker died")

// pageWrite reports whether a commit writes synced data (event or busy documents). Such a
// commit may also write the calendar document: a small page is written in the transaction
// that renews the lease or finishes the pass (token, release).
func pageWrite(req *firestorepb.CommitRequest) bool {
	for _, w := range req.GetWrites() {
		name := w.GetUpdate().GetName()
		if name == "" {
			name = w.GetDelete()
		}
		if name == "" {
			name = w.GetTransform().GetDocument()
		}
		if strings.Contains(name, "/events/") || strings.Contains(name, "/busy/") {
			return true
		}
	}
	return false
}

// firestoreRPCs counts every RPC on the shared connection (the run's cost).
var firestoreRPCs atomic.Int64

func unaryFaults(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	firestoreRPCs.Add(1)
	w, _ := ctx.Value(workerKey{}).(*worker)
	if w == nil {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	if w.dead.Load() {
		if strings.HasSuffix(method, "/Rollback") {
			// The server would abort a dead client's transaction when it times out (the
			// emulator after about a minute, keeping its locks until then); a prompt
			// rollback keeps histories fast and changes nothing else.
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		return errDead
	}
	cr, isCommit := req.(*firestorepb.CommitRequest)
	if !isCommit {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	w.mu.Lock()
	w.commits++
	n := w.commits
	crash := false
	if pageWrite(cr) {
		w.pageCommits++
		crash = w.pageCommits == w.crashAtPage
	}
	w.mu.Unlock()
	switch {
	case crash:
		w.counts.add(fCrashMidPage)
		if !w.crashBefore {
			_ = invoker(ctx, method, req, reply, cc, opts...)
		}
		w.dead.Store(true)
		return errDead
	case w.abortAt > 0 && n >= w.abortAt && n < w.abortAt+w.abortN:
		w.counts.add(fAborted)
		return status.Error(codes.Aborted, "convergence test: injected contention abort")
	case n == w.deadlineAt && !w.deadlineSent:
		w.counts.add(fDeadlineUnsent)
		return status.Error(codes.DeadlineExceeded, "convergence test: injected deadline (not sent)")
	case n == w.deadlineAt:
		if err := invoker(ctx, method, req, reply, cc, opts...); err != nil {
			return err
		}
		w.counts.add(fDeadlineLost)
		return status.Error(codes.DeadlineExceeded, "convergence test: injected deadline (applied, reply lost)")
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

func streamFaults(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	firestoreRPCs.Add(1)
	if w, _ := ctx.Value(workerKey{}).(*worker); w != nil && w.dead.Load() {
		return nil, errDead
	}
	return streamer(ctx, desc, cc, method, opts...)
}

type emulatorOwner struct{}

func (emulatorOwner) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}
func (emulatorOwner) RequireTransportSecurity() bool { return false }

// connections is how many gRPC connections the histories share (round robin): the
// emulator serves each connection's requests largely in sequence.
const connections = 16

var shared struct {
	once  sync.Once
	conns []*grpc.ClientConn
	next  atomic.Int64
	err   error
}

// faultyFirestore is a Firestore client for a fresh emulator project on the shared,
// fault-injecting connection (one TCP connection for every history).
func faultyFirestore(t testing.TB) *firestore.Client {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	shared.once.Do(func() {
		for range connections {
			c, err := grpc.NewClient(os.Getenv("FIRESTORE_EMULATOR_HOST"),
				grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithPerRPCCredentials(emulatorOwner{}),
				grpc.WithChainUnaryInterceptor(unaryFaults),
				grpc.WithChainStreamInterceptor(streamFaults))
			if err != nil {
				shared.err = err
				return
			}
			shared.conns = append(shared.conns, c)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	conn := shared.conns[int(shared.next.Add(1))%len(shared.conns)]
	fs, err := firestore.NewClient(context.Background(), testenv.Project(t), option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// result is the machine-readable summary of a run (docs/benchmarks.md).
type result struct {
	Test        string         `json:"test"`
	BaseSeed    uint64         `json:"baseSeed"`
	Histories   int            `json:"histories"`
	Divergences int            `json:"divergences"`
	Failures    int            `json:"failures"`
	Seconds     float64        `json:"seconds"`
	Parallel    int            `json:"parallel"`
	RPCs        int64          `json:"firestoreRPCs"`
	Faults      map[string]int `json:"faults"`
}

func (r result) json() string {
	b, _ := json.Marshal(r)
	return string(b)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
