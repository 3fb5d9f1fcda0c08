// Package renewchannels is the RenewChannels function. It renews watch channels and
// enqueues safety-net syncs (docs/renewal.md).
//
// Cloud Scheduler publishes a tick (any payload) to renew-channels every few minutes; the
// tick queries for connections with work and publishes one {tenant,staff,connection}
// message per connection back to renew-channels, so the work fans out across instances.
package renewchannels

import (
	"context"
	"fmt"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/renewal"
	"github.com/belbo/calsync/shared/topology"
)

// Need lists the configuration RenewChannels needs.
var Need = []string{"OAUTH_CLIENT_ID", "WEBHOOK_URL"}

// Topic is the topic RenewChannels consumes.
const Topic = topology.RenewChannels

func init() { functions.CloudEvent("RenewChannels", platform.LazyEvent(Topic, Need, New)) }

// Renewer builds the renewer of a platform.
func Renewer(p *platform.Platform) *renewal.Renewer {
	lists := connect.New(p)
	return &renewal.Renewer{
		Store:          p.Store,
		Accounts:       lists.Accounts,
		Lists:          lists,
		Publish:        p.Publish,
		Log:            p.Log,
		WebhookURL:     p.Env.WebhookURL,
		TTL:            p.Env.ChannelTTL,
		Margin:         p.Env.ChannelRenewMargin,
		SafetyInterval: p.Env.SafetySyncInterval,
		PollInterval:   p.Env.PollInterval,
		FullInterval:   p.Env.FullResyncInterval,
	}
}

// New builds the message handler: read the clock once, then a tick fans out and a
// per-connection message renews that connection.
func New(p *platform.Platform) (platform.MessageHandler, error) {
	r := Renewer(p)
	return func(ctx context.Context, data []byte, attrs map[string]string) error {
		now, err := p.Now(ctx)
		if err != nil {
			return fmt.Errorf("renew: %w", err)
		}
		return r.Handle(ctx, data, now)
	}, nil
}
