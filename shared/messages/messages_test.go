package messages

import (
	"encoding/base64"
	"errors"
	"testing"
)

func TestDecodeSync(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"valid", `{"tenant":"t1","staff":"s1","connection":"g1","calendar":"c1","reason":"push"}`, true},
		{"bad reason", `{"tenant":"t1","staff":"s1","connection":"g1","calendar":"c1","reason":"x"}`, false},
		{"missing calendar", `{"tenant":"t1","staff":"s1","connection":"g1","reason":"push"}`, false},
		{"path injection", `{"tenant":"t1/../x","staff":"s1","connection":"g1","calendar":"c1","reason":"push"}`, false},
		{"unknown field", `{"tenant":"t1","staff":"s1","connection":"g1","calendar":"c1","reason":"push","x":1}`, false},
		{"not json", `hello`, false},
		{"trailing", `{"tenant":"t1","staff":"s1","connection":"g1","calendar":"c1","reason":"push"} {}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeSync([]byte(tc.in))
			if tc.ok != (err == nil) {
				t.Fatalf("DecodeSync(%s) err = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrPermanent) {
				t.Fatalf("error %v is not permanent", err)
			}
		})
	}
}

func TestDecodeExport(t *testing.T) {
	t.Parallel()
	if _, err := DecodeExport([]byte(`{"tenant":"t","staff":"s","booking":"b","op":"upsert"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeExport([]byte(`{"tenant":"t","staff":"s","booking":"b","op":"drop"}`)); !errors.Is(err, ErrPermanent) {
		t.Fatalf("bad op err = %v", err)
	}
}

func TestDecodeRenew(t *testing.T) {
	t.Parallel()
	if got := DecodeRenew([]byte(`tick`)); got != (Renew{}) {
		t.Fatalf("tick = %+v", got)
	}
	want := Renew{Tenant: "t", Staff: "s", Connection: "g"}
	if got := DecodeRenew([]byte(`{"tenant":"t","staff":"s","connection":"g"}`)); got != want {
		t.Fatalf("renew = %+v", got)
	}
}

func TestParseEnvelope(t *testing.T) {
	t.Parallel()
	data := base64.StdEncoding.EncodeToString([]byte(`{"a":1}`))
	e, err := ParseEnvelope([]byte(`{"message":{"data":"` + data + `","attributes":{"traceparent":"x"},"messageId":"7"},"subscription":"s"}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Message.Data) != `{"a":1}` || e.Message.Attributes["traceparent"] != "x" || e.Message.MessageID != "7" {
		t.Fatalf("envelope = %+v", e)
	}
	if _, err := ParseEnvelope([]byte(`{"message":{"data":"!!"}}`)); !errors.Is(err, ErrPermanent) {
		t.Fatalf("bad base64 err = %v", err)
	}
}

func FuzzDecodeSync(f *testing.F) {
	f.Add([]byte(`{"tenant":"t1","staff":"s1","connection":"g1","calendar":"c1","reason":"push"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeSync(b)
		if err == nil && (!ValidID(m.Tenant) || !ValidID(m.Calendar)) {
			t.Fatalf("accepted invalid ids: %+v", m)
		}
		if err != nil && !errors.Is(err, ErrPermanent) {
			t.Fatalf("sync decode error is not permanent: %v", err)
		}
		x, err := DecodeExport(b)
		switch {
		case err == nil && (!ValidID(x.Tenant) || !ValidID(x.Booking) || (x.Op != "upsert" && x.Op != "delete")):
			t.Fatalf("accepted invalid export message: %+v", x)
		case err != nil && !errors.Is(err, ErrPermanent):
			t.Fatalf("export decode error is not permanent: %v", err)
		}
		if r := DecodeRenew(b); r != (Renew{}) && (!ValidID(r.Tenant) || !ValidID(r.Staff) || !ValidID(r.Connection)) {
			t.Fatalf("renew message with invalid ids: %+v", r)
		}
		if e, err := ParseEnvelope(b); err == nil && len(e.Message.Data) > MaxData {
			t.Fatalf("envelope with %d data bytes accepted", len(e.Message.Data))
		} else if err != nil && !errors.Is(err, ErrPermanent) {
			t.Fatalf("envelope error is not permanent: %v", err)
		}
	})
}

func TestValidIDRefusesReserved(t *testing.T) {
	for _, id := range []string{"__x__", "____", "__", "__a_b__"} {
		if id != "__" && ValidID(id) {
			t.Errorf("ValidID(%q) = true; Firestore reserves __.*__", id)
		}
	}
	for _, id := range []string{"__x", "x__", "_x_", "a__b", "__", "___"} {
		if !ValidID(id) {
			t.Errorf("ValidID(%q) = false", id)
		}
	}
}
