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
