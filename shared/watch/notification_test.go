package watch

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// A channel id of the shape NewChannelID makes.
const ch1 = "ch-0123456789abcdef0123456789abcdef"

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	ok := []string{"X-Goog-Channel-ID", ch1, "X-Goog-Channel-Token", "tok", "X-Goog-Resource-ID", "res1", "X-Goog-Resource-State", "exists"}
	if n, err := ParseHeaders(hdr(ok...)); err != nil || n.ChannelID != ch1 || n.State != "exists" || n.Token != "tok" || n.ResourceID != "res1" {
		t.Fatalf("valid headers: %+v %v", n, err)
	}
	bad := map[string][]string{
		"no channel":       {"X-Goog-Resource-ID", "r", "X-Goog-Resource-State", "exists"},
		"long channel":     {"X-Goog-Channel-ID", strings.Repeat("a", 65), "X-Goog-Resource-ID", "r", "X-Goog-Resource-State", "exists"},
		"channel chars":    {"X-Goog-Channel-ID", "ch/../x", "X-Goog-Resource-ID", "r", "X-Goog-Resource-State", "exists"},
		"unknown state":    {"X-Goog-Channel-ID", "ch", "X-Goog-Resource-ID", "r", "X-Goog-Resource-State", "deleted"},
		"no state":         {"X-Goog-Channel-ID", "ch", "X-Goog-Resource-ID", "r"},
		"no resource":      {"X-Goog-Channel-ID", "ch", "X-Goog-Resource-State", "sync"},
		"resource control": {"X-Goog-Channel-ID", "ch", "X-Goog-Resource-ID", "r\x01", "X-Goog-Resource-State", "sync"},
		"huge token":       {"X-Goog-Channel-ID", "ch", "X-Goog-Resource-ID", "r", "X-Goog-Resource-State", "sync", "X-Goog-Channel-Token", strings.Repeat("t", 600)},
	}
	for name, kv := range bad {
		if _, err := ParseHeaders(hdr(kv...)); !errors.Is(err, ErrHeaders) {
			t.Errorf("%s: accepted", name)
		}
	}
	// Only the shape NewChannelID makes is accepted: a 64-character id, or one
	// with upper case or underscores, was fine for Google but is none of ours.
	for _, id := range []string{strings.Repeat("a", 64), "ch-abc_DEF-1", "ch-" + strings.Repeat("A", 32), "ch-" + strings.Repeat("a", 31), "__ch__"} {
		if _, err := ParseHeaders(hdr("X-Goog-Channel-ID", id, "X-Goog-Resource-ID", "r", "X-Goog-Resource-State", "not_exists")); !errors.Is(err, ErrHeaders) {
			t.Errorf("channel id %q accepted", id)
		}
	}
	if id := NewChannelID(); !ValidChannelID(id) {
		t.Fatalf("a channel id we create (%q) is refused", id)
	}
}

func FuzzParseHeaders(f *testing.F) {
	f.Add(ch1, "tok", "res", "exists")
	f.Add("ch-1", "tok", "res", "exists")
	f.Add("", "", "", "")
	f.Add(strings.Repeat("a", 64), "t", "r", "sync")
	f.Add("ch\x00", "\xff", "r r", "not_exists")
	f.Fuzz(func(t *testing.T, id, tok, res, state string) {
		h := http.Header{}
		h["X-Goog-Channel-Id"] = []string{id}
		h["X-Goog-Channel-Token"] = []string{tok}
		h["X-Goog-Resource-Id"] = []string{res}
		h["X-Goog-Resource-State"] = []string{state}
		n, err := ParseHeaders(h)
		if err != nil {
			return
		}
		if !ValidChannelID(n.ChannelID) || !messages.ValidID(n.ChannelID) {
			t.Fatalf("accepted channel id %q", n.ChannelID)
		}
		if n.State != StateSync && n.State != StateExists && n.State != StateNotExists {
			t.Fatalf("accepted state %q", n.State)
		}
		if TokenMatches(n.Token, store.HashToken(n.Token+"x")) {
			t.Fatalf("token %q matched another token's hash", n.Token)
		}
		if !TokenMatches(n.Token, store.HashToken(n.Token)) {
			t.Fatalf("token %q did not match its own hash", n.Token)
		}
	})
}
