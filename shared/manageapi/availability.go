package manageapi

import (
	"errors"
	"net/http"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/store"
)

// GetAvailability: GET …/availability → the staff member's rules, every key present;
// 404 availability_not_set before any were written.
func (c *Controller) GetAvailability(w http.ResponseWriter, r *http.Request) {
	rules, err := c.p.Store.Availability(r.Context(), r.PathValue("tenant"), r.PathValue("staff"))
	if errors.Is(err, store.ErrNotFound) {
		jsonhttp.Error(w, http.StatusNotFound, "availability_not_set", "this staff member has no availability rules yet")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, rules.Normalized())
}

// PutAvailability: PUT …/availability with the whole rules; a rule that does not validate
// is 400 invalid_availability naming its field.
func (c *Controller) PutAvailability(w http.ResponseWriter, r *http.Request) {
	var rules availability.Rules
	if err := jsonhttp.Decode(w, r, 256<<10, &rules); err != nil {
		jsonhttp.Fail(w, err)
		return
	}
	if err := rules.Validate(); err != nil {
		var ve *availability.ValidationError
		if errors.As(err, &ve) {
			writeFieldError(w, "invalid_availability", ve.Field, ve.Field+": "+ve.Message)
			return
		}
		c.fail(w, r, err)
		return
	}
	now, ok := c.now(w, r)
	if !ok {
		return
	}
	rules = rules.Normalized()
	if err := c.p.Store.SetAvailability(r.Context(), r.PathValue("tenant"), r.PathValue("staff"), rules, now); err != nil {
		c.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, rules)
}
