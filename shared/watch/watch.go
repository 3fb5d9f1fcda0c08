// Package watch opens and stops Google push channels (events.watch / channels.stop) for
// selected calendars and keeps the channels/{id} lookup the webhook reads. A channel's
// token is random per channel and stored only as a SHA-256 hash.
package watch

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/store"
)

// Opener opens channels.
type Opener struct {
	Store      *store.Store
	WebhookURL string
	TTL        time.Duration
}

func random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidChannelID reports whether s has exactly the shape NewChannelID makes ("ch-" and
// 32 lower-case hex digits): the webhook refuses every other id before any read.
func ValidChannelID(s string) bool {
	rest, ok := strings.CutPrefix(s, "ch-")
	if !ok || len(rest) != 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// NewChannelID returns a channel id Google accepts ([A-Za-z0-9\-_\+/=]+, ≤ 64).
func NewChannelID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "ch-" + hex.EncodeToString(b)
}

// Open creates a new channel for the calendar at Google and records it: the lookup
// document and the calendar's channel field are written in one batch. It does not stop an
// older channel; the caller does that after the switch (renewal) or before (select).
func (o *Opener) Open(ctx context.Context, cal *calendar.Service, ref store.CalRef, googleID string, now time.Time) (*store.Channel, error) {
	id := NewChannelID()
	token := random(32)
	ttl := o.TTL
	if ttl <= 0 {
		ttl = 7 * 24 * time.Hour
	}
	req := &calendar.Channel{
		Id:      id,
		Type:    "web_hook",
		Address: o.WebhookURL,
		Token:   token,
		Params:  map[string]string{"ttl": fmt.Sprint(int64(ttl / time.Second))},
	}
	got, err := cal.Events.Watch(googleID, req).Context(ctx).Do()
	if err != nil {
		return nil, fmt.Errorf("watch calendar %s: %w", ref, err)
	}
	expiry := now.Add(ttl)
	if got.Expiration > 0 {
		expiry = time.UnixMilli(got.Expiration).UTC()
	}
	ch := &store.Channel{ID: id, ResourceID: got.ResourceId, Expiry: expiry, TokenHash: store.HashToken(token)}
	lookup := store.ChannelLookup{
		CalendarPath: o.Store.Doc(ref).Path,
		Tenant:       ref.Tenant, Staff: ref.Staff, Connection: ref.Connection, Calendar: ref.Calendar,
		TokenHash: ch.TokenHash, ResourceID: ch.ResourceID, Expiry: expiry,
	}
	err = o.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if err := tx.Set(o.Store.Channel(id), lookup); err != nil {
			return err
		}
		// A calendar that was polled and can be watched now leaves the polling mode.
		return tx.Update(o.Store.Doc(ref), []firestore.Update{{Path: "channel", Value: ch}, {Path: "channelExpiry", Value: expiry}, {Path: "syncMode", Value: firestore.Delete}})
	})
	if err != nil {
		// Google has a channel we could not record: stop it so it does not push into nothing.
		_ = Stop(ctx, cal, o.Store, ch)
		return nil, fmt.Errorf("record channel of %s: %w", ref, err)
	}
	return ch, nil
}

// Stop stops a channel at Google (a channel Google no longer knows counts as stopped) and
// deletes its lookup, so any late notification is ignored.
func Stop(ctx context.Context, cal *calendar.Service, st *store.Store, ch *store.Channel) error {
	if ch == nil {
		return nil
	}
	if _, err := st.Channel(ch.ID).Delete(ctx); err != nil && !store.NotFound(err) {
		return fmt.Errorf("delete channel lookup %s: %w", ch.ID, err)
	}
	if cal == nil {
		return nil
	}
	err := cal.Channels.Stop(&calendar.Channel{Id: ch.ID, ResourceId: ch.ResourceID}).Context(ctx).Do()
	if err != nil && googlecal.Classify(err) != googlecal.ClassNotFound {
		return fmt.Errorf("stop channel %s: %w", ch.ID, err)
	}
	return nil
}
