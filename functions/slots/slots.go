// Package slots is the Slots function. It answers the booking widget with free slots, reading Firestore only.
package slots

import (
	"net/http"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/platform"
)

// Need lists the configuration Slots needs.
var Need = []string{}

func init() { functions.HTTP("Slots", platform.LazyHTTP(Need, New)) }

// New builds the handler.
func New(p *platform.Platform) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jsonhttp.Error(w, http.StatusNotImplemented, "not_implemented", "not implemented yet")
	}), nil
}
