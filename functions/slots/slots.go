// Package slots is the Slots function. It answers the booking widget with free slots,
// reading Firestore only (never Google) and returning start, end and staff id per slot —
// never titles, details, e-mail addresses or calendar names.
package slots

import (
	"errors"
	"net/http"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/booking/cors"
	"github.com/belbo/calsync/shared/httperr"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/slotquery"
)

// Need lists the configuration Slots needs.
var Need = []string{}

func init() { functions.HTTP("Slots", platform.LazyHTTP(Need, New)) }

// CacheControl lets the widget's CDN or browser reuse an answer briefly: slots change
// when someone books, and Book re-checks anyway.
const CacheControl = "public, max-age=30"

type slotJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
	Staff string `json:"staff"`
}

// New builds the handler.
func New(p *platform.Platform) (http.Handler, error) {
	// Which calendars a staff member has selected is remembered per instance for as long
	// as a Slots answer may be cached anyway (see slotquery.CalendarIndex).
	idx := &slotquery.CalendarIndex{TTL: 30 * time.Second}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD, OPTIONS")
			jsonhttp.Error(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET")
			return
		}
		if r.URL.Path != "/" && r.URL.Path != "" {
			jsonhttp.Error(w, http.StatusNotFound, "not_found", "no such route")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		q, err := slotquery.ParseQuery(r.URL.Query())
		if err != nil {
			var qe *slotquery.QueryError
			if errors.As(err, &qe) {
				jsonhttp.Error(w, http.StatusBadRequest, "invalid_"+snake(qe.Param), qe.Error())
				return
			}
			jsonhttp.Error(w, http.StatusBadRequest, "invalid_request", "invalid query")
			return
		}
		now, ok := httperr.Now(w, r, p.Now)
		if !ok {
			return
		}
		res, err := slotquery.SlotsWithIndex(r.Context(), p.Store, idx, q, now)
		if httperr.Write(w, err) {
			return
		}
		if err != nil {
			p.Log.ErrorContext(r.Context(), "slots: failed", "tenant", q.Tenant, "error", err.Error())
			jsonhttp.Error(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		out := make([]slotJSON, len(res.Slots))
		for i, s := range res.Slots {
			out[i] = slotJSON{Start: s.Start.Format(time.RFC3339), End: s.End.Format(time.RFC3339), Staff: s.Staff}
		}
		w.Header().Set("Cache-Control", CacheControl)
		jsonhttp.Write(w, http.StatusOK, map[string]any{"slots": out})
	})
	return cors.Wrap(p.Env.WidgetOrigins, []string{http.MethodGet, http.MethodHead}, h), nil
}

func snake(param string) string {
	if param == "durationMin" {
		return "duration"
	}
	return param
}
