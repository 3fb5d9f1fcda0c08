package calendarwebhook

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
)

// BenchmarkWebhookFirestore is BenchmarkWebhookLoopback with the real channel lookup (one
// read of channels/{id} on the Firestore emulator) and a publisher that accepts at once,
// so the figure is the webhook's own cost, not the Pub/Sub emulator's.
func BenchmarkWebhookFirestore(b *testing.B) {
	fs, _ := testenv.Firestore(b)
	ctx := context.Background()
	if _, err := fs.Collection("channels").Doc(ch1).Set(ctx, store.ChannelLookup{Tenant: "t1", Staff: "s1", Connection: "c1", Calendar: "cal1",
		TokenHash: store.HashToken("secret"), ResourceID: "res1"}); err != nil {
		b.Fatal(err)
	}
	var published atomic.Int64
	h := &Handler{Channels: store.New(fs).LookupChannel, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Publish: func(context.Context, string, any) error { published.Add(1); return nil }}
	errs := loadWebhook(b, h, 32)
	if errs > 0 || published.Load() != int64(b.N) {
		b.Fatalf("%d errors, %d published of %d", errs, published.Load(), b.N)
	}
}
