// Package platform builds, once per function instance, the clients a function uses:
// Firestore, Pub/Sub, the secret source, the token sealer, the clock and the logger,
// all from one config.Env. Deployed they point at Google Cloud; locally at the emulators,
// the fake Google and the shared clock. Tests build several platforms side by side (one
// project each) because nothing here is global.
package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"google.golang.org/api/option"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/clock"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tokencrypt"
)

// Platform holds one function instance's clients.
type Platform struct {
	Env     config.Env
	Clock   clock.Clock
	Store   *store.Store
	PubSub  *pubsub.Client
	Secrets secrets.Source
	Sealer  *tokencrypt.Sealer
	HTTP    *http.Client // for calls to Google
	Log     *slog.Logger

	mu   sync.Mutex
	pubs map[string]*pubsub.Publisher
	sm   *secretmanager.Client
}

// Deps override parts of the platform (tests, the local stack). Zero values mean "build
// from Env".
type Deps struct {
	Secrets   secrets.Source
	LogWriter io.Writer
	HTTP      *http.Client
	Clock     clock.Clock
	// Extra client options for the Firestore and Pub/Sub clients (benchmarks count
	// operations at the wire with them: shared/opcount).
	FirestoreOptions []option.ClientOption
	PubSubOptions    []option.ClientOption
}

// New builds a platform. It does not contact anything yet: clients connect lazily.
func New(ctx context.Context, env config.Env, d Deps) (*Platform, error) {
	if err := env.Need("GOOGLE_CLOUD_PROJECT", "CLOCK_URL"); err != nil {
		return nil, fmt.Errorf("platform config: %w", err)
	}
	p := &Platform{Env: env, Secrets: d.Secrets, HTTP: d.HTTP, Clock: d.Clock, pubs: map[string]*pubsub.Publisher{}}
	w := d.LogWriter
	if w == nil {
		w = os.Stdout
	}
	p.Log = logging.New(w, logging.Options{ProjectID: env.Project})
	if p.HTTP == nil {
		p.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if p.Clock == nil {
		p.Clock = clock.System{}
		if env.ClockURL != "" {
			p.Clock = clock.URL{Addr: env.ClockURL, Client: p.HTTP}
		}
	}
	fs, err := firestore.NewClient(ctx, env.Project, d.FirestoreOptions...)
	if err != nil {
		return nil, fmt.Errorf("firestore client: %w", err)
	}
	p.Store = store.New(fs)
	ps, err := pubsub.NewClient(ctx, env.Project, d.PubSubOptions...)
	if err != nil {
		fs.Close()
		return nil, fmt.Errorf("pubsub client: %w", err)
	}
	p.PubSub = ps
	if p.Secrets == nil {
		if env.LocalSecrets {
			p.Secrets = secrets.NewEnv(os.LookupEnv)
		} else {
			sm, err := secretmanager.NewClient(ctx)
			if err != nil {
				p.Close()
				return nil, fmt.Errorf("secret manager client: %w", err)
			}
			p.sm = sm
			p.Secrets = secrets.NewSecretManager(sm, env.SecretsProject)
		}
	}
	p.Sealer = tokencrypt.New(p.Secrets)
	return p, nil
}

// Close releases the clients.
func (p *Platform) Close() {
	p.mu.Lock()
	for _, pub := range p.pubs {
		pub.Stop()
	}
	p.pubs = map[string]*pubsub.Publisher{}
	p.mu.Unlock()
	if p.PubSub != nil {
		p.PubSub.Close()
	}
	if p.Store != nil {
		p.Store.Close()
	}
	if p.sm != nil {
		p.sm.Close()
	}
}

// Now reads the clock once; callers pass the instant down.
func (p *Platform) Now(ctx context.Context) (time.Time, error) {
	t, err := p.Clock.Now(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("read clock: %w", err)
	}
	return t, nil
}

func (p *Platform) publisher(topic string) *pubsub.Publisher {
	p.mu.Lock()
	defer p.mu.Unlock()
	pub, ok := p.pubs[topic]
	if !ok {
		pub = p.PubSub.Publisher(topic)
		pub.PublishSettings.DelayThreshold = time.Millisecond
		p.pubs[topic] = pub
	}
	return pub
}

// Publish sends v as JSON to topic, carrying the trace of ctx in the attributes, and
// waits until Pub/Sub has accepted it.
func (p *Platform) Publish(ctx context.Context, topic string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("publish %s: encode: %w", topic, err)
	}
	return p.PublishRaw(ctx, topic, data, logging.TraceAttributes(ctx))
}

// PublishRaw sends bytes with attributes (used for dead-lettering and replay).
func (p *Platform) PublishRaw(ctx context.Context, topic string, data []byte, attrs map[string]string) error {
	res := p.publisher(topic).Publish(ctx, &pubsub.Message{Data: data, Attributes: attrs})
	if _, err := res.Get(ctx); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// Accounts opens connected Google accounts with this platform's store, token sealer,
// secrets and configuration.
func (p *Platform) Accounts() *accounts.Service {
	return &accounts.Service{Store: p.Store, Sealer: p.Sealer, Secrets: p.Secrets, Env: p.Env, HTTP: p.HTTP}
}
