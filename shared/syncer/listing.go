package syncer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/googlecal"
)

func (r *run) horizonEnd() time.Time { return r.now.Add(r.s.horizon()) }

// syncOnce lists and writes every page; it returns the next sync token and, when the
// last page's transaction also finished the pass, what it committed (the caller then does
// not run finish).
func (r *run) syncOnce(ctx context.Context, cal *calendar.Service, forceFull bool) (string, *finishPlan, error) {
	token := r.cal.SyncToken
	horizonEnd := r.cal.HorizonEnd
	if forceFull || token == "" || horizonEnd.Before(r.now.Add(r.s.horizon()-HorizonSlack)) {
		token = ""
	}
	for attempt := 0; attempt < 2; attempt++ {
		full := token == ""
		if full {
			r.st.Full = true
			horizonEnd = r.horizonEnd()
		}
		next, fin, err := r.listAll(ctx, cal, token, full, horizonEnd)
		if err == nil {
			r.cal.SyncToken, r.cal.HorizonEnd = next, horizonEnd
			return next, fin, nil
		}
		if googlecal.Classify(err) == googlecal.ClassGone && !full {
			token = "" // 410: the token is dead — full resync with sweep
			continue
		}
		return "", nil, err
	}
	return "", nil, errors.New("syncer: full listing answered 410")
}

// listAll pages through events.list and writes every page. The last page of an
// incremental listing is written in the transaction that finishes the pass when it fits
// one (writePage); its finishPlan is returned then.
func (r *run) listAll(ctx context.Context, cal *calendar.Service, token string, full bool, horizonEnd time.Time) (string, *finishPlan, error) {
	seen := map[string]bool{}
	pageToken := ""
	for page := 1; ; page++ {
		call := cal.Events.List(r.cal.GoogleID).SingleEvents(true).ShowDeleted(true).MaxResults(r.s.pageSize()).Fields(listFields).Context(ctx)
		if token != "" {
			call = call.SyncToken(token)
		} else {
			call = call.TimeMin(r.now.Add(-r.s.past()).UTC().Format(time.RFC3339))
		}
		if pageToken != "" {
			call = call.PageToken(pageToken)
		}
		r.st.ListCalls++
		t := time.Now()
		resp, err := call.Do()
		t = since(&r.st.Took.List, t)
		if err != nil {
			return "", nil, &googleError{err}
		}
		r.st.Pages++
		last := resp.NextPageToken == ""
		if last && resp.NextSyncToken == "" {
			return "", nil, &googleError{errors.New("events.list: last page without nextSyncToken")}
		}
		// The lease is renewed after each page that more work follows before finish (another
		// page, the sweep); finish checks and extends or releases it itself. The last page of
		// an incremental listing may finish the pass in its own transaction.
		end := pageEnd{renew: !last || full, finish: last && !full, token: resp.NextSyncToken}
		done, err := r.writePage(ctx, resp.Items, horizonEnd, seen, end)
		if err != nil {
			return "", nil, err
		}
		t = since(&r.st.Took.Write, t)
		if end.renew && !done.renewed {
			if err := r.renewLease(ctx); err != nil {
				return "", nil, err
			}
			since(&r.st.Took.Renew, t)
		}
		if r.s.AfterPage != nil {
			if err := r.s.AfterPage(r.ref, page); err != nil {
				return "", nil, fmt.Errorf("%w: %v", ErrCrash, err)
			}
		}
		if last {
			if full {
				t := time.Now()
				if err := r.sweep(ctx, seen); err != nil {
					return "", nil, err
				}
				since(&r.st.Took.Write, t)
			}
			return resp.NextSyncToken, done.fin, nil
		}
		pageToken = resp.NextPageToken
	}
}
