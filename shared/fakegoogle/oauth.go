package fakegoogle

// OAuth: constants, consent-request, code, grant and token records, and the grant views.

import (
	"slices"
	"time"
)

// Scopes the fake knows by name.
const (
	ScopeCalendar                     = "https://www.googleapis.com/auth/calendar"
	ScopeCalendarReadonly             = "https://www.googleapis.com/auth/calendar.readonly"
	ScopeCalendarEvents               = "https://www.googleapis.com/auth/calendar.events"
	ScopeCalendarEventsReadonly       = "https://www.googleapis.com/auth/calendar.events.readonly"
	ScopeCalendarListReadonly         = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
	ScopeCalendarList                 = "https://www.googleapis.com/auth/calendar.calendarlist"
	ScopeUserinfoEmail                = "https://www.googleapis.com/auth/userinfo.email"
	ScopeUserinfoProfile              = "https://www.googleapis.com/auth/userinfo.profile"
	authCodeTTL                       = 10 * time.Minute
	accessTokenTTL                    = 3599 * time.Second
	errTokenRevoked                   = "Token has been expired or revoked."
	msgInvalidCredentials             = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
	msgInsufficientScopes             = "Request had insufficient authentication scopes."
	authRequestTTL                    = 30 * time.Minute
	defaultPictureHost                = "https://lh3.googleusercontent.com/a/"
	consentFormAction                 = "/o/oauth2/approve"
	maxScopes                         = 50
	maxAccountFieldLen                = 512
	refreshTokenPrefix                = "1//0g"
	accessTokenPrefix                 = "ya29.a0"
	authCodePrefix                    = "4/0A"
	consentStateMaxLen                = 4096
	consentRedirectURIMaxLen          = 2048
	consentScopeParamMaxLen           = 8192
	consentChallengeMinLen            = 43
	consentChallengeMaxLen            = 128
	consentRequestIDLen               = 24
	refreshTokenRandomLen             = 96
	accessTokenRandomLen              = 160
	authCodeRandomLen                 = 70
	calendarResourceIDLen             = 27
	defaultCalendarListMaxResults     = 100
	maxCalendarListMaxResults         = 250
	defaultEventsMaxResults           = 250
	maxEventsMaxResults               = 2500
	defaultChannelTTL                 = 7 * 24 * time.Hour
	maxChannelTTL                     = 30 * 24 * time.Hour
	maxInstancesPerSeries             = 5000
	pageStateTTL                      = 24 * time.Hour
	syncTokenRandomLen                = 24
	pageTokenRandomLen                = 32
	instanceIDTimeLayout              = "20060102T150405Z"
	instanceIDDateLayout              = "20060102"
	googleTimeLayout                  = "2006-01-02T15:04:05.000Z"
	dateLayout                        = "2006-01-02"
	rfc1123GMT                        = "Mon, 02 Jan 2006 15:04:05 GMT"
	defaultCalendarTimeZone           = "UTC"
	defaultBackgroundColor            = "#9fe1e7"
	defaultForegroundColor            = "#000000"
	defaultColorID                    = "14"
	googleAPIsCalendarResourceURIBase = "https://www.googleapis.com/calendar/v3/calendars/"
)

// AuthRequest records what a consent-page request asked for.
type AuthRequest struct {
	ClientID             string   `json:"clientId"`
	RedirectURI          string   `json:"redirectUri"`
	Scopes               []string `json:"scopes"`
	State                string   `json:"state"`
	AccessType           string   `json:"accessType"`
	Prompt               string   `json:"prompt"`
	IncludeGrantedScopes bool     `json:"includeGrantedScopes"`
	LoginHint            string   `json:"loginHint,omitempty"`
	CodeChallenge        string   `json:"codeChallenge"`
}

type authRequest struct {
	AuthRequest
	expires time.Time
}

type authCode struct {
	clientID, redirectURI, challenge string
	account                          string // email key
	scopes                           []string
	expires                          time.Time
	used                             bool
	wantRefresh                      bool
}

type grant struct {
	ID           string
	clientID     string
	account      string // email key
	scopes       []string
	refreshToken string
	issued       time.Time
	revoked      bool
	revokedAt    time.Time
}

// Grant describes an OAuth grant (one code exchange) of the fake.
type Grant struct {
	ID        string    `json:"id"`
	ClientID  string    `json:"clientId"`
	Email     string    `json:"email"`
	Scopes    []string  `json:"scopes"`
	Refresh   bool      `json:"hasRefreshToken"`
	Issued    time.Time `json:"issued"`
	Revoked   bool      `json:"revoked"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
}

type accessToken struct {
	grant   *grant
	expires time.Time
}

// AuthRequests lists what every valid consent-page request asked for, oldest first.
func (s *Server) AuthRequests() []AuthRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.authLog)
}

// RevokedGrants lists the grants revoked so far.
func (s *Server) RevokedGrants() []Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.revokedLog)
}

// Grants lists every grant.
func (s *Server) Grants() []Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Grant{}
	for _, g := range s.grants {
		out = append(out, s.grantView(g))
	}
	return out
}

func (s *Server) grantView(g *grant) Grant {
	email := g.account
	if a := s.accounts[g.account]; a != nil {
		email = a.Email
	}
	return Grant{ID: g.ID, ClientID: g.clientID, Email: email, Scopes: slices.Clone(g.scopes),
		Refresh: g.refreshToken != "", Issued: g.issued, Revoked: g.revoked, RevokedAt: g.revokedAt}
}
