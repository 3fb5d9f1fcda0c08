package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/tokencrypt"
	"github.com/belbo/calsync/shared/topology"
)

// ErrUndeclared is wrapped by every publish or secret read a scoped platform refuses
// because its function did not declare it in shared/topology/access.go. Deployed, the same
// call would fail with PermissionDenied (Terraform grants exactly the declaration); the
// emulators have no IAM, so the platform enforces the declaration itself, everywhere.
var ErrUndeclared = errors.New("not declared in shared/topology/access.go")

// For returns a platform for one function: the same clients, but Publish, PublishRaw (and
// so dead-lettering) and every secret read — directly, through the token sealer or through
// Accounts — are limited to the function's declaration. Every function is built on the
// platform For returns: deployed (LazyHTTP, LazyEvent), in `make run` and in the local
// stacks of the tests, so a permission missing from the declaration fails locally first.
func (p *Platform) For(function string) (*Platform, error) {
	a, err := topology.Declared(function)
	if err != nil {
		return nil, fmt.Errorf("platform: %w", err)
	}
	root := p
	if p.parent != nil {
		root = p.parent
	}
	q := &Platform{
		Config: p.Config,
		Clock:  p.Clock,
		Store:  p.Store,
		PubSub: p.PubSub,
		HTTP:   p.HTTP,
		Log:    p.Log,
		pubs:   p.pubs,
		access: &a,
		parent: root,
	}
	q.Secrets = &declaredSecrets{src: root.Secrets, access: a, log: p.Log}
	q.Sealer = tokencrypt.New(q.Secrets)
	return q, nil
}

// Function names the function the platform is scoped to ("" for a root platform).
func (p *Platform) Function() string {
	if p.access == nil {
		return ""
	}
	return p.access.Function
}

func (p *Platform) checkPublish(ctx context.Context, topic string) error {
	if p.access == nil || p.access.MayPublish(topic) {
		return nil
	}
	return refuse(ctx, p.Log, p.access.Function, "publish", "topic", topic)
}

// refuse logs and returns the refusal. The log key is "topic" or "secretId" (a key named
// "secret" would be redacted by the logging handler).
func refuse(ctx context.Context, log *slog.Logger, function, op, kind, name string) error {
	if log != nil {
		key := kind
		if kind == "secret" {
			key = "secretId"
		}
		log.ErrorContext(ctx, "undeclared access refused", "event", "platform.undeclared",
			"function", function, "op", op, key, name)
	}
	return fmt.Errorf("%s may not %s %s %s: %w", function, op, kind, name, ErrUndeclared)
}

// declaredSecrets hands out only the secrets a function declared.
type declaredSecrets struct {
	src    secrets.Source
	access topology.Access
	log    *slog.Logger
}

func (d *declaredSecrets) check(ctx context.Context, name string) error {
	if d.access.MayRead(name) {
		return nil
	}
	return refuse(ctx, d.log, d.access.Function, "read", "secret", name)
}

func (d *declaredSecrets) Latest(ctx context.Context, name string) ([]byte, string, error) {
	if err := d.check(ctx, name); err != nil {
		return nil, "", err
	}
	return d.src.Latest(ctx, name)
}

func (d *declaredSecrets) Version(ctx context.Context, name, version string) ([]byte, error) {
	if err := d.check(ctx, name); err != nil {
		return nil, err
	}
	return d.src.Version(ctx, name, version)
}
