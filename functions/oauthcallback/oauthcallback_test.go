package oauthcallback

import (
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw string
		ok  bool
	}{
		{"code=abc&state=1.x.y", true},
		{"error=access_denied&state=1.x.y", true},
		{"code=abc", false},
		{"state=1.x.y", false},
		{"code=a&code=b&state=s", false},
		{"code=abc&state=" + strings.Repeat("s", 201), false},
		{"code=abc&state=s&unknown=1", true},
		{"%zz", false},
		{strings.Repeat("a", 9000), false},
	}
	for _, tc := range tests {
		if _, err := ParseQuery(tc.raw); (err == nil) != tc.ok {
			t.Errorf("ParseQuery(%.40q) err = %v, want ok=%v", tc.raw, err, tc.ok)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("code=abc&state=1.x.y")
	f.Add("error=access_denied&state=s&scope=a%20b")
	f.Add("&&==;")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := ParseQuery(raw)
		if err != nil {
			return
		}
		if q.Get("state") == "" || len(q.Get("state")) > 200 || len(q["state"]) != 1 {
			t.Fatalf("accepted bad state in %q", raw)
		}
	})
}
