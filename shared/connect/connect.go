// Package connect is the account-connection flow of DESIGN.md: start (authorization URL
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
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
	"github.com/belbo/calsync/shared/watch"
)

// StateTTL is how long a started connection may take to come back.
const StateTTL = 15 * time.Minute

// Publisher sends a Pub/Sub message.
type Publisher func(ctx context.Context, topic string, v any) error

// Service runs the flows.
type Service struct {
	Store    *store.Store
	Accounts *accounts.Service
	Env      config.Env
	Opener   *watch.Opener
	Publish  Publisher
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

// Reason codes put on the return URL as ?status=error&reason=….
const (
	ReasonDenied        = "access_denied"
	ReasonInvalid       = "invalid_request"
	ReasonExchange      = "exchange_failed"
	ReasonNoRefresh     = "no_refresh_token"
	ReasonMissingScopes = "missing_scopes"
	ReasonGoogle        = "google_unavailable"
	ReasonInternal      = "internal_error"
)

// AllowedReturn reports whether u is on the allow-list: same scheme, host and port as an
// entry, and a path equal to the entry's or below it.
func AllowedReturn(allow []string, u string) bool {
	if len(u) > 2048 {
		return false
	}
	got, err := url.Parse(u)
	if err != nil || got.User != nil || got.Fragment != "" || got.Host == "" {
		return false
	}
	// No dot segments: "/allowed/../elsewhere" must not pass the prefix check.
	if p := got.Path; p != "" && p != path.Clean("/"+p) && p != path.Clean("/"+p)+"/" || strings.Contains(got.RawPath, "%2e") || strings.Contains(got.RawPath, "%2E") {
		return false
	}
	for _, a := range allow {
		want, err := url.Parse(a)
		if err != nil {
			continue
		}
		if got.Scheme != want.Scheme || got.Host != want.Host {
			continue
		}
		wp := strings.TrimSuffix(want.Path, "/")
		if got.Path == want.Path || got.Path == wp || strings.HasPrefix(got.Path, wp+"/") {
			return true
		}
	}
	return false
}

// Started is a started connection: the URL to send the browser to, and a connectId the
// backend keeps in the session of the user who started it. The return redirect carries
// the same connectId, so the backend can refuse a result completed in someone else's
// browser (an authorization link passed on to another person).
type Started struct {
	AuthURL   string
	ConnectID string
}

// Start records a state and returns Google's authorization URL.
func (s *Service) Start(ctx context.Context, tenant, staff, returnURL string, now time.Time) (Started, error) {
	if !AllowedReturn(s.Env.AllowedReturnURLs, returnURL) {
		return Started{}, ErrReturnURL
	}
	state, id, err := NewState(ctx, s.Accounts.Secrets)
	if err != nil {
		return Started{}, err
	}
	verifier := oauth2.GenerateVerifier()
	connectID := oauth2.GenerateVerifier()[:22]
	doc := store.OAuthState{Tenant: tenant, Staff: staff, ReturnURL: returnURL, Verifier: verifier, ConnectID: connectID, CreatedAt: now, ExpireAt: now.Add(StateTTL)}
	if _, err := s.Store.OAuthState(id).Create(ctx, doc); err != nil {
		return Started{}, fmt.Errorf("store oauth state: %w", err)
	}
	g, err := s.Accounts.Google(ctx)
	if err != nil {
		return Started{}, err
	}
	return Started{AuthURL: g.AuthURL(state, verifier), ConnectID: connectID}, nil
}

// ErrReturnURL is a return URL outside the allow-list.
var ErrReturnURL = errors.New("return URL is not allowed")

// consumeState deletes the state document and returns it; a second use finds nothing.
func (s *Service) consumeState(ctx context.Context, id string, now time.Time) (*store.OAuthState, error) {
	var st store.OAuthState
	ref := s.Store.OAuthState(id)
	err := s.Store.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		if err := snap.DataTo(&st); err != nil {
			return err
		}
		return tx.Delete(ref)
	})
	if status.Code(err) == codes.NotFound {
		return nil, ErrBadState
	}
	if err != nil {
		return nil, fmt.Errorf("consume state: %w", err)
	}
	if !now.Before(st.ExpireAt) {
		return nil, ErrBadState
	}
	return &st, nil
}

// Outcome of a callback: where to send the browser.
type Outcome struct {
	Redirect   string
	Connection string
	Reason     string // "" on success
}

func back(returnURL string, params url.Values) string {
	u, _ := url.Parse(returnURL)
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func fail(st *store.OAuthState, reason string) Outcome {
	return Outcome{Redirect: back(st.ReturnURL, url.Values{"status": {"error"}, "reason": {reason}, "connectId": {st.ConnectID}}), Reason: reason}
}

// Callback completes a connection. An error means the state itself was bad (no trusted
// return URL): the caller answers 400. Every other failure is an Outcome with a reason.
func (s *Service) Callback(ctx context.Context, q url.Values, now time.Time) (Outcome, error) {
	id, err := VerifyState(ctx, s.Accounts.Secrets, q.Get("state"))
	if err != nil {
		return Outcome{}, ErrBadState
	}
	st, err := s.consumeState(ctx, id, now)
	if err != nil {
		return Outcome{}, err
	}
	log := logging.FromContext(ctx).With("tenant", st.Tenant, "staff", st.Staff)
	if e := q.Get("error"); e != "" {
		log.InfoContext(ctx, "connect: consent not given", "googleError", truncate(e, 40))
		return fail(st, ReasonDenied), nil
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		return fail(st, ReasonInvalid), nil
	}
	g, err := s.Accounts.Google(ctx)
	if err != nil {
		log.ErrorContext(ctx, "connect: oauth client", "error", err.Error())
		return fail(st, ReasonInternal), nil
	}
	tok, err := g.Exchange(ctx, code, st.Verifier)
	if err != nil {
		log.WarnContext(ctx, "connect: code exchange failed", "errorClass", string(googlecal.Classify(err)))
		return fail(st, ReasonExchange), nil
	}
	// From here on a grant exists at Google: if this callback does not end in a stored
	// connection, it is revoked (unless the account has a live connection elsewhere).
	kept := false
	defer func() {
		if !kept {
			s.revokeUnused(context.WithoutCancel(ctx), tok, st.Tenant, st.Staff)
		}
	}()
	if tok.RefreshToken == "" {
		log.WarnContext(ctx, "connect: Google returned no refresh token")
		return fail(st, ReasonNoRefresh), nil
	}
	granted := grantedScopes(tok)
	for _, need := range googlecal.RequiredScopes {
		if !slices.Contains(granted, need) {
			log.WarnContext(ctx, "connect: a required scope was not granted", "scope", need)
			return fail(st, ReasonMissingScopes), nil
		}
	}
	ts := oauth2.StaticTokenSource(tok)
	info, err := g.FetchUserInfo(ctx, ts)
	if err != nil {
		log.WarnContext(ctx, "connect: userinfo failed", "errorClass", string(googlecal.Classify(err)))
		return fail(st, ReasonGoogle), nil
	}
	cal, err := g.CalendarService(ctx, ts)
	if err != nil {
		return fail(st, ReasonInternal), nil
	}
	items, err := ListGoogleCalendars(ctx, cal)
	if err != nil {
		log.WarnContext(ctx, "connect: calendar list failed", "errorClass", string(googlecal.Classify(err)))
		return fail(st, ReasonGoogle), nil
	}
	connID := store.ConnectionID(st.Tenant, info.Subject)
	if err := s.moveFromOtherStaff(ctx, st.Tenant, st.Staff, connID); err != nil {
		log.ErrorContext(ctx, "connect: move from other staff member", "connection", connID, "error", err.Error())
		return fail(st, ReasonInternal), nil
	}
	sealed, err := s.Accounts.Sealer.Seal(ctx, []byte(tok.RefreshToken), accounts.AAD(st.Tenant, st.Staff, connID))
	if err != nil {
		log.ErrorContext(ctx, "connect: seal token", "connection", connID, "error", err.Error())
		return fail(st, ReasonInternal), nil
	}
	conn := &store.Connection{
		ID: connID, Tenant: st.Tenant, Staff: st.Staff, Email: info.Email, Subject: info.Subject,
		Status: store.StatusActive, Token: sealed, Scopes: granted, UpdatedAt: now, StatusChangedAt: now, LastListSyncAt: now,
	}
	prev, err := s.saveConnection(ctx, conn, items, now)
	if err != nil {
		log.ErrorContext(ctx, "connect: save connection", "connection", connID, "error", err.Error())
		return fail(st, ReasonInternal), nil
	}
	kept = true
	// A reconnect after reauth_required: selected calendars get channels and a sync again.
	if prev != nil && prev.Status != store.StatusActive {
		if err := s.resumeSelected(ctx, conn, now); err != nil {
			log.WarnContext(ctx, "connect: resume selected calendars", "connection", connID, "error", err.Error())
		}
	}
	if err := s.exportWaiting(ctx, st.Tenant, st.Staff, now); err != nil {
		log.WarnContext(ctx, "connect: re-enqueue waiting exports", "connection", connID, "error", err.Error())
	}
	log.InfoContext(ctx, "connect: connected", "connection", connID, "calendars", len(items), "reconnect", prev != nil)
	return Outcome{Redirect: back(st.ReturnURL, url.Values{"status": {"connected"}, "connection": {connID}, "connectId": {st.ConnectID}}), Connection: connID}, nil
}

func grantedScopes(tok *oauth2.Token) []string {
	s, _ := tok.Extra("scope").(string)
	return strings.Fields(s)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ListGoogleCalendars pages through the account's calendar list.
func ListGoogleCalendars(ctx context.Context, cal *calendar.Service) ([]*calendar.CalendarListEntry, error) {
	var out []*calendar.CalendarListEntry
	call := cal.CalendarList.List().MaxResults(250).ShowDeleted(false).
		Fields("nextPageToken", "items(id,summary,summaryOverride,backgroundColor,timeZone,primary,accessRole,deleted)")
	err := call.Pages(ctx, func(l *calendar.CalendarList) error {
		for _, it := range l.Items {
			if !it.Deleted {
				out = append(out, it)
			}
		}
		if len(out) > 5000 {
			return errors.New("calendar list longer than 5000 entries")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	return out, nil
}

func entryName(it *calendar.CalendarListEntry) string {
	if it.SummaryOverride != "" {
		return it.SummaryOverride
	}
	return it.Summary
}

// saveConnection writes the connection, its account link and its calendars in one
// transaction, keeping selection and sync state of calendars that already exist.
// Calendars no longer listed are returned for removal by the caller's reconciliation.
func (s *Service) saveConnection(ctx context.Context, conn *store.Connection, items []*calendar.CalendarListEntry, now time.Time) (*store.Connection, error) {
	var prev *store.Connection
	ref := s.Store.Connection(conn.Tenant, conn.Staff, conn.ID)
	err := s.Store.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		prev = nil
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
			conn.CreatedAt = now
		case err != nil:
			return err
		default:
			var p store.Connection
			if err := snap.DataTo(&p); err != nil {
				return err
			}
			prev = &p
			conn.CreatedAt = p.CreatedAt
			conn.WriteCalendarID = p.WriteCalendarID
			if p.Status == store.StatusActive {
				conn.StatusChangedAt = p.StatusChangedAt
			}
		}
		existing := map[string]bool{}
		snaps, err := tx.Documents(s.Store.Calendars(conn.Tenant, conn.Staff, conn.ID).Select()).GetAll()
		if err != nil {
			return err
		}
		for _, c := range snaps {
			existing[c.Ref.ID] = true
		}
		if conn.WriteCalendarID == "" {
			for _, it := range items {
				if it.Primary {
					conn.WriteCalendarID = it.Id
				}
			}
		}
		if err := tx.Set(ref, conn); err != nil {
			return err
		}
		if err := tx.Set(s.Store.AccountLink(conn.Tenant, conn.ID), store.AccountLink{Staff: conn.Staff, UpdatedAt: now}); err != nil {
			return err
		}
		for _, it := range items {
			doc := s.Store.Calendar(conn.Tenant, conn.Staff, conn.ID, store.CalendarDocID(it.Id))
			fields := map[string]any{"googleId": it.Id, "name": entryName(it), "color": it.BackgroundColor, "timeZone": it.TimeZone, "primary": it.Primary, "accessRole": it.AccessRole}
			if !existing[doc.ID] {
				fields["selected"] = false
			}
			if err := tx.Set(doc, fields, firestore.MergeAll); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Calendars that disappeared from the list are removed with their data.
	if err := s.removeUnlisted(ctx, conn, items, nil); err != nil {
		return prev, err
	}
	return prev, nil
}

// removeUnlisted deletes calendars (and their events, busy docs and channels) that Google
// no longer lists. cal may be nil when channels cannot be stopped (no session).
func (s *Service) removeUnlisted(ctx context.Context, conn *store.Connection, items []*calendar.CalendarListEntry, cal *calendar.Service) error {
	listed := map[string]bool{}
	for _, it := range items {
		listed[store.CalendarDocID(it.Id)] = true
	}
	stored, err := s.Store.ListCalendars(ctx, conn.Tenant, conn.Staff, conn.ID)
	if err != nil {
		return err
	}
	for _, c := range stored {
		if listed[c.DocID] {
			continue
		}
		ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: c.DocID}
		if c.Channel != nil {
			if err := watch.Stop(ctx, cal, s.Store, c.Channel); err != nil {
				logging.FromContext(ctx).WarnContext(ctx, "stop channel of removed calendar", "calendar", ref.String(), "error", err.Error())
			}
		}
		if err := s.Store.DeleteCalendarData(ctx, ref); err != nil {
			return err
		}
		if _, err := s.Store.Doc(ref).Delete(ctx); err != nil {
			return fmt.Errorf("delete calendar %s: %w", ref, err)
		}
	}
	return nil
}

// moveFromOtherStaff: one Google account is connected once per tenant. If another staff
// member holds it, that connection (and everything synced for it) is removed first; its
// channels are stopped with its own token when still possible.
func (s *Service) moveFromOtherStaff(ctx context.Context, tenant, staff, connID string) error {
	snap, err := s.Store.AccountLink(tenant, connID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read account link: %w", err)
	}
	var l store.AccountLink
	if err := snap.DataTo(&l); err != nil {
		return err
	}
	if l.Staff == staff {
		return nil
	}
	old, err := s.Store.GetConnection(ctx, tenant, l.Staff, connID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	logging.FromContext(ctx).InfoContext(ctx, "connect: account moves to another staff member", "connection", connID, "fromStaff", l.Staff, "toStaff", staff)
	return s.removeConnection(ctx, old, false)
}

func (s *Service) resumeSelected(ctx context.Context, conn *store.Connection, now time.Time) error {
	sess, err := s.Accounts.Open(ctx, conn)
	if err != nil {
		return err
	}
	cals, err := s.Store.ListCalendars(ctx, conn.Tenant, conn.Staff, conn.ID)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cals {
		if c.Selected {
			errs = append(errs, s.startCalendar(ctx, sess, conn, c, now))
		}
	}
	return errors.Join(errs...)
}

// startCalendar opens a fresh channel (stopping an old one) and enqueues a full sync.
func (s *Service) startCalendar(ctx context.Context, sess *accounts.Session, conn *store.Connection, c *store.Calendar, now time.Time) error {
	ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: c.DocID}
	if c.Channel != nil {
		if err := watch.Stop(ctx, sess.Calendar, s.Store, c.Channel); err != nil {
			logging.FromContext(ctx).WarnContext(ctx, "stop previous channel", "calendar", ref.String(), "error", err.Error())
		}
	}
	if _, err := s.Opener.Open(ctx, sess.Calendar, ref, c.GoogleID, now); err != nil {
		return err
	}
	return s.Publish(ctx, topology.CalendarSync, messages.Sync{Tenant: ref.Tenant, Staff: ref.Staff, Connection: ref.Connection, Calendar: ref.Calendar, Reason: "select"})
}

// exportWaiting asks ExportBooking again for the staff member's upcoming bookings that
// could not reach Google while no connection was active (skipped_no_connection, or error
// after a revoked grant): now that one is, they are written into its calendar.
func (s *Service) exportWaiting(ctx context.Context, tenant, staff string, now time.Time) error {
	snaps, err := s.Store.Bookings(tenant, staff).Where("end", ">", now).Select("exportState").Documents(ctx).GetAll()
	if err != nil {
		return err
	}
	for _, b := range snaps {
		state, _ := b.DataAt("exportState")
		if state != "skipped_no_connection" && state != "error" {
			continue
		}
		if err := s.Publish(ctx, topology.CalendarExport, messages.Export{Tenant: tenant, Staff: staff, Booking: b.Ref.ID, Op: "upsert"}); err != nil {
			return err
		}
	}
	return nil
}
