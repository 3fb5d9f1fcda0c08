package manageapi

import (
	"testing"

	"github.com/belbo/calsync/shared/store"
)

// A calendar is writable exactly when the account owns it or may write to it.
func TestCalJSONWritable(t *testing.T) {
	t.Parallel()
	for role, want := range map[string]bool{"owner": true, "writer": true, "reader": false, "freeBusyReader": false, "": false} {
		c := calJSON(&store.Calendar{GoogleID: "a@x", Name: "A", Color: "#1", AccessRole: role, Selected: true})
		if c.Writable != want || c.ID != "a@x" || c.Name != "A" || c.Color != "#1" || !c.Selected {
			t.Errorf("%q: %+v", role, c)
		}
	}
}
