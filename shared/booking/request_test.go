package booking

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateCleansAndResolvesShape(t *testing.T) {
	base := `{"tenant":"t","staff":"s","start":"2026-11-03T10:00:00+01:00",%s,"customer":{"name":%q,"email":"erika@example.org"}}`
	body := func(what, name string) []byte {
		return []byte(strings.Replace(strings.Replace(base, "%s", what, 1), "%q", `"`+name+`"`, 1))
	}
	// A control character, a right-to-left override and a zero-width space are removed,
	// a line break becomes a space, and the name is NFC-normalised (e + combining acute → é).
	in, err := ParseRequest(body(`"serviceId":"cut"`, `Eri\u0007ka\u202e \u200bMu\nste\u0301r`))
	if err != nil {
		t.Fatal(err)
	}
	if in.CustomerName != "Erika Mu stér" || in.ServiceID != "cut" || in.FreeForm {
		t.Fatalf("cleaned input = %+v", in)
	}
	if _, err := ParseRequest(body(`"serviceId":"cut","durationMin":30`, "Erika")); err == nil {
		t.Fatal("serviceId with durationMin accepted")
	}
	if _, err := ParseRequest(body(`"serviceId":"__cut__"`, "Erika")); err == nil {
		t.Fatal("reserved serviceId accepted")
	}
	// Neither a serviceId nor a free-form duration and title: service_required.
	if _, err := ParseRequest(body(`"durationMin":0`, "Erika")); !errors.Is(err, ErrServiceRequired) {
		t.Fatalf("no service: %v, want ErrServiceRequired", err)
	}
	in, err = ParseRequest(body(`"durationMin":30,"service":"Cut"`, "Erika"))
	if err != nil || !in.FreeForm || in.Service != "Cut" {
		t.Fatalf("free-form: %+v %v", in, err)
	}
	// An e-mail address with an invisible character is not an address.
	if _, err := ParseRequest([]byte(strings.Replace(string(body(`"serviceId":"cut"`, "Erika")), "erika@", "eri\\u200bka@", 1))); err == nil {
		t.Fatal("e-mail with a zero-width space accepted")
	}
}

func TestClientIP(t *testing.T) {
	cases := []struct {
		xff, remote string
		hops        int
		want        string
	}{
		// The Google Front End appends the address it saw: the last entry; whatever the
		// client wrote in front of it is ignored.
		{"6.6.6.6, 203.0.113.7", "10.0.0.1:5555", 0, "203.0.113.7"},
		{"203.0.113.7", "10.0.0.1:5555", 0, "203.0.113.7"},
		// Behind a load balancer: "<client>, <load balancer>".
		{"6.6.6.6, 203.0.113.7, 34.1.2.3", "", 1, "203.0.113.7"},
		// No header (local): the connection's address.
		{"", "127.0.0.1:4321", 0, "127.0.0.1"},
		// IPv6 is keyed by /64.
		{"2001:db8:1:2:3:4:5:6", "", 0, "2001:db8:1:2::/64"},
		{"::ffff:198.51.100.1", "", 0, "198.51.100.1"},
		{"garbage", "", 0, "unknown"},
		{"1.2.3.4", "", 3, "unknown"},
	}
	for _, c := range cases {
		if got := ClientIP(c.xff, c.remote, c.hops); got != c.want {
			t.Errorf("ClientIP(%q, %q, %d) = %q, want %q", c.xff, c.remote, c.hops, got, c.want)
		}
	}
}

func TestLocksBoundedAndFair(t *testing.T) {
	var l Locks
	// Random ids never grow the registry: it is a fixed array of stripes.
	for i := 0; i < 10000; i++ {
		unlock, err := l.lock(t.Context(), "t/"+NewID(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		unlock()
	}
	// A held lock makes the next waiter give up after its bound, with ErrContended.
	unlock, err := l.lock(t.Context(), "t/s", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.lock(t.Context(), "t/s", 10*time.Millisecond); !errors.Is(err, ErrContended) {
		t.Fatalf("second lock: %v, want ErrContended after the wait bound", err)
	}
	unlock()
	if u, err := l.lock(t.Context(), "t/s", time.Second); err != nil {
		t.Fatalf("lock after unlock: %v", err)
	} else {
		u()
	}
}
