package store

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"
)

// SyncModePoll is Calendar.SyncMode of a calendar that cannot be watched.
const SyncModePoll = "poll"

// SetPollMode puts a calendar Google cannot watch into polling mode: no channel, and
// channelExpiry removed, so the renewal tick's channel query no longer finds it (it would
// try events.watch again every tick); the poll scan (PollDue) finds it instead.
func (s *Store) SetPollMode(ctx context.Context, c CalRef) error {
	_, err := s.Doc(c).Update(ctx, []firestore.Update{
		{Path: "syncMode", Value: SyncModePoll}, {Path: "channel", Value: nil}, {Path: "channelExpiry", Value: firestore.Delete},
	})
	if NotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("set poll mode of %s: %w", c, err)
	}
	return nil
}

// IsConnectionDoc reports whether ref is a connection document
// (tenants/{t}/staff/{s}/connections/{c}).
func IsConnectionDoc(ref *firestore.DocumentRef) bool {
	return ref != nil && ref.Parent != nil && ref.Parent.ID == "connections"
}
