package manage

import (
	"errors"
	"io"
	"net/http"

	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/tenant"
)

// maxSettingsBody bounds a settings patch (the whole settings object is < 1 KiB).
const maxSettingsBody = 16 << 10

func (a *api) getSettings(w http.ResponseWriter, r *http.Request) {
	s, err := a.p.Store.TenantSettings(r.Context(), r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, s)
}

func (a *api) patchSettings(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSettingsBody))
	if err != nil {
		jsonhttp.Error(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds 16 KiB")
		return
	}
	now, ok := a.now(w, r)
	if !ok {
		return
	}
	s, err := a.p.Store.PatchTenantSettings(r.Context(), r.PathValue("tenant"), body, now)
	var ve *tenant.ValidationError
	switch {
	case errors.As(err, &ve):
		writeFieldError(w, "invalid_settings", ve.Field, ve.Error())
	case errors.Is(err, tenant.ErrPatch):
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_json", err.Error())
	case err != nil:
		a.fail(w, r, err)
	default:
		jsonhttp.Write(w, http.StatusOK, s)
	}
}

// writeFieldError is a 400 whose error names the offending field.
func writeFieldError(w http.ResponseWriter, code, field, message string) {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Message, body.Error.Field = code, message, field
	jsonhttp.Write(w, http.StatusBadRequest, body)
}
