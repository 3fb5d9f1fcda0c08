// Package manage is the Manage function: the private management API the booking
// product's backend calls (deployed: IAM-only invocation; locally: a bearer key). It is an
// adapter: the route table, the key check and the path-id check are here; each route is
// served by shared/manageapi (decode, one call into a shared service, encode), and no
// business rule lives in either.
package manage

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/manageapi"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
)

// Config is the configuration Manage reads.
type Config struct {
	config.Platform
	manageapi.Config // Google, Connect, Channels, SyncSchedule, Export
	config.ManageKey
}

func init() { functions.HTTP("Manage", platform.LazyHTTP("Manage", New)) }

// New builds the Manage handler.
func New(p *platform.Platform, cfg Config) (http.Handler, error) {
	c := manageapi.New(p, cfg.Config)
	tenant := "/v1/tenants/{tenant}"
	staff := tenant + "/staff/{staff}"
	routes := map[string]http.HandlerFunc{
		"POST " + staff + "/connections":                       c.StartConnection,
		"GET " + staff + "/connections":                        c.ListConnections,
		"PATCH " + staff + "/connections/{conn}":               c.PatchConnection,
		"DELETE " + staff + "/connections/{conn}":              c.Disconnect,
		"GET " + staff + "/connections/{conn}/calendars":       c.ListCalendars,
		"PUT " + staff + "/connections/{conn}/calendars/{cal}": c.SelectCalendar,
		"POST " + staff + "/connections/{conn}/resync":         c.Resync,
		"GET " + staff + "/events":                             c.ListEvents,
		"GET " + staff + "/availability":                       c.GetAvailability,
		"PUT " + staff + "/availability":                       c.PutAvailability,
		"GET " + staff + "/bookings":                           c.ListBookings,
		"POST " + staff + "/bookings":                          c.CreateBooking,
		"DELETE " + staff + "/bookings/{booking}":              c.CancelBooking,
		"GET " + tenant + "/settings":                          c.GetSettings,
		"PATCH " + tenant + "/settings":                        c.PatchSettings,
		"GET " + tenant + "/services":                          c.ListServices,
		"PUT " + tenant + "/services/{service}":                c.PutService,
		"DELETE " + tenant + "/services/{service}":             c.DeleteService,
		"POST " + tenant + "/erasure/customers":                c.EraseCustomer,
		"DELETE " + staff:                                      c.EraseStaff,
		"DELETE " + tenant:                                     c.EraseTenant,
	}
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.Handle(pattern, scoped(h))
	}
	return auth(cfg.ManageAPIKey, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			jsonhttp.Error(w, http.StatusNotFound, "not_found", "no such route or method")
			return
		}
		mux.ServeHTTP(w, r) // sets the path values
	})), nil
}

// auth checks the local bearer key. Deployed, MANAGE_API_KEY is unset and Cloud Run's IAM
// has already admitted only the backend's service account.
func auth(key string, h http.Handler) http.Handler {
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
func scoped(h http.HandlerFunc) http.Handler {
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
