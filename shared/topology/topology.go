// Package topology names the Pub/Sub topics and subscriptions the system has, and creates
// them on the Pub/Sub emulator exactly as Terraform creates them in the cloud: one topic
// per message kind, a push subscription to the function that consumes it with a retry
// policy and a dead-letter policy, a dead-letter topic, and a pull subscription on it to
// inspect and replay what died. It is used by the local stack and tests, never deployed.
package topology

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Topic ids (docs/api.md "Pub/Sub messages").
const (
	CalendarSync   = "calendar-sync"
	CalendarExport = "calendar-export"
	RenewChannels  = "renew-channels"
)

// MaxDeliveryAttempts is how often a message is tried before it is dead-lettered
// (the same number Terraform sets).
const MaxDeliveryAttempts = 10

// Route says which function consumes a topic.
type Route struct {
	Topic    string
	Function string
}

// Routes lists every topic and its consumer.
var Routes = []Route{
	{CalendarSync, "SyncCalendar"},
	{CalendarExport, "ExportBooking"},
	{RenewChannels, "RenewChannels"},
}

// DeadLetter names a topic's dead-letter topic.
func DeadLetter(topic string) string { return topic + "-dead-letter" }

// Inspect names the pull subscription on a dead-letter topic.
func Inspect(topic string) string { return DeadLetter(topic) + "-inspect" }

// PushSubscription names the subscription that delivers a topic to its function.
func PushSubscription(topic string) string { return topic + "-push" }

// Options tune the local topology.
type Options struct {
	// PushBase is the base URL of the local functions, e.g. http://127.0.0.1:8080; a route's
	// endpoint is PushBase/<Function>/projects/<p>/topics/<topic> so that functions-framework
	// can convert the push body into a CloudEvent. Empty: no push subscriptions (tests that
	// drive the functions directly).
	PushBase string
	// PushPath overrides the endpoint path for a function (for in-process test servers).
	PushPath func(function, project, topic string) string
	// MinBackoff and MaxBackoff bound the retry policy (short locally so tests converge fast).
	MinBackoff, MaxBackoff time.Duration
	// MaxDeliveryAttempts overrides the dead-letter threshold (5..100).
	MaxDeliveryAttempts int
}

// Ensure creates every topic and subscription that does not exist yet.
func Ensure(ctx context.Context, ps *pubsub.Client, o Options) error {
	project := ps.Project()
	if o.MinBackoff == 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.MaxDeliveryAttempts == 0 {
		o.MaxDeliveryAttempts = MaxDeliveryAttempts
	}
	topicName := func(id string) string { return "projects/" + project + "/topics/" + id }
	subName := func(id string) string { return "projects/" + project + "/subscriptions/" + id }
	for _, r := range Routes {
		for _, id := range []string{r.Topic, DeadLetter(r.Topic)} {
			if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topicName(id)}); err != nil && status.Code(err) != codes.AlreadyExists {
				return fmt.Errorf("create topic %s: %w", id, err)
			}
		}
		inspect := &pubsubpb.Subscription{
			Name:                     subName(Inspect(r.Topic)),
			Topic:                    topicName(DeadLetter(r.Topic)),
			AckDeadlineSeconds:       60,
			MessageRetentionDuration: durationpb.New(7 * 24 * time.Hour),
		}
		if _, err := ps.SubscriptionAdminClient.CreateSubscription(ctx, inspect); err != nil && status.Code(err) != codes.AlreadyExists {
			return fmt.Errorf("create subscription %s: %w", inspect.Name, err)
		}
		if o.PushBase == "" {
			continue
		}
		path := "/" + r.Function + "/projects/" + project + "/topics/" + r.Topic
		if o.PushPath != nil {
			path = o.PushPath(r.Function, project, r.Topic)
		}
		push := &pubsubpb.Subscription{
			Name:               subName(PushSubscription(r.Topic)),
			Topic:              topicName(r.Topic),
			PushConfig:         &pubsubpb.PushConfig{PushEndpoint: strings.TrimRight(o.PushBase, "/") + path},
			AckDeadlineSeconds: 60,
			RetryPolicy: &pubsubpb.RetryPolicy{
				MinimumBackoff: durationpb.New(o.MinBackoff),
				MaximumBackoff: durationpb.New(o.MaxBackoff),
			},
			DeadLetterPolicy: &pubsubpb.DeadLetterPolicy{
				DeadLetterTopic:     topicName(DeadLetter(r.Topic)),
				MaxDeliveryAttempts: int32(o.MaxDeliveryAttempts),
			},
		}
		if _, err := ps.SubscriptionAdminClient.CreateSubscription(ctx, push); err != nil && status.Code(err) != codes.AlreadyExists {
			return fmt.Errorf("create subscription %s: %w", push.Name, err)
		}
	}
	return nil
}
