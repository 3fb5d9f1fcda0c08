package textutil

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 5, ""},
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abcdef", 3, "abc"},
		{"abc", 0, ""},
		{"abc", -1, ""},
		{"héllo", 2, "h"},      // é is 2 bytes: cut before it, not inside
		{"héllo", 3, "hé"},     // exactly after é
		{"a€b", 2, "a"},        // € is 3 bytes
		{"a€b", 3, "a"},        // still inside €
		{"a€b", 4, "a€"},       // exactly after €
		{"😀😀", 5, "😀"},         // 4-byte runes
		{"😀😀", 7, "😀"},         // inside the second
		{"😀😀", 3, ""},          // inside the first
		{"日本語テキスト", 10, "日本語"}, // 3-byte runes
	} {
		if got := Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestTruncateAlwaysValid(t *testing.T) {
	s := strings.Repeat("aé€😀", 20)
	for n := 0; n <= len(s)+1; n++ {
		got := Truncate(s, n)
		if !utf8.ValidString(got) || len(got) > max(n, 0) || !strings.HasPrefix(s, got) {
			t.Fatalf("Truncate(s, %d) = %q: not a valid prefix of at most %d bytes", n, got, n)
		}
		if n < len(s) && len(got) < n-utf8.UTFMax+1 {
			t.Fatalf("Truncate(s, %d) cut %d bytes, more than one rune", n, n-len(got))
		}
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("héllo wörld", 4)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := Truncate(s, n)
		if !strings.HasPrefix(s, got) || len(got) > max(n, 0) {
			t.Fatalf("Truncate(%q, %d) = %q", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Truncate(%q, %d) = %q: cut a rune", s, n, got)
		}
	})
}
