package connect

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/store"
)

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
	if !AllowedReturn(s.Connect.AllowedReturnURLs, returnURL) {
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
	g, err := s.google(ctx)
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
	err := s.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
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
