package main

import (
	"net/http"
	"path/filepath"

	"github.com/belbo/calsync/scripts/webui"
	"github.com/belbo/calsync/shared/config"
)

// webHandler serves the settings page, the booking widget and the calendar-owner page
// from dir, their runtime configuration at /config.json, /backend/… (a stand-in for the
// booking product's backend that forwards to Manage with the bearer key, so the key never
// reaches a browser) and /google/… (the fake Google's control API, same-origin).
func webHandler(dir string, env config.Env, functionsURL, googleURL string) http.Handler {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return webui.Handler(webui.Options{
		Dir:       dir,
		ManageURL: functionsURL + "/Manage/",
		ManageKey: env.ManageAPIKey,
		SlotsURL:  functionsURL + "/Slots/",
		BookURL:   functionsURL + "/Book/",
		GoogleURL: googleURL,
		ClockURL:  env.ClockURL,
		Tenant:    webui.DemoTenant,
		Staff:     webui.DemoStaff,
		Services:  webui.DemoServices,
	})
}
