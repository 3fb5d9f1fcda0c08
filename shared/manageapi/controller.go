// Package manageapi is the HTTP side of Manage, the private management API the booking
// product's backend calls (docs/api.md). There is one file per resource; each handler
// decodes the request, makes one call into the service that owns the rule
// (shared/connect, shared/syncer, shared/events, shared/booking, shared/erasure, or
// shared/store for plain documents) and encodes the answer or maps the service's
// errors. The route table, the bearer-key check and the path-id check are
// functions/manage's; a handler may rely on the path ids being valid.
package manageapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/httperr"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
)

// Config is the configuration the management API reads: the connect flows' (with the sync
// schedule each listed connection's health is judged against) and the exported fields an
// erasure rebuilds events with.
type Config struct {
	connect.Config
	config.Export
}

// Controller serves the management API's resources on one function's platform.
type Controller struct {
	p   *platform.Platform
	cfg Config
}

// New builds the controller.
func New(p *platform.Platform, cfg Config) *Controller { return &Controller{p: p, cfg: cfg} }

func (c *Controller) connect() *connect.Service { return connect.New(c.p, c.cfg.Config) }

func (c *Controller) now(w http.ResponseWriter, r *http.Request) (time.Time, bool) {
	return httperr.Now(w, r, c.p.Now)
}

// decodeNow decodes a small JSON body (at most 4 KiB) into v and reads the clock,
// answering on failure.
func (c *Controller) decodeNow(w http.ResponseWriter, r *http.Request, v any) (time.Time, bool) {
	if err := jsonhttp.Decode(w, r, 4<<10, v); err != nil {
		jsonhttp.Fail(w, err)
		return time.Time{}, false
	}
	return c.now(w, r)
}

// connection loads the path's connection, answering 404 when it is not this staff
// member's (tenant isolation: the path is the only way in).
func (c *Controller) connection(w http.ResponseWriter, r *http.Request) (*store.Connection, bool) {
	conn, err := c.p.Store.GetConnection(r.Context(), r.PathValue("tenant"), r.PathValue("staff"), r.PathValue("conn"))
	if errors.Is(err, store.ErrNotFound) {
		jsonhttp.Error(w, http.StatusNotFound, "connection_not_found", "no such connection for this staff member")
		return nil, false
	}
	if err != nil {
		c.fail(w, r, err)
		return nil, false
	}
	return conn, true
}

// connectionNow loads the path's connection and reads the clock, answering on failure.
func (c *Controller) connectionNow(w http.ResponseWriter, r *http.Request) (*store.Connection, time.Time, bool) {
	conn, ok := c.connection(w, r)
	if !ok {
		return nil, time.Time{}, false
	}
	now, ok := c.now(w, r)
	return conn, now, ok
}

// fail answers an error no handler mapped: a *jsonhttp.Problem as it says, anything else
// logged and 500.
func (c *Controller) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *jsonhttp.Problem
	if !errors.As(err, &p) {
		c.p.Log.ErrorContext(r.Context(), "manage: request failed", "path", r.URL.Path, "error", err.Error())
	}
	jsonhttp.Fail(w, err)
}

// domainError answers a domain error the way every HTTP function does (shared/httperr),
// anything else as fail.
func (c *Controller) domainError(w http.ResponseWriter, r *http.Request, err error) {
	if !httperr.Write(w, err) {
		c.fail(w, r, err)
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
