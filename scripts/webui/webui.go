// Package webui serves the local web pages of calsync — the settings page, the booking
// widget and the calendar-owner page — together with the two things a browser needs
// around them locally:
//
//   - /backend/… — a stand-in for the booking product's backend: it forwards to Manage
//     with the bearer key, so the key never reaches a browser;
//   - /google/… — the fake Google's control API (/_fake/…) made same-origin, so the
//     calendar-owner page can act as the owner of the Google calendars.
//
// `make run` (scripts/devserver) and the browser test (scripts/localstack) both use it.
// It is never deployed.
package webui

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/belbo/calsync/shared/tenant"
)

// Options configure the handler.
type Options struct {
	Dir        string // directory holding the pages (web/)
	ManageURL  string // base URL of the Manage function, e.g. http://127.0.0.1:8080/Manage/
	ManageKey  string // bearer key for Manage (local only)
	SlotsURL   string // public URL of the Slots function, given to the widget
	BookURL    string // public URL of the Book function, given to the widget
	GoogleURL  string // base URL of the fake Google
	ClockURL   string // the shared clock (GET → RFC 3339); empty: system clock
	Tenant     string // the demo tenant
	Staff      []string
	Services   []tenant.Service // the catalogue the widget offers (id, name, durationMin, staff)
	HTTPClient *http.Client     // for the clock; default: 2 s timeout
}

// sameOrigin guards the proxies that add the Manage key: only this page's own origin may
// use them. Another site open in the developer's browser (Sec-Fetch-Site: cross-site) or
// a DNS-rebinding host name (a Host that is not a loopback address) is refused.
func sameOrigin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		loopback := host == "localhost"
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			loopback = true
		}
		site := r.Header.Get("Sec-Fetch-Site")
		if !loopback || (site != "" && site != "same-origin" && site != "none") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":{"code":"forbidden","message":"only the local pages may use this proxy"}}`))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Handler serves the pages, /config.json, /backend/… and /google/….
func Handler(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/backend/", sameOrigin(http.StripPrefix("/backend", forward(o.ManageURL, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+o.ManageKey)
	}))))
	if o.GoogleURL != "" {
		// Only the control API: /google/x → <fake>/_fake/x.
		mux.Handle("/google/", sameOrigin(http.StripPrefix("/google", forward(strings.TrimRight(o.GoogleURL, "/")+"/_fake/", nil))))
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Second}
	}
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"slotsUrl": o.SlotsURL,
			"bookUrl":  o.BookURL,
			"backend":  "/backend",
			"google":   "/google",
			"tenant":   o.Tenant,
			"staff":    o.Staff,
			"services": o.Services,
			"now":      now(client, o.ClockURL).Format(time.RFC3339),
		})
	})
	files := http.FileServer(http.Dir(o.Dir))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/settings.html", http.StatusFound)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
	return mux
}

// now asks the shared clock (the pages show the system's "today", which locally may be
// a test clock far from the browser's); falls back to the system clock.
func now(c *http.Client, clockURL string) time.Time {
	if clockURL == "" {
		return time.Now().UTC()
	}
	resp, err := c.Get(clockURL)
	if err != nil {
		return time.Now().UTC()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 100))
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	if err != nil {
		return time.Now().UTC()
	}
	return t.UTC()
}

// forward proxies to base (a URL ending in "/"); the request path is appended to it.
func forward(base string, edit func(*http.Request)) http.Handler {
	target, err := url.Parse(strings.TrimRight(base, "/") + "/")
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad proxy target", http.StatusInternalServerError)
		})
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			pr.Out.Header.Del("Cookie")
			if edit != nil {
				edit(pr.Out)
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "backend_unavailable", "message": "the service did not answer: " + err.Error()}})
		},
	}
	return p
}
