// Package exportbooking is the ExportBooking function. It writes bookings into the staff
// member's Google calendar (shared/booking.Exporter): insert with a deterministic event
// id, delete on cancellation; retryable Google errors are returned so Pub/Sub redelivers.
package exportbooking

import (
	"context"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/topology"
)

// Config is the configuration ExportBooking reads.
type Config struct {
	config.Platform
	config.Google
	config.Export
}

// Topic is the topic ExportBooking consumes.
const Topic = topology.CalendarExport

func init() {
	functions.CloudEvent("ExportBooking", platform.LazyEvent("ExportBooking", Topic, New))
}

// New builds the message handler.
func New(p *platform.Platform, cfg Config) (platform.MessageHandler, error) {
	x := &booking.Exporter{
		Store:    p.Store,
		Accounts: p.Accounts(cfg.Google),
		Fields:   cfg.ExportFields,
	}
	return func(ctx context.Context, data []byte, attrs map[string]string) error {
		m, err := messages.DecodeExport(data)
		if err != nil {
			return err // permanent: dead-lettered
		}
		now, err := p.Now(ctx)
		if err != nil {
			return err
		}
		return x.Handle(ctx, m, now)
	}, nil
}
