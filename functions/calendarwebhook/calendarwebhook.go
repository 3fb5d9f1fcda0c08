// Package calendarwebhook is the CalendarWebhook function. It receives Google's push notifications and publishes one sync message per change.
package calendarwebhook

import (
	"net/http"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/platform"
)

// Need lists the configuration CalendarWebhook needs.
var Need = []string{}

func init() { functions.HTTP("CalendarWebhook", platform.LazyHTTP(Need, New)) }

// New builds the handler.
func New(p *platform.Platform) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jsonhttp.Error(w, http.StatusNotImplemented, "not_implemented", "not implemented yet")
	}), nil
}
