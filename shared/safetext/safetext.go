// Package safetext is the one rule for free text that ends up in someone's calendar:
// customer names, service names. Clean normalises and strips what can hide or reorder
// text; Unlink keeps URLs from becoming links in Google Calendar. It is pure.
package safetext

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Clean is the one rule for free text a customer (or a business, for service names)
// sends: it must be valid UTF-8; it is NFC-normalised; every line break, tab and other
// white space becomes one space (runs collapse, both ends are trimmed); every other
// control, format (bidi overrides and isolates, zero-width spaces and joiners, the
// byte-order mark, soft hyphens, tag characters), private-use, surrogate or unassigned
// code point is removed, as are the invisible Hangul fillers; what is left must be 1–maxLen
// characters. It answers ok=false with a reason when the text is not acceptable.
func Clean(s string, maxLen int) (string, string, bool) {
	if !utf8.ValidString(s) {
		return "", "must be valid UTF-8", false
	}
	// Bound the work before normalising: anything longer than 4× the limit in bytes
	// cannot be valid after cleaning unless it is mostly removable noise, and noise of
	// that size is refused too.
	if len(s) > 4*maxLen*utf8.UTFMax {
		return "", "is too long", false
	}
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, c := range s {
		switch {
		case c == '\t' || c == '\n' || c == '\r' || c == 0x85 || unicode.IsSpace(c) || unicode.Is(unicode.Zl, c) || unicode.Is(unicode.Zp, c):
			space = b.Len() > 0
			continue
		case invisible(c):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(c)
	}
	out := b.String()
	if n := utf8.RuneCountInString(out); n == 0 || n > maxLen {
		return "", "must be 1–" + strconv.Itoa(maxLen) + " characters (after removing invisible characters)", false
	}
	return out, "", true
}

// invisible reports code points Clean removes: controls (Cc), format characters (Cf:
// bidi controls U+200E/F, U+202A–E, U+2066–9, zero-width U+200B–D, U+2060, U+FEFF, soft
// hyphen, tags), surrogates, private use, unassigned code points and the Hangul fillers
// that render as nothing.
func invisible(c rune) bool {
	switch c {
	case 0x115F, 0x1160, 0x3164, 0xFFA0, 0x034F, 0x180E:
		return true
	}
	return unicode.In(c, unicode.Cc, unicode.Cf, unicode.Cs, unicode.Co) || !unicode.In(c, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// linkLike matches a token Google Calendar would turn into a link: one with a scheme
// (x://), one starting with www., or a dotted name ending in a label of two or more
// ASCII letters (example.com, a@b.org, evil.example.co.uk/path).
var linkLike = regexp.MustCompile(`(?i)(://|^www\.|[\pL\pN_-]\.[a-z]{2,}(?:$|[/:?#)\]]|\.))`)

// Unlink rewrites text so that no part of it is rendered as a link in Google Calendar:
// in every whitespace-separated token that looks like a URL, a host name or an e-mail
// address, "://" becomes "[:]//" and every "." becomes "[.]" (the customary "defanged"
// form: still readable, never clickable). Other tokens are unchanged.
func Unlink(s string) string {
	if !strings.ContainsAny(s, ".:") {
		return s
	}
	toks := strings.Split(s, " ")
	for i, t := range toks {
		if linkLike.MatchString(t) {
			t = strings.ReplaceAll(t, "://", "[:]//")
			toks[i] = strings.ReplaceAll(t, ".", "[.]")
		}
	}
	return strings.Join(toks, " ")
}
