package syncer_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/belbo/calsync/shared/clock"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/syncer"
	"github.com/belbo/calsync/shared/testenv"
	"github.com/belbo/calsync/shared/topology"
)

// markDirty flags the calendar dirty whenever the syncer lists events, as a push arriving
// during every pass would: the run loops until MaxLoops and hands over.
type markDirty struct {
	base http.RoundTripper
	mark func(context.Context) error
}

func (m markDirty) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/events") {
		if err := m.mark(r.Context()); err != nil {
			return nil, err
		}
	}
	return m.base.RoundTrip(r)
}

// TestHandOverPublishesWithinDeclaration: after MaxLoops passes a run hands the rest over
// with a fresh calendar-sync message, published through a platform scoped to SyncCalendar's
// declaration (shared/topology/access.go) exactly as deployed. Without calendar-sync in the
// declaration the publish is refused and this test fails.
func TestHandOverPublishesWithinDeclaration(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "PUBSUB_EMULATOR_HOST")
	e := newEnv(t)
	ctx := context.Background()
	root, err := platform.New(ctx, config.Platform{Project: testenv.Project(t)}, platform.Deps{Secrets: secrets.NewStatic(nil, nil), LogWriter: io.Discard, Clock: clock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(root.Close)
	if err := topology.Ensure(ctx, root.PubSub, topology.Options{}); err != nil {
		t.Fatal(err)
	}
	sub := "projects/" + root.PubSub.Project() + "/subscriptions/handover"
	if _, err := root.PubSub.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: "projects/" + root.PubSub.Project() + "/topics/" + topology.CalendarSync, AckDeadlineSeconds: 60}); err != nil {
		t.Fatal(err)
	}
	fn, err := root.For("SyncCalendar")
	if err != nil {
		t.Fatal(err)
	}
	e.S.Publish = fn.Publish
	e.S.LoopDelay = time.Millisecond
	e.Acc.HTTP = &http.Client{Transport: markDirty{base: http.DefaultTransport, mark: func(ctx context.Context) error {
		_, err := e.Store.Doc(e.Ref).Update(ctx, []firestore.Update{{Path: "dirty", Value: true}})
		return err
	}}}

	st, err := e.run()
	if err != nil {
		t.Fatalf("run with hand-over: %v", err)
	}
	if st.Runs != syncer.MaxLoops {
		t.Fatalf("runs = %d, want MaxLoops = %d before handing over", st.Runs, syncer.MaxLoops)
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var got *pubsubpb.ReceivedMessage
	for got == nil && pctx.Err() == nil {
		resp, err := root.PubSub.SubscriptionAdminClient.Pull(pctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 1})
		if err == nil && len(resp.ReceivedMessages) > 0 {
			got = resp.ReceivedMessages[0]
		}
	}
	if got == nil {
		t.Fatal("no hand-over message on calendar-sync")
	}
	var m messages.Sync
	if err := json.Unmarshal(got.Message.Data, &m); err != nil {
		t.Fatal(err)
	}
	want := e.Msg
	want.Reason = "push"
	if m != want {
		t.Fatalf("hand-over message = %+v, want %+v", m, want)
	}
}
