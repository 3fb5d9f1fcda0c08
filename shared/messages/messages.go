// Package messages defines the Pub/Sub messages of docs/api.md and decodes them strictly, from
// the raw push envelope Pub/Sub sends and from the CloudEvent functions-framework builds
// of it. A message that cannot be decoded is Permanent: the consumer logs and
// acknowledges it (and dead-letters a copy), it never retries it forever.
package messages

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/belbo/calsync/shared/textutil"
)

// Publisher sends v as a Pub/Sub message to topic (platform.Platform.Publish); every
// service that publishes takes one.
type Publisher func(ctx context.Context, topic string, v any) error

// Sync asks for one calendar to be synced (topic calendar-sync).
type Sync struct {
	Tenant     string `json:"tenant"`
	Staff      string `json:"staff"`
	Connection string `json:"connection"`
	Calendar   string `json:"calendar"` // calendar document id
	Reason     string `json:"reason"`   // push | select | safety | full | poll
	// NotifiedAt is when CalendarWebhook received Google's notification (that instance's
	// wall clock; push messages only). A sync pass that began listing later already
	// covers the change, so the syncer drops the message instead of looping again.
	NotifiedAt time.Time `json:"notifiedAt,omitzero"`
}

// Export asks for one booking to be written to Google (topic calendar-export).
type Export struct {
	Tenant  string `json:"tenant"`
	Staff   string `json:"staff"`
	Booking string `json:"booking"`
	Op      string `json:"op"` // upsert | delete
}

// Renew is the renew-channels payload: empty (a scheduler tick, which fans out) or one
// connection's share of the work.
type Renew struct {
	Tenant     string `json:"tenant,omitempty"`
	Staff      string `json:"staff,omitempty"`
	Connection string `json:"connection,omitempty"`
}

// Envelope is a Pub/Sub push request body, which is also the data of the CloudEvent that
// functions-framework makes of it.
type Envelope struct {
	Message struct {
		Data        []byte            `json:"data"`
		Attributes  map[string]string `json:"attributes"`
		MessageID   string            `json:"messageId"`
		PublishTime string            `json:"publishTime"`
	} `json:"message"`
	Subscription    string `json:"subscription"`
	DeliveryAttempt *int   `json:"deliveryAttempt,omitempty"`
}

// ErrPermanent marks input that will never decode, however often it is retried.
var ErrPermanent = errors.New("permanent")

// MaxData bounds a message's data; every valid message is far smaller.
const MaxData = 8 << 10

// ParseEnvelope decodes a push body or CloudEvent data.
func ParseEnvelope(body []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return e, fmt.Errorf("%w: pubsub envelope: %v", ErrPermanent, err)
	}
	if len(e.Message.Data) > MaxData {
		return e, fmt.Errorf("%w: message data of %d bytes exceeds %d", ErrPermanent, len(e.Message.Data), MaxData)
	}
	return e, nil
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ValidID reports whether s is an acceptable tenant/staff/connection/calendar/booking id:
// 1–128 of [A-Za-z0-9_-], which keeps Firestore paths and logs safe, and not of the form
// __…__, which Firestore reserves (such an id makes every read of it fail with
// InvalidArgument, an internal error to us). Every id taken from a request or a message
// passes this check before it names a document.
func ValidID(s string) bool { return idRe.MatchString(s) && !Reserved(s) }

// Reserved reports whether s matches Firestore's reserved id pattern __.*__.
func Reserved(s string) bool {
	return len(s) >= 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__")
}

func strict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data", ErrPermanent)
	}
	return nil
}

func need(fields map[string]string) error {
	for name, v := range fields {
		if !ValidID(v) {
			return fmt.Errorf("%w: field %s: %s", ErrPermanent, name, strconv.Quote(shorten(v)))
		}
	}
	return nil
}

// shorten shortens an invalid value quoted in an error (rune-safe, at most 40 bytes).
func shorten(s string) string {
	if len(s) > 40 {
		return textutil.Truncate(s, 40) + "…"
	}
	return s
}

// DecodeSync parses and validates a calendar-sync message.
func DecodeSync(data []byte) (Sync, error) {
	var m Sync
	if err := strict(data, &m); err != nil {
		return m, fmt.Errorf("decode sync message: %w", err)
	}
	if err := need(map[string]string{"tenant": m.Tenant, "staff": m.Staff, "connection": m.Connection, "calendar": m.Calendar}); err != nil {
		return m, fmt.Errorf("decode sync message: %w", err)
	}
	switch m.Reason {
	case "push", "select", "safety", "full", "poll":
	default:
		return m, fmt.Errorf("decode sync message: %w: reason %s", ErrPermanent, strconv.Quote(shorten(m.Reason)))
	}
	return m, nil
}

// DecodeExport parses and validates a calendar-export message.
func DecodeExport(data []byte) (Export, error) {
	var m Export
	if err := strict(data, &m); err != nil {
		return m, fmt.Errorf("decode export message: %w", err)
	}
	if err := need(map[string]string{"tenant": m.Tenant, "staff": m.Staff, "booking": m.Booking}); err != nil {
		return m, fmt.Errorf("decode export message: %w", err)
	}
	if m.Op != "upsert" && m.Op != "delete" {
		return m, fmt.Errorf("decode export message: %w: op %s", ErrPermanent, strconv.Quote(shorten(m.Op)))
	}
	return m, nil
}

// DecodeRenew parses a renew-channels message: anything that is not a well-formed
// per-connection request is a scheduler tick (docs/api.md: "any payload").
func DecodeRenew(data []byte) Renew {
	var m Renew
	if json.Unmarshal(data, &m) != nil {
		return Renew{}
	}
	if ValidID(m.Tenant) && ValidID(m.Staff) && ValidID(m.Connection) {
		return m
	}
	return Renew{}
}
