// Package book is the Book function. It creates bookings for the widget inside a Firestore transaction.
package book

import (
	"net/http"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/platform"
)

// Need lists the configuration Book needs.
var Need = []string{}

func init() { functions.HTTP("Book", platform.LazyHTTP(Need, New)) }

// New builds the handler.
func New(p *platform.Platform) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jsonhttp.Error(w, http.StatusNotImplemented, "not_implemented", "not implemented yet")
	}), nil
}
