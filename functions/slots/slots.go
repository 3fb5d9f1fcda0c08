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
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/httperr"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/slotquery"
	"github.com/belbo/calsync/shared/slotsvc"
)

// Config is the configuration Slots reads.
type Config struct {
	config.Platform
	config.Widget
	config.SlotsCache
}

func init() { functions.HTTP("Slots", platform.LazyHTTP("Slots", New)) }

// CacheControl lets the widget's CDN or browser reuse an answer briefly: slots change
// when someone books, and Book re-checks anyway.
const CacheControl = "public, max-age=30"

// CacheTTL bounds how old an answer from an instance's own cache can be
// (config SLOTS_CACHE_TTL, default 5 s): short against the 30 s a browser or CDN may
// reuse it anyway.
const CacheTTL = 5 * time.Second

// New builds the handler.
func New(p *platform.Platform, cfg Config) (http.Handler, error) {
	// Which calendars a staff member has selected is remembered per instance for as long
	// as a Slots answer may be cached anyway (see slotquery.CalendarIndex).
	svc := &slotsvc.Service{
		Store: p.Store,
		Index: &slotquery.CalendarIndex{TTL: 30 * time.Second},
		Cache: &slotsvc.Cache{TTL: min(cfg.SlotsCacheTTL, CacheTTL)},
	}
	return cors.Wrap(cfg.WidgetOrigins, []string{http.MethodGet, http.MethodHead}, Handler(p, svc)), nil
}

// Handler is the Slots handler over svc.
func Handler(p *platform.Platform, svc *slotsvc.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
				code := qe.Code
				if code == "" {
					code = "invalid_" + snake(qe.Param)
				}
				jsonhttp.Error(w, http.StatusBadRequest, code, qe.Error())
				return
			}
			jsonhttp.Error(w, http.StatusBadRequest, "invalid_request", "invalid query")
			return
		}
		now, ok := httperr.Now(w, r, p.Now)
		if !ok {
			return
		}
		body, err := svc.Answer(r.Context(), q, now)
		switch {
		case httperr.Write(w, err):
		case err != nil:
			p.Log.ErrorContext(r.Context(), "slots: failed", "tenant", q.Tenant, "error", err.Error())
			jsonhttp.Error(w, http.StatusInternalServerError, "internal", "internal error")
		default:
			w.Header().Set("Cache-Control", CacheControl)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusOK)
			if r.Method != http.MethodHead {
				_, _ = w.Write(body)
			}
		}
	})
}

func snake(param string) string {
	if param == "durationMin" {
		return "duration"
	}
	return param
}
