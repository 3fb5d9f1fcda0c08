package secrets

import (
	"context"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// LatestTTL is how long the Secret Manager source trusts its answer for "latest": a
// rotation (a new version added) is picked up by every instance within this time.
const LatestTTL = time.Minute

// DefaultVersionTTL is how long a specific version's value is trusted: versions are
// immutable, but they can be disabled or destroyed (a compromised key withdrawn, see
// docs/runbook.md); after this time every instance asks Secret Manager again and a
// disabled version stops working — without a redeploy.
const DefaultVersionTTL = 5 * time.Minute

// secretManager reads from Google Cloud Secret Manager through the real client.
type secretManager struct {
	client  *secretmanager.Client
	project string
	ttl     time.Duration
	vttl    time.Duration
	now     func() time.Time // replaced in tests

	mu       sync.Mutex
	versions map[versionKey]versionEntry
	latest   map[string]latestEntry
}

type versionEntry struct {
	value   []byte
	expires time.Time
}

type versionKey struct{ name, version string }

type latestEntry struct {
	version string
	expires time.Time
}

// NewSecretManager returns a Source reading secrets of project (an id or a number) with
// AccessSecretVersion. Values are cached in memory: a version's value for
// DefaultVersionTTL, the resolution of "latest" for LatestTTL.
func NewSecretManager(client *secretmanager.Client, project string) Source {
	return NewSecretManagerTTL(client, project, DefaultVersionTTL)
}

// NewSecretManagerTTL is NewSecretManager with the version cache time (SECRET_CACHE_TTL);
// 0 or less means DefaultVersionTTL.
func NewSecretManagerTTL(client *secretmanager.Client, project string, versionTTL time.Duration) Source {
	if versionTTL <= 0 {
		versionTTL = DefaultVersionTTL
	}
	latest := LatestTTL
	if versionTTL < latest {
		latest = versionTTL // a short cache is short for "latest" too
	}
	return &secretManager{
		client:   client,
		project:  project,
		ttl:      latest,
		vttl:     versionTTL,
		now:      time.Now,
		versions: map[versionKey]versionEntry{},
		latest:   map[string]latestEntry{},
	}
}

func (s *secretManager) Latest(ctx context.Context, name string) ([]byte, string, error) {
	now := s.now()
	s.mu.Lock()
	if e, ok := s.latest[name]; ok && now.Before(e.expires) {
		if v, ok := s.versions[versionKey{name, e.version}]; ok && now.Before(v.expires) {
			s.mu.Unlock()
			return clone(v.value), e.version, nil
		}
	}
	s.mu.Unlock()

	value, version, err := s.access(ctx, name, "latest")
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	s.versions[versionKey{name, version}] = versionEntry{value: value, expires: now.Add(s.vttl)}
	s.latest[name] = latestEntry{version: version, expires: now.Add(s.ttl)}
	s.mu.Unlock()
	return clone(value), version, nil
}

func (s *secretManager) Version(ctx context.Context, name, version string) ([]byte, error) {
	if version == "" || version == "latest" {
		// "latest" is not a version: caching it as one would pin it forever.
		return nil, fmt.Errorf("secrets: secret %q: version %q is not a specific version", name, version)
	}
	k := versionKey{name, version}
	now := s.now()
	s.mu.Lock()
	v, ok := s.versions[k]
	if ok && !now.Before(v.expires) {
		delete(s.versions, k) // withdrawn versions must stop working: ask again
		ok = false
	}
	s.mu.Unlock()
	if ok {
		return clone(v.value), nil
	}

	value, _, err := s.access(ctx, name, version)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.versions[k] = versionEntry{value: value, expires: now.Add(s.vttl)}
	s.mu.Unlock()
	return clone(value), nil
}

// access calls AccessSecretVersion and returns the payload and the resolved version id.
func (s *secretManager) access(ctx context.Context, name, version string) ([]byte, string, error) {
	if !validID(name) || !validID(version) {
		return nil, "", fmt.Errorf("secrets: invalid secret %q or version %q", name, version)
	}
	resName := "projects/" + s.project + "/secrets/" + name + "/versions/" + version
	resp, err := s.client.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: resName})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return nil, "", fmt.Errorf("secrets: access %s: %w: %w", resName, ErrNotFound, err)
		}
		return nil, "", fmt.Errorf("secrets: access %s: %w", resName, err)
	}
	data := resp.GetPayload().GetData()
	if sum := resp.GetPayload().DataCrc32C; sum != nil && int64(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))) != *sum {
		return nil, "", fmt.Errorf("secrets: access %s: payload checksum mismatch", resName)
	}
	resolved := resp.GetName()
	i := strings.LastIndex(resolved, "/versions/")
	if i < 0 || !validID(resolved[i+len("/versions/"):]) {
		return nil, "", fmt.Errorf("secrets: access %s: unexpected version name %q in response", resName, resolved)
	}
	return clone(data), resolved[i+len("/versions/"):], nil
}

// validID keeps names from smuggling extra path segments into the resource name.
func validID(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, r := range s {
		ok := r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}
