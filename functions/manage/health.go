package manage

import (
	"net/http"
	"time"

	"github.com/belbo/calsync/shared/store"
)

// health is filled in by the operations work (issue 11); nil until then.
func (a *api) health(r *http.Request, c *store.Connection, now time.Time) any { return nil }

func (a *api) resync(w http.ResponseWriter, r *http.Request) {
	a.fail(w, r, errNotImplemented)
}
