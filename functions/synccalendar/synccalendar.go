// Package synccalendar is the SyncCalendar function. It runs the incremental sync of one calendar into Firestore.
package synccalendar

import (
	"context"
	"fmt"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/syncer"
	"github.com/belbo/calsync/shared/topology"
)

// Config is the configuration SyncCalendar reads.
type Config struct {
	config.Platform
	config.Google
	config.SyncWindow
}

// Topic is the topic SyncCalendar consumes.
const Topic = topology.CalendarSync

func init() {
	functions.CloudEvent("SyncCalendar", platform.LazyEvent("SyncCalendar", Topic, New))
}

// Syncer builds the syncer of a platform.
func Syncer(p *platform.Platform, cfg Config) *syncer.Syncer {
	return &syncer.Syncer{
		Store:    p.Store,
		Accounts: p.Accounts(cfg.Google),
		Publish:  p.Publish,
		Log:      p.Log,
		Horizon:  cfg.SyncHorizon,
		Past:     cfg.SyncPast,
	}
}

// New builds the message handler: decode strictly (a malformed message is permanent and
// dead-lettered by Dispatch), read the clock once, run the syncer.
func New(p *platform.Platform, cfg Config) (platform.MessageHandler, error) {
	s := Syncer(p, cfg)
	return func(ctx context.Context, data []byte, attrs map[string]string) error {
		msg, err := messages.DecodeSync(data)
		if err != nil {
			return err // wraps messages.ErrPermanent
		}
		now, err := p.Now(ctx)
		if err != nil {
			return fmt.Errorf("sync %s: %w", msg.Calendar, err)
		}
		return s.Run(ctx, msg, now)
	}, nil
}
