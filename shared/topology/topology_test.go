package topology

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/belbo/calsync/shared/testenv"
)

func TestEnsureCreatesEverythingIdempotently(t *testing.T) {
	t.Parallel()
	project := testenv.Project(t)
	ps := testenv.PubSub(t, project)
	ctx := context.Background()
	o := Options{PushBase: "http://127.0.0.1:1", MinBackoff: time.Second, MaxBackoff: 5 * time.Second}
	for i := 0; i < 2; i++ { // the second run finds everything and must not fail
		if err := Ensure(ctx, ps, o); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	for _, r := range Routes {
		sub, err := ps.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: "projects/" + project + "/subscriptions/" + PushSubscription(r.Topic)})
		if err != nil {
			t.Fatal(err)
		}
		wantEndpoint := "http://127.0.0.1:1/" + r.Function + "/projects/" + project + "/topics/" + r.Topic
		if sub.PushConfig.GetPushEndpoint() != wantEndpoint {
			t.Errorf("%s push endpoint = %q, want %q", r.Topic, sub.PushConfig.GetPushEndpoint(), wantEndpoint)
		}
		if sub.DeadLetterPolicy.GetDeadLetterTopic() != "projects/"+project+"/topics/"+DeadLetter(r.Topic) || sub.DeadLetterPolicy.GetMaxDeliveryAttempts() != MaxDeliveryAttempts {
			t.Errorf("%s dead-letter policy = %v", r.Topic, sub.DeadLetterPolicy)
		}
		if sub.RetryPolicy.GetMinimumBackoff().AsDuration() != time.Second {
			t.Errorf("%s retry policy = %v", r.Topic, sub.RetryPolicy)
		}
		if _, err := ps.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: "projects/" + project + "/subscriptions/" + Inspect(r.Topic)}); err != nil {
			t.Errorf("inspect subscription of %s: %v", r.Topic, err)
		}
	}
}
