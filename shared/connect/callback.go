package connect

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/textutil"
)

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
		log.InfoContext(ctx, "connect: consent not given", "googleError", textutil.Truncate(e, 40))
		return fail(st, ReasonDenied), nil
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		return fail(st, ReasonInvalid), nil
	}
	tok, granted, info, items, reason := s.fetchAccount(ctx, log, st, code)
	// From here on a grant may exist at Google: if this callback does not end in a stored
	// connection, it is revoked (unless the account has a live connection elsewhere).
	kept := false
	defer func() {
		if !kept && tok != nil {
			s.revokeUnused(context.WithoutCancel(ctx), tok, st.Tenant, st.Staff)
		}
	}()
	if reason != "" {
		return fail(st, reason), nil
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

// fetchAccount exchanges the code and reads what the connection keeps: the token (with
// every required scope), the account's identity and its calendars. reason is set when a
// step fails; tok is returned whenever the exchange succeeded (to be revoked if unused).
func (s *Service) fetchAccount(ctx context.Context, log *slog.Logger, st *store.OAuthState, code string) (tok *oauth2.Token, granted []string, info googlecal.UserInfo, items []*calendar.CalendarListEntry, reason string) {
	g, err := s.google(ctx)
	if err != nil {
		log.ErrorContext(ctx, "connect: oauth client", "error", err.Error())
		return nil, nil, info, nil, ReasonInternal
	}
	tok, err = g.Exchange(ctx, code, st.Verifier)
	if err != nil {
		log.WarnContext(ctx, "connect: code exchange failed", "errorClass", string(googlecal.Classify(err)))
		return nil, nil, info, nil, ReasonExchange
	}
	if tok.RefreshToken == "" {
		log.WarnContext(ctx, "connect: Google returned no refresh token")
		return tok, nil, info, nil, ReasonNoRefresh
	}
	granted = grantedScopes(tok)
	for _, need := range googlecal.RequiredScopes {
		if !slices.Contains(granted, need) {
			log.WarnContext(ctx, "connect: a required scope was not granted", "scope", need)
			return tok, nil, info, nil, ReasonMissingScopes
		}
	}
	ts := oauth2.StaticTokenSource(tok)
	info, err = g.FetchUserInfo(ctx, ts)
	if err != nil {
		log.WarnContext(ctx, "connect: userinfo failed", "errorClass", string(googlecal.Classify(err)))
		return tok, nil, info, nil, ReasonGoogle
	}
	cal, err := g.CalendarService(ctx, ts)
	if err != nil {
		return tok, nil, info, nil, ReasonInternal
	}
	items, err = ListGoogleCalendars(ctx, cal)
	if err != nil {
		log.WarnContext(ctx, "connect: calendar list failed", "errorClass", string(googlecal.Classify(err)))
		return tok, nil, info, nil, ReasonGoogle
	}
	return tok, granted, info, items, ""
}

func grantedScopes(tok *oauth2.Token) []string {
	s, _ := tok.Extra("scope").(string)
	return strings.Fields(s)
}
