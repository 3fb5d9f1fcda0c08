package jsonhttp

import (
	"mime"
	"net/http"
	"strings"
)

// RequireJSON refuses (415 unsupported_media_type) a request whose Content-Type is not
// application/json (parameters other than charset=utf-8 refused too). Requiring it makes
// a browser send a CORS preflight before any cross-site POST: an HTML form or a
// "simple" fetch from a foreign origin can no longer reach the handler.
func RequireJSON(r *http.Request) *Problem {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && mt == "application/json" {
		ok := true
		for k, v := range params {
			if k != "charset" || !strings.EqualFold(v, "utf-8") {
				ok = false
			}
		}
		if ok {
			return nil
		}
	}
	return Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json")
}
