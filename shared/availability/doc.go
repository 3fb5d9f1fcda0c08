// Package availability is the slot engine: a pure function of one staff member's
// availability rules, the busy times of their Google calendars, the product's own
// bookings, a clock reading and a request, deciding which appointment times customers
// may book.
//
// It never sees event titles, details, attendees or e-mail addresses — only instants
// and all-day dates — and it does no I/O, reads no clock ("now" is a parameter) and
// imports only the standard library. (Time zones come from the system's zoneinfo with
// the tzdata embedded by time/tzdata as fallback; each zone is loaded once per process.)
//
// # Semantics (summarised in docs/design.md, "Slot semantics")
//
// Working ranges are wall-clock "HH:MM" times in Rules.TimeZone on each local date;
// an override replaces a date's weekly ranges (no ranges = closed). A range covers, in
// real time, everything from the first moment of its date at which the clock shows its
// start or later, to the last moment of that date at which the clock shows a time
// earlier than its end. Hence on a spring-forward day a boundary inside the skipped hour
// moves to the jump, and on a fall-back day a range ending 02:30 runs to the second
// 02:30 while one ending 02:00 stops at the first 02:00. The engine derives this from
// the zone's offset periods (w(t) = t + offset), so transitions at midnight, 30-minute
// shifts and skipped dates follow from the same definition.
//
// Spans that touch or overlap — 09:00–12:00 and 12:00–17:00, or 24:00 and the next
// date's 00:00 — are merged. Candidates are the merged range's start plus whole
// multiples of the step in real minutes, while start + duration ≤ the range's end; no
// rounding to the hour. Slots may therefore cross midnight inside a merged range.
//
// Interpretation of "a range that never starts (open 00:00–24:00 every day) is stepped
// from the first moment of each local date": a merged range whose start lies more than
// GridLookbackDays × 24 h before the first moment of a local date counts, for the
// candidates of that date, as never started, and those candidates are stepped from the
// date's first moment. Otherwise the grid runs from the range's own start, across
// dates. This keeps the answer for a given start independent of the request window
// (asking for a wider or narrower [from, to) never moves the grid), and the two rules
// agree whenever the step divides the length of the days in between. The candidates
// of a date are those starting at or after its first moment and before the next
// date's first moment.
//
// Busy: Google intervals as they are, half-open (zero-length intervals block
// nothing); an all-day event blocks from the first moment of its start date to the
// first moment of its end date in the staff member's zone; a booking occupies
// [start − bufferBefore, end + bufferAfter) with the current buffers. A candidate is
// free when [start − bufferBefore, start + duration + bufferAfter) overlaps none of
// them; buffers never have to fit inside working hours. A candidate must start at or
// after now + minimum notice (exact) and before now + horizonDays × 24 h. A request
// for [From, To) returns the free slots whose start lies in it, sorted.
//
// Cost: O((windows + candidates + busy) + busy·log busy): busy times are sorted and
// merged once and swept with the (increasing) candidates.
package availability

import _ "time/tzdata" // zone data even where the system has none
