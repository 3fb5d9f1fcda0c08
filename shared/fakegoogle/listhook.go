package fakegoogle

import "net/url"

// ListPage describes one events.list request as it arrives, for a ListHook.
type ListPage struct {
	Calendar string
	// Page is the page of the listing this request asks for: 1 without a pageToken, n+1
	// for the token that came with page n.
	Page int
	// Incremental is true when the request carries a syncToken (a full listing carries
	// none).
	Incremental bool
}

// ListHook is called for each events.list request after authentication, before the page
// is served, without the fake's lock held: it may change calendars (a Google-side change
// while a client pages through a listing; the listing itself stays the snapshot taken at
// its first page, as Google's does) or block (a slow answer). A non-nil Fault answers
// this request with Fault.Status/Reason instead of the page (e.g. 410 on page 3, 500 on
// the second page of a full listing); the page token stays valid for a retry.
type ListHook func(ListPage) *Fault

// SetListHook installs h (nil removes it). Tests only; the control API has no
// equivalent.
func (s *Server) SetListHook(h ListHook) {
	s.mu.Lock()
	s.listHook = h
	s.mu.Unlock()
}

// runListHook calls the installed hook, if any, for an events.list request.
func (s *Server) runListHook(calID string, q url.Values) *apiError {
	s.mu.Lock()
	h := s.listHook
	page := 1
	if pt := q.Get("pageToken"); pt != "" {
		if ps := s.pages[pt]; ps != nil {
			page = ps.page + 1
		}
	}
	s.mu.Unlock()
	if h == nil {
		return nil
	}
	f := h(ListPage{Calendar: calID, Page: page, Incremental: q.Get("syncToken") != ""})
	if f == nil {
		return nil
	}
	if f.Status < 400 || f.Status > 599 {
		return errf(500, "backendError", "list hook answered an invalid status")
	}
	return faultError(f, "events.list")
}
