// Package connect is the account-connection flow (docs/design.md "Flows"): start (authorization URL
// with PKCE and a signed single-use state), the OAuth callback (exchange, e-mail, token
// sealed at rest, calendars), the calendar list refreshed from Google, selection (channel
// + first sync), the write calendar, and disconnect (stop channels, revoke, delete all).
//
// It stores only the account e-mail and subject, the sealed refresh token, granted
// scopes and the calendars' id, name and colour. The profile picture is fetched live and
// returned, never stored or logged. Nothing is written before every check has passed,
// so a failed callback leaves nothing half-written.
package connect

import (
	"time"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/watch"
)

// StateTTL is how long a started connection may take to come back.
const StateTTL = 15 * time.Minute

// Service runs the flows.
type Service struct {
	Store    *store.Store
	Accounts *accounts.Service
	Env      config.Env
	Opener   *watch.Opener
	Publish  messages.Publisher
}

// New builds the service on a function's platform.
func New(p *platform.Platform) *Service {
	return &Service{
		Store:    p.Store,
		Accounts: p.Accounts(),
		Env:      p.Env,
		Opener:   &watch.Opener{Store: p.Store, WebhookURL: p.Env.WebhookURL, TTL: p.Env.ChannelTTL},
		Publish:  p.Publish,
	}
}
