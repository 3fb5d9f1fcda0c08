// Package synccalendar is the SyncCalendar function. It runs the incremental sync of one calendar into Firestore.
package synccalendar

import (
	"context"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/topology"
)

// Need lists the configuration SyncCalendar needs.
var Need = []string{"OAUTH_CLIENT_ID", "WEBHOOK_URL"}

// Topic is the topic SyncCalendar consumes.
const Topic = topology.CalendarSync

func init() { functions.CloudEvent("SyncCalendar", platform.LazyEvent(Topic, Need, New)) }

// New builds the message handler.
func New(p *platform.Platform) (platform.MessageHandler, error) {
	return func(ctx context.Context, data []byte, attrs map[string]string) error {
		return nil
	}, nil
}
