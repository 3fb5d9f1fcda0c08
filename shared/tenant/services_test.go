package tenant

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseService(t *testing.T) {
	s, err := ParseService("cut", []byte(`{"name":" Hair\u200bcut\u202e ","durationMin":45,"bufferBeforeMin":0,"bufferAfterMin":15,"staff":["ben","anna","ben"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "cut" || s.Name != "Haircut" || strings.Join(s.Staff, ",") != "anna,ben" || !s.Offers("anna") || s.Offers("cleo") {
		t.Fatalf("parsed %+v", s)
	}
	many := make([]string, MaxServiceStaff+1)
	for i := range many {
		many[i] = fmt.Sprintf("%q", fmt.Sprintf("s%d", i))
	}
	bad := map[string]string{
		"id mismatch":   `{"id":"other","name":"X","durationMin":30,"staff":["a"]}`,
		"unknown field": `{"name":"X","durationMin":30,"staff":["a"],"price":1}`,
		"short":         `{"name":"X","durationMin":4,"staff":["a"]}`,
		"long":          `{"name":"X","durationMin":481,"staff":["a"]}`,
		"buffer":        `{"name":"X","durationMin":30,"bufferAfterMin":241,"staff":["a"]}`,
		"no staff":      `{"name":"X","durationMin":30,"staff":[]}`,
		"any":           `{"name":"X","durationMin":30,"staff":["any"]}`,
		"reserved":      `{"name":"X","durationMin":30,"staff":["__a__"]}`,
		"too many":      `{"name":"X","durationMin":30,"staff":[` + strings.Join(many, ",") + `]}`,
		"invisible":     `{"name":"\u200b\u2066","durationMin":30,"staff":["a"]}`,
	}
	for name, body := range bad {
		var ve *ValidationError
		if _, err := ParseService("cut", []byte(body)); !errors.As(err, &ve) {
			t.Errorf("%s: %v, want a ValidationError", name, err)
		}
	}
	if _, err := ParseService("__cut__", []byte(`{"name":"X","durationMin":30,"staff":["a"]}`)); err == nil {
		t.Error("reserved service id accepted")
	}
}
