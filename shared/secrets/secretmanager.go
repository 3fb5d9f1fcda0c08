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
// Specific versions are immutable and cached for the life of the process.
const LatestTTL = time.Minute

// secretManager reads from Google Cloud Secret Manager through the real client.
type secretManager struct {
	client  *secretmanager.Client
	project string
	ttl     time.Duration
	now     func() time.Time // replaced in tests

	mu       sync.Mutex
	versions map[versionKey][]byte
	latest   map[string]latestEntry
}

type versionKey struct{ name, version string }

type latestEntry struct {
	version string
	expires time.Time
}

// NewSecretManager returns a Source reading secrets of project (an id or a number) with
// AccessSecretVersion. Values are cached in memory: versions forever (they are
// immutable), the resolution of "latest" for LatestTTL.
func NewSecretManager(client *secretmanager.Client, project string) Source {
	return &secretManager{
		client:   client,
		project:  project,
		ttl:      LatestTTL,
		now:      time.Now,
		versions: map[versionKey][]byte{},
		latest:   map[string]latestEntry{},
	}
}

func (s *secretManager) Latest(ctx context.Context, name string) ([]byte, string, error) {
	now := s.now()
	s.mu.Lock()
	if e, ok := s.latest[name]; ok && now.Before(e.expires) {
		v := s.versions[versionKey{name, e.version}]
		s.mu.Unlock()
		return clone(v), e.version, nil
	}
	s.mu.Unlock()

	value, version, err := s.access(ctx, name, "latest")
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	s.versions[versionKey{name, version}] = value
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
	s.mu.Lock()
	v, ok := s.versions[k]
	s.mu.Unlock()
	if ok {
		return clone(v), nil
	}

	value, _, err := s.access(ctx, name, version)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.versions[k] = value
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
