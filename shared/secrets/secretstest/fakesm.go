// Package secretstest is an in-process stand-in for Secret Manager, for tests only.
//
// Secret Manager has no emulator, so tests point the real
// cloud.google.com/go/secretmanager/apiv1 client at a fake gRPC server that implements
// the calls this project uses (AccessSecretVersion, AddSecretVersion,
// DisableSecretVersion). It keeps secrets in memory, numbers versions 1, 2, 3, … like
// Secret Manager does, resolves "latest" to the newest enabled version, and answers
// NotFound / FailedPrecondition the way the real service does.
//
// It must never be imported by production code: it holds secret values in plain memory and
// accepts any project and any caller without authentication.
package secretstest

import (
	"context"
	"fmt"
	"hash/crc32"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Fake is a running fake Secret Manager. Secrets are keyed by secret id; the project in a
// request is echoed back in the response name but otherwise ignored.
type Fake struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	client   *secretmanager.Client
	accesses atomic.Int64

	mu      sync.Mutex
	secrets map[string][]version // secret id → versions, index i holds version i+1
}

type version struct {
	data     []byte
	disabled bool
}

// NewFakeServer starts a fake Secret Manager for the duration of the test and returns a
// real client connected to it, and add, which stores value as the next version of the
// named secret and returns that version's id ("1", "2", …).
func NewFakeServer(t testing.TB) (client *secretmanager.Client, add func(name string, value []byte) (version string)) {
	t.Helper()
	f := NewFake(t)
	return f.Client(), f.Add
}

// NewFake starts a fake Secret Manager for the duration of the test. Use it instead of
// NewFakeServer when a test needs to disable versions or count calls.
func NewFake(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{secrets: map[string][]version{}}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("secretstest: listen: %v", err)
	}
	srv := grpc.NewServer()
	secretmanagerpb.RegisterSecretManagerServiceServer(srv, f)
	go func() { _ = srv.Serve(lis) }()

	client, err := secretmanager.NewClient(context.Background(),
		option.WithEndpoint(lis.Addr().String()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	)
	if err != nil {
		srv.Stop()
		t.Fatalf("secretstest: new client: %v", err)
	}
	f.client = client
	t.Cleanup(func() {
		_ = client.Close()
		srv.Stop()
	})
	return f
}

// Client is the real Secret Manager client connected to the fake.
func (f *Fake) Client() *secretmanager.Client { return f.client }

// Add stores value as the next version of the named secret (creating the secret if
// needed) and returns the new version id.
func (f *Fake) Add(name string, value []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[name] = append(f.secrets[name], version{data: append([]byte(nil), value...)})
	return strconv.Itoa(len(f.secrets[name]))
}

// Disable marks one version disabled: accessing it fails and "latest" skips it.
func (f *Fake) Disable(name, ver string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := strconv.Atoi(ver)
	vs := f.secrets[name]
	if err != nil || i < 1 || i > len(vs) {
		panic(fmt.Sprintf("secretstest: Disable: no version %q of %q", ver, name))
	}
	vs[i-1].disabled = true
}

// Accesses is the number of AccessSecretVersion calls served so far.
func (f *Fake) Accesses() int { return int(f.accesses.Load()) }

// AccessSecretVersion implements secretmanagerpb.SecretManagerServiceServer.
func (f *Fake) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	f.accesses.Add(1)
	project, secret, ver, ok := parseVersionName(req.GetName())
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "invalid resource name %q", req.GetName())
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	vs, ok := f.secrets[secret]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Secret [projects/%s/secrets/%s] not found or has no versions.", project, secret)
	}
	n, err := f.resolve(vs, ver)
	if err != nil {
		return nil, err
	}
	v := vs[n-1]
	if v.disabled {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [projects/%s/secrets/%s/versions/%d] is in DISABLED state.", project, secret, n)
	}
	sum := int64(crc32.Checksum(v.data, crc32.MakeTable(crc32.Castagnoli)))
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    fmt.Sprintf("projects/%s/secrets/%s/versions/%d", project, secret, n),
		Payload: &secretmanagerpb.SecretPayload{Data: append([]byte(nil), v.data...), DataCrc32C: &sum},
	}, nil
}

// resolve turns "latest" or a version number into a 1-based index into vs.
func (f *Fake) resolve(vs []version, ver string) (int, error) {
	if ver == "latest" {
		for i := len(vs); i >= 1; i-- {
			if !vs[i-1].disabled {
				return i, nil
			}
		}
		return 0, status.Error(codes.FailedPrecondition, "no enabled version")
	}
	n, err := strconv.Atoi(ver)
	if err != nil || n < 1 {
		return 0, status.Errorf(codes.InvalidArgument, "invalid version %q", ver)
	}
	if n > len(vs) {
		return 0, status.Errorf(codes.NotFound, "Secret Version %s not found.", ver)
	}
	return n, nil
}

// AddSecretVersion implements secretmanagerpb.SecretManagerServiceServer, so tests can
// also seed data through the client.
func (f *Fake) AddSecretVersion(_ context.Context, req *secretmanagerpb.AddSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	parts := strings.Split(req.GetParent(), "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[2] != "secrets" || parts[1] == "" || parts[3] == "" {
		return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", req.GetParent())
	}
	v := f.Add(parts[3], req.GetPayload().GetData())
	return &secretmanagerpb.SecretVersion{
		Name:  req.GetParent() + "/versions/" + v,
		State: secretmanagerpb.SecretVersion_ENABLED,
	}, nil
}

// DisableSecretVersion implements secretmanagerpb.SecretManagerServiceServer.
func (f *Fake) DisableSecretVersion(_ context.Context, req *secretmanagerpb.DisableSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	_, secret, ver, ok := parseVersionName(req.GetName())
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "invalid resource name %q", req.GetName())
	}
	f.mu.Lock()
	vs := f.secrets[secret]
	n, err := strconv.Atoi(ver)
	if err != nil || n < 1 || n > len(vs) {
		f.mu.Unlock()
		return nil, status.Errorf(codes.NotFound, "Secret Version %s not found.", req.GetName())
	}
	vs[n-1].disabled = true
	f.mu.Unlock()
	return &secretmanagerpb.SecretVersion{Name: req.GetName(), State: secretmanagerpb.SecretVersion_DISABLED}, nil
}

// parseVersionName splits projects/P/secrets/S/versions/V.
func parseVersionName(name string) (project, secret, ver string, ok bool) {
	p := strings.Split(name, "/")
	if len(p) != 6 || p[0] != "projects" || p[2] != "secrets" || p[4] != "versions" {
		return "", "", "", false
	}
	if p[1] == "" || p[3] == "" || p[5] == "" {
		return "", "", "", false
	}
	return p[1], p[3], p[5], true
}
