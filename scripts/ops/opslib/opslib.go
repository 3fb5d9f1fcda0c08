// Package opslib is the logic of the operations tool (go run ./scripts/ops): inspect a
// staff member's connections and calendars, force resyncs, list and replay dead-lettered
// Pub/Sub messages, re-encrypt refresh tokens after a token-key rotation, and explain
// the state-key rotation. It runs on the same platform (config, Firestore, Pub/Sub,
// secrets) as the functions, so locally it talks to the emulators and deployed to the
// project's Firestore, Pub/Sub and Secret Manager.
//
// Every operation is safe to run twice: resync publishes messages the syncer coalesces
// per calendar, replay acknowledges a dead-lettered message only after it was
// republished (a second run finds nothing to do), re-encryption is a per-connection
// transaction that skips tokens already under the latest key.
//
// Privacy: reports carry ids, statuses, counts and timestamps. E-mail addresses (and
// Google calendar ids, which are often e-mail addresses) only appear when asked for
// (ShowEmail); calendar names, event data and tokens never.
package opslib

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/health"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// Config is the configuration the tool reads: the platform's, and the sync schedule a
// connection's health is judged against (as Manage judges it).
type Config struct {
	config.Platform
	config.SyncSchedule
}

// Tool runs operations on one platform.
type Tool struct {
	P        *platform.Platform
	Schedule config.SyncSchedule
}

// New returns a tool on p.
func New(p *platform.Platform, s config.SyncSchedule) *Tool { return &Tool{P: p, Schedule: s} }

// ---- inspect ----

// InspectOptions select what Inspect shows.
type InspectOptions struct {
	Tenant, Staff string
	Connection    string // optional: only this connection
	ShowEmail     bool   // include e-mail addresses and Google calendar ids
}

// CalendarInfo is one calendar's bookkeeping (no name, no events).
type CalendarInfo struct {
	DocID         string     `json:"docId"`
	GoogleID      string     `json:"googleId,omitempty"` // only with ShowEmail
	Selected      bool       `json:"selected"`
	Primary       bool       `json:"primary"`
	AccessRole    string     `json:"accessRole"`
	HasSyncToken  bool       `json:"hasSyncToken"`
	Dirty         bool       `json:"dirty"`
	LeaseOwner    string     `json:"leaseOwner,omitempty"`
	LeaseUntil    *time.Time `json:"leaseUntil,omitempty"`
	HorizonEnd    *time.Time `json:"horizonEnd,omitempty"`
	ChannelID     string     `json:"channelId,omitempty"`
	ChannelExpiry *time.Time `json:"channelExpiry,omitempty"`
	SyncRuns      int64      `json:"syncRuns"`
}

// ConnectionInfo is one connection's bookkeeping and health.
type ConnectionInfo struct {
	ID              string            `json:"id"`
	Tenant          string            `json:"tenant"`
	Staff           string            `json:"staff"`
	Email           string            `json:"email,omitempty"`           // only with ShowEmail
	WriteCalendarID string            `json:"writeCalendarId,omitempty"` // only with ShowEmail
	HasWriteCal     bool              `json:"hasWriteCalendar"`
	Status          string            `json:"status"`
	StatusChangedAt *time.Time        `json:"statusChangedAt,omitempty"`
	CreatedAt       *time.Time        `json:"createdAt,omitempty"`
	LastListSyncAt  *time.Time        `json:"lastListSyncAt,omitempty"`
	TokenKeyVersion string            `json:"tokenKeyVersion,omitempty"`
	Scopes          []string          `json:"scopes"`
	Health          health.Connection `json:"health"`
	Calendars       []CalendarInfo    `json:"calendars"`
}

// InspectReport is what Inspect returns.
type InspectReport struct {
	Now         time.Time        `json:"now"`
	Connections []ConnectionInfo `json:"connections"`
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// Validate checks the ids.
func (o InspectOptions) Validate() error {
	if !messages.ValidID(o.Tenant) || !messages.ValidID(o.Staff) || o.Connection != "" && !messages.ValidID(o.Connection) {
		return errors.New("inspect needs -tenant and -staff (ids of A–Z a–z 0–9 _ -)")
	}
	return nil
}

// Inspect reports a staff member's connections (or one), their calendars' bookkeeping
// and their health.
func (t *Tool) Inspect(ctx context.Context, o InspectOptions) (*InspectReport, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	now, err := t.P.Now(ctx)
	if err != nil {
		return nil, err
	}
	st := t.P.Store
	var conns []*store.Connection
	if o.Connection != "" {
		c, err := st.GetConnection(ctx, o.Tenant, o.Staff, o.Connection)
		if err != nil {
			return nil, fmt.Errorf("connection %s: %w", o.Connection, err)
		}
		conns = []*store.Connection{c}
	} else if conns, err = st.ListConnections(ctx, o.Tenant, o.Staff); err != nil {
		return nil, err
	}
	rep := &InspectReport{Now: now.UTC(), Connections: []ConnectionInfo{}}
	th := health.DefaultThresholds(t.Schedule.SafetySyncInterval)
	for _, c := range conns {
		cals, err := st.ListCalendars(ctx, o.Tenant, o.Staff, c.ID)
		if err != nil {
			return nil, err
		}
		ci := ConnectionInfo{
			ID: c.ID, Tenant: o.Tenant, Staff: o.Staff, Status: c.Status, HasWriteCal: c.WriteCalendarID != "",
			StatusChangedAt: tp(c.StatusChangedAt), CreatedAt: tp(c.CreatedAt), LastListSyncAt: tp(c.LastListSyncAt),
			TokenKeyVersion: c.Token.KeyVersion, Scopes: c.Scopes,
			Health:    health.ForConnection(c, cals, now, th, o.ShowEmail),
			Calendars: []CalendarInfo{},
		}
		if o.ShowEmail {
			ci.Email, ci.WriteCalendarID = c.Email, c.WriteCalendarID
		}
		for _, cal := range cals {
			info := CalendarInfo{
				DocID: cal.DocID, Selected: cal.Selected, Primary: cal.Primary, AccessRole: cal.AccessRole,
				HasSyncToken: cal.SyncToken != "", Dirty: cal.Dirty, LeaseOwner: cal.LeaseOwner, LeaseUntil: tp(cal.LeaseUntil),
				HorizonEnd: tp(cal.HorizonEnd), SyncRuns: cal.SyncRuns,
			}
			if cal.Channel != nil {
				info.ChannelID, info.ChannelExpiry = cal.Channel.ID, tp(cal.Channel.Expiry)
			}
			if o.ShowEmail {
				info.GoogleID = cal.GoogleID
			}
			ci.Calendars = append(ci.Calendars, info)
		}
		sort.Slice(ci.Calendars, func(i, j int) bool { return ci.Calendars[i].DocID < ci.Calendars[j].DocID })
		rep.Connections = append(rep.Connections, ci)
	}
	return rep, nil
}

// ---- resync ----

// Scope selects connections: All, or a tenant, optionally narrowed to a staff member,
// a connection and one calendar (Google id or document id; needs Connection).
type Scope struct {
	All                                 bool
	Tenant, Staff, Connection, Calendar string
}

// Validate checks that the scope is complete and its ids well-formed.
func (s Scope) Validate() error {
	switch {
	case s.All && (s.Tenant != "" || s.Staff != "" || s.Connection != "" || s.Calendar != ""):
		return errors.New("-all cannot be combined with -tenant/-staff/-connection/-calendar")
	case !s.All && s.Tenant == "":
		return errors.New("give -all or -tenant (optionally -staff, -connection, -calendar)")
	case s.Staff != "" && s.Tenant == "", s.Connection != "" && s.Staff == "":
		return errors.New("-connection needs -staff, -staff needs -tenant")
	case s.Calendar != "" && s.Connection == "":
		return errors.New("-calendar needs -tenant, -staff and -connection")
	}
	for _, id := range []string{s.Tenant, s.Staff, s.Connection} {
		if id != "" && !messages.ValidID(id) {
			return fmt.Errorf("invalid id %q", id)
		}
	}
	return nil
}

// connections lists the connections of a scope.
func (t *Tool) connections(ctx context.Context, s Scope) ([]*store.Connection, error) {
	st := t.P.Store
	switch {
	case s.Connection != "":
		c, err := st.GetConnection(ctx, s.Tenant, s.Staff, s.Connection)
		if err != nil {
			return nil, fmt.Errorf("connection %s: %w", s.Connection, err)
		}
		return []*store.Connection{c}, nil
	case s.Staff != "":
		return st.ListConnections(ctx, s.Tenant, s.Staff)
	}
	q := st.AllConnections().Query
	if !s.All {
		q = q.Where("tenant", "==", s.Tenant)
	}
	var out []*store.Connection
	for snap, err := range store.Docs(ctx, q) {
		if err != nil {
			return nil, fmt.Errorf("list connections: %w", err)
		}
		c, err := decodeConnection(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// decodeConnection reads a connection document; tenant and staff come from its path.
func decodeConnection(snap *firestore.DocumentSnapshot) (*store.Connection, error) {
	var c store.Connection
	if err := snap.DataTo(&c); err != nil {
		return nil, fmt.Errorf("decode connection %s: %w", snap.Ref.ID, err)
	}
	c.ID = snap.Ref.ID
	if staff := snap.Ref.Parent.Parent; staff != nil {
		c.Staff = staff.ID
		if tenant := staff.Parent.Parent; tenant != nil {
			c.Tenant = tenant.ID
		}
	}
	return &c, nil
}

// ResyncReport is what Resync did.
type ResyncReport struct {
	Reason          string `json:"reason"`
	Connections     int    `json:"connections"`
	SkippedInactive int    `json:"skippedInactive"`
	Published       int    `json:"published"`
	Trace           string `json:"trace"` // the sync runs log under this trace id
}

// Resync publishes a calendar-sync message (reason full or safety) for every selected
// calendar of the active connections in scope. Running it twice only syncs twice.
func (t *Tool) Resync(ctx context.Context, s Scope, full bool) (*ResyncReport, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	ctx, trace := withTrace(ctx)
	conns, err := t.connections(ctx, s)
	if err != nil {
		return nil, err
	}
	rep := &ResyncReport{Reason: health.ReasonSafetySync, Trace: trace}
	if full {
		rep.Reason = health.ReasonFullSync
	}
	for _, c := range conns {
		if c.Status != store.StatusActive {
			rep.SkippedInactive++
			continue
		}
		rep.Connections++
		cals, err := t.P.Store.ListCalendars(ctx, c.Tenant, c.Staff, c.ID)
		if err != nil {
			return rep, err
		}
		msgs := health.ResyncMessages(c, cals, s.Calendar, full)
		if s.Calendar != "" && len(msgs) == 0 {
			return rep, fmt.Errorf("connection %s has no selected calendar %q", c.ID, s.Calendar)
		}
		for _, m := range msgs {
			if err := t.P.Publish(ctx, topology.CalendarSync, m); err != nil {
				return rep, err
			}
			rep.Published++
		}
	}
	return rep, nil
}

// withTrace gives ctx a fresh trace id (so the work the tool starts can be followed in
// the logs) unless it already carries one.
func withTrace(ctx context.Context) (context.Context, string) {
	if id, _ := logging.TraceFrom(ctx); id != "" {
		return ctx, id
	}
	id := logging.NewTraceID()
	return logging.WithTrace(ctx, id, ""), id
}
