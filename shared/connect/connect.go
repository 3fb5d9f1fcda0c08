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
	"context"
	"time"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/watch"
)

// StateTTL is how long a started connection may take to come back.
const StateTTL = 15 * time.Minute

// Config is the configuration the flows read. Every flow reads Google and Channels (a
// selected calendar gets a watch channel); only Start and Callback read Connect, and only
// List reads SyncSchedule (a connection's health is judged against it), so a service built
// for other flows (RenewChannels, erasure) may leave those zero.
type Config struct {
	config.Google
	config.Connect
	config.Channels
	config.SyncSchedule
}

// Service runs the flows.
type Service struct {
	Store    *store.Store
	Accounts *accounts.Service
	Connect  config.Connect
	Schedule config.SyncSchedule
	Opener   *watch.Opener
	Publish  messages.Publisher
}

// New builds the service on a function's platform.
func New(p *platform.Platform, cfg Config) *Service {
	return &Service{
		Store:    p.Store,
		Accounts: p.Accounts(cfg.Google),
		Connect:  cfg.Connect,
		Schedule: cfg.SyncSchedule,
		Opener:   &watch.Opener{Store: p.Store, WebhookURL: cfg.WebhookURL, TTL: cfg.ChannelTTL},
		Publish:  p.Publish,
	}
}

// google is the OAuth client for the consent and the code exchange: with the redirect URL.
func (s *Service) google(ctx context.Context) (*googlecal.Google, error) {
	g, err := s.Accounts.Google(ctx)
	if err != nil {
		return nil, err
	}
	g.OAuth.RedirectURL = s.Connect.OAuthRedirectURL
	return g, nil
}
