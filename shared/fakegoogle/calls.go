package fakegoogle

// Call accounting (Calls, CallsByAccount, CallsPerMinute, GET /_fake/calls) and the
// per-account rate limit (fault userRateLimit).

import (
	"sort"
	"strings"
	"time"
)

type callKey struct {
	account string
	minute  time.Time
}

func (s *Server) checkRate(acct string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rateLimit > 0 && s.callsByMin[callKey{acct, s.now().Truncate(time.Minute)}] > s.rateLimit {
		return &apiError{code: 403, reason: "rateLimitExceeded", message: "Rate Limit Exceeded"}
	}
	return nil
}

// Calls returns how many calls of an operation (e.g. "events.list") the fake served,
// including failed ones. "" sums every operation.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "" {
		n := 0
		for _, c := range s.calls {
			n += c
		}
		return n
	}
	return s.calls[op]
}

// CallsPerMinute returns an account's authenticated Calendar/userinfo calls per
// fake-clock minute.
func (s *Server) CallsPerMinute(email string) map[time.Time]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[time.Time]int{}
	for k, n := range s.callsByMin {
		if k.account == strings.ToLower(email) {
			out[k.minute] = n
		}
	}
	return out
}

// ResetCalls zeroes the call counters.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.callsByMin = map[callKey]int{}
	s.callsByAcct = map[string]map[string]int{}
}

// CallsByAccount returns how many authenticated calls of op ("" = all) an account made.
func (s *Server) CallsByAccount(email, op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for o, c := range s.callsByAcct[strings.ToLower(email)] {
		if op == "" || o == op {
			n += c
		}
	}
	return n
}

type callsMinute struct {
	Account string    `json:"account"`
	Minute  time.Time `json:"minute"`
	Count   int       `json:"count"`
}

func (s *Server) callsView() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	byOp := map[string]int{}
	for k, v := range s.calls {
		byOp[k] = v
	}
	var mins []callsMinute
	for k, v := range s.callsByMin {
		mins = append(mins, callsMinute{Account: k.account, Minute: k.minute, Count: v})
	}
	sort.Slice(mins, func(i, j int) bool {
		if mins[i].Account != mins[j].Account {
			return mins[i].Account < mins[j].Account
		}
		return mins[i].Minute.Before(mins[j].Minute)
	})
	return map[string]any{"byOp": byOp, "byAccountMinute": mins}
}
