// Package book is the Book function: the booking widget creates bookings (POST /) and
// customers cancel them with their cancel link (POST /cancel). It is an adapter over
// shared/booking, which re-checks the slot inside a Firestore transaction.
package book

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/booking/cors"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/httperr"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/platform"
)

// TrustedProxyHops is how many proxies of our own stand between the Google Front End and
// Book (0 for the function's own URL; see booking.ClientIP).
const TrustedProxyHops = 0

// Config is the configuration Book reads.
type Config struct {
	config.Platform
	config.Widget
}

func init() { functions.HTTP("Book", platform.LazyHTTP("Book", New)) }

// New builds the handler.
func New(p *platform.Platform, cfg Config) (http.Handler, error) {
	svc := &booking.Service{Store: p.Store, Publish: p.Publish}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{$}", func(w http.ResponseWriter, r *http.Request) { create(p, svc, w, r) })
	mux.HandleFunc("POST /cancel", func(w http.ResponseWriter, r *http.Request) { cancel(p, svc, w, r) })
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if _, pattern := mux.Handler(r); pattern == "" {
			jsonhttp.Error(w, http.StatusNotFound, "not_found", "no such route or method")
			return
		}
		// Book takes no query parameters: anything there is refused, not ignored.
		if r.URL.RawQuery != "" {
			jsonhttp.Error(w, http.StatusBadRequest, "unknown_parameter", "Book takes no query parameters")
			return
		}
		if p := jsonhttp.RequireJSON(r); p != nil {
			jsonhttp.Fail(w, p)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return cors.Wrap(cfg.WidgetOrigins, []string{http.MethodPost}, h), nil
}

// readBody reads at most booking.MaxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, booking.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			jsonhttp.Error(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds 8 KiB")
		} else {
			jsonhttp.Error(w, http.StatusBadRequest, "invalid_body", "request body could not be read")
		}
		return nil, false
	}
	return body, true
}

// Created is the 201 answer.
type Created struct {
	ID          string `json:"id"`
	Start       string `json:"start"`
	End         string `json:"end"`
	Staff       string `json:"staff"`
	CancelToken string `json:"cancelToken"`
}

// writeError answers a booking error through the shared mapping; anything else is logged
// and answered 500.
func writeError(p *platform.Platform, w http.ResponseWriter, r *http.Request, what string, err error) {
	if httperr.Write(w, err) {
		return
	}
	p.Log.ErrorContext(r.Context(), what, "error", err.Error())
	jsonhttp.Error(w, http.StatusInternalServerError, "internal", "internal error")
}

func create(p *platform.Platform, svc *booking.Service, w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	in, err := booking.ParseRequest(body)
	if err != nil {
		writeError(p, w, r, "book: failed", err)
		return
	}
	now, ok := httperr.Now(w, r, p.Now)
	if !ok {
		return
	}
	client := booking.Client{IP: booking.ClientIP(r.Header.Get("X-Forwarded-For"), r.RemoteAddr, TrustedProxyHops)}
	c, err := svc.Book(r.Context(), in, client, now)
	if err != nil {
		writeError(p, w, r, "book: failed", err)
		return
	}
	jsonhttp.Write(w, http.StatusCreated, Created{
		ID: c.Booking.ID, Start: c.Booking.Start.In(c.Zone).Format(time.RFC3339), End: c.Booking.End.In(c.Zone).Format(time.RFC3339),
		Staff: c.Booking.Staff, CancelToken: c.CancelToken,
	})
}

func cancel(p *platform.Platform, svc *booking.Service, w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID          string `json:"id"`
		CancelToken string `json:"cancelToken"`
	}
	if err := jsonhttp.Decode(w, r, booking.MaxBody, &body); err != nil {
		jsonhttp.Fail(w, err)
		return
	}
	now, ok := httperr.Now(w, r, p.Now)
	if !ok {
		return
	}
	switch err := svc.Cancel(r.Context(), body.ID, body.CancelToken, now); {
	case httperr.Write(w, err):
	case err != nil:
		p.Log.ErrorContext(r.Context(), "book: cancel failed", "booking", body.ID, "error", err.Error())
		jsonhttp.Error(w, http.StatusInternalServerError, "internal", "internal error")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
