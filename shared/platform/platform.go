// Package platform builds, once per function instance, the clients a function uses:
// Firestore, Pub/Sub, the secret source, the token sealer, the clock and the logger,
// all from the function's config.Platform group. Deployed they point at Google Cloud; locally at the emulators,
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
	"github.com/belbo/calsync/shared/topology"
)

// Platform holds one function instance's clients.
type Platform struct {
	Config  config.Platform
	Clock   clock.Clock
	Store   *store.Store
	PubSub  *pubsub.Client
	Secrets secrets.Source
	Sealer  *tokencrypt.Sealer
	HTTP    *http.Client // for calls to Google
	Log     *slog.Logger

	pubs *publishers
	sm   *secretmanager.Client

	// access is the declaration this platform is scoped to (For); nil for the root
	// platform of a process, which tools and test drivers use and which is never handed to
	// a function. parent is the root a scoped platform shares its clients with.
	access *topology.Access
	parent *Platform
}

// publishers caches one Pub/Sub publisher per topic, shared by a root platform and the
// platforms scoped from it.
type publishers struct {
	mu sync.Mutex
	m  map[string]*pubsub.Publisher
}

// Deps override parts of the platform (tests, the local stack). Zero values mean "build
// from the configuration".
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
func New(ctx context.Context, cfg config.Platform, d Deps) (*Platform, error) {
	if err := config.Check(cfg); err != nil {
		return nil, fmt.Errorf("platform config: %w", err)
	}
	p := &Platform{Config: cfg, Secrets: d.Secrets, HTTP: d.HTTP, Clock: d.Clock, pubs: &publishers{m: map[string]*pubsub.Publisher{}}}
	w := d.LogWriter
	if w == nil {
		w = os.Stdout
	}
	p.Log = logging.New(w, logging.Options{ProjectID: cfg.Project})
	if p.HTTP == nil {
		p.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if p.Clock == nil {
		p.Clock = clock.System{}
		if cfg.ClockURL != "" {
			p.Clock = clock.URL{Addr: cfg.ClockURL, Client: p.HTTP}
		}
	}
	fs, err := firestore.NewClient(ctx, cfg.Project, d.FirestoreOptions...)
	if err != nil {
		return nil, fmt.Errorf("firestore client: %w", err)
	}
	p.Store = store.New(fs)
	ps, err := pubsub.NewClient(ctx, cfg.Project, d.PubSubOptions...)
	if err != nil {
		fs.Close()
		return nil, fmt.Errorf("pubsub client: %w", err)
	}
	p.PubSub = ps
	if p.Secrets == nil {
		if cfg.LocalSecrets {
			p.Secrets = secrets.NewEnv(os.LookupEnv)
		} else {
			sm, err := secretmanager.NewClient(ctx)
			if err != nil {
				p.Close()
				return nil, fmt.Errorf("secret manager client: %w", err)
			}
			p.sm = sm
			p.Secrets = secrets.NewSecretManagerTTL(sm, cfg.SecretsProject, cfg.SecretCacheTTL)
		}
	}
	p.Sealer = tokencrypt.New(p.Secrets)
	return p, nil
}

// Close releases the clients. On a scoped platform it does nothing: the root owns them.
func (p *Platform) Close() {
	if p.parent != nil {
		return
	}
	if p.pubs != nil {
		p.pubs.mu.Lock()
		for _, pub := range p.pubs.m {
			pub.Stop()
		}
		p.pubs.m = map[string]*pubsub.Publisher{}
		p.pubs.mu.Unlock()
	}
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
	p.pubs.mu.Lock()
	defer p.pubs.mu.Unlock()
	pub, ok := p.pubs.m[topic]
	if !ok {
		pub = p.PubSub.Publisher(topic)
		pub.PublishSettings.DelayThreshold = time.Millisecond
		p.pubs.m[topic] = pub
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

// PublishRaw sends bytes with attributes (used for dead-lettering and replay). A scoped
// platform refuses a topic its function did not declare (ErrUndeclared).
func (p *Platform) PublishRaw(ctx context.Context, topic string, data []byte, attrs map[string]string) error {
	if err := p.checkPublish(ctx, topic); err != nil {
		return err
	}
	res := p.publisher(topic).Publish(ctx, &pubsub.Message{Data: data, Attributes: attrs})
	if _, err := res.Get(ctx); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// Accounts opens connected Google accounts with this platform's store, token sealer and
// secrets and the given OAuth client and endpoints.
func (p *Platform) Accounts(g config.Google) *accounts.Service {
	return &accounts.Service{Store: p.Store, Sealer: p.Sealer, Secrets: p.Secrets, Config: g, HTTP: p.HTTP}
}
