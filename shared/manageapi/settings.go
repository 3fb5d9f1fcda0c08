package manageapi

import (
	"errors"
	"io"
	"net/http"

	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/tenant"
)

// maxSettingsBody bounds a settings patch (the whole settings object is < 1 KiB).
const maxSettingsBody = 16 << 10

// GetSettings: GET /v1/tenants/{tenant}/settings → the tenant's settings (defaults until
// written).
func (c *Controller) GetSettings(w http.ResponseWriter, r *http.Request) {
	s, err := c.p.Store.TenantSettings(r.Context(), r.PathValue("tenant"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, s)
}

// PatchSettings: PATCH …/settings with a JSON merge patch → the settings after it; an
// invalid result is 400 invalid_settings naming the field and changes nothing.
func (c *Controller) PatchSettings(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSettingsBody))
	if err != nil {
		jsonhttp.Error(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds 16 KiB")
		return
	}
	now, ok := c.now(w, r)
	if !ok {
		return
	}
	s, err := c.p.Store.PatchTenantSettings(r.Context(), r.PathValue("tenant"), body, now)
	var ve *tenant.ValidationError
	switch {
	case errors.As(err, &ve):
		writeFieldError(w, "invalid_settings", ve.Field, ve.Error())
	case errors.Is(err, tenant.ErrPatch):
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_json", err.Error())
	case err != nil:
		c.fail(w, r, err)
	default:
		jsonhttp.Write(w, http.StatusOK, s)
	}
}
