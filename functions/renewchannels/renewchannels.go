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
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/renewal"
	"github.com/belbo/calsync/shared/retention"
	"github.com/belbo/calsync/shared/topology"
)

// Config is the configuration RenewChannels reads.
type Config struct {
	config.Platform
	config.Google
	config.Channels
	config.SyncSchedule
}

// Topic is the topic RenewChannels consumes.
const Topic = topology.RenewChannels

func init() {
	functions.CloudEvent("RenewChannels", platform.LazyEvent("RenewChannels", Topic, New))
}

// Renewer builds the renewer of a platform. It never starts or completes a connection, so
// its connect service has no config.Connect.
func Renewer(p *platform.Platform, cfg Config) *renewal.Renewer {
	lists := connect.New(p, connect.Config{Google: cfg.Google, Channels: cfg.Channels, SyncSchedule: cfg.SyncSchedule})
	sweep := &retention.Sweeper{Store: p.Store, Delete: lists.Expire}
	return &renewal.Renewer{
		OnTick: func(ctx context.Context, now time.Time) error {
			_, err := sweep.Sweep(ctx, now)
			return err
		},
		Store:          p.Store,
		Accounts:       lists.Accounts,
		Lists:          lists,
		Publish:        p.Publish,
		Log:            p.Log,
		WebhookURL:     cfg.WebhookURL,
		TTL:            cfg.ChannelTTL,
		Margin:         cfg.ChannelRenewMargin,
		SafetyInterval: cfg.SafetySyncInterval,
		PollInterval:   cfg.PollInterval,
		FullInterval:   cfg.FullResyncInterval,
	}
}

// New builds the message handler: read the clock once, then a tick fans out and a
// per-connection message renews that connection.
func New(p *platform.Platform, cfg Config) (platform.MessageHandler, error) {
	r := Renewer(p, cfg)
	return func(ctx context.Context, data []byte, attrs map[string]string) error {
		now, err := p.Now(ctx)
		if err != nil {
			return fmt.Errorf("renew: %w", err)
		}
		return r.Handle(ctx, data, now)
	}, nil
}
