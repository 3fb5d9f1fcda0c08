package googlecal

import (
	"errors"
	"net/http"

	"google.golang.org/api/googleapi"
)

// ReasonPushNotSupported is the reason events.watch answers (400) for calendars Google
// generates rather than stores — public holidays, birthdays from Contacts, week numbers.
const ReasonPushNotSupported = "pushNotSupportedForRequestedResource"

// PushNotSupported reports whether err is Google refusing a watch channel for good: the
// calendar can only be polled. Asking again will not change the answer.
func PushNotSupported(err error) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == http.StatusBadRequest && hasReason(ge, ReasonPushNotSupported)
}
