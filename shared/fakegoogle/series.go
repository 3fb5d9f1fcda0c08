package fakegoogle

// The window of cancelled instances after a series is deleted.
//
// A user report (googleapis/google-api-ruby-client#860, 2020, closed without an answer
// from Google): after a recurring event is deleted, events.list with singleEvents=true
// returns the instances as `cancelled` only for about six months ahead; the instances
// beyond stay in a client's store. Google's documentation does not state such a limit
// (the discovery document only says deleted events "will eventually disappear, so do not
// rely on them being available indefinitely"), so the length is uncertain and the
// behaviour is off by default. Options.CancelledInstancesWindow (or the control API) turns
// it on: a singleEvents=true listing (full with showDeleted, or incremental) then omits
// the cancelled instances of a deleted or shrunk series whose original start lies more
// than the window after the moment the series changed. The master (singleEvents=false)
// is still reported cancelled, and events.get still answers `cancelled`.

import (
	"net/http"
	"time"
)

// SetCancelledInstancesWindow sets the window (0 = every cancelled instance is reported).
func (s *Server) SetCancelledInstancesWindow(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancelWin = max(d, 0)
}

// beyondCancelWindow reports whether a series-vanished instance tombstone lies beyond the
// window and is therefore left out of singleEvents listings. Locked.
func (s *Server) beyondCancelWindow(c *calData, rec *eventRec) bool {
	if s.cancelWin <= 0 || !rec.vanished || !rec.cancelled() {
		return false
	}
	orig := rec.ev.OriginalStartTime
	if orig == nil {
		orig = rec.ev.Start
	}
	p, err := parseEDT(orig, c.loc(), "start")
	if err != nil {
		return false
	}
	changed, perr := time.Parse(time.RFC3339Nano, rec.ev.Updated)
	if perr != nil {
		return false
	}
	return p.instant(c.loc()).After(changed.Add(s.cancelWin))
}

func (s *Server) handleCancelWindowControl(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeCtlErr(w, ctlErr(405, "method_not_allowed", "use POST"))
		return
	}
	var b struct {
		Window string `json:"window"`
	}
	if err := readControl(r, &b); err != nil {
		writeCtlErr(w, err)
		return
	}
	d, err := time.ParseDuration(b.Window)
	if err != nil || d < 0 {
		writeCtlErr(w, ctlErr(400, "invalid_window", "window must be a Go duration >= 0, e.g. 4392h"))
		return
	}
	s.SetCancelledInstancesWindow(d)
	w.WriteHeader(http.StatusNoContent)
}
