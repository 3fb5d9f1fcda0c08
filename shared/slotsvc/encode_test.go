package slotsvc

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/slotquery"
)

// reference is what the answer was before Encode: encoding/json over the same values.
func reference(slots []slotquery.Slot) []byte {
	type slotJSON struct {
		Start string `json:"start"`
		End   string `json:"end"`
		Staff string `json:"staff"`
	}
	out := make([]slotJSON, len(slots))
	for i, sl := range slots {
		out[i] = slotJSON{Start: sl.Start.Format(time.RFC3339), End: sl.End.Format(time.RFC3339), Staff: sl.Staff}
	}
	b, _ := json.Marshal(map[string]any{"slots": out})
	return append(b, '\n')
}

func randomSlots(r *rand.Rand, n int, staff string) []slotquery.Slot {
	zones := []string{"UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham"}
	loc, _ := time.LoadLocation(zones[r.IntN(len(zones))])
	out := make([]slotquery.Slot, n)
	for i := range out {
		s := time.Unix(r.Int64N(4e9), 0).In(loc)
		out[i] = slotquery.Slot{Start: s, End: s.Add(time.Duration(r.IntN(480)) * time.Minute), Staff: staff}
	}
	return out
}

func TestEncodeMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, staff := range []string{"anna", "s-1_x", "", `quo"te`, "back\\slash", "<b>&", "ümlaut", "tab\t", "\u2028"} {
		for _, n := range []int{0, 1, 7} {
			sl := randomSlots(r, n, staff)
			if got, want := Encode(sl), reference(sl); !bytes.Equal(got, want) {
				t.Fatalf("staff %q, %d slots:\n got %s\nwant %s", staff, n, got, want)
			}
		}
	}
}

func FuzzEncode(f *testing.F) {
	f.Add("anna", int64(1793000000), 30, uint8(1))
	f.Add("\x00<\u2028", int64(-1), 0, uint8(4))
	f.Fuzz(func(t *testing.T, staff string, unix int64, minutes int, zone uint8) {
		zones := []string{"UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham"}
		loc, _ := time.LoadLocation(zones[int(zone)%len(zones)])
		s := time.Unix(unix%(1<<34), 0).In(loc)
		sl := []slotquery.Slot{{Start: s, End: s.Add(time.Duration(minutes%10000) * time.Minute), Staff: staff}}
		if got, want := Encode(sl), reference(sl); !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkEncode: a staff=any answer of 1,600 slots, Encode against encoding/json.
func BenchmarkEncode(b *testing.B) {
	sl := randomSlots(rand.New(rand.NewPCG(3, 4)), 1600, "s12")
	var ref time.Duration
	for range 20 {
		t0 := time.Now()
		reference(sl)
		ref += time.Since(t0)
	}
	b.ResetTimer()
	t0 := time.Now()
	for b.Loop() {
		Encode(sl)
	}
	per := time.Since(t0) / time.Duration(b.N)
	b.ReportMetric(float64(per)/float64(ref/20), "×encoding/json")
}
