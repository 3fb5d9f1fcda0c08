package manage

import (
	"net/http"

	"github.com/belbo/calsync/shared/jsonhttp"
)

func (a *api) listBookings(w http.ResponseWriter, r *http.Request) {
	jsonhttp.Error(w, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (a *api) createBooking(w http.ResponseWriter, r *http.Request) {
	jsonhttp.Error(w, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (a *api) cancelBooking(w http.ResponseWriter, r *http.Request) {
	jsonhttp.Error(w, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}
