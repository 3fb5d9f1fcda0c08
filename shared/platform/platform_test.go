package platform

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/belbo/calsync/shared/clock"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/testenv"
	"github.com/belbo/calsync/shared/topology"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newPlatform(t *testing.T) (*Platform, *syncBuf) {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	logs := &syncBuf{}
	env := config.Platform{Project: testenv.Project(t)}
	p, err := New(context.Background(), env, Deps{Secrets: secrets.NewStatic(nil, nil), LogWriter: logs, Clock: clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if err := topology.Ensure(context.Background(), p.PubSub, topology.Options{}); err != nil {
		t.Fatal(err)
	}
	return p, logs
}

func envelope(data string, attrs map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{"message": map[string]any{"data": base64.StdEncoding.EncodeToString([]byte(data)), "attributes": attrs, "messageId": "m1"}, "subscription": "s"})
	return b
}

// pullOne reads one message from a topic's dead-letter inspection subscription.
func pullOne(t *testing.T, ps *pubsub.Client, topic string) *pubsubpb.ReceivedMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub := "projects/" + ps.Project() + "/subscriptions/" + topology.Inspect(topic)
	for ctx.Err() == nil {
		resp, err := ps.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 1})
		if err == nil && len(resp.ReceivedMessages) > 0 {
			return resp.ReceivedMessages[0]
		}
	}
	t.Fatalf("nothing arrived on %s", sub)
	return nil
}

func TestDispatchDecisions(t *testing.T) {
	t.Parallel()
	p, logs := newPlatform(t)
	ctx := context.Background()
	tests := []struct {
		name       string
		handler    MessageHandler
		wantErr    bool
		deadLetter bool
	}{
		{"success acknowledges", func(context.Context, []byte, map[string]string) error { return nil }, false, false},
		{"transient error redelivers", func(context.Context, []byte, map[string]string) error { return errors.New("google 503") }, true, false},
		{"permanent error dead-letters", func(context.Context, []byte, map[string]string) error {
			return fmt.Errorf("bad: %w", messages.ErrPermanent)
		}, false, true},
		{"panic dead-letters", func(context.Context, []byte, map[string]string) error { panic("boom") }, false, true},
		{"personal data in the error is scrubbed", func(context.Context, []byte, map[string]string) error {
			return fmt.Errorf("calendar anna.dl@example.com refused ya29.a0AfH6SMBxyz: %w", messages.ErrPermanent)
		}, false, true},
	}
	for _, tc := range tests {
		// Sequential: the dead-letter subscription is shared by the cases.
		err := p.Dispatch(ctx, topology.CalendarSync, envelope(`{"case":"`+tc.name+`"}`, map[string]string{"k": "v"}), tc.handler)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%s: err = %v, want error %v", tc.name, err, tc.wantErr)
		}
		if tc.deadLetter {
			m := pullOne(t, p.PubSub, topology.CalendarSync)
			if string(m.Message.Data) != `{"case":"`+tc.name+`"}` || m.Message.Attributes["k"] != "v" || m.Message.Attributes["calsyncSourceTopic"] != topology.CalendarSync || m.Message.Attributes["calsyncError"] == "" {
				t.Fatalf("%s: dead-lettered message = %v", tc.name, m.Message)
			}
			if e := m.Message.Attributes["calsyncError"]; strings.Contains(e, "anna.dl@example.com") || strings.Contains(e, "ya29.") {
				t.Fatalf("%s: the dead-letter error attribute carries personal data: %q", tc.name, e)
			}
			_ = p.PubSub.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: "projects/" + p.PubSub.Project() + "/subscriptions/" + topology.Inspect(topology.CalendarSync), AckIds: []string{m.AckId}})
		}
	}
	if err := p.Dispatch(ctx, topology.CalendarSync, []byte("not json"), nil); err != nil {
		t.Fatalf("undecodable envelope must be acknowledged, got %v", err)
	}
	if !strings.Contains(logs.String(), `"severity":"ERROR"`) {
		t.Fatal("permanent failures were not logged as errors")
	}
}

func TestDispatchCarriesTrace(t *testing.T) {
	t.Parallel()
	p, _ := newPlatform(t)
	ctx := logging.WithTrace(context.Background(), "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
	attrs := logging.TraceAttributes(ctx)
	var got string
	err := p.Dispatch(context.Background(), topology.CalendarSync, envelope(`{}`, attrs), func(ctx context.Context, _ []byte, _ map[string]string) error {
		got, _ = logging.TraceFrom(ctx)
		return nil
	})
	if err != nil || got != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("trace in handler = %q (err %v)", got, err)
	}
}

func TestWrapRecoversAndTraces(t *testing.T) {
	t.Parallel()
	logs := &syncBuf{}
	p := &Platform{Log: logging.New(logs, logging.Options{ProjectID: "p"})}
	h := p.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("kaboom")
		}
		id, _ := logging.TraceFrom(r.Context())
		fmt.Fprint(w, id)
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/panic", nil)
	h.ServeHTTP(rec, req)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"code":"internal"`) || strings.Contains(rec.Body.String(), "kaboom") {
		t.Fatalf("panic answer = %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "kaboom") {
		t.Fatal("panic not logged")
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1")
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "105445aa7843bc8bf206b12000100000" {
		t.Fatalf("trace id in handler = %q", rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if len(rec.Body.String()) != 32 {
		t.Fatalf("no trace id generated: %q", rec.Body)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(context.Background(), config.Platform{}, Deps{}); err == nil || !strings.Contains(err.Error(), "GOOGLE_CLOUD_PROJECT") {
		t.Fatalf("New without project: %v", err)
	}
}

// A scoped platform refuses, with ErrUndeclared and an error log line, every publish and
// secret read its function did not declare; the root platform (tools, test drivers) does not.
func TestScopedPlatformRefusesUndeclared(t *testing.T) {
	t.Parallel()
	p, logs := newPlatform(t)
	ctx := context.Background()
	if _, err := p.For("NoSuchFunction"); err == nil {
		t.Fatal("For accepted a function without a declaration")
	}
	slots, err := p.For("Slots")
	if err != nil {
		t.Fatal(err)
	}
	if slots.Function() != "Slots" || p.Function() != "" {
		t.Fatalf("Function() = %q / %q", slots.Function(), p.Function())
	}
	if err := slots.Publish(ctx, topology.CalendarSync, map[string]string{"x": "y"}); !errors.Is(err, ErrUndeclared) {
		t.Fatalf("Slots publishing to calendar-sync: %v, want ErrUndeclared", err)
	}
	if _, _, err := slots.Secrets.Latest(ctx, secrets.TokenKey); !errors.Is(err, ErrUndeclared) {
		t.Fatalf("Slots reading token-key: %v, want ErrUndeclared", err)
	}
	if _, err := slots.Secrets.Version(ctx, secrets.StateKey, "1"); !errors.Is(err, ErrUndeclared) {
		t.Fatalf("Slots reading state-key v1: %v, want ErrUndeclared", err)
	}
	if _, err := slots.Sealer.Seal(ctx, []byte("x"), "aad"); !errors.Is(err, ErrUndeclared) {
		t.Fatalf("Slots sealing a token: %v, want ErrUndeclared", err)
	}
	if !strings.Contains(logs.String(), `"event":"platform.undeclared"`) || !strings.Contains(logs.String(), `"topic":"calendar-sync"`) || !strings.Contains(logs.String(), `"secretId":"token-key"`) {
		t.Fatalf("refusals not logged: %s", logs.String())
	}
	// Declared: the publish reaches Pub/Sub, the read reaches the source (which has no value).
	book, err := p.For("Book")
	if err != nil {
		t.Fatal(err)
	}
	if err := book.Publish(ctx, topology.CalendarExport, map[string]string{"x": "y"}); err != nil {
		t.Fatalf("Book publishing to calendar-export: %v", err)
	}
	sync, err := p.For("SyncCalendar")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sync.Secrets.Latest(ctx, secrets.TokenKey); err == nil || errors.Is(err, ErrUndeclared) || !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("SyncCalendar reading token-key: %v, want the source's not-found", err)
	}
	if _, _, err := sync.Secrets.Latest(ctx, secrets.StateKey); !errors.Is(err, ErrUndeclared) {
		t.Fatalf("SyncCalendar reading state-key: %v, want ErrUndeclared", err)
	}
	// The root platform is not a function: unrestricted.
	if err := p.Publish(ctx, topology.RenewChannels, map[string]string{"x": "y"}); err != nil {
		t.Fatalf("root publish: %v", err)
	}
	// Closing a scoped platform leaves the shared clients alone.
	book.Close()
	if err := book.Publish(ctx, topology.CalendarExport, map[string]string{"x": "z"}); err != nil {
		t.Fatalf("publish after closing a scoped platform: %v", err)
	}
}

// A function whose configuration does not load does not start: LazyHTTP answers 503 to
// every request and LazyEvent fails every message (Pub/Sub redelivers), with every missing
// or malformed variable named in the error; the function's builder never runs.
func TestLazyRefusesToStartWithoutItsConfiguration(t *testing.T) {
	type cfg struct {
		config.Platform
		Needed string        `env:"CALSYNC_TEST_NEEDED" check:"required"`
		Every  time.Duration `env:"CALSYNC_TEST_INTERVAL" default:"1m"`
	}
	t.Setenv("GOOGLE_CLOUD_PROJECT", "p")
	t.Setenv("CALSYNC_TEST_NEEDED", "")
	t.Setenv("CALSYNC_TEST_INTERVAL", "soon")
	built := false
	h := LazyHTTP("Slots", func(*Platform, cfg) (http.Handler, error) { built = true; return nil, nil })
	for range 2 {
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "not configured") {
			t.Fatalf("HTTP function without its configuration: %d %s", rec.Code, rec.Body)
		}
	}
	ev := LazyEvent("SyncCalendar", topology.CalendarSync, func(*Platform, cfg) (MessageHandler, error) { built = true; return nil, nil })
	err := ev(context.Background(), event.New())
	if err == nil || !strings.Contains(err.Error(), "CALSYNC_TEST_NEEDED is required") || !strings.Contains(err.Error(), "CALSYNC_TEST_INTERVAL") {
		t.Fatalf("event function without its configuration: %v", err)
	}
	if built {
		t.Fatal("a function was built without its configuration")
	}
}
