package logging

import (
	"context"
	"log/slog"
)

type loggerKey struct{}

// WithLogger returns ctx carrying l.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// FromContext returns the logger carried by ctx, or slog.Default() when there is none.
func FromContext(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}

// Event names counted by log-based metrics (Terraform matches jsonPayload.event).
const (
	EventSyncDone                = "sync.done"
	EventRenewChannel            = "renew.channel"
	EventRenewExpiredUnrenewed   = "renew.expired_unrenewed"
	EventExportDone              = "export.done"
	EventWebhookNotification     = "webhook.notification"
	EventConnectionStatusChanged = "connection.status_changed"
)

// Event logs event at INFO, as the message and as attribute "event", with attrs.
// A nil l means FromContext(ctx).
func Event(ctx context.Context, l *slog.Logger, event string, attrs ...slog.Attr) {
	if l == nil {
		l = FromContext(ctx)
	}
	l.LogAttrs(ctx, slog.LevelInfo, event, append([]slog.Attr{slog.String("event", event)}, attrs...)...)
}
