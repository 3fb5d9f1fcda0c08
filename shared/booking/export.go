package booking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/calevents"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/safetext"
	"github.com/belbo/calsync/shared/store"
)

// BookingProperty is the private extended property that marks an event as the product's
// own (the inbound sync reads the same key).
const BookingProperty = "calsyncBooking"

// Exporter writes bookings into the staff member's Google calendar.
type Exporter struct {
	Store    *store.Store
	Accounts *accounts.Service
	// Fields is EXPORT_FIELDS: which booking data goes into the event
	// (service, customerName, customerEmail). This is data the product puts into the
	// staff member's calendar; keep it minimal.
	Fields []string
}

// EventText builds the summary and description from the configured fields only. The
// service and customer name pass through safetext.Unlink, so nothing a customer typed
// becomes a clickable link in the staff member's calendar; the e-mail address (validated
// as one) stays as it is.
func EventText(b *store.Booking, fields []string) (summary, description string) {
	var parts, desc []string
	for _, f := range fields {
		switch f {
		case "service":
			parts = append(parts, safetext.Unlink(b.Service))
		case "customerName":
			parts = append(parts, safetext.Unlink(b.CustomerName))
		case "customerEmail":
			desc = append(desc, "Customer e-mail: "+b.CustomerEmail)
		}
	}
	summary = strings.Join(parts, " – ")
	if summary == "" {
		summary = "Booking"
	}
	return summary, strings.Join(desc, "\n")
}

// Handle processes one calendar-export message at now. The booking document, not the
// message's op, decides what Google should hold (a cancelled booking is deleted even if
// an old upsert arrives late), so duplicated and reordered deliveries converge.
//
// Every message ends in one export.done log line (ids, op, outcome ok|retry|error,
// duration) for the log-based export metric.
func (x *Exporter) Handle(ctx context.Context, m messages.Export, now time.Time) (err error) {
	began := time.Now()
	defer func() {
		outcome := "ok"
		switch {
		case errors.Is(err, messages.ErrPermanent):
			outcome = "error"
		case err != nil:
			outcome = "retry"
		}
		logging.Event(ctx, logging.FromContext(ctx), logging.EventExportDone,
			slog.String("tenant", m.Tenant), slog.String("staff", m.Staff), slog.String("booking", m.Booking),
			slog.String("op", m.Op), slog.String("outcome", outcome), slog.Int64("durationMs", time.Since(began).Milliseconds()))
	}()
	return x.handle(ctx, m, now)
}

func (x *Exporter) handle(ctx context.Context, m messages.Export, now time.Time) error {
	log := logging.FromContext(ctx)
	b, err := Get(ctx, x.Store, m.Tenant, m.Staff, m.Booking)
	if errors.Is(err, ErrNotFound) {
		log.WarnContext(ctx, "export: booking not found; acknowledged", "tenant", m.Tenant, "staff", m.Staff, "booking", m.Booking)
		return nil
	}
	if err != nil {
		return err
	}
	if b.Status == store.BookingCancelled {
		return x.delete(ctx, b, now)
	}
	return x.upsert(ctx, b, now)
}

func (x *Exporter) record(ctx context.Context, b *store.Booking, now time.Time, ups ...firestore.Update) error {
	ups = append(ups, firestore.Update{Path: "updatedAt", Value: now})
	if _, err := x.Store.Bookings(b.Tenant, b.Staff).Doc(b.ID).Update(ctx, ups); err != nil {
		return fmt.Errorf("record export of %s: %w", b.ID, err)
	}
	return nil
}

// writeConnection picks the staff member's active connection with a write calendar
// (the one used before, if it still qualifies).
func (x *Exporter) writeConnection(ctx context.Context, b *store.Booking) (*store.Connection, error) {
	conns, err := x.Store.ListConnections(ctx, b.Tenant, b.Staff)
	if err != nil {
		return nil, err
	}
	var pick *store.Connection
	for _, c := range conns {
		if c.Status != store.StatusActive || c.WriteCalendarID == "" {
			continue
		}
		if pick == nil || c.ID == b.ExportConn {
			pick = c
		}
	}
	return pick, nil
}

func (x *Exporter) session(ctx context.Context, c *store.Connection) (*accounts.Session, error) {
	return x.Accounts.Open(ctx, c)
}

// googleFailure maps a Google error: retryable → returned (Pub/Sub redelivers with
// backoff); revoked grant → connection reauth_required, acknowledged; anything else →
// exportState error and dead-lettered.
func (x *Exporter) googleFailure(ctx context.Context, b *store.Booking, c *store.Connection, err error, now time.Time) error {
	class := googlecal.Classify(err)
	log := logging.FromContext(ctx)
	switch {
	case class.Retryable():
		return fmt.Errorf("export %s: google %s: %w", b.ID, class, err)
	case class == googlecal.ClassAuth:
		log.WarnContext(ctx, "export: grant revoked; connection needs re-authorisation", "tenant", b.Tenant, "staff", b.Staff, "booking", b.ID, "connection", c.ID)
		if rerr := x.Accounts.MarkReauth(ctx, c, now); rerr != nil {
			return rerr
		}
		return x.record(ctx, b, now, firestore.Update{Path: "exportState", Value: ExportError})
	}
	log.ErrorContext(ctx, "export: google refused", "tenant", b.Tenant, "staff", b.Staff, "booking", b.ID, "class", string(class))
	if rerr := x.record(ctx, b, now, firestore.Update{Path: "exportState", Value: ExportError}); rerr != nil {
		return rerr
	}
	return fmt.Errorf("%w: export %s: google %s", messages.ErrPermanent, b.ID, class)
}

func (x *Exporter) upsert(ctx context.Context, b *store.Booking, now time.Time) error {
	log := logging.FromContext(ctx)
	c, err := x.writeConnection(ctx, b)
	if err != nil {
		return err
	}
	if c == nil {
		log.InfoContext(ctx, "export: staff member has no active connection with a write calendar; not exported", "tenant", b.Tenant, "staff", b.Staff, "booking", b.ID)
		return x.record(ctx, b, now, firestore.Update{Path: "exportState", Value: ExportSkippedNoConn})
	}
	sess, err := x.session(ctx, c)
	if err != nil {
		return err
	}
	summary, desc := EventText(b, x.Fields)
	id := EventID(b.ID)
	ev := &calendar.Event{
		Id: id, Summary: summary, Description: desc,
		Start:        &calendar.EventDateTime{DateTime: b.Start.UTC().Format(time.RFC3339)},
		End:          &calendar.EventDateTime{DateTime: b.End.UTC().Format(time.RFC3339)},
		Transparency: "opaque",
		ExtendedProperties: &calendar.EventExtendedProperties{Private: map[string]string{
			BookingProperty:                b.ID,
			calevents.BookingStartProperty: b.Start.UTC().Format(time.RFC3339),
			calevents.BookingEndProperty:   b.End.UTC().Format(time.RFC3339),
		}},
	}
	_, err = sess.Calendar.Events.Insert(c.WriteCalendarID, ev).Context(ctx).Do()
	if googlecal.Classify(err) == googlecal.ClassConflict {
		// Already there (a retry or a duplicated delivery): success; bring the times back
		// in line unless the staff member moved it on purpose (then it is a conflict).
		err = x.reconcile(ctx, sess, c, b, ev)
	}
	if err != nil {
		return x.googleFailure(ctx, b, c, err, now)
	}
	// The booking may have been cancelled while the event was being written, and the
	// delete message may already have run and found nothing to delete. Any cancel that
	// commits after this read is followed by a delete that will find the event.
	cur, err := Get(ctx, x.Store, b.Tenant, b.Staff, b.ID)
	if err != nil {
		return err
	}
	if cur.Status == store.BookingCancelled {
		derr := sess.Calendar.Events.Delete(c.WriteCalendarID, id).Context(ctx).Do()
		switch googlecal.Classify(derr) {
		case googlecal.ClassNone, googlecal.ClassNotFound, googlecal.ClassGone:
		default:
			return x.googleFailure(ctx, b, c, derr, now)
		}
		log.InfoContext(ctx, "export: booking cancelled during export; event removed again", "tenant", b.Tenant, "staff", b.Staff, "booking", b.ID)
		return x.record(ctx, b, now, firestore.Update{Path: "exportState", Value: ExportDeleted})
	}
	logging.Event(ctx, log, "booking.exported", slog.String("tenant", b.Tenant), slog.String("staff", b.Staff), slog.String("booking", b.ID), slog.String("connection", c.ID))
	// Record "exported" only while the booking is still confirmed: a cancel that committed
	// after the re-read above has its own delete, whose "deleted" must not be overwritten.
	ref := x.Store.Bookings(b.Tenant, b.Staff).Doc(b.ID)
	err = x.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		if st, _ := snap.DataAt("status"); st != store.BookingConfirmed {
			return nil
		}
		return tx.Update(ref, []firestore.Update{
			{Path: "exportState", Value: ExportExported}, {Path: "googleEventId", Value: id},
			{Path: "exportCalendar", Value: c.WriteCalendarID}, {Path: "exportConnection", Value: c.ID},
			{Path: "updatedAt", Value: now},
		})
	})
	if err != nil {
		return fmt.Errorf("record export of %s: %w", b.ID, err)
	}
	return nil
}

func (x *Exporter) reconcile(ctx context.Context, sess *accounts.Session, c *store.Connection, b *store.Booking, want *calendar.Event) error {
	got, err := sess.Calendar.Events.Get(c.WriteCalendarID, want.Id).Context(ctx).Do()
	if err != nil {
		return err
	}
	if got.Status == "cancelled" || b.Conflict != "" {
		return nil // deleted or moved by the staff member: reported by CheckEcho, not undone
	}
	if sameTime(got.Start, b.Start) && sameTime(got.End, b.End) && got.Summary == want.Summary {
		return nil
	}
	patch := &calendar.Event{Summary: want.Summary, Description: want.Description, Start: want.Start, End: want.End}
	_, err = sess.Calendar.Events.Patch(c.WriteCalendarID, want.Id, patch).Context(ctx).Do()
	return err
}

func sameTime(d *calendar.EventDateTime, t time.Time) bool {
	if d == nil || d.DateTime == "" {
		return false
	}
	got, err := time.Parse(time.RFC3339, d.DateTime)
	return err == nil && got.Equal(t)
}

func (x *Exporter) delete(ctx context.Context, b *store.Booking, now time.Time) error {
	if b.ExportState == ExportDeleted || b.GoogleEventID == "" && b.ExportState != ExportPending && b.ExportState != ExportError {
		return nil // never written (or already removed)
	}
	conn := b.ExportConn
	calID := b.ExportCalendar
	var c *store.Connection
	if conn != "" {
		var err error
		c, err = x.Store.GetConnection(ctx, b.Tenant, b.Staff, conn)
		if errors.Is(err, store.ErrNotFound) {
			return x.record(ctx, b, now, firestore.Update{Path: "exportState", Value: ExportDeleted})
		}
		if err != nil {
			return err
		}
	} else {
		// An upsert may still be in flight: delete from where it would have gone.
		var err error
		if c, err = x.writeConnection(ctx, b); err != nil {
			return err
		}
		if c == nil {
			return x.record(ctx, b, now, firestore.Update{Path: "exportState", Value: ExportDeleted})
		}
		calID = c.WriteCalendarID
	}
	if c.Status != store.StatusActive {
		logging.FromContext(ctx).WarnContext(ctx, "export: connection not active; Google event left in place", "tenant", b.Tenant, "staff", b.Staff, "booking", b.ID, "connection", c.ID)
		return x.record(ctx, b, now, firestore.Update{Path: "exportState", Value: ExportError})
	}
	sess, err := x.session(ctx, c)
	if err != nil {
		return err
	}
	err = sess.Calendar.Events.Delete(calID, EventID(b.ID)).Context(ctx).Do()
	switch googlecal.Classify(err) {
	case googlecal.ClassNone, googlecal.ClassNotFound, googlecal.ClassGone:
	default:
		return x.googleFailure(ctx, b, c, err, now)
	}
	logging.Event(ctx, logging.FromContext(ctx), "booking.export_deleted", slog.String("tenant", b.Tenant), slog.String("staff", b.Staff), slog.String("booking", b.ID))
	return x.record(ctx, b, now, firestore.Update{Path: "exportState", Value: ExportDeleted})
}
