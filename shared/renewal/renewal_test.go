package renewal

import (
	"testing"
	"time"

	"github.com/belbo/calsync/shared/store"
)

func TestRenewNeed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)
	r := &Renewer{Margin: 24 * time.Hour}
	ch := &store.Channel{ID: "ch-1", ResourceID: "res", TokenHash: "h", Expiry: now.Add(72 * time.Hour)}
	good := map[string]*store.ChannelLookup{"ch-1": {ResourceID: "res", TokenHash: "h"}}
	cal := func(sel bool, c *store.Channel, st renewState) *calDoc {
		return &calDoc{Calendar: store.Calendar{Selected: sel, Channel: c}, Renewal: &st}
	}
	with := func(exp time.Time) *store.Channel { c := *ch; c.Expiry = exp; return &c }
	poll := func(c *calDoc) *calDoc { c.SyncMode = store.SyncModePoll; return c }
	for name, tc := range map[string]struct {
		c       *calDoc
		lookups map[string]*store.ChannelLookup
		want    string
	}{
		"fresh":              {cal(true, ch, renewState{}), good, ""},
		"missing":            {cal(true, nil, renewState{}), good, needMissing},
		"expired":            {cal(true, with(now), renewState{}), good, needExpired},
		"expiring":           {cal(true, with(now.Add(23*time.Hour)), renewState{}), good, needExpiring},
		"lookup gone":        {cal(true, ch, renewState{}), map[string]*store.ChannelLookup{}, needRejected},
		"lookup other token": {cal(true, ch, renewState{}), map[string]*store.ChannelLookup{"ch-1": {ResourceID: "res", TokenHash: "x"}}, needRejected},
		"lookups unknown":    {cal(true, ch, renewState{}), nil, ""},
		"retired leftovers":  {cal(true, ch, renewState{Retired: []chanRef{{"ch-0", "res"}}}), good, needCleanup},
		"dead pending":       {cal(true, ch, renewState{Pending: &chanRef{"ch-2", "res"}, Until: now.Add(-time.Second)}), good, needCleanup},
		"live pending":       {cal(true, ch, renewState{Pending: &chanRef{"ch-2", "res"}, Until: now.Add(time.Minute)}), good, ""},
		"unselected clean":   {cal(false, nil, renewState{}), nil, ""},
		"unselected channel": {cal(false, ch, renewState{}), nil, needCleanup},
		// Polling mode (Google cannot watch the calendar): never a new channel.
		"polled":           {poll(cal(true, nil, renewState{})), good, ""},
		"polled leftovers": {poll(cal(true, nil, renewState{Retired: []chanRef{{"ch-0", "res"}}})), good, needCleanup},
	} {
		if got := r.need(tc.c, tc.lookups, now); got != tc.want {
			t.Errorf("%s: need = %q, want %q", name, got, tc.want)
		}
	}
}

// TestListEveryRidesWithTheSafetyNet: the calendar-list pass runs on the safety net's tick
// (its interval, at least hourly) unless an interval is set, so an idle account costs one
// round per safety interval.
func TestListEveryRidesWithTheSafetyNet(t *testing.T) {
	for _, tc := range []struct{ list, safety, want time.Duration }{
		{0, 6 * time.Hour, 6 * time.Hour},
		{0, 30 * time.Minute, time.Hour},
		{0, 0, DefaultListInterval},
		{2 * time.Hour, 6 * time.Hour, 2 * time.Hour},
	} {
		if got := ListEvery(tc.list, tc.safety); got != tc.want {
			t.Errorf("ListEvery(%v, %v) = %v, want %v", tc.list, tc.safety, got, tc.want)
		}
	}
	r := &Renewer{}
	if r.listEvery() != DefaultSafetyInterval || r.safety() != DefaultSafetyInterval {
		t.Errorf("defaults: list every %v, safety %v", r.listEvery(), r.safety())
	}
}
