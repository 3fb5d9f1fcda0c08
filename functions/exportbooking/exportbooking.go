// Package exportbooking is the ExportBooking function. It writes bookings into the staff member's Google calendar.
package exportbooking

import (
	"context"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/topology"
)

// Need lists the configuration ExportBooking needs.
var Need = []string{"OAUTH_CLIENT_ID"}

// Topic is the topic ExportBooking consumes.
const Topic = topology.CalendarExport

func init() { functions.CloudEvent("ExportBooking", platform.LazyEvent(Topic, Need, New)) }

// New builds the message handler.
func New(p *platform.Platform) (platform.MessageHandler, error) {
	return func(ctx context.Context, data []byte, attrs map[string]string) error {
		return nil
	}, nil
}
