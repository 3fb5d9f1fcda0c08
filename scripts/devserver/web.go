package main

import (
	"encoding/json"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/belbo/calsync/shared/config"
)

// webHandler serves the settings page and the booking widget from dir, their runtime
// configuration at /config.json, and /backend/… — a stand-in for the booking product's
// backend that forwards to Manage with the bearer key, so the key never reaches a browser.
func webHandler(dir string, env config.Env, functionsURL, googleURL string) http.Handler {
	mux := http.NewServeMux()
	target, _ := url.Parse(functionsURL + "/Manage/")
	proxy := httputil.NewSingleHostReverseProxy(target)
	base := proxy.Director
	proxy.Director = func(r *http.Request) {
		base(r)
		r.Header.Set("Authorization", "Bearer "+env.ManageAPIKey)
	}
	mux.Handle("/backend/", http.StripPrefix("/backend", proxy))
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"slotsUrl": functionsURL + "/Slots/",
			"bookUrl":  functionsURL + "/Book/",
			"backend":  "/backend",
			"google":   googleURL,
			"tenant":   DemoTenant,
		})
	})
	mux.Handle("/", http.FileServer(http.Dir(dir)))
	return mux
}
