package syncer

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/store"
)

// sweep deletes stored events a full listing did not return (and their busy items).
func (r *run) sweep(ctx context.Context, seen map[string]bool) error {
	snaps, err := r.s.Store.EventMonths(ctx, r.ref)
	if err != nil {
		return fmt.Errorf("sweep events of %s: %w", r.ref, err)
	}
	busy := map[string]map[string]any{}
	var dels []write
	for _, snap := range snaps {
		id := snap.Ref.ID
		if seen[id] {
			continue
		}
		for _, m := range storedMonths(snap) {
			addBusy(busy, m, id, firestore.Delete)
		}
		dels = append(dels, write{ref: snap.Ref, del: true})
	}
	// Busy items without a listed event (left by anything that went wrong before) go too.
	months, err := r.s.Store.CalendarBusyMonths(ctx, r.ref)
	if err != nil {
		return fmt.Errorf("sweep busy of %s: %w", r.ref, err)
	}
	for _, bm := range months {
		for id := range bm.Items {
			if !seen[id] {
				addBusy(busy, bm.Month, id, firestore.Delete)
			}
		}
	}
	var p2 []write
	for m, its := range busy {
		paths := []firestore.FieldPath{}
		for id := range its {
			paths = append(paths, firestore.FieldPath{"items", id})
		}
		doc := r.s.Store.Busy(r.ref.Tenant, r.ref.Staff).Doc(store.BusyDocID(r.ref.Connection, r.ref.Calendar, m))
		p2 = append(p2, write{ref: doc, data: map[string]any{"items": its}, merge: paths})
	}
	if err := r.commit(ctx, p2); err != nil {
		return err
	}
	if err := r.commit(ctx, dels); err != nil {
		return err
	}
	r.st.Deleted += len(dels)
	return nil
}
