// Package store is the Firestore data model and access layer.
//
// It holds exactly what the privacy promise lists (docs/design.md "What the product keeps"): the account e-mail and subject, the encrypted
// refresh token, granted scopes, calendars (id, name, colour), events of selected
// calendars (id, title, details, start, end) and bookkeeping (sync tokens, channels,
// leases, timestamps, health). It never stores the profile picture, access tokens,
// attendees, locations, attachments or conference data, and it never logs document
// contents — only ids.
package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/tokencrypt"
)

// Connection statuses.
const (
	StatusActive         = "active"
	StatusReauthRequired = "reauth_required"
	StatusRevoked        = "revoked"
)

// Staff is tenants/{t}/staff/{s}.
type Staff struct {
	Availability *availability.Rules `firestore:"availability,omitempty"`
	UpdatedAt    time.Time           `firestore:"updatedAt"`
}

// Connection is tenants/{t}/staff/{s}/connections/{c}: one connected Google account.
type Connection struct {
	ID              string            `firestore:"-"`
	Tenant          string            `firestore:"tenant"`
	Staff           string            `firestore:"staff"`
	Email           string            `firestore:"email"`
	Subject         string            `firestore:"subject"`
	Status          string            `firestore:"status"`
	Token           tokencrypt.Sealed `firestore:"token"`
	Scopes          []string          `firestore:"scopes"`
	WriteCalendarID string            `firestore:"writeCalendarId"`
	CreatedAt       time.Time         `firestore:"createdAt"`
	UpdatedAt       time.Time         `firestore:"updatedAt"`
	StatusChangedAt time.Time         `firestore:"statusChangedAt"`
	LastListSyncAt  time.Time         `firestore:"lastListSyncAt"`
}

// Channel is a Google watch channel as a calendar doc records it.
type Channel struct {
	ID         string    `firestore:"id"`
	ResourceID string    `firestore:"resourceId"`
	Expiry     time.Time `firestore:"expiry"`
	TokenHash  string    `firestore:"tokenHash"`
}

// Calendar is …/connections/{c}/calendars/{cal}. The document id is CalendarDocID(GoogleID).
type Calendar struct {
	DocID      string `firestore:"-"`
	GoogleID   string `firestore:"googleId"`
	Name       string `firestore:"name"`
	Color      string `firestore:"color"`
	TimeZone   string `firestore:"timeZone"`
	Primary    bool   `firestore:"primary"`
	AccessRole string `firestore:"accessRole"`
	// Hidden: the user hid the calendar in Google Calendar's sidebar (calendarList
	// "hidden"). Shown in the calendars API; it keeps syncing when selected.
	Hidden   bool `firestore:"hidden"`
	Selected bool `firestore:"selected"`
	// SyncMode is SyncModePoll for a calendar Google cannot watch (events.watch answered
	// pushNotSupportedForRequestedResource: holidays, birthdays, week numbers): no channel,
	// RenewChannels syncs it every POLL_INTERVAL. Empty: push (the usual).
	SyncMode string `firestore:"syncMode,omitempty"`

	SyncToken string `firestore:"syncToken"`
	// Epoch is bumped whenever the stored events are thrown away (deselect, access revoked):
	// a sync that started before cannot save its token, and lists fully again instead.
	Epoch      int64     `firestore:"epoch"`
	LeaseOwner string    `firestore:"leaseOwner"`
	LeaseUntil time.Time `firestore:"leaseUntil"`
	Dirty      bool      `firestore:"dirty"`
	// PassStartedAt is the wall-clock instant before which the lease holder's current (or
	// next) pass is guaranteed to start listing: a notification received before it is
	// covered by that pass (syncer, "coalescing").
	PassStartedAt  time.Time `firestore:"passStartedAt,omitempty"`
	Channel        *Channel  `firestore:"channel"`
	ChannelExpiry  time.Time `firestore:"channelExpiry"` // copy of Channel.Expiry for collection-group queries
	HorizonEnd     time.Time `firestore:"horizonEnd"`
	LastSyncAt     time.Time `firestore:"lastSyncAt"`
	LastFullSyncAt time.Time `firestore:"lastFullSyncAt"`
	LastPushAt     time.Time `firestore:"lastPushAt"`
	LastErrorAt    time.Time `firestore:"lastErrorAt"`
	LastErrorClass string    `firestore:"lastErrorClass"`
	Failures       int       `firestore:"consecutiveFailures"`
	SyncRuns       int64     `firestore:"syncRuns"`
}

// Event is …/calendars/{cal}/events/{e}: what the calendar view shows and busy derives from.
type Event struct {
	ID          string    `firestore:"-"`
	Title       string    `firestore:"title"`
	Details     string    `firestore:"details"`
	Start       time.Time `firestore:"start"`
	End         time.Time `firestore:"end"`
	AllDay      bool      `firestore:"allDay"`
	StartDate   string    `firestore:"startDate,omitempty"` // all-day: YYYY-MM-DD
	EndDate     string    `firestore:"endDate,omitempty"`   // all-day: exclusive
	Busy        bool      `firestore:"busy"`
	Status      string    `firestore:"status"`
	Updated     time.Time `firestore:"updated"`
	RecurringID string    `firestore:"recurringId,omitempty"`
	BookingID   string    `firestore:"bookingId,omitempty"` // set when the event is the product's own
	Months      []string  `firestore:"months"`              // busy docs this event is indexed in
}

// BusyItem is one entry of a busy month document: a timed interval or an all-day span.
type BusyItem struct {
	Start     time.Time `firestore:"s,omitempty"`
	End       time.Time `firestore:"e,omitempty"`
	StartDate string    `firestore:"sd,omitempty"`
	EndDate   string    `firestore:"ed,omitempty"`
}

// BusyMonth is tenants/{t}/staff/{s}/busy/{calKey}_{yyyy-mm}: the busy intervals of one
// calendar in one month, keyed by event id. Slots read only these, never events.
type BusyMonth struct {
	Calendar string              `firestore:"calendar"` // calendar doc path
	Month    string              `firestore:"month"`
	Items    map[string]BusyItem `firestore:"items"`
}

// Booking statuses.
const (
	BookingConfirmed = "confirmed"
	BookingCancelled = "cancelled"
)

// Booking is tenants/{t}/staff/{s}/bookings/{b}: the product's own appointment.
type Booking struct {
	ID            string    `firestore:"-"`
	Tenant        string    `firestore:"tenant"`
	Staff         string    `firestore:"staff"`
	Start         time.Time `firestore:"start"`
	End           time.Time `firestore:"end"`
	Service       string    `firestore:"service"`
	ServiceID     string    `firestore:"serviceId"` // catalogue entry; "" for a free-form booking
	CustomerName  string    `firestore:"customerName"`
	CustomerEmail string    `firestore:"customerEmail"`
	// CustomerEmailHash is EmailHash(tenant, customerEmail): how erasure finds a
	// customer's bookings. Scrubbed with the name and the e-mail.
	CustomerEmailHash string `firestore:"customerEmailHash"`
	// ScrubAt is when the retention sweep removes the customer's name and e-mail (and
	// the hashes that could lead back to them); deleted once that is done.
	ScrubAt time.Time `firestore:"scrubAt,omitempty"`
	// ScrubbedAt is when that happened (retention or erasure); zero before.
	ScrubbedAt      time.Time `firestore:"scrubbedAt,omitempty"`
	Status          string    `firestore:"status"`
	CancelTokenHash string    `firestore:"cancelTokenHash"`
	Source          string    `firestore:"source"` // widget | staff
	GoogleEventID   string    `firestore:"googleEventId"`
	ExportCalendar  string    `firestore:"exportCalendar"` // Google calendar id written to
	ExportConn      string    `firestore:"exportConnection"`
	ExportState     string    `firestore:"exportState"` // pending | exported | deleted | skipped_no_connection | error
	Conflict        string    `firestore:"conflict"`    // "" | moved_in_google | deleted_in_google
	CreatedAt       time.Time `firestore:"createdAt"`
	UpdatedAt       time.Time `firestore:"updatedAt"`
}

// ChannelLookup is channels/{channelId}: lets the webhook find its calendar with one read.
type ChannelLookup struct {
	CalendarPath string    `firestore:"calendarPath"`
	Tenant       string    `firestore:"tenant"`
	Staff        string    `firestore:"staff"`
	Connection   string    `firestore:"connection"`
	Calendar     string    `firestore:"calendar"` // calendar doc id
	TokenHash    string    `firestore:"tokenHash"`
	ResourceID   string    `firestore:"resourceId"`
	Expiry       time.Time `firestore:"expiry"`
}

// OAuthState is oauthStates/{id}: single-use, expires (Firestore TTL on expireAt).
type OAuthState struct {
	Tenant    string    `firestore:"tenant"`
	Staff     string    `firestore:"staff"`
	ReturnURL string    `firestore:"returnUrl"`
	Verifier  string    `firestore:"verifier"`
	ConnectID string    `firestore:"connectId"` // echoed on the return redirect (session binding)
	CreatedAt time.Time `firestore:"createdAt"`
	ExpireAt  time.Time `firestore:"expireAt"`
}

// AccountLink is tenants/{t}/accounts/{c}: which staff member holds the connection of one
// Google account in a tenant, so reconnecting never makes a duplicate.
type AccountLink struct {
	Staff     string    `firestore:"staff"`
	UpdatedAt time.Time `firestore:"updatedAt"`
}

// EmailHash is the look-up key of a customer's bookings in a tenant: SHA-256 over the
// tenant id and the normalised (trimmed, lower-cased) e-mail address. The tenant in the
// input keeps the same customer's hashes of two tenants unrelated.
func EmailHash(tenant, email string) string {
	return HashToken("customer-email\x00" + tenant + "\x00" + NormaliseEmail(email))
}

// NormaliseEmail trims and lower-cases an e-mail address.
func NormaliseEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// ConnectionID is the deterministic id of a tenant's connection to one Google account.
func ConnectionID(tenant, subject string) string { return "g" + shortHash(tenant+"\x00"+subject, 20) }

// CalendarDocID maps a Google calendar id (which may hold '/', '#', '@') to a document id.
func CalendarDocID(googleID string) string { return "c" + shortHash(googleID, 24) }

// HashToken is how channel tokens and cancel tokens are stored: SHA-256, hex.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func shortHash(s string, n int) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:n]
}
