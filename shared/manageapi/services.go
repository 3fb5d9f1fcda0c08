package manageapi

import (
	"errors"
	"io"
	"net/http"

	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tenant"
)

// The tenant's service catalogue (docs/api.md, "Services").

// maxServiceBody bounds a service PUT (a service with 50 staff ids of 128 bytes < 8 KiB).
const maxServiceBody = 16 << 10

// serviceID is the path's service id; an invalid one is answered 400.
func serviceID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("service")
	if !messages.ValidID(id) {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_id", "path segment service must be 1–128 of A–Z a–z 0–9 _ - (not __…__)")
		return "", false
	}
	return id, true
}

// ListServices: GET /v1/tenants/{tenant}/services → the catalogue by id.
func (c *Controller) ListServices(w http.ResponseWriter, r *http.Request) {
	list, err := c.p.Store.Services(r.Context(), r.PathValue("tenant"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, map[string]any{"services": list})
}

// PutService: PUT …/services/{service} creates (201) or replaces (200) one service.
func (c *Controller) PutService(w http.ResponseWriter, r *http.Request) {
	id, ok := serviceID(w, r)
	if !ok {
		return
	}
	if p := jsonhttp.RequireJSON(r); p != nil {
		jsonhttp.Fail(w, p)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxServiceBody))
	if err != nil {
		jsonhttp.Error(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds 16 KiB")
		return
	}
	sv, err := tenant.ParseService(id, body)
	var ve *tenant.ValidationError
	if errors.As(err, &ve) {
		writeFieldError(w, "invalid_service", ve.Field, ve.Error())
		return
	}
	now, ok := c.now(w, r)
	if !ok {
		return
	}
	created, err := c.p.Store.PutService(r.Context(), r.PathValue("tenant"), sv, now)
	switch {
	case errors.Is(err, tenant.ErrTooManyServices):
		jsonhttp.Error(w, http.StatusConflict, "too_many_services", "a tenant has at most 100 services")
	case err != nil:
		c.fail(w, r, err)
	case created:
		jsonhttp.Write(w, http.StatusCreated, sv)
	default:
		jsonhttp.Write(w, http.StatusOK, sv)
	}
}

// DeleteService: DELETE …/services/{service} → 204, or 404 service_not_found.
func (c *Controller) DeleteService(w http.ResponseWriter, r *http.Request) {
	id, ok := serviceID(w, r)
	if !ok {
		return
	}
	now, ok := c.now(w, r)
	if !ok {
		return
	}
	err := c.p.Store.DeleteService(r.Context(), r.PathValue("tenant"), id, now)
	switch {
	case store.NotFound(err):
		jsonhttp.Error(w, http.StatusNotFound, "service_not_found", "no such service")
	case err != nil:
		c.fail(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
