package safetext

import (
	"strings"
	"testing"
	"unicode"
)

func TestClean(t *testing.T) {
	cases := map[string]string{
		"Erika":                        "Erika",
		"  Erika \t Mustermann\n":      "Erika Mustermann",
		"Eri\u200bka":                  "Erika",    // zero-width space
		"\u202eakirE":                  "akirE",    // right-to-left override
		"\u2066Erika\u2069":            "Erika",    // isolate
		"Ste\u0301phane":               "Stéphane", // NFC
		"a\u00adb\ufeffc\u200d\u2060d": "abcd",     // soft hyphen, BOM, ZWJ, word joiner
		"x\u0007y\u001bz\u007f":        "xyz",      // controls
		"tag\U000E0041":                "tag",      // tag character
		"Hangul\u3164filler":           "Hangulfiller",
		"line\u2028sep\u00a0nbsp":      "line sep nbsp",
		"Zoë 日本 😀":                     "Zoë 日本 😀",
		"\ue000private":                "private",
	}
	for in, want := range cases {
		got, why, ok := Clean(in, 100)
		if !ok || got != want {
			t.Errorf("Clean(%q) = %q, %q, %v; want %q", in, got, why, ok, want)
		}
	}
	for _, bad := range []string{"", "   ", "\u200b\u202e", "\xff", strings.Repeat("é", 101), strings.Repeat("\u200b", 5000)} {
		if got, _, ok := Clean(bad, 100); ok {
			t.Errorf("Clean(%q) accepted as %q", bad, got)
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add("Erika \u202e\u200b Mustermann")
	f.Add("\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out, _, ok := Clean(s, 100)
		if !ok {
			return
		}
		if out != strings.TrimSpace(out) || strings.Contains(out, "  ") || out == "" {
			t.Fatalf("Clean(%q) = %q: untrimmed or doubled space", s, out)
		}
		for _, c := range out {
			if unicode.In(c, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) || (c != ' ' && unicode.IsSpace(c)) {
				t.Fatalf("Clean(%q) = %q keeps %U", s, out, c)
			}
		}
		if again, _, ok := Clean(out, 100); !ok || again != out {
			t.Fatalf("Clean is not idempotent on %q: %q", out, again)
		}
	})
}

func TestUnlink(t *testing.T) {
	cases := map[string]string{
		"Erika Mustermann":                 "Erika Mustermann",
		"visit https://evil.example/x now": "visit https[:]//evil[.]example/x now",
		"www.evil.com":                     "www[.]evil[.]com",
		"evil.com":                         "evil[.]com",
		"mail me a@b.org":                  "mail me a@b[.]org",
		"J.R.R. Tolkien":                   "J.R.R. Tolkien",
		"Dr. Who":                          "Dr. Who",
		"3.5 hours":                        "3.5 hours",
		"javascript:alert(1)":              "javascript:alert(1)",
	}
	for in, want := range cases {
		if got := Unlink(in); got != want {
			t.Errorf("Unlink(%q) = %q, want %q", in, got, want)
		}
	}
}
