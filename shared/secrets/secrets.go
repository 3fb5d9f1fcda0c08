// Package secrets is where secret values come from: the OAuth client secret, the state
// key and the token key, each addressed by its Secret Manager secret id
// ("oauth-client-secret", "state-key", "token-key").
//
// Deployed, values are read from Secret Manager (NewSecretManager); locally, from
// SECRET_* environment variables (NewEnv); in tests, from a map (Static) or from the
// fake Secret Manager in secretstest. Every source hands out versioned values, so data
// sealed under an older key stays readable after a rotation.
//
// This package must never put a secret value in an error, a log line or a metric, and
// never persist one: values live in process memory only. Errors name the secret and the
// version, nothing else.
package secrets

import (
	"context"
	"errors"
)

// Names of the secrets this project uses.
const (
	OAuthClientSecret = "oauth-client-secret"
	StateKey          = "state-key"
	TokenKey          = "token-key"
)

// ErrNotFound is wrapped by every source when a secret or a version does not exist.
var ErrNotFound = errors.New("secret not found")

// Source hands out secret values by name and version. Implementations are safe for
// concurrent use and return a fresh copy of the value, which the caller may overwrite.
type Source interface {
	// Latest returns the newest enabled version of the named secret and its version id.
	Latest(ctx context.Context, name string) (value []byte, version string, err error)
	// Version returns one specific version (for decrypting data sealed under an older key).
	Version(ctx context.Context, name, version string) ([]byte, error)
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
