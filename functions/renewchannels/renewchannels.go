// Package renewchannels is the RenewChannels function. It renews watch channels and enqueues safety-net syncs.
package renewchannels

import (
	"context"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/topology"
)

// Need lists the configuration RenewChannels needs.
var Need = []string{"OAUTH_CLIENT_ID", "WEBHOOK_URL"}

// Topic is the topic RenewChannels consumes.
const Topic = topology.RenewChannels

func init() { functions.CloudEvent("RenewChannels", platform.LazyEvent(Topic, Need, New)) }

// New builds the message handler.
func New(p *platform.Platform) (platform.MessageHandler, error) {
	return func(ctx context.Context, data []byte, attrs map[string]string) error {
		return nil
	}, nil
}
