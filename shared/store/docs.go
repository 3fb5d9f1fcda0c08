package store

import (
	"context"
	"errors"
	"iter"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
)

// Docs yields the documents q returns, in order, and stops the query's iterator when the
// loop ends. A read error is yielded once, with a nil snapshot, and ends the sequence.
func Docs(ctx context.Context, q firestore.Query) iter.Seq2[*firestore.DocumentSnapshot, error] {
	return func(yield func(*firestore.DocumentSnapshot, error) bool) {
		it := q.Documents(ctx)
		defer it.Stop()
		for {
			snap, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return
			}
			if !yield(snap, err) || err != nil {
				return
			}
		}
	}
}

// stringAt is a document's string field, "" when the document or the field is missing
// or the field holds something else.
func stringAt(snap *firestore.DocumentSnapshot, field string) string {
	v, _ := snap.DataAt(field)
	s, _ := v.(string)
	return s
}

// StaffDocPath splits the path of a document tenants/{t}/staff/{s}/{collection}/{id}
// into its ids; ok is false for any other document.
func StaffDocPath(ref *firestore.DocumentRef, collection string) (tenant, staff, id string, ok bool) {
	if ref == nil || ref.Parent == nil || ref.Parent.ID != collection {
		return "", "", "", false
	}
	s := ref.Parent.Parent
	if s == nil || s.Parent == nil || s.Parent.ID != "staff" {
		return "", "", "", false
	}
	t := s.Parent.Parent
	if t == nil || t.Parent == nil || t.Parent.ID != "tenants" {
		return "", "", "", false
	}
	return t.ID, s.ID, ref.ID, true
}
