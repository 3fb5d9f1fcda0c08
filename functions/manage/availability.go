package manage

import (
	"errors"
	"net/http"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/store"
)

func (a *api) getAvailability(w http.ResponseWriter, r *http.Request) {
	snap, err := a.p.Store.Staff(r.PathValue("tenant"), r.PathValue("staff")).Get(r.Context())
	if store.NotFound(err) {
		jsonhttp.Error(w, http.StatusNotFound, "availability_not_set", "this staff member has no availability rules yet")
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var s store.Staff
	if err := snap.DataTo(&s); err != nil {
		a.fail(w, r, err)
		return
	}
	if s.Availability == nil {
		jsonhttp.Error(w, http.StatusNotFound, "availability_not_set", "this staff member has no availability rules yet")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, normalize(*s.Availability))
}

// normalize gives the JSON every key (empty lists rather than null).
func normalize(r availability.Rules) availability.Rules {
	weekly := make(map[string][]availability.Range, 7)
	for _, d := range availability.Weekdays {
		weekly[d] = r.Weekly[d]
		if weekly[d] == nil {
			weekly[d] = []availability.Range{}
		}
	}
	r.Weekly = weekly
	if r.Overrides == nil {
		r.Overrides = []availability.Override{}
	}
	for i := range r.Overrides {
		if r.Overrides[i].Ranges == nil {
			r.Overrides[i].Ranges = []availability.Range{}
		}
	}
	return r
}

func (a *api) putAvailability(w http.ResponseWriter, r *http.Request) {
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
		a.fail(w, r, err)
		return
	}
	now, ok := a.now(w, r)
	if !ok {
		return
	}
	rules = normalize(rules)
	_, err := a.p.Store.Staff(r.PathValue("tenant"), r.PathValue("staff")).Set(r.Context(),
		map[string]any{"availability": rules, "updatedAt": now}, firestore.MergeAll)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, rules)
}
