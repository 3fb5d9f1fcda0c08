package availability

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	r := Default()
	if err := r.Validate(); err != nil {
		t.Fatalf("Default() invalid: %v", err)
	}
	if r.TimeZone != "Europe/Berlin" || r.StepMin != 30 || r.MinNoticeMin != 60 || r.HorizonDays != 60 ||
		r.BufferBeforeMin != 0 || r.BufferAfterMin != 0 || len(r.Weekly["mon"]) != 1 || len(r.Weekly["sat"]) != 0 {
		t.Fatalf("Default() = %+v", r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	// The JSON shape of docs/api.md.
	for _, k := range []string{`"timeZone":"Europe/Berlin"`, `"mon":[{"start":"09:00","end":"17:00"}]`, `"sat":[]`, `"overrides":[]`,
		`"bufferBeforeMin":0`, `"bufferAfterMin":0`, `"minNoticeMin":60`, `"horizonDays":60`, `"stepMin":30`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON %s lacks %s", b, k)
		}
	}
}

// Normalized fills in every key with an empty list, so the JSON has no null.
func TestNormalized(t *testing.T) {
	t.Parallel()
	r := Rules{TimeZone: "UTC", Weekly: map[string][]Range{"mon": {{Start: "09:00", End: "10:00"}}}, Overrides: []Override{{Date: "2026-03-02"}}}
	b, err := json.Marshal(r.Normalized())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"mon":[{"start":"09:00","end":"10:00"}]`, `"sun":[]`, `"ranges":[]`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON %s lacks %s", b, k)
		}
	}
	if b, _ := json.Marshal(Rules{}.Normalized()); strings.Contains(string(b), "null") {
		t.Errorf("empty rules: %s", b)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		mod     func(*Rules)
		field   string // "" = valid
		message string
	}{
		{"default", func(*Rules) {}, "", ""},
		{"UTC ok", func(r *Rules) { r.TimeZone = "UTC" }, "", ""},
		{"24:00 end ok", func(r *Rules) { r.Weekly["sun"] = rg("00:00", "24:00") }, "", ""},
		{"touching ok", func(r *Rules) { r.Weekly["mon"] = rg("12:00", "17:00", "09:00", "12:00") }, "", ""},
		{"nil weekly ok", func(r *Rules) { r.Weekly = nil }, "", ""},
		{"limits ok", func(r *Rules) {
			r.BufferBeforeMin, r.BufferAfterMin, r.MinNoticeMin, r.HorizonDays, r.StepMin = 1440, 1440, 525600, 730, 1440
		}, "", ""},
		{"odd step ok", func(r *Rules) { r.StepMin = 7 }, "", ""},
		{"closed override ok", func(r *Rules) { r.Overrides = []Override{{Date: "2026-12-24"}} }, "", ""},
		{"leap day ok", func(r *Rules) { r.Overrides = []Override{{Date: "2028-02-29", Ranges: rg("10:00", "11:00")}} }, "", ""},

		{"zone empty", func(r *Rules) { r.TimeZone = "" }, "timeZone", "required"},
		{"zone unknown", func(r *Rules) { r.TimeZone = "Europe/Atlantis" }, "timeZone", "not a known IANA"},
		{"zone Local", func(r *Rules) { r.TimeZone = "Local" }, "timeZone", "not an IANA"},
		{"zone padded", func(r *Rules) { r.TimeZone = " Europe/Berlin" }, "timeZone", "not an IANA"},
		{"unknown weekday", func(r *Rules) { r.Weekly["monday"] = rg("09:00", "10:00") }, "weekly.monday", "unknown weekday"},
		{"start format", func(r *Rules) { r.Weekly["mon"] = rg("9:00", "17:00") }, "weekly.mon[0].start", "not a valid start"},
		{"start minutes", func(r *Rules) { r.Weekly["mon"] = rg("09:60", "17:00") }, "weekly.mon[0].start", "not a valid start"},
		{"start 24:00", func(r *Rules) { r.Weekly["mon"] = rg("24:00", "24:00") }, "weekly.mon[0].start", "not a valid start"},
		{"start junk", func(r *Rules) { r.Weekly["mon"] = rg("ab:cd", "17:00") }, "weekly.mon[0].start", "not a valid start"},
		{"end 24:01", func(r *Rules) { r.Weekly["mon"] = rg("09:00", "24:01") }, "weekly.mon[0].end", "not a valid end"},
		{"end 25:00", func(r *Rules) { r.Weekly["mon"] = rg("09:00", "25:00") }, "weekly.mon[0].end", "not a valid end"},
		{"end 00:00", func(r *Rules) { r.Weekly["mon"] = rg("09:00", "00:00") }, "weekly.mon[0].end", "written 24:00"},
		{"end with seconds", func(r *Rules) { r.Weekly["mon"] = rg("09:00", "17:00:00") }, "weekly.mon[0].end", "not a valid end"},
		{"end equals start", func(r *Rules) { r.Weekly["tue"] = rg("09:00", "09:00") }, "weekly.tue[0].end", "must end after"},
		{"end before start", func(r *Rules) { r.Weekly["tue"] = rg("10:00", "09:00") }, "weekly.tue[0].end", "must end after"},
		{"overlap weekday", func(r *Rules) { r.Weekly["wed"] = rg("13:00", "15:00", "09:00", "13:01") }, "weekly.wed[0]", "overlaps weekly.wed[1]"},
		{"contained weekday", func(r *Rules) { r.Weekly["wed"] = rg("09:00", "17:00", "10:00", "11:00") }, "weekly.wed[1]", "overlaps weekly.wed[0]"},
		{"too many ranges", func(r *Rules) {
			var rs []Range
			for i := 0; i < MaxRangesPerDay+1; i++ {
				rs = append(rs, Range{Start: fmt.Sprintf("%02d:%02d", i/6, i%6*10), End: fmt.Sprintf("%02d:%02d", i/6, i%6*10+5)})
			}
			r.Weekly["thu"] = rs
		}, "weekly.thu", "at most"},
		{"override bad date", func(r *Rules) { r.Overrides = []Override{{Date: "2026-13-01"}} }, "overrides[0].date", "not a valid date"},
		{"override Feb 30", func(r *Rules) { r.Overrides = []Override{{Date: "2026-02-30"}} }, "overrides[0].date", "not a valid date"},
		{"override Feb 29 non-leap", func(r *Rules) { r.Overrides = []Override{{Date: "2026-02-29"}} }, "overrides[0].date", "not a valid date"},
		{"override format", func(r *Rules) { r.Overrides = []Override{{Date: "24.12.2026"}} }, "overrides[0].date", "not a valid date"},
		{"override timestamp", func(r *Rules) { r.Overrides = []Override{{Date: "2026-12-24T00:00:00Z"}} }, "overrides[0].date", "not a valid date"},
		{"override year", func(r *Rules) { r.Overrides = []Override{{Date: "1899-12-31"}} }, "overrides[0].date", "out of range"},
		{"override duplicate", func(r *Rules) {
			r.Overrides = []Override{{Date: "2026-12-24"}, {Date: "2026-12-25"}, {Date: "2026-12-24", Ranges: rg("10:00", "12:00")}}
		}, "overrides[2].date", "duplicate date 2026-12-24"},
		{"override overlap", func(r *Rules) {
			r.Overrides = []Override{{Date: "2026-12-24", Ranges: rg("10:00", "12:00", "11:00", "13:00")}}
		}, "overrides[0].ranges[1]", "overlaps"},
		{"override bad range", func(r *Rules) {
			r.Overrides = []Override{{Date: "2026-12-24", Ranges: rg("10:00", "09:00")}}
		}, "overrides[0].ranges[0].end", "must end after"},
		{"too many overrides", func(r *Rules) {
			for i := 0; i <= MaxOverrides; i++ {
				r.Overrides = append(r.Overrides, Override{Date: formatDate(20000 + int64(i))})
			}
		}, "overrides", "at most"},
		{"negative buffer before", func(r *Rules) { r.BufferBeforeMin = -1 }, "bufferBeforeMin", "between 0 and 1440"},
		{"negative buffer after", func(r *Rules) { r.BufferAfterMin = -5 }, "bufferAfterMin", "between 0 and 1440"},
		{"huge buffer", func(r *Rules) { r.BufferAfterMin = 1441 }, "bufferAfterMin", "between 0 and 1440"},
		{"negative notice", func(r *Rules) { r.MinNoticeMin = -1 }, "minNoticeMin", "between 0 and 525600"},
		{"huge notice", func(r *Rules) { r.MinNoticeMin = 525601 }, "minNoticeMin", "between 0 and 525600"},
		{"zero horizon", func(r *Rules) { r.HorizonDays = 0 }, "horizonDays", "between 1 and 730"},
		{"huge horizon", func(r *Rules) { r.HorizonDays = 731 }, "horizonDays", "between 1 and 730"},
		{"zero step", func(r *Rules) { r.StepMin = 0 }, "stepMin", "between 5 and 1440"},
		{"small step", func(r *Rules) { r.StepMin = 4 }, "stepMin", "between 5 and 1440"},
		{"huge step", func(r *Rules) { r.StepMin = 1441 }, "stepMin", "between 5 and 1440"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := Default()
			c.mod(&r)
			err := r.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if ve.Field != c.field || !strings.Contains(ve.Message, c.message) {
				t.Fatalf("got %s: %s, want %s: …%s…", ve.Field, ve.Message, c.field, c.message)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Fatalf("Error() %q lacks field", err.Error())
			}
		})
	}
}

func TestParseHelpers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{{"00:00", 0, true}, {"23:59", 1439, true}, {"24:00", 1440, true}, {"24:30", 0, false}, {"12:5", 0, false}, {"-1:00", 0, false}, {"１2:00", 0, false}} {
		got, ok := parseClock(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parseClock(%q) = %d,%v want %d,%v", c.in, got, ok, c.want, c.ok)
		}
	}
	// daysFromCivil/civilFromDays agree with each other and with known dates over a wide span.
	if d := daysFromCivil(1970, 1, 1); d != 0 {
		t.Fatalf("epoch = %d", d)
	}
	if d := daysFromCivil(2026, 3, 29); d != 20541 || weekdayOf(d).String() != "Sunday" {
		t.Fatalf("2026-03-29 = %d (%v)", d, weekdayOf(d))
	}
	for d := int64(-800000); d < 800000; d += 97 {
		y, m, dd := civilFromDays(d)
		if back := daysFromCivil(y, m, dd); back != d {
			t.Fatalf("round trip %d → %d-%d-%d → %d", d, y, m, dd, back)
		}
		if s := formatDate(d); y >= 1 && y <= 9999 {
			if p, ok := parseDate(s); !ok || p != d {
				t.Fatalf("parseDate(%s) = %d,%v want %d", s, p, ok, d)
			}
		}
	}
}
