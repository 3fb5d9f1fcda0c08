// Package fakegoogle is an in-repo fake of the parts of Google the calendar sync talks
// to: the OAuth 2.0 consent page, token and revoke endpoints, the userinfo endpoint,
// and the Calendar v3 API (calendarList, events with sync tokens and recurring series,
// watch channels with real push notifications to a webhook, channels.stop).
//
// It exists for tests and for local development (`make run`) only and is never
// deployed. It is one net/http Handler with its own adjustable clock (clock.Manual),
// a control API under /_fake/ (also exposed as Go methods on *Server) to create
// accounts, calendars and events, move the clock, inject faults and inspect what
// Google would hold. It aims to behave like real Google in the awkward cases that
// matter to a sync engine: paging with empty pages, sync tokens only on the last page,
// 410 fullSyncRequired, cancelled items that carry only an id, recurring series
// expanded DST-correctly, single-use PKCE-bound codes, grant-wide revocation, lost and
// duplicated notifications. See README.md for the endpoints and known differences.
package fakegoogle
