// Package calendarwebhook is the CalendarWebhook function. It receives Google's push
// notifications and publishes one sync message per change (DESIGN.md "Push").
//
// Per request: headers only (the body is never read), one Firestore read
// (channels/{X-Goog-Channel-ID}), a constant-time comparison of the SHA-256 of
// X-Goog-Channel-Token with the stored hash, and X-Goog-Resource-ID must match the
// channel's. `sync` → 200; `exists`/`not_exists` → one messages.Sync{reason:"push"} to
// calendar-sync, then 200. Unknown or stopped channels and wrong tokens → 200 with no side
// effect (Google stops retrying); malformed headers → 400; a method other than POST →
// 405. Only a failure of our own (Firestore read, Pub/Sub publish) answers 503, so Google
// retries the notification.
//
// Decision: the webhook does not write lastPushAt. It stays at one read and zero writes
// per notification, so a storm of pushes costs no Firestore write contention on the
// calendar document; the syncer records lastSyncAt.
package calendarwebhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
	"github.com/belbo/calsync/shared/watch"
)

// Need lists the configuration CalendarWebhook needs.
var Need = []string{}

func init() { functions.HTTP("CalendarWebhook", platform.LazyHTTP(Need, New)) }

// Publisher sends a Pub/Sub message (platform.Publish).
type Publisher func(ctx context.Context, topic string, v any) error

// Handler serves notifications.
type Handler struct {
	Channels func(ctx context.Context, id string) (*store.ChannelLookup, error) // nil, nil = unknown
	Publish  Publisher
	Log      *slog.Logger
}

// New builds the handler.
func New(p *platform.Platform) (http.Handler, error) {
	return &Handler{Channels: FirestoreChannels(p.Store.FS), Publish: p.Publish, Log: p.Log}, nil
}

// FirestoreChannels reads channels/{id}: one document read.
func FirestoreChannels(fs *firestore.Client) func(ctx context.Context, id string) (*store.ChannelLookup, error) {
	return func(ctx context.Context, id string) (*store.ChannelLookup, error) {
		snap, err := fs.Collection("channels").Doc(id).Get(ctx)
		if status.Code(err) == codes.NotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var l store.ChannelLookup
		if err := snap.DataTo(&l); err != nil {
			return nil, nil // a lookup we cannot read is no channel of ours
		}
		return &l, nil
	}
}

// Outcomes logged as webhook.notification.
const (
	OutcomePublished = "published"
	OutcomeIgnored   = "ignored"
	OutcomeRejected  = "rejected"
	OutcomeSync      = "sync"
	OutcomeFailed    = "failed"
)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	outcome, state, channel := OutcomeRejected, "", ""
	var l *store.ChannelLookup
	began := time.Now()
	defer func() {
		attrs := []slog.Attr{slog.String("outcome", outcome), slog.String("state", state), slog.String("channel", channel),
			slog.Int64("durationMs", time.Since(began).Milliseconds())}
		if l != nil && outcome != OutcomeIgnored {
			attrs = append(attrs, slog.String("tenant", l.Tenant), slog.String("staff", l.Staff),
				slog.String("connection", l.Connection), slog.String("calendar", l.Calendar))
		}
		logging.Event(ctx, h.Log, logging.EventWebhookNotification, attrs...)
	}()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		jsonhttp.Error(w, http.StatusMethodNotAllowed, "method_not_allowed", "notifications are POSTed")
		return
	}
	n, err := ParseHeaders(r.Header)
	if err != nil {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_notification", err.Error())
		return
	}
	channel, state = n.ChannelID, n.State
	l, err = h.Channels(ctx, n.ChannelID)
	if err != nil {
		outcome = OutcomeFailed
		h.Log.WarnContext(ctx, "webhook: channel lookup failed", "channel", n.ChannelID, "error", err.Error())
		jsonhttp.Error(w, http.StatusServiceUnavailable, "unavailable", "try again")
		return
	}
	if l == nil || !TokenMatches(n.Token, l.TokenHash) || l.ResourceID == "" ||
		subtle.ConstantTimeCompare([]byte(n.ResourceID), []byte(l.ResourceID)) != 1 {
		outcome = OutcomeIgnored
		w.WriteHeader(http.StatusOK)
		return
	}
	if n.State == StateSync {
		outcome = OutcomeSync
		w.WriteHeader(http.StatusOK)
		return
	}
	msg := messages.Sync{Tenant: l.Tenant, Staff: l.Staff, Connection: l.Connection, Calendar: l.Calendar, Reason: "push"}
	if err := h.Publish(ctx, topology.CalendarSync, msg); err != nil {
		outcome = OutcomeFailed
		h.Log.WarnContext(ctx, "webhook: publish failed", "channel", n.ChannelID, "error", err.Error())
		jsonhttp.Error(w, http.StatusServiceUnavailable, "unavailable", "try again")
		return
	}
	outcome = OutcomePublished
	w.WriteHeader(http.StatusOK)
}

// TokenMatches compares sha256(token) with the stored hex hash in constant time.
func TokenMatches(token, hash string) bool {
	want, err := hex.DecodeString(hash)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// Resource states.
const (
	StateSync      = "sync"
	StateExists    = "exists"
	StateNotExists = "not_exists"
)

// Notification is what the headers of one push say.
type Notification struct {
	ChannelID, Token, ResourceID, State string
}

// ErrHeaders is wrapped by every header error.
var ErrHeaders = errors.New("bad notification headers")

const maxHeader = 512

// ParseHeaders validates a push notification's headers. It never panics.
func ParseHeaders(h http.Header) (Notification, error) {
	n := Notification{
		ChannelID:  h.Get("X-Goog-Channel-Id"),
		Token:      h.Get("X-Goog-Channel-Token"),
		ResourceID: h.Get("X-Goog-Resource-Id"),
		State:      h.Get("X-Goog-Resource-State"),
	}
	if !validChannelID(n.ChannelID) {
		return Notification{}, errors.Join(ErrHeaders, errors.New("X-Goog-Channel-ID is not a channel id this product creates"))
	}
	switch n.State {
	case StateSync, StateExists, StateNotExists:
	default:
		return Notification{}, errors.Join(ErrHeaders, errors.New("X-Goog-Resource-State must be sync, exists or not_exists"))
	}
	if n.ResourceID == "" || len(n.ResourceID) > maxHeader || !printable(n.ResourceID) {
		return Notification{}, errors.Join(ErrHeaders, errors.New("X-Goog-Resource-ID is missing or invalid"))
	}
	if len(n.Token) > maxHeader {
		return Notification{}, errors.Join(ErrHeaders, errors.New("X-Goog-Channel-Token is too long"))
	}
	return n, nil
}

// validChannelID accepts only ids of the shape the product creates (watch.NewChannelID).
func validChannelID(s string) bool { return watch.ValidChannelID(s) }

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
