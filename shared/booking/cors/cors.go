// Package cors answers the booking widget's cross-origin requests for the public Slots
// and Book functions: only origins on the WIDGET_ORIGINS allow-list are echoed back
// (never "*"), every answer varies by Origin, and preflights are answered 204 without
// reaching the function. It reads no cookies and allows no credentials.
package cors

import (
	"net/http"
	"slices"
	"strings"

	"github.com/belbo/calsync/shared/jsonhttp"
)

// Wrap allows origins to call h with methods (besides OPTIONS).
func Wrap(origins []string, methods []string, h http.Handler) http.Handler {
	allowed := make([]string, 0, len(origins))
	for _, o := range origins {
		allowed = append(allowed, strings.TrimRight(o, "/"))
	}
	allowMethods := strings.Join(append(slices.Clone(methods), http.MethodOptions), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		ok := origin != "" && slices.Contains(allowed, origin)
		if ok {
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
		if r.Method == http.MethodOptions {
			if !ok {
				w.Header().Set("Cache-Control", "no-store")
				jsonhttp.Error(w, http.StatusForbidden, "origin_not_allowed", "this origin may not call the booking API")
				return
			}
			w.Header().Set("Access-Control-Allow-Methods", allowMethods)
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}
