package fakegoogle

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
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

type account struct {
	Sub, Email, Name, Picture string
}

// Account is a Google account of the fake.
type Account struct {
	Sub     string `json:"sub"`
	Email   string `json:"email"`
	Name    string `json:"name"`
	Picture string `json:"picture"`
}

// CreateAccount adds an account (sub and picture are generated when empty).
func (s *Server) CreateAccount(a Account) (Account, error) {
	a.Email = strings.TrimSpace(a.Email)
	if a.Email == "" || !strings.Contains(a.Email, "@") || len(a.Email) > maxAccountFieldLen {
		return Account{}, ctlErr(400, "invalid_email", "email must be an e-mail address")
	}
	if len(a.Name) > maxAccountFieldLen || len(a.Sub) > maxAccountFieldLen || len(a.Picture) > maxAccountFieldLen {
		return Account{}, ctlErr(400, "field_too_long", "fields must be at most 512 characters")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(a.Email)
	if _, ok := s.accounts[key]; ok {
		return Account{}, ctlErr(409, "account_exists", "an account with this e-mail exists")
	}
	if a.Sub == "" {
		a.Sub = "1" + randomString(20, "0123456789")
	}
	for _, o := range s.accounts {
		if o.Sub == a.Sub {
			return Account{}, ctlErr(409, "sub_exists", "an account with this sub exists")
		}
	}
	if a.Name == "" {
		a.Name = strings.SplitN(a.Email, "@", 2)[0]
	}
	if a.Picture == "" {
		a.Picture = defaultPictureHost + "fake-" + a.Sub + "=s96-c"
	}
	s.accounts[key] = &account{Sub: a.Sub, Email: a.Email, Name: a.Name, Picture: a.Picture}
	s.accountOrder = append(s.accountOrder, key)
	return a, nil
}

// Accounts lists the accounts in creation order.
func (s *Server) Accounts() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Account{}
	for _, k := range s.accountOrder {
		a := s.accounts[k]
		out = append(out, Account{Sub: a.Sub, Email: a.Email, Name: a.Name, Picture: a.Picture})
	}
	return out
}

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

// ---- consent page ----

var consentTmpl = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in - Google Accounts (fake)</title></head>
<body>
<h1>Choose an account</h1>
<p>to continue to the app <b>{{.ClientID}}</b></p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="req" value="{{.ReqID}}">
<fieldset><legend>Account</legend>
{{range $i, $a := .Accounts}}<label><input type="radio" name="account" value="{{$a.Email}}"{{if eq $i 0}} checked{{end}}> {{$a.Name}} &lt;{{$a.Email}}&gt;</label><br>
{{end}}</fieldset>
<fieldset><legend>The app wants to</legend>
{{range .Scopes}}<label><input type="checkbox" name="scope" value="{{.}}" checked> {{.}}</label><br>
{{end}}</fieldset>
<button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>
</body></html>
`))

func errorPage(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>Error %d (%s)</title></head><body><h1>Access blocked: authorization error</h1><p>Error %d: %s</p><p>%s</p></body></html>\n",
		status, html.EscapeString(code), status, html.EscapeString(code), html.EscapeString(msg))
}

func (s *Server) validRedirect(u string) bool {
	if len(u) > consentRedirectURIMaxLen {
		return false
	}
	if len(s.opts.RedirectURIs) > 0 {
		return slices.Contains(s.opts.RedirectURIs, u)
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" && p.Fragment == ""
}

func (s *Server) handleAuth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		errorPage(w, 405, "invalid_request", "method not allowed")
		return
	}
	q := r.URL.Query()
	if q.Get("client_id") != s.opts.ClientID {
		errorPage(w, 401, "invalid_client", "The OAuth client was not found.")
		return
	}
	ru := q.Get("redirect_uri")
	if ru == "" {
		errorPage(w, 400, "invalid_request", "Missing required parameter: redirect_uri")
		return
	}
	if !s.validRedirect(ru) {
		errorPage(w, 400, "redirect_uri_mismatch", "The redirect URI in the request does not match the ones authorized for the OAuth client.")
		return
	}
	if q.Get("response_type") != "code" {
		errorPage(w, 400, "unsupported_response_type", "Invalid response_type: "+q.Get("response_type"))
		return
	}
	scopeParam := q.Get("scope")
	scopes := strings.Fields(scopeParam)
	if len(scopes) == 0 {
		errorPage(w, 400, "invalid_request", "Missing required parameter: scope")
		return
	}
	if len(scopeParam) > consentScopeParamMaxLen || len(scopes) > maxScopes {
		errorPage(w, 400, "invalid_scope", "Too many scopes")
		return
	}
	scopes = dedupe(scopes)
	cc, ccm := q.Get("code_challenge"), q.Get("code_challenge_method")
	if cc == "" {
		errorPage(w, 400, "invalid_request", "Missing required parameter: code_challenge (this fake requires PKCE)")
		return
	}
	if ccm != "S256" {
		errorPage(w, 400, "invalid_request", "code_challenge_method must be S256 (this fake refuses plain)")
		return
	}
	if len(cc) < consentChallengeMinLen || len(cc) > consentChallengeMaxLen {
		errorPage(w, 400, "invalid_request", "Invalid code_challenge")
		return
	}
	if len(q.Get("state")) > consentStateMaxLen {
		errorPage(w, 400, "invalid_request", "state too long")
		return
	}
	switch at := q.Get("access_type"); at {
	case "", "online", "offline":
	default:
		errorPage(w, 400, "invalid_request", "Invalid access_type: "+at)
		return
	}
	ar := AuthRequest{
		ClientID: s.opts.ClientID, RedirectURI: ru, Scopes: scopes, State: q.Get("state"),
		AccessType: q.Get("access_type"), Prompt: q.Get("prompt"),
		IncludeGrantedScopes: q.Get("include_granted_scopes") == "true",
		LoginHint:            q.Get("login_hint"), CodeChallenge: cc,
	}
	id := randomString(consentRequestIDLen, alnum)
	s.mu.Lock()
	now := s.now()
	for k, v := range s.authReqs {
		if now.After(v.expires) {
			delete(s.authReqs, k)
		}
	}
	s.authReqs[id] = &authRequest{AuthRequest: ar, expires: now.Add(authRequestTTL)}
	s.authLog = append(s.authLog, ar)
	var accts []account
	for _, k := range s.accountOrder {
		accts = append(accts, *s.accounts[k])
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = consentTmpl.Execute(w, map[string]any{
		"ClientID": ar.ClientID, "Action": consentFormAction, "ReqID": id, "Accounts": accts, "Scopes": scopes,
	})
}

func dedupe(in []string) []string {
	var out []string
	for _, v := range in {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) handleApprove(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		errorPage(w, 405, "invalid_request", "method not allowed")
		return
	}
	if err := r.ParseForm(); err != nil {
		errorPage(w, 400, "invalid_request", "bad form")
		return
	}
	s.mu.Lock()
	req := s.authReqs[r.PostForm.Get("req")]
	if req == nil || s.now().After(req.expires) {
		s.mu.Unlock()
		errorPage(w, 400, "invalid_request", "This consent request is unknown or has expired.")
		return
	}
	delete(s.authReqs, r.PostForm.Get("req"))
	target, _ := url.Parse(req.RedirectURI)
	q := target.Query()
	if r.PostForm.Get("action") != "allow" {
		s.mu.Unlock()
		q.Set("error", "access_denied")
		if req.State != "" {
			q.Set("state", req.State)
		}
		target.RawQuery = q.Encode()
		http.Redirect(w, r, target.String(), http.StatusFound)
		return
	}
	acct := strings.ToLower(r.PostForm.Get("account"))
	if s.accounts[acct] == nil {
		s.mu.Unlock()
		errorPage(w, 400, "invalid_request", "Choose an account.")
		return
	}
	var granted []string
	for _, sc := range r.PostForm["scope"] {
		if slices.Contains(req.Scopes, sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	ckey := req.ClientID + "|" + acct
	prev, had := s.consented[ckey]
	if req.IncludeGrantedScopes {
		for _, sc := range prev {
			if !slices.Contains(granted, sc) {
				granted = append(granted, sc)
			}
		}
	}
	s.consented[ckey] = dedupe(append(slices.Clone(prev), granted...))
	code := authCodePrefix + randomString(authCodeRandomLen, tokenChrs)
	s.codes[code] = &authCode{
		clientID: req.ClientID, redirectURI: req.RedirectURI, challenge: req.CodeChallenge,
		account: acct, scopes: granted, expires: s.now().Add(authCodeTTL),
		wantRefresh: req.AccessType == "offline" && (strings.Contains(req.Prompt, "consent") || !had),
	}
	s.mu.Unlock()
	q.Set("code", code)
	q.Set("scope", strings.Join(granted, " "))
	if req.State != "" {
		q.Set("state", req.State)
	}
	q.Set("authuser", "0")
	q.Set("prompt", "consent")
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// ConsentOptions steer Consent.
type ConsentOptions struct {
	// Deny presses Deny instead of Allow.
	Deny bool
	// Untick lists scopes to untick before pressing Allow.
	Untick []string
	// Client sends the requests (default: a client that does not follow redirects).
	Client *http.Client
}

var (
	formRe  = regexp.MustCompile(`(?is)<form\b([^>]*)>`)
	inputRe = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`(?is)([a-z_-]+)(?:\s*=\s*"([^"]*)")?`)
)

func parseAttrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// Consent acts like a user's browser: it opens authURL (the consent page), picks the
// account with the given e-mail, unticks scopes, presses Allow (or Deny) and returns
// the redirect Google's answer points at (the app's redirect URI with code/state or
// error). An error page yields an error mentioning its status.
func (s *Server) Consent(ctx context.Context, authURL, email string, opts ConsentOptions) (*url.URL, error) {
	hc := opts.Client
	if hc == nil {
		hc = &http.Client{}
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("consent page: status %d: %s", resp.StatusCode, stripTags(string(body)))
	}
	fm := formRe.FindStringSubmatch(string(body))
	if fm == nil {
		return nil, errors.New("consent page: no form")
	}
	action, err := resp.Request.URL.Parse(parseAttrs(fm[1])["action"])
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	foundAccount := false
	for _, in := range inputRe.FindAllStringSubmatch(string(body), -1) {
		a := parseAttrs(in[2])
		_, checked := a["checked"]
		switch {
		case strings.EqualFold(in[1], "button"):
			want := "allow"
			if opts.Deny {
				want = "deny"
			}
			if a["value"] == want {
				form.Set(a["name"], a["value"])
			}
		case a["type"] == "hidden":
			form.Add(a["name"], a["value"])
		case a["type"] == "radio":
			if strings.EqualFold(a["value"], email) {
				form.Set(a["name"], a["value"])
				foundAccount = true
			}
		case a["type"] == "checkbox":
			if checked && !slices.Contains(opts.Untick, a["value"]) {
				form.Add(a["name"], a["value"])
			}
		}
	}
	if !foundAccount && !opts.Deny {
		return nil, fmt.Errorf("consent page: no account %q offered", email)
	}
	preq, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	preq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	presp, err := c.Do(preq)
	if err != nil {
		return nil, err
	}
	pbody, _ := io.ReadAll(io.LimitReader(presp.Body, maxBody))
	presp.Body.Close()
	if presp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("consent approve: status %d: %s", presp.StatusCode, stripTags(string(pbody)))
	}
	return presp.Location()
}

var tagRe = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRe.ReplaceAllString(s, " "))), " ")
}

// ---- token endpoint ----

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *Server) clientAuth(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if ok {
		if uid, err := url.QueryUnescape(id); err == nil {
			id = uid
		}
		if us, err := url.QueryUnescape(secret); err == nil {
			secret = us
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) == 1
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		tokenError(w, 405, "invalid_request", "Method not allowed")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, 400, "invalid_request", "Bad Request")
		return
	}
	if f, _ := s.takeFault("token", "", ""); f != nil {
		code := f.Reason
		if code == "" {
			switch {
			case f.Status == 400:
				code = "invalid_grant"
			case f.Status == 401:
				code = "invalid_client"
			case f.Status >= 500:
				code = "internal_failure"
			default:
				code = "invalid_request"
			}
		}
		tokenError(w, f.Status, code, "injected fault")
		return
	}
	if !s.clientAuth(r) {
		tokenError(w, 401, "invalid_client", "Unauthorized")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		s.exchangeCode(w, r)
	case "refresh_token":
		s.refreshToken(w, r)
	case "":
		tokenError(w, 400, "invalid_request", "Missing required parameter: grant_type")
	default:
		tokenError(w, 400, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
	}
}

func (s *Server) newAccessToken(g *grant) (string, time.Time) {
	tok := accessTokenPrefix + randomString(accessTokenRandomLen, tokenChrs)
	exp := s.now().Add(accessTokenTTL)
	s.access[tok] = &accessToken{grant: g, expires: exp}
	return tok, exp
}

func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request) {
	codeStr := r.PostForm.Get("code")
	if codeStr == "" {
		tokenError(w, 400, "invalid_request", "Missing required parameter: code")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[codeStr]
	if c == nil {
		tokenError(w, 400, "invalid_grant", "Malformed auth code.")
		return
	}
	if c.used || s.now().After(c.expires) {
		tokenError(w, 400, "invalid_grant", "Bad Request")
		return
	}
	c.used = true // single use, even when this attempt fails
	if c.clientID != s.opts.ClientID {
		tokenError(w, 400, "invalid_grant", "Bad Request")
		return
	}
	if r.PostForm.Get("redirect_uri") != c.redirectURI {
		tokenError(w, 400, "redirect_uri_mismatch", "Bad Request")
		return
	}
	v := r.PostForm.Get("code_verifier")
	if v == "" {
		tokenError(w, 400, "invalid_grant", "Missing code verifier.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(s256(v)), []byte(c.challenge)) != 1 {
		tokenError(w, 400, "invalid_grant", "Invalid code verifier.")
		return
	}
	g := &grant{ID: randomString(16, b32hex), clientID: c.clientID, account: c.account,
		scopes: slices.Clone(c.scopes), issued: s.now()}
	if c.wantRefresh {
		if s.noRefreshN > 0 {
			s.noRefreshN--
		} else {
			g.refreshToken = refreshTokenPrefix + randomString(refreshTokenRandomLen, tokenChrs)
			s.refresh[g.refreshToken] = g
		}
	}
	s.grants = append(s.grants, g)
	tok, _ := s.newAccessToken(g)
	resp := map[string]any{
		"access_token": tok, "expires_in": int(accessTokenTTL / time.Second),
		"scope": strings.Join(g.scopes, " "), "token_type": "Bearer",
	}
	if g.refreshToken != "" {
		resp["refresh_token"] = g.refreshToken
		if s.opts.RefreshTokenTTL > 0 {
			resp["refresh_token_expires_in"] = int(s.opts.RefreshTokenTTL / time.Second)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, resp)
}

func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request) {
	rt := r.PostForm.Get("refresh_token")
	if rt == "" {
		tokenError(w, 400, "invalid_request", "Missing required parameter: refresh_token")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.refresh[rt]
	if g == nil || g.revoked || g.clientID != s.opts.ClientID ||
		(s.opts.RefreshTokenTTL > 0 && !s.now().Before(g.issued.Add(s.opts.RefreshTokenTTL))) {
		tokenError(w, 400, "invalid_grant", errTokenRevoked)
		return
	}
	tok, _ := s.newAccessToken(g)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, map[string]any{
		"access_token": tok, "expires_in": int(accessTokenTTL / time.Second),
		"scope": strings.Join(g.scopes, " "), "token_type": "Bearer",
	})
}

// ---- revoke ----

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		tokenError(w, 405, "invalid_request", "Method not allowed")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, 400, "invalid_request", "Bad Request")
		return
	}
	if f, _ := s.takeFault("revoke", "", ""); f != nil {
		tokenError(w, f.Status, "internal_failure", "injected fault")
		return
	}
	if err := s.Revoke(r.Form.Get("token")); err != nil {
		tokenError(w, 400, "invalid_token", "Token expired or revoked")
		return
	}
	writeJSON(w, 200, map[string]any{})
}

// Revoke revokes an access or refresh token and, like Google, every grant of that
// account to that client (the refresh token and all access tokens issued from it).
// Like the user removing the app on their Google permissions page.
func (s *Server) Revoke(token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g *grant
	if at := s.access[token]; at != nil && !at.grant.revoked && s.now().Before(at.expires) {
		g = at.grant
	} else if rg := s.refresh[token]; rg != nil && !rg.revoked {
		g = rg
	}
	if g == nil {
		return errors.New("invalid_token")
	}
	s.revokeAppLocked(g.clientID, g.account)
	return nil
}

// RevokeAccount revokes every grant of the account to the fake's client, as if the
// user removed the app's access on Google's permissions page.
func (s *Server) RevokeAccount(email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeAppLocked(s.opts.ClientID, strings.ToLower(email))
}

func (s *Server) revokeAppLocked(clientID, acct string) {
	for _, g := range s.grants {
		if g.clientID == clientID && g.account == acct && !g.revoked {
			g.revoked = true
			g.revokedAt = s.now()
			s.revokedLog = append(s.revokedLog, s.grantView(g))
		}
	}
	delete(s.consented, clientID+"|"+acct)
}

// ---- bearer auth ----

type caller struct {
	emptyPages int
	acct       *account
	key        string
	scopes     []string
}

func (s *Server) authenticate(r *http.Request) (*caller, *apiError) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok = r.URL.Query().Get("access_token")
	}
	unauth := &apiError{code: 401, reason: "authError", message: msgInvalidCredentials}
	if tok == "" {
		return nil, unauth
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.access[strings.TrimSpace(tok)]
	if at == nil || at.grant.revoked || !s.now().Before(at.expires) {
		return nil, unauth
	}
	a := s.accounts[at.grant.account]
	if a == nil {
		return nil, unauth
	}
	return &caller{acct: a, key: at.grant.account, scopes: at.grant.scopes}, nil
}

func hasAny(have []string, want ...string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		googleError(w, 405, "badRequest", "Method not allowed")
		return
	}
	c, aerr := s.authenticate(r)
	if aerr != nil {
		s.takeFault("userinfo", "", "")
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeJSON(w, 401, map[string]string{"error": "invalid_request", "error_description": "Invalid Credentials"})
		return
	}
	if f, _ := s.takeFault("userinfo", "", c.key); f != nil {
		writeErr(w, faultError(f, "userinfo"))
		return
	}
	if !hasAny(c.scopes, "openid", "email", "profile", ScopeUserinfoEmail, ScopeUserinfoProfile) {
		writeJSON(w, 401, map[string]string{"error": "invalid_request", "error_description": "Insufficient scopes"})
		return
	}
	a := c.acct
	if strings.HasPrefix(r.URL.Path, "/oauth2/v2/") {
		writeJSON(w, 200, map[string]any{"id": a.Sub, "email": a.Email, "verified_email": true,
			"name": a.Name, "picture": a.Picture})
		return
	}
	writeJSON(w, 200, map[string]any{"sub": a.Sub, "email": a.Email, "email_verified": true,
		"name": a.Name, "picture": a.Picture})
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
