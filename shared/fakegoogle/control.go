package fakegoogle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"google.golang.org/api/calendar/v3"
)

// ControlError is an error of the control API / Go control methods; it maps to
// {"error":{"code":"snake_case","message":"…"}} with Status.
type ControlError struct {
	Status  int
	Code    string
	Message string
}

func (e *ControlError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func ctlErr(status int, code, msg string) *ControlError {
	return &ControlError{Status: status, Code: code, Message: msg}
}

func fromAPIErr(e *apiError) error {
	if e == nil {
		return nil
	}
	code := map[int]string{400: "invalid_event", 404: "not_found", 409: "duplicate", 410: "deleted"}[e.code]
	if code == "" {
		code = "error"
	}
	return &ControlError{Status: e.code, Code: code, Message: e.message}
}

func writeCtlErr(w http.ResponseWriter, err error) {
	var ce *ControlError
	if !errors.As(err, &ce) {
		ce = ctlErr(400, "bad_request", err.Error())
	}
	writeJSON(w, ce.Status, map[string]any{"error": map[string]string{"code": ce.Code, "message": ce.Message}})
}

// decodeControl decodes a control API JSON body strictly (unknown fields are errors).
func decodeControl(data []byte, v any) error {
	if len(strings.TrimSpace(string(data))) == 0 {
		return ctlErr(400, "empty_body", "a JSON body is required")
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return ctlErr(400, "invalid_json", err.Error())
	}
	if dec.More() {
		return ctlErr(400, "invalid_json", "trailing data after the JSON value")
	}
	return nil
}

func readControl(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return ctlErr(413, "body_too_large", "body too large or unreadable")
	}
	return decodeControl(b, v)
}

func (s *Server) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/_fake/", func(w http.ResponseWriter, r *http.Request) {
		writeCtlErr(w, ctlErr(404, "not_found", "unknown control route"))
	})
	mux.HandleFunc("/_fake/accounts", listCreateRoute("accounts", s.Accounts, s.CreateAccount))
	s.listControlRoutes(mux)
	mux.HandleFunc("/_fake/accounts/{email}/revoke", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use POST"))
			return
		}
		s.RevokeAccount(r.PathValue("email"))
		w.WriteHeader(204)
	})
	mux.HandleFunc("/_fake/calendars", listCreateRoute("calendars", s.Calendars, s.CreateCalendar))
	mux.HandleFunc("/_fake/calendars/{cal}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("cal")
		switch r.Method {
		case http.MethodPatch:
			var p CalendarPatch
			if err := readControl(r, &p); err != nil {
				writeCtlErr(w, err)
				return
			}
			out, err := s.UpdateCalendar(id, p)
			if err != nil {
				writeCtlErr(w, err)
				return
			}
			writeJSON(w, 200, out)
		case http.MethodDelete:
			if err := s.DeleteCalendar(id); err != nil {
				writeCtlErr(w, err)
				return
			}
			w.WriteHeader(204)
		default:
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use PATCH or DELETE"))
		}
	})
	mux.HandleFunc("/_fake/calendars/{cal}/invalidateSyncTokens", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use POST"))
			return
		}
		if err := s.InvalidateSyncTokens(r.PathValue("cal")); err != nil {
			writeCtlErr(w, err)
			return
		}
		w.WriteHeader(204)
	})
	mux.HandleFunc("/_fake/calendars/{cal}/events", func(w http.ResponseWriter, r *http.Request) {
		cal := r.PathValue("cal")
		switch r.Method {
		case http.MethodGet:
			q := r.URL.Query()
			var tmin, tmax time.Time
			for name, dst := range map[string]*time.Time{"timeMin": &tmin, "timeMax": &tmax} {
				if v := q.Get(name); v != "" {
					t, err := time.Parse(time.RFC3339, v)
					if err != nil {
						writeCtlErr(w, ctlErr(400, "invalid_time", name+" must be RFC 3339"))
						return
					}
					*dst = t
				}
			}
			s.mu.Lock()
			_, err := s.calByID(cal)
			s.mu.Unlock()
			if err != nil {
				writeCtlErr(w, err)
				return
			}
			writeJSON(w, 200, map[string]any{"items": s.Events(cal, q.Get("singleEvents") == "true", tmin, tmax)})
		case http.MethodPost:
			b, err := io.ReadAll(r.Body)
			if err != nil {
				writeCtlErr(w, ctlErr(413, "body_too_large", "body too large"))
				return
			}
			var ev calendar.Event
			if err := decodeControl(b, &ev); err != nil {
				writeCtlErr(w, err)
				return
			}
			out, err := s.CreateEvent(cal, &ev)
			if err != nil {
				writeCtlErr(w, err)
				return
			}
			writeJSON(w, 201, out)
		default:
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use GET or POST"))
		}
	})
	mux.HandleFunc("/_fake/calendars/{cal}/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		cal, id := r.PathValue("cal"), r.PathValue("id")
		switch r.Method {
		case http.MethodGet:
			ev := s.Event(cal, id)
			if ev == nil {
				writeCtlErr(w, ctlErr(404, "not_found", "no such event"))
				return
			}
			writeJSON(w, 200, ev)
		case http.MethodPatch:
			b, err := io.ReadAll(r.Body)
			if err != nil {
				writeCtlErr(w, ctlErr(413, "body_too_large", "body too large"))
				return
			}
			var probe map[string]any
			if err := decodeControl(b, &probe); err != nil {
				writeCtlErr(w, err)
				return
			}
			out, err := s.PatchEventJSON(cal, id, b)
			if err != nil {
				writeCtlErr(w, err)
				return
			}
			writeJSON(w, 200, out)
		case http.MethodDelete:
			if err := s.DeleteEvent(cal, id); err != nil {
				writeCtlErr(w, err)
				return
			}
			w.WriteHeader(204)
		default:
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use GET, PATCH or DELETE"))
		}
	})
	s.extraControlRoutes(mux)
	mux.HandleFunc("/_fake/clock", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprint(w, s.Now().Format(time.RFC3339Nano))
		case http.MethodPost:
			var b struct {
				Set     string `json:"set"`
				Advance string `json:"advance"`
			}
			if err := readControl(r, &b); err != nil {
				writeCtlErr(w, err)
				return
			}
			if err := s.applyClock(b.Set, b.Advance); err != nil {
				writeCtlErr(w, err)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprint(w, s.Now().Format(time.RFC3339Nano))
		default:
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use GET or POST"))
		}
	})
	mux.HandleFunc("/_fake/faults", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, map[string]any{"faults": s.Faults()})
		case http.MethodPost:
			var f Fault
			if err := readControl(r, &f); err != nil {
				writeCtlErr(w, err)
				return
			}
			if err := s.AddFault(f); err != nil {
				writeCtlErr(w, err)
				return
			}
			w.WriteHeader(204)
		case http.MethodDelete:
			s.ClearFaults()
			w.WriteHeader(204)
		default:
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use GET, POST or DELETE"))
		}
	})
	get := func(path string, f func() any) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet {
				writeCtlErr(w, ctlErr(405, "method_not_allowed", "use GET"))
				return
			}
			writeJSON(w, 200, f())
		})
	}
	get("/_fake/channels", func() any { return map[string]any{"channels": s.Channels()} })
	get("/_fake/deliveries", func() any { return map[string]any{"deliveries": s.Deliveries()} })
	get("/_fake/grants", func() any { return map[string]any{"grants": s.Grants(), "revoked": s.RevokedGrants()} })
	get("/_fake/authRequests", func() any { return map[string]any{"authRequests": s.AuthRequests()} })
	get("/_fake/calls", func() any { return s.callsView() })
	mux.HandleFunc("/_fake/idle", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := s.WaitIdle(ctx); err != nil {
			writeCtlErr(w, ctlErr(504, "timeout", "deliveries still in flight"))
			return
		}
		w.WriteHeader(204)
	})
	mux.HandleFunc("/_fake/seed-demo", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use POST"))
			return
		}
		if err := s.SeedDemo(); err != nil {
			writeCtlErr(w, err)
			return
		}
		w.WriteHeader(204)
	})
}

// listCreateRoute serves a control collection: GET lists it as {key: list()}, POST
// creates one item from a strict JSON body (201 with the created item).
func listCreateRoute[T any](key string, list func() []T, create func(T) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, map[string]any{key: list()})
		case http.MethodPost:
			var in T
			if err := readControl(r, &in); err != nil {
				writeCtlErr(w, err)
				return
			}
			out, err := create(in)
			if err != nil {
				writeCtlErr(w, err)
				return
			}
			writeJSON(w, 201, out)
		default:
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use GET or POST"))
		}
	}
}

func (s *Server) applyClock(set, advance string) error {
	switch {
	case set != "" && advance != "":
		return ctlErr(400, "ambiguous", "give either set or advance")
	case set != "":
		t, err := time.Parse(time.RFC3339Nano, set)
		if err != nil {
			return ctlErr(400, "invalid_time", "set must be RFC 3339")
		}
		s.SetTime(t)
	case advance != "":
		d, err := time.ParseDuration(advance)
		if err != nil {
			return ctlErr(400, "invalid_duration", "advance must be a Go duration like 90m")
		}
		s.Advance(d)
	default:
		return ctlErr(400, "missing_field", "give set or advance")
	}
	return nil
}
