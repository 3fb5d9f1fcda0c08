package fakegoogle

// Irregular pages. The calendar/v3 discovery document, events.list maxResults:
// "Maximum number of events returned on one result page. The number of events in the
// resulting page may be less than this value, or none at all, even if there are more
// events matching the query. Incomplete pages can be detected by a non-empty
// nextPageToken field in the response."
//
// By default the fake fills every page (maxResults items). With Paging set, each
// events.list page is, with the given probabilities, shorter than asked (1..maxResults-1
// items) or empty (no items, but a nextPageToken) — anywhere in a listing, not only at
// its start. The choices come from one seeded generator, so a test run with the same
// seed and the same calls sees the same pages.

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
)

// maxEmptyRun bounds consecutive empty pages so a listing always ends.
const maxEmptyRun = 3

// Paging makes events.list pages irregular.
type Paging struct {
	// Seed seeds the generator (the same seed and calls give the same pages).
	Seed uint64 `json:"seed"`
	// Short is the probability (0..1) that a page holds fewer items than maxResults.
	Short float64 `json:"short"`
	// Empty is the probability (0..1) that a page in the middle of a listing is empty.
	Empty float64 `json:"empty"`
}

type pagingState struct {
	Paging
	rng *rand.Rand
}

// SetPaging makes events.list pages irregular (nil: every page full again).
func (s *Server) SetPaging(p *Paging) error {
	if p != nil && (p.Short < 0 || p.Short > 1 || p.Empty < 0 || p.Empty > 0.9) {
		return ctlErr(400, "invalid_paging", "short must be within 0..1 and empty within 0..0.9")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == nil {
		s.paging = nil
		return nil
	}
	s.paging = &pagingState{Paging: *p, rng: rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))}
	return nil
}

// pageLen decides how many items the next page of ps holds. Locked.
func (s *Server) pageLen(ps *pageState) int {
	left := len(ps.items) - ps.pos
	if s.paging == nil || ps.kind != "events" || left <= 0 {
		return ps.max
	}
	g := s.paging
	if ps.emptyRun < maxEmptyRun && g.rng.Float64() < g.Empty {
		ps.emptyRun++
		return 0
	}
	ps.emptyRun = 0
	if ps.max > 1 && g.rng.Float64() < g.Short {
		return 1 + g.rng.IntN(ps.max-1)
	}
	return ps.max
}

func (s *Server) handlePagingControl(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		var p Paging
		if err := readControl(r, &p); err != nil {
			writeCtlErr(w, err)
			return
		}
		if err := s.SetPaging(&p); err != nil {
			writeCtlErr(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		_ = s.SetPaging(nil)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeCtlErr(w, ctlErr(405, "method_not_allowed", "use POST or DELETE"))
	}
}

type pageState struct {
	kind, owner, cal string
	items            []json.RawMessage
	pos, max         int
	emptyLeft        int
	emptyRun         int // consecutive irregular empty pages (paging.go)
	syncToken        string
	page             int // pages handed out so far (listhook.go)
}

// nextPage hands out the next page and registers a new page token if more follows.
// Locked.
func (s *Server) nextPage(ps *pageState) ([]json.RawMessage, string) {
	ps.page++
	items := []json.RawMessage{}
	if ps.emptyLeft > 0 {
		ps.emptyLeft--
	} else {
		end := min(ps.pos+s.pageLen(ps), len(ps.items))
		items = append(items, ps.items[ps.pos:end]...)
		ps.pos = end
	}
	if ps.pos >= len(ps.items) && ps.emptyLeft == 0 {
		return items, ""
	}
	tok := randomString(pageTokenRandomLen, tokenChrs)
	if len(s.pages) > 10000 {
		clear(s.pages)
	}
	snap := *ps
	s.pages[tok] = &snap
	return items, tok
}
