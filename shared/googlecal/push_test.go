package googlecal

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/api/googleapi"
)

func TestPushNotSupported(t *testing.T) {
	t.Parallel()
	refused := &googleapi.Error{Code: 400, Errors: []googleapi.ErrorItem{{Reason: ReasonPushNotSupported}}}
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"refused":          {refused, true},
		"wrapped":          {fmt.Errorf("watch calendar x: %w", refused), true},
		"other 400":        {&googleapi.Error{Code: 400, Errors: []googleapi.ErrorItem{{Reason: "invalid"}}}, false},
		"404":              {&googleapi.Error{Code: 404, Errors: []googleapi.ErrorItem{{Reason: ReasonPushNotSupported}}}, false},
		"not a google err": {errors.New(ReasonPushNotSupported), false},
		"nil":              {nil, false},
	} {
		if got := PushNotSupported(tc.err); got != tc.want {
			t.Errorf("%s: PushNotSupported = %v, want %v", name, got, tc.want)
		}
	}
}
