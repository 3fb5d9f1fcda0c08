package main

import (
	"context"

	"github.com/belbo/calsync/scripts/webui"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/platform"
)

// seedDemo creates the demo Google account (calendars with a recurring series and an
// all-day event) in the fake Google and the working hours of the demo staff members
// (anna, ben) in Firestore; see webui.SeedDemo, which the browser test shares.
func seedDemo(ctx context.Context, p *platform.Platform, fg *fakegoogle.Server) error {
	return webui.SeedDemo(ctx, p, fg)
}
