package manageapi

import (
	"errors"
	"net/http"

	"github.com/belbo/calsync/shared/erasure"
	"github.com/belbo/calsync/shared/jsonhttp"
)

// eraseError answers a failed erasure: 503 with Retry-After for what a retry finishes
// (everything done so far stays done), 400 for a request that can never succeed.
func (c *Controller) eraseError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, erasure.ErrInvalid):
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_request", "email is required")
	default:
		c.p.Log.WarnContext(r.Context(), "manage: erasure incomplete", "path", r.URL.Path, "error", err.Error())
		w.Header().Set("Retry-After", "10")
		jsonhttp.Error(w, http.StatusServiceUnavailable, "erasure_incomplete", "erasure stopped part-way; send the same request again to finish it")
	}
}

// EraseCustomer: POST /v1/tenants/{tenant}/erasure/customers {"email"} erases one
// customer's data in the tenant (shared/erasure).
func (c *Controller) EraseCustomer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Email string `json:"email"`
	}
	now, ok := c.decodeNow(w, r, &body)
	if !ok {
		return
	}
	res, err := erasure.New(c.p, c.connect(), c.cfg.Export).Customer(r.Context(), r.PathValue("tenant"), body.Email, now)
	if err != nil {
		c.eraseError(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, res)
}

// EraseStaff: DELETE /v1/tenants/{tenant}/staff/{staff} erases a staff member.
func (c *Controller) EraseStaff(w http.ResponseWriter, r *http.Request) {
	res, err := erasure.New(c.p, c.connect(), c.cfg.Export).Staff(r.Context(), r.PathValue("tenant"), r.PathValue("staff"))
	if err != nil {
		c.eraseError(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, res)
}

// EraseTenant: DELETE /v1/tenants/{tenant} erases a tenant.
func (c *Controller) EraseTenant(w http.ResponseWriter, r *http.Request) {
	res, err := erasure.New(c.p, c.connect(), c.cfg.Export).Tenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		c.eraseError(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, res)
}
