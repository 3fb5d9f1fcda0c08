package opslib

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/topology"
)

// Attributes added by dead-lettering (platform.deadLetter adds calsync*, Pub/Sub's own
// dead-letter policy adds CloudPubSubDeadLetter*). Replay removes them, so a message that
// dies again is described afresh.
const (
	AttrSourceTopic = "calsyncSourceTopic"
	AttrError       = "calsyncError"
)

func deadLetterAttr(k string) bool {
	return strings.HasPrefix(k, "calsync") || strings.HasPrefix(k, "CloudPubSubDeadLetter")
}

// DLQOptions select dead-lettered messages.
type DLQOptions struct {
	Topic string        // calendar-sync | calendar-export | renew-channels
	Max   int           // at most this many messages (default 100)
	Wait  time.Duration // how long one pull waits for messages (default 5 s)
}

// Validate checks the topic.
func (o DLQOptions) Validate() error {
	_, err := o.normalise()
	return err
}

func (o DLQOptions) normalise() (DLQOptions, error) {
	known := false
	for _, r := range topology.Routes {
		known = known || r.Topic == o.Topic
	}
	if !known {
		return o, fmt.Errorf("-topic must be one of calendar-sync, calendar-export, renew-channels (got %q)", o.Topic)
	}
	if o.Max <= 0 {
		o.Max = 100
	}
	if o.Wait <= 0 {
		o.Wait = 5 * time.Second
	}
	return o, nil
}

// DeadLetter is one dead-lettered message as listed. Data is the message's JSON, which
// holds ids only (tenant, staff, connection, calendar, booking).
type DeadLetter struct {
	MessageID   string            `json:"messageId"`
	PublishTime time.Time         `json:"publishTime"`
	SourceTopic string            `json:"sourceTopic"`
	Error       string            `json:"error,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	Data        string            `json:"data"`
}

type pulled struct {
	ackID string
	msg   *pubsubpb.PubsubMessage
}

func (t *Tool) subscription(topic string) string {
	return "projects/" + t.P.PubSub.Project() + "/subscriptions/" + topology.Inspect(topic)
}

// pull takes up to max messages from the inspect subscription, pull after pull, until a
// pull comes back empty. Every message returned is leased to the caller (ack deadline 60 s),
// who must ack or nack it.
func (t *Tool) pull(ctx context.Context, o DLQOptions) ([]pulled, error) {
	sub := t.subscription(o.Topic)
	var out []pulled
	seen := map[string]bool{}
	for len(out) < o.Max {
		pctx, cancel := context.WithTimeout(ctx, o.Wait)
		resp, err := t.P.PubSub.SubscriptionAdminClient.Pull(pctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: int32(o.Max - len(out))})
		cancel()
		if err != nil {
			if errors.Is(pctx.Err(), context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded {
				break // nothing more arrived in time
			}
			return out, fmt.Errorf("pull %s: %w", sub, err)
		}
		if len(resp.ReceivedMessages) == 0 {
			break
		}
		for _, rm := range resp.ReceivedMessages {
			if seen[rm.Message.MessageId] { // redelivered within this run: already handled
				t.ack(ctx, sub, rm.AckId)
				continue
			}
			seen[rm.Message.MessageId] = true
			out = append(out, pulled{ackID: rm.AckId, msg: rm.Message})
		}
	}
	return out, nil
}

func (t *Tool) ack(ctx context.Context, sub string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return t.P.PubSub.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: sub, AckIds: ids})
}

// nack hands messages back at once (ack deadline 0) so they stay for the next look.
func (t *Tool) nack(ctx context.Context, sub string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return t.P.PubSub.SubscriptionAdminClient.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{Subscription: sub, AckIds: ids, AckDeadlineSeconds: 0})
}

func describe(topic string, m *pubsubpb.PubsubMessage) DeadLetter {
	d := DeadLetter{MessageID: m.MessageId, SourceTopic: topic, Data: string(m.Data), Attributes: map[string]string{}}
	if m.PublishTime != nil {
		d.PublishTime = m.PublishTime.AsTime().UTC()
	}
	for k, v := range m.Attributes {
		switch k {
		case AttrSourceTopic:
			d.SourceTopic = v
		case AttrError:
			d.Error = v
		default:
			d.Attributes[k] = v
		}
	}
	return d
}

// DLQList shows the dead-lettered messages of a topic without consuming them.
func (t *Tool) DLQList(ctx context.Context, o DLQOptions) ([]DeadLetter, error) {
	o, err := o.normalise()
	if err != nil {
		return nil, err
	}
	ps, err := t.pull(ctx, o)
	ids := make([]string, len(ps))
	out := make([]DeadLetter, 0, len(ps))
	for i, p := range ps {
		ids[i] = p.ackID
		out = append(out, describe(o.Topic, p.msg))
	}
	if nerr := t.nack(context.WithoutCancel(ctx), t.subscription(o.Topic), ids...); nerr != nil {
		err = errors.Join(err, fmt.Errorf("hand messages back: %w", nerr))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PublishTime.Before(out[j].PublishTime) })
	return out, err
}

// ReplayReport is what DLQReplay did.
type ReplayReport struct {
	Topic    string   `json:"topic"`
	Replayed int      `json:"replayed"`
	Skipped  int      `json:"skipped"` // from another source topic: handed back untouched
	IDs      []string `json:"messageIds"`
}

// DLQReplay republishes dead-lettered messages of a topic to that topic — data and
// attributes (the trace included) without the dead-letter attributes — and acknowledges
// each one only after Pub/Sub accepted the copy. A failure stops the replay and hands
// the remaining messages back, so a second run continues where the first stopped; a
// message whose ack was lost is replayed once more, which the consumers tolerate.
func (t *Tool) DLQReplay(ctx context.Context, o DLQOptions) (*ReplayReport, error) {
	o, err := o.normalise()
	if err != nil {
		return nil, err
	}
	sub := t.subscription(o.Topic)
	rep := &ReplayReport{Topic: o.Topic, IDs: []string{}}
	ps, err := t.pull(ctx, o)
	var rest []string
	for i, p := range ps {
		if err != nil {
			rest = append(rest, p.ackID)
			continue
		}
		src := p.msg.Attributes[AttrSourceTopic]
		if src == "" {
			src = o.Topic // dead-lettered by Pub/Sub's own policy: no calsync attributes
		}
		if src != o.Topic {
			rep.Skipped++
			rest = append(rest, p.ackID)
			continue
		}
		attrs := map[string]string{}
		for k, v := range p.msg.Attributes {
			if !deadLetterAttr(k) {
				attrs[k] = v
			}
		}
		if len(attrs) == 0 {
			attrs = nil
		}
		if perr := t.P.PublishRaw(ctx, src, p.msg.Data, attrs); perr != nil {
			err = fmt.Errorf("republish message %s (%d of %d): %w", p.msg.MessageId, i+1, len(ps), perr)
			rest = append(rest, p.ackID)
			continue
		}
		if aerr := t.ack(ctx, sub, p.ackID); aerr != nil {
			// Republished but still in the dead-letter topic: a later run replays it once
			// more (idempotent consumers), so say so and stop.
			err = fmt.Errorf("message %s republished but not acknowledged (a second replay will send it again): %w", p.msg.MessageId, aerr)
		}
		rep.Replayed++
		rep.IDs = append(rep.IDs, p.msg.MessageId)
	}
	if nerr := t.nack(context.WithoutCancel(ctx), sub, rest...); nerr != nil {
		err = errors.Join(err, fmt.Errorf("hand messages back: %w", nerr))
	}
	return rep, err
}
