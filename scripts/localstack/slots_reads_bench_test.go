package localstack

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/opcount"
	"github.com/belbo/calsync/shared/slotquery/slotquerytest"
)

// seedBusy creates staff s1 with 1 connection, 4 selected calendars (+1 unselected) and

// BenchmarkSlotsReads: Firestore reads of one Slots request over HTTP — the function as
// deployed, on a fresh instance (cold: it does not yet know the staff member's calendars)
// and then warm — with 100 and with 100,000 busy events stored. Reads are counted on the
// Firestore client's gRPC connection to the emulator (documents returned; an empty query
// counts one), not by slotquery's own counter. Asserted: the same reads at both sizes, cold
// and warm, and a warm request reads no more than a cold one.
func BenchmarkSlotsReads(b *testing.B) {
	sizes := []int{100, 100_000}
	type res struct{ cold, warm, coldRPC, warmRPC int64 }
	var got []res
	for i := 0; i < b.N; i++ {
		got = got[:0]
		for _, n := range sizes {
			b.StopTimer()
			m := newMeter()
			s := benchStackWith(b, m)
			slotquerytest.SeedBusy(b, s.Platform.Store, n)
			// Slots is asked with durationMin, no catalogue: the tenant allows it.
			if _, err := s.Platform.Store.PatchTenantSettings(context.Background(), "t1", []byte(`{"freeFormBooking":true}`), time.Now()); err != nil {
				b.Fatal(err)
			}
			q := url.Values{"tenant": {"t1"}, "staff": {"s1"}, "durationMin": {"30"}, "from": {"2026-11-02T00:00:00+01:00"}, "to": {"2026-11-16T00:00:00+01:00"}}
			u := s.Function("Slots") + "/?" + q.Encode()
			get := func() (int64, int64, int) {
				r0, c0 := m.C.Get(opcount.FSReads), m.C.Get(opcount.FSRPCs)
				resp, err := http.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("Slots: %d %s", resp.StatusCode, body)
				}
				return m.C.Get(opcount.FSReads) - r0, m.C.Get(opcount.FSRPCs) - c0, len(body)
			}
			b.StartTimer()
			var r res
			r.cold, r.coldRPC, _ = get()
			r.warm, r.warmRPC, _ = get()
			got = append(got, r)
		}
		if got[0].cold != got[1].cold || got[0].warm != got[1].warm {
			b.Errorf("reads differ with the number of stored events: %d events cold %d warm %d, %d events cold %d warm %d",
				sizes[0], got[0].cold, got[0].warm, sizes[1], got[1].cold, got[1].warm)
		}
		if got[0].warm > got[0].cold {
			b.Errorf("a warm request read %d documents, more than a cold one (%d)", got[0].warm, got[0].cold)
		}
	}
	b.ReportMetric(float64(got[0].cold), "reads-cold-100ev")
	b.ReportMetric(float64(got[1].cold), "reads-cold-100kev")
	b.ReportMetric(float64(got[0].warm), "reads-warm-100ev")
	b.ReportMetric(float64(got[1].warm), "reads-warm-100kev")
	b.ReportMetric(float64(got[1].coldRPC), "rpcs-cold")
	b.ReportMetric(float64(got[1].warmRPC), "rpcs-warm")
}
