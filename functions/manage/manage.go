// Package manage is the Manage function: the private management API the booking
// product's backend calls (deployed: IAM-only invocation; locally: a bearer key). It is an
// adapter — decode, call a shared service, encode — and owns no business rules.
package manage

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/httperr"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
)

// Need lists the configuration Manage needs.
var Need = []string{"OAUTH_CLIENT_ID", "OAUTH_REDIRECT_URL", "WEBHOOK_URL", "ALLOWED_RETURN_URLS", "MANAGE_API_KEY"}

func init() { functions.HTTP("Manage", platform.LazyHTTP("Manage", Need, New)) }

type api struct {
	p *platform.Platform
}

// New builds the Manage handler.
func New(p *platform.Platform) (http.Handler, error) {
	a := &api{p: p}
	mux := http.NewServeMux()
	base := "/v1/tenants/{tenant}/staff/{staff}"
	routes := map[string]http.HandlerFunc{
		"POST " + base + "/connections":                       a.startConnection,
		"GET " + base + "/connections":                        a.listConnections,
		"PATCH " + base + "/connections/{conn}":               a.patchConnection,
		"DELETE " + base + "/connections/{conn}":              a.disconnect,
		"GET " + base + "/connections/{conn}/calendars":       a.listCalendars,
		"PUT " + base + "/connections/{conn}/calendars/{cal}": a.selectCalendar,
		"GET " + base + "/events":                             a.listEvents,
		"GET " + base + "/availability":                       a.getAvailability,
		"PUT " + base + "/availability":                       a.putAvailability,
		"GET " + base + "/bookings":                           a.listBookings,
		"POST " + base + "/bookings":                          a.createBooking,
		"DELETE " + base + "/bookings/{booking}":              a.cancelBooking,
		"POST " + base + "/connections/{conn}/resync":         a.resync,
	}
	tenantBase := "/v1/tenants/{tenant}"
	routes["GET "+tenantBase+"/settings"] = a.getSettings
	routes["PATCH "+tenantBase+"/settings"] = a.patchSettings
	routes["POST "+tenantBase+"/erasure/customers"] = a.eraseCustomer
	routes["DELETE "+base] = a.eraseStaff
	routes["DELETE "+tenantBase] = a.eraseTenant
	a.serviceRoutes(routes)
	for pattern, h := range routes {
		mux.Handle(pattern, a.scoped(h))
	}
	return a.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			jsonhttp.Error(w, http.StatusNotFound, "not_found", "no such route or method")
			return
		}
		mux.ServeHTTP(w, r) // sets the path values

	})), nil
}

// auth checks the local bearer key. Deployed, MANAGE_API_KEY is unset and Cloud Run's IAM
// has already admitted only the backend's service account.
func (a *api) auth(h http.Handler) http.Handler {
	key := a.p.Env.ManageAPIKey
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if key != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(key)) != 1 {
				jsonhttp.Error(w, http.StatusUnauthorized, "unauthenticated", "missing or wrong bearer key")
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// scoped validates every id in the path before a handler sees it, so no handler can be
// tricked into a path outside its tenant and staff member.
func (a *api) scoped(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range []string{"tenant", "staff", "conn", "booking"} {
			if v := r.PathValue(name); v != "" && !messages.ValidID(v) || name == "tenant" && v == "" {
				jsonhttp.Error(w, http.StatusBadRequest, "invalid_id", "path segment "+name+" must be 1–128 of A–Z a–z 0–9 _ -")
				return
			}
		}
		if cal := r.PathValue("cal"); cal != "" && (len(cal) > 1024 || strings.ContainsAny(cal, "\x00\n\r")) {
			jsonhttp.Error(w, http.StatusBadRequest, "invalid_id", "calendar id is not valid")
			return
		}
		h(w, r)
	})
}

func (a *api) connect() *connect.Service { return connect.New(a.p) }

func (a *api) now(w http.ResponseWriter, r *http.Request) (time.Time, bool) {
	return httperr.Now(w, r, a.p.Now)
}

// decodeNow decodes a small JSON body (at most 4 KiB) into v and reads the clock,
// answering on failure.
func (a *api) decodeNow(w http.ResponseWriter, r *http.Request, v any) (time.Time, bool) {
	if err := jsonhttp.Decode(w, r, 4<<10, v); err != nil {
		jsonhttp.Fail(w, err)
		return time.Time{}, false
	}
	return a.now(w, r)
}

// connection loads the path's connection, answering 404 when it is not this staff
// member's (tenant isolation: the path is the only way in).
func (a *api) connection(w http.ResponseWriter, r *http.Request) (*store.Connection, bool) {
	c, err := a.p.Store.GetConnection(r.Context(), r.PathValue("tenant"), r.PathValue("staff"), r.PathValue("conn"))
	if errors.Is(err, store.ErrNotFound) {
		jsonhttp.Error(w, http.StatusNotFound, "connection_not_found", "no such connection for this staff member")
		return nil, false
	}
	if err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	return c, true
}

// connectionNow loads the path's connection and reads the clock, answering on failure.
func (a *api) connectionNow(w http.ResponseWriter, r *http.Request) (*store.Connection, time.Time, bool) {
	c, ok := a.connection(w, r)
	if !ok {
		return nil, time.Time{}, false
	}
	now, ok := a.now(w, r)
	return c, now, ok
}

func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *jsonhttp.Problem
	if !errors.As(err, &p) {
		a.p.Log.ErrorContext(r.Context(), "manage: request failed", "path", r.URL.Path, "error", err.Error())
	}
	jsonhttp.Fail(w, err)
}
