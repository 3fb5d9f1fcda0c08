package manage

import (
	"net/http"

	"github.com/belbo/calsync/shared/jsonhttp"
)

func (a *api) listEvents(w http.ResponseWriter, r *http.Request) {
	jsonhttp.Error(w, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}
