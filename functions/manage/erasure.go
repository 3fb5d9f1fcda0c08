package manage

import (
	"errors"
	"net/http"

	"github.com/belbo/calsync/shared/erasure"
	"github.com/belbo/calsync/shared/jsonhttp"
)

// eraseError answers a failed erasure: 503 with Retry-After for what a retry finishes
// (everything done so far stays done), 400 for a request that can never succeed.
func (a *api) eraseError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, erasure.ErrInvalid):
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_request", "email is required")
	default:
		a.p.Log.WarnContext(r.Context(), "manage: erasure incomplete", "path", r.URL.Path, "error", err.Error())
		w.Header().Set("Retry-After", "10")
		jsonhttp.Error(w, http.StatusServiceUnavailable, "erasure_incomplete", "erasure stopped part-way; send the same request again to finish it")
	}
}

func (a *api) eraseCustomer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Email string `json:"email"`
	}
	now, ok := a.decodeNow(w, r, &body)
	if !ok {
		return
	}
	res, err := erasure.New(a.p).Customer(r.Context(), r.PathValue("tenant"), body.Email, now)
	if err != nil {
		a.eraseError(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, res)
}

func (a *api) eraseStaff(w http.ResponseWriter, r *http.Request) {
	res, err := erasure.New(a.p).Staff(r.Context(), r.PathValue("tenant"), r.PathValue("staff"))
	if err != nil {
		a.eraseError(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, res)
}

func (a *api) eraseTenant(w http.ResponseWriter, r *http.Request) {
	res, err := erasure.New(a.p).Tenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		a.eraseError(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, res)
}
