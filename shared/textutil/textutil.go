// Package textutil holds small string helpers shared by the services.
package textutil

import "unicode/utf8"

// Truncate returns s cut to at most n bytes, never in the middle of a UTF-8 sequence
// (a multi-byte rune that does not fit is left out whole). Limits are in bytes because
// they guard sizes (log fields, Pub/Sub attributes).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	i := n
	// s[i] is the first byte left out; back up to the start of the rune it belongs to
	// (at most UTFMax-1 bytes, so invalid input cannot walk further).
	for j := 0; j < utf8.UTFMax-1 && i > 0 && !utf8.RuneStart(s[i]); j++ {
		i--
	}
	return s[:i]
}
