package connect

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
)

// Revoking at Google ends the account's whole grant to our OAuth client — every refresh
// and access token of it, whichever token is sent (docs/privacy.md cites Google). So a
// grant we stop using is revoked only when no other live (active) connection of the same
// Google account, in any tenant, still depends on it.

// mayRevoke reports whether revoking the grant of Google account subject would leave
// no other active connection without access. except is the connection being removed
// ("tenant/staff/conn"). When the answer cannot be read, it is "no": a working connection
// elsewhere must not be cut off by a guess.
func (s *Service) mayRevoke(ctx context.Context, subject, except string) bool {
	n, err := s.Store.LiveConnectionsOfSubject(ctx, subject, except)
	if err != nil {
		logging.FromContext(ctx).WarnContext(ctx, "revoke: cannot check the account's other connections; not revoking", "error", err.Error())
		return false
	}
	return n == 0
}

// revokeUnused revokes a grant obtained in a callback that then failed, unless the same
// account has a live connection through our client (then the grant is that connection's
// grant too, and revoking would cut it off). The account is identified with the fresh
// access token; when that is impossible, nothing is revoked.
func (s *Service) revokeUnused(ctx context.Context, tok *oauth2.Token, tenant, staff string) {
	log := logging.FromContext(ctx).With("tenant", tenant, "staff", staff)
	g, err := s.Accounts.Google(ctx)
	if err != nil {
		log.WarnContext(ctx, "connect: failed callback's grant not revoked (no OAuth client)", "error", err.Error())
		return
	}
	info, err := g.FetchUserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		log.WarnContext(ctx, "connect: failed callback's grant not revoked (account unknown)", "errorClass", string(googlecal.Classify(err)))
		return
	}
	if !s.mayRevoke(ctx, info.Subject, "") {
		log.InfoContext(ctx, "connect: failed callback's grant kept: the account has a live connection", "connection", store.ConnectionID(tenant, info.Subject))
		return
	}
	token := tok.RefreshToken
	if token == "" {
		token = tok.AccessToken
	}
	if err := g.RevokeToken(ctx, token); err != nil {
		log.WarnContext(ctx, "connect: revoking the failed callback's grant failed", "errorClass", string(googlecal.Classify(err)))
		return
	}
	logging.Event(ctx, log, "connect.grant_revoked")
}

// connPath is the "tenant/staff/conn" key LiveConnectionsOfSubject excludes.
func connPath(c *store.Connection) string { return c.Tenant + "/" + c.Staff + "/" + c.ID }

// Expire deletes a connection that stayed reauth_required past its tenant's retention
// period (shared/retention): its grant is already dead at Google, so nothing is revoked
// and no channel can be stopped; everything held for it goes, and bookings forget where
// they were exported through it. A connection reconnected meanwhile is left alone.
func (s *Service) Expire(ctx context.Context, conn *store.Connection) error {
	cur, err := s.Store.GetConnection(ctx, conn.Tenant, conn.Staff, conn.ID)
	if store.NotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur.Status == store.StatusActive {
		return nil
	}
	if err := s.Store.DeleteConnectionData(ctx, cur.Tenant, cur.Staff, cur.ID); err != nil {
		return fmt.Errorf("expire %s: %w", cur.ID, err)
	}
	if _, err := s.Store.ClearExportsOf(ctx, cur.Tenant, cur.Staff, cur.ID); err != nil {
		return fmt.Errorf("expire %s: %w", cur.ID, err)
	}
	logging.Event(ctx, logging.FromContext(ctx), "connection.expired")
	return nil
}
