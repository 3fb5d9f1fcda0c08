// Package oauthcallback is the OAuthCallback function: the public URL Google redirects the
// user's browser to after consent. It validates the query and hands it to the connect flow,
// then redirects back to the allow-listed return URL bound to the state. Without a valid
// state there is no trusted place to send the browser, so it answers 400 with a short page.
package oauthcallback

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/platform"
)

// Config is the configuration OAuthCallback reads: the connect flow's (completing a
// connection opens the watch channels of the calendars it selects).
type Config struct {
	config.Platform
	config.Google
	config.Connect
	config.Channels
}

func init() { functions.HTTP("OAuthCallback", platform.LazyHTTP("OAuthCallback", New)) }

// New builds the handler.
func New(p *platform.Platform, cfg Config) (http.Handler, error) {
	svc := connect.New(p, connect.Config{Google: cfg.Google, Connect: cfg.Connect, Channels: cfg.Channels})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			page(w, http.StatusMethodNotAllowed, "This address only accepts the redirect from Google.")
			return
		}
		q, err := ParseQuery(r.URL.RawQuery)
		if err != nil {
			page(w, http.StatusBadRequest, "The sign-in link is not valid. Please start connecting your Google account again.")
			return
		}
		now, err := p.Now(r.Context())
		if err != nil {
			page(w, http.StatusServiceUnavailable, "Please try again in a moment.")
			return
		}
		out, err := svc.Callback(r.Context(), q, now)
		if errors.Is(err, connect.ErrBadState) {
			page(w, http.StatusBadRequest, "This sign-in link has expired or was already used. Please start connecting your Google account again.")
			return
		}
		if err != nil {
			p.Log.ErrorContext(r.Context(), "oauth callback failed", "error", err.Error())
			page(w, http.StatusInternalServerError, "Something went wrong. Please start connecting your Google account again.")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, out.Redirect, http.StatusFound)
	}), nil
}

// ParseQuery accepts only the parameters Google sends, each at most once and bounded.
func ParseQuery(raw string) (url.Values, error) {
	if len(raw) > 8<<10 {
		return nil, errors.New("query too long")
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, err
	}
	allowed := map[string]int{"code": 2048, "state": 200, "error": 100, "scope": 4096, "authuser": 10, "prompt": 100, "hd": 255, "iss": 255, "error_description": 500, "error_uri": 500}
	for k, v := range q {
		limit, ok := allowed[k]
		if !ok {
			continue // Google may add parameters; unknown ones are ignored, not trusted
		}
		if len(v) != 1 || len(v[0]) > limit {
			return nil, errors.New("parameter " + k + " repeated or too long")
		}
	}
	if q.Get("state") == "" || (q.Get("code") == "" && q.Get("error") == "") {
		return nil, errors.New("state and code or error are required")
	}
	return q, nil
}

var tmpl = template.Must(template.New("p").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Google Calendar connection</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>body{font:16px system-ui,sans-serif;max-width:34em;margin:4em auto;padding:0 1em;color:#222}</style></head>
<body><h1>Google Calendar connection</h1><p>{{.}}</p></body></html>`))

func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = tmpl.Execute(w, msg)
}
