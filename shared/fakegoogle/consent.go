package fakegoogle

// The consent page (GET /o/oauth2/auth) and its form target (POST /o/oauth2/approve).

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

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
