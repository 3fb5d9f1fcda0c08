package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// The tests here prove the declaration in shared/topology/access.go complete for the code
// paths that publish outside the obvious request flow: each function runs on the platform
// scoped to its declaration (Handlers, h.renewer), so removing a topic from a declaration
// makes one of them fail. (Export re-queue on connect: TestBookingsWaitingForAConnection-
// AreExportedOnConnect, through OAuthCallback's scoped platform.)

func pushBody(t *testing.T, data string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"message": map[string]any{"data": base64.StdEncoding.EncodeToString([]byte(data)), "messageId": "poison-1", "attributes": map[string]string{"origin": "test"}}, "subscription": "s"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pull waits for one message on a subscription of the stack's project.
func pull(t *testing.T, h *harness, sub string) *pubsubpb.PubsubMessage {
	t.Helper()
	ps := h.Stack.Platform.PubSub
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	name := "projects/" + ps.Project() + "/subscriptions/" + sub
	for ctx.Err() == nil {
		resp, err := ps.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: name, MaxMessages: 1})
		if err == nil && len(resp.ReceivedMessages) > 0 {
			m := resp.ReceivedMessages[0]
			_ = ps.SubscriptionAdminClient.Acknowledge(context.Background(), &pubsubpb.AcknowledgeRequest{Subscription: name, AckIds: []string{m.AckId}})
			return m.Message
		}
	}
	t.Fatalf("nothing arrived on %s", sub)
	return nil
}

func subscribe(t *testing.T, h *harness, sub, topic string) {
	t.Helper()
	ps := h.Stack.Platform.PubSub
	if _, err := ps.SubscriptionAdminClient.CreateSubscription(context.Background(), &pubsubpb.Subscription{
		Name: "projects/" + ps.Project() + "/subscriptions/" + sub, Topic: "projects/" + ps.Project() + "/topics/" + topic, AckDeadlineSeconds: 60,
	}); err != nil {
		t.Fatal(err)
	}
}

// TestConsumersDeadLetterWithinDeclaration: each of the three consumers, on its own scoped
// platform, copies a poison message to its dead-letter topic with the calsync* attributes
// the runbook relies on, and acknowledges it. SyncCalendar and ExportBooking get a message
// their real handler rejects as permanent; RenewChannels treats any payload as a tick and
// never fails permanently, so its only way to the dead-letter topic is a panic.
func TestConsumersDeadLetterWithinDeclaration(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	_, consumers, err := Handlers(h.Stack.Platform, h.Stack.Env)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range EventFunctions {
		c := consumers[f.Name]
		if c.Platform.Function() != f.Name {
			t.Fatalf("%s runs on a platform scoped to %q", f.Name, c.Platform.Function())
		}
		if f.Name == "RenewChannels" {
			c.Handler = func(context.Context, []byte, map[string]string) error { panic("poison") }
		}
		if err := c.Dispatch(context.Background(), pushBody(t, `{"op":"nonsense"}`)); err != nil {
			t.Fatalf("%s: dispatching a poison message = %v, want it dead-lettered and acknowledged", f.Name, err)
		}
		m := pull(t, h, topology.Inspect(f.Topic))
		if m.Attributes["calsyncSourceTopic"] != f.Topic || m.Attributes["calsyncError"] == "" || m.Attributes["origin"] != "test" || string(m.Data) != `{"op":"nonsense"}` {
			t.Fatalf("%s: dead-lettered message %q with attributes %v", f.Name, m.Data, m.Attributes)
		}
	}
}

// TestRenewTickRequeuesStalledExportsWithinDeclaration: RenewChannels' safety net for a
// lost export message publishes calendar-export on RenewChannels' scoped platform.
func TestRenewTickRequeuesStalledExportsWithinDeclaration(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	subscribe(t, h, "exports", topology.CalendarExport)
	ctx := context.Background()
	now := h.FG.Now()
	b := store.Booking{Tenant: "t1", Staff: "anna", Start: now.Add(24 * time.Hour), End: now.Add(25 * time.Hour), ExportState: "pending", UpdatedAt: now.Add(-10 * time.Minute)}
	if _, err := h.Stack.Platform.Store.Bookings("t1", "anna").Doc("lost").Set(ctx, b); err != nil {
		t.Fatal(err)
	}
	r := h.renewer()
	st, err := r.Scan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Exports != 1 {
		t.Fatalf("tick re-queued %d exports, want 1 (logs:\n%s)", st.Exports, h.Logs.String())
	}
	var m messages.Export
	if err := json.Unmarshal(pull(t, h, "exports").Data, &m); err != nil {
		t.Fatal(err)
	}
	if m != (messages.Export{Tenant: "t1", Staff: "anna", Booking: "lost", Op: "upsert"}) {
		t.Fatalf("re-queued %+v", m)
	}
}

// TestLocalStackMatchesDeclaration: the local stack runs exactly the declared functions,
// each consumer on the topic its declaration names.
func TestLocalStackMatchesDeclaration(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, f := range HTTPFunctions {
		a, err := topology.Declared(f.Name)
		if err != nil || a.Consumes != "" {
			t.Errorf("HTTP function %s: declaration %+v, %v", f.Name, a, err)
		}
		seen[f.Name] = true
	}
	for _, f := range EventFunctions {
		a, err := topology.Declared(f.Name)
		if err != nil || a.Consumes != f.Topic {
			t.Errorf("event function %s on %s: declaration %+v, %v", f.Name, f.Topic, a, err)
		}
		seen[f.Name] = true
	}
	for _, name := range topology.FunctionNames() {
		if !seen[name] {
			t.Errorf("%s is declared but not part of the local stack", name)
		}
	}
}
