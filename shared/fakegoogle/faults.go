package fakegoogle

// Injected faults (AddFault, POST /_fake/faults) and how a call takes them.

import (
	"fmt"
	"net/http"
	"time"
)

// Fault is one injected fault (control API POST /_fake/faults).
type Fault struct {
	// Op is events.list, events.get, events.insert, events.patch, events.update,
	// events.delete, events.watch, events.instances, channels.stop, calendarList.list,
	// token, userinfo, revoke or * (any).
	Op       string `json:"op,omitempty"`
	Calendar string `json:"calendar,omitempty"`
	Status   int    `json:"status,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
	// Count is how many matching calls are affected (default 1).
	Count int `json:"count,omitempty"`
	// Latency delays matching calls (real time), e.g. "200ms".
	Latency string `json:"latency,omitempty"`
	// EmptyPages makes the next matching events.list listing start with that many
	// empty pages that carry a nextPageToken.
	EmptyPages int `json:"emptyPages,omitempty"`
	// Push is "drop" or "duplicate": the next Count notifications (or, for drop with
	// Until, every notification until that fake time) are dropped or sent twice.
	Push  string `json:"push,omitempty"`
	Until string `json:"until,omitempty"`
	// NoRefreshToken makes the next Count code exchanges return no refresh_token.
	NoRefreshToken bool `json:"noRefreshToken,omitempty"`
	// InvalidateSyncTokens invalidates every sync token of that calendar (→ 410).
	InvalidateSyncTokens string `json:"invalidateSyncTokens,omitempty"`
	// ExpireAccessToken makes the matching calls' access token expire just before they
	// are served: they answer 401 authError, the refresh token stays valid (tokens.go).
	ExpireAccessToken bool `json:"expireAccessToken,omitempty"`
	// UserRateLimit, when > 0, limits every account to that many Calendar API calls per
	// fake-clock minute (403 rateLimitExceeded beyond); -1 removes the limit.
	UserRateLimit int `json:"userRateLimit,omitempty"`

	latency time.Duration
}

// AddFault queues a fault. It validates the fault like the control API does.
func (s *Server) AddFault(f Fault) error {
	if f.Count < 0 {
		return ctlErr(400, "invalid_count", "count must be >= 0")
	}
	if f.Count == 0 {
		f.Count = 1
	}
	switch {
	case f.InvalidateSyncTokens != "":
		return s.InvalidateSyncTokens(f.InvalidateSyncTokens)
	case f.UserRateLimit != 0:
		s.mu.Lock()
		s.rateLimit = max(f.UserRateLimit, 0)
		s.mu.Unlock()
		return nil
	case f.NoRefreshToken:
		s.mu.Lock()
		s.noRefreshN += f.Count
		s.mu.Unlock()
		return nil
	case f.Push != "":
		s.mu.Lock()
		defer s.mu.Unlock()
		switch f.Push {
		case "drop":
			if f.Until != "" {
				t, err := time.Parse(time.RFC3339, f.Until)
				if err != nil {
					return ctlErr(400, "invalid_until", "until must be RFC 3339")
				}
				s.dropUntil = t
				return nil
			}
			s.pushDropN += f.Count
		case "duplicate":
			s.pushDupN += f.Count
		default:
			return ctlErr(400, "invalid_push", "push must be drop or duplicate")
		}
		return nil
	}
	if f.Op == "" {
		return ctlErr(400, "missing_op", "op is required")
	}
	if !knownOps[f.Op] {
		return ctlErr(400, "unknown_op", fmt.Sprintf("unknown op %q", f.Op))
	}
	if f.Latency != "" {
		d, err := time.ParseDuration(f.Latency)
		if err != nil || d < 0 || d > time.Minute {
			return ctlErr(400, "invalid_latency", "latency must be a Go duration between 0 and 1m")
		}
		f.latency = d
	} else if f.EmptyPages > 0 {
		if f.EmptyPages > 100 {
			return ctlErr(400, "invalid_empty_pages", "emptyPages must be <= 100")
		}
		if f.Op != "events.list" {
			return ctlErr(400, "invalid_op", "emptyPages applies to events.list")
		}
	} else if f.ExpireAccessToken {
		if f.Status != 0 || f.Op == "token" || f.Op == "revoke" || f.Op == "userinfo" {
			return ctlErr(400, "invalid_fault", "expireAccessToken takes no status and applies to Calendar API ops")
		}
	} else {
		if f.Status < 400 || f.Status > 599 {
			return ctlErr(400, "invalid_status", "status must be 4xx or 5xx")
		}
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
	return nil
}

// ClearFaults removes every queued fault and push fault and the rate limit.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.noRefreshN, s.pushDropN, s.pushDupN = 0, 0, 0
	s.dropUntil = time.Time{}
	s.rateLimit = 0
}

// Faults lists the queued call faults.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out
}

var knownOps = map[string]bool{
	"*": true, "events.list": true, "events.get": true, "events.insert": true, "events.patch": true,
	"events.update": true, "events.delete": true, "events.watch": true, "events.instances": true,
	"channels.stop": true, "calendarList.list": true, "calendarList.get": true, "calendarList.watch": true,
	"token": true, "userinfo": true, "revoke": true,
}

func defaultReason(status int, op string) string {
	switch status {
	case 429:
		return "rateLimitExceeded"
	case 403:
		return "rateLimitExceeded"
	case 410:
		if op == "events.list" {
			return "fullSyncRequired"
		}
		return "deleted"
	case 404:
		return "notFound"
	case 401:
		return "authError"
	case 400:
		return "badRequest"
	case 409:
		return "conflict"
	}
	return "backendError"
}

// takeFault finds the first matching fault for op/calendar, applies its latency and
// returns the status fault to answer with (nil if none). It also counts the call.
func (s *Server) takeFault(op, cal, acct string) (*Fault, int) {
	s.mu.Lock()
	s.calls[op]++
	if acct != "" {
		s.callsByMin[callKey{acct, s.now().Truncate(time.Minute)}]++
		if s.callsByAcct[acct] == nil {
			s.callsByAcct[acct] = map[string]int{}
		}
		s.callsByAcct[acct][op]++
	}
	var delay time.Duration
	var hit *Fault
	empty := 0
	kept := s.faults[:0]
	for _, f := range s.faults {
		match := f.Count > 0 && (f.Op == "*" || f.Op == op) && (f.Calendar == "" || f.Calendar == cal)
		if match {
			switch {
			case f.latency > 0:
				delay += f.latency
				f.Count--
			case f.EmptyPages > 0:
				if empty == 0 {
					empty = f.EmptyPages
					f.Count--
				}
			case hit == nil:
				c := *f
				hit = &c
				f.Count--
			}
		}
		if f.Count > 0 {
			kept = append(kept, f)
		}
	}
	s.faults = kept
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	return hit, empty
}

func faultError(f *Fault, op string) *apiError {
	reason := f.Reason
	if reason == "" {
		reason = defaultReason(f.Status, op)
	}
	msg := f.Message
	if msg == "" {
		switch reason {
		case "rateLimitExceeded":
			msg = "Rate Limit Exceeded"
		case "fullSyncRequired":
			msg = "Sync token is no longer valid, a full sync is required."
		case "backendError":
			msg = "Backend Error"
		default:
			msg = http.StatusText(f.Status)
		}
	}
	return &apiError{code: f.Status, reason: reason, message: msg}
}
