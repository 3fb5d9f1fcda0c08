// Package calendarwebhook is the CalendarWebhook function. It receives Google's push
// notifications and publishes one sync message per change (docs/design.md "Flows", Push).
//
// Per request: headers only (the body is never read; shared/watch.ParseHeaders checks
// them), one Firestore read
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
	"crypto/subtle"
	"log/slog"
	"net/http"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
	"github.com/belbo/calsync/shared/watch"
)

// Config is the configuration CalendarWebhook reads.
type Config struct {
	config.Platform
}

func init() { functions.HTTP("CalendarWebhook", platform.LazyHTTP("CalendarWebhook", New)) }

// Handler serves notifications.
type Handler struct {
	Channels func(ctx context.Context, id string) (*store.ChannelLookup, error) // nil, nil = unknown
	Publish  messages.Publisher
	Log      *slog.Logger
}

// New builds the handler.
func New(p *platform.Platform, _ Config) (http.Handler, error) {
	return &Handler{Channels: p.Store.LookupChannel, Publish: p.Publish, Log: p.Log}, nil
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
	n, err := watch.ParseHeaders(r.Header)
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
	if l == nil || !watch.TokenMatches(n.Token, l.TokenHash) || l.ResourceID == "" ||
		subtle.ConstantTimeCompare([]byte(n.ResourceID), []byte(l.ResourceID)) != 1 {
		outcome = OutcomeIgnored
		w.WriteHeader(http.StatusOK)
		return
	}
	if n.State == watch.StateSync {
		outcome = OutcomeSync
		w.WriteHeader(http.StatusOK)
		return
	}
	msg := messages.Sync{Tenant: l.Tenant, Staff: l.Staff, Connection: l.Connection, Calendar: l.Calendar, Reason: "push", NotifiedAt: began}
	if err := h.Publish(ctx, topology.CalendarSync, msg); err != nil {
		outcome = OutcomeFailed
		h.Log.WarnContext(ctx, "webhook: publish failed", "channel", n.ChannelID, "error", err.Error())
		jsonhttp.Error(w, http.StatusServiceUnavailable, "unavailable", "try again")
		return
	}
	outcome = OutcomePublished
	w.WriteHeader(http.StatusOK)
}
