// Package accounts opens a connected Google account for use: it decrypts the stored
// refresh token (only in memory), builds the OAuth token source and the Calendar client,
// and turns a connection whose grant Google revoked into reauth_required. It never
// logs or stores tokens; access tokens live only inside the token source.
package accounts

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"cloud.google.com/go/firestore"
	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tokencrypt"
)

// Service opens accounts.
type Service struct {
	Store   *store.Store
	Sealer  *tokencrypt.Sealer
	Secrets secrets.Source
	Config  config.Google // the OAuth client and Google's endpoints
	HTTP    *http.Client
}

// Google returns the OAuth client with the current client secret.
func (s *Service) Google(ctx context.Context) (*googlecal.Google, error) {
	secret, _, err := s.Secrets.Latest(ctx, "oauth-client-secret")
	if err != nil {
		return nil, fmt.Errorf("oauth client secret: %w", err)
	}
	return googlecal.New(s.Config, string(secret), s.HTTP), nil
}

// AAD is the associated data a connection's token is sealed with: its Firestore path, so a
// ciphertext copied to another connection does not open.
func AAD(tenant, staff, conn string) string {
	return "tenants/" + tenant + "/staff/" + staff + "/connections/" + conn
}

// Session is one opened account.
type Session struct {
	Conn     *store.Connection
	Google   *googlecal.Google
	Tokens   oauth2.TokenSource
	Calendar *calendar.Service
	refresh  string
}

// RefreshToken is the decrypted refresh token (for revocation only).
func (s *Session) RefreshToken() string { return s.refresh }

// Open decrypts the connection's token and builds its clients. It does not call Google.
func (s *Service) Open(ctx context.Context, conn *store.Connection) (*Session, error) {
	g, err := s.Google(ctx)
	if err != nil {
		return nil, err
	}
	plain, err := s.Sealer.Open(ctx, conn.Token, AAD(conn.Tenant, conn.Staff, conn.ID))
	if err != nil {
		return nil, fmt.Errorf("open token of connection %s: %w", conn.ID, err)
	}
	ts := g.RefreshingTokenSource(ctx, string(plain))
	cal, err := g.CalendarService(ctx, ts)
	if err != nil {
		return nil, err
	}
	return &Session{Conn: conn, Google: g, Tokens: ts, Calendar: cal, refresh: string(plain)}, nil
}

// MarkReauth records that Google no longer accepts the connection's grant (revoked on
// Google's permissions page, or expired): status reauth_required so the booking product
// can ask the staff member to reconnect, channel lookups deleted so pushes are ignored
// (channels.stop would need the revoked token; Google expires them on its own), and —
// because access was withdrawn — everything synced is deleted: the calendars' events,
// busy data and sync tokens, and the now useless sealed refresh token. What remains is the
// account e-mail, the status and the calendar list with its selection, so reconnecting
// restores the same setup.
func (s *Service) MarkReauth(ctx context.Context, conn *store.Connection, now time.Time) error {
	ref := s.Store.Connection(conn.Tenant, conn.Staff, conn.ID)
	changed, stale := false, false
	err := s.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		st, _ := snap.DataAt("status")
		if st == store.StatusReauthRequired || st == store.StatusRevoked {
			changed = false
			return nil
		}
		// Only the grant the caller used is dead: if the staff member reconnected meanwhile
		// (a new sealed token), a late failure of the old session must not undo that.
		if len(conn.Token.Ciphertext) > 0 {
			var cur store.Connection
			if err := snap.DataTo(&cur); err != nil {
				return err
			}
			if !bytes.Equal(cur.Token.Ciphertext, conn.Token.Ciphertext) {
				stale = true
				return nil
			}
		}
		changed = true
		return tx.Update(ref, []firestore.Update{{Path: "status", Value: store.StatusReauthRequired}, {Path: "statusChangedAt", Value: now}, {Path: "updatedAt", Value: now}, {Path: "token", Value: tokencrypt.Sealed{}}})
	})
	if err != nil {
		return fmt.Errorf("mark connection %s reauth_required: %w", conn.ID, err)
	}
	if stale {
		logging.FromContext(ctx).InfoContext(ctx, "reauth: the connection was reconnected meanwhile; left as it is", "connection", conn.ID)
		return nil
	}
	cals, err := s.Store.ListCalendars(ctx, conn.Tenant, conn.Staff, conn.ID)
	if err != nil {
		return err
	}
	for _, cal := range cals {
		ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: cal.DocID}
		if cal.Channel != nil {
			if _, err := s.Store.Channel(cal.Channel.ID).Delete(ctx); err != nil && !store.NotFound(err) {
				return fmt.Errorf("delete channel lookup %s: %w", cal.Channel.ID, err)
			}
		}
		if _, err := s.Store.Doc(ref).Update(ctx, []firestore.Update{
			{Path: "channel", Value: nil}, {Path: "channelExpiry", Value: time.Time{}}, {Path: "syncToken", Value: ""}, {Path: "dirty", Value: false},
			{Path: "epoch", Value: firestore.Increment(1)},
		}); err != nil && !store.NotFound(err) {
			return fmt.Errorf("clear channel of %s: %w", cal.DocID, err)
		}
		if err := s.Store.DeleteCalendarData(ctx, ref); err != nil {
			return err
		}
		// Bump again after the delete, so no sync that ran in between saves a token.
		if _, err := s.Store.Doc(ref).Update(ctx, []firestore.Update{{Path: "epoch", Value: firestore.Increment(1)}}); err != nil && !store.NotFound(err) {
			return fmt.Errorf("bump epoch of %s: %w", cal.DocID, err)
		}
	}
	if changed {
		logging.Event(ctx, logging.FromContext(ctx), "connection.status_changed",
			slog.String("tenant", conn.Tenant), slog.String("staff", conn.Staff), slog.String("connection", conn.ID), slog.String("status", store.StatusReauthRequired))
	}
	conn.Status = store.StatusReauthRequired
	conn.Token = tokencrypt.Sealed{}
	return nil
}
