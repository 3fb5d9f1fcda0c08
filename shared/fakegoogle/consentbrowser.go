package fakegoogle

// Consent: a Go stand-in for the user's browser on the consent page.

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

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
