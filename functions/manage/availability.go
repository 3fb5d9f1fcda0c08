package manage

import (
	"net/http"

	"github.com/belbo/calsync/shared/jsonhttp"
)

func (a *api) getAvailability(w http.ResponseWriter, r *http.Request) {
	jsonhttp.Error(w, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (a *api) putAvailability(w http.ResponseWriter, r *http.Request) {
	jsonhttp.Error(w, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}
