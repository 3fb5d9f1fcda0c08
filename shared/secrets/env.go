package secrets

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Env reads secrets from environment variables, for local runs (`make run`) only.
//
// The variable for a secret is its name upper-cased, '-' replaced by '_', prefixed with
// SECRET_: "token-key" → SECRET_TOKEN_KEY. Its value is one of
//
//   - a plain value, taken literally as version "1":
//     SECRET_TOKEN_KEY=q0Yx…base64…=
//   - a rotation list of version=value entries, newest first, the first being latest:
//     SECRET_TOKEN_KEY=2=BASE64NEW,1=BASE64OLD
//
// In a rotation list the versions are positive decimal numbers (like Secret Manager's)
// and every value must be valid standard base64, which is what the two keys are
// (32 random bytes in standard base64) and guarantees no value contains ',' or stray
// '='. The value handed out is the entry text itself, exactly as Secret Manager would
// hold it, so consumers decode keys the same way everywhere. A value is read as a
// rotation list when it starts with digits followed by '='; anything else is plain.
//
// The environment is read on every call, so tests may change what lookup answers.
type Env struct {
	lookup func(string) (string, bool)
}

// NewEnv returns an Env source reading variables through lookup (os.LookupEnv outside
// tests).
func NewEnv(lookup func(string) (string, bool)) *Env { return &Env{lookup: lookup} }

// EnvVar is the variable an Env source reads for the named secret.
func EnvVar(name string) string {
	return "SECRET_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

type envVersion struct{ version, value string }

// versions parses the variable of name, newest first.
func (e *Env) versions(name string) ([]envVersion, error) {
	key := EnvVar(name)
	raw, ok := e.lookup(key)
	if !ok || raw == "" {
		return nil, fmt.Errorf("secrets: %s is not set: %w", key, ErrNotFound)
	}
	if !isRotationList(raw) {
		return []envVersion{{"1", raw}}, nil
	}
	var out []envVersion
	seen := map[string]bool{}
	for i, entry := range strings.Split(raw, ",") {
		ver, val, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok || !isDigits(ver) || val == "" {
			return nil, fmt.Errorf("secrets: %s: entry %d is not version=base64value", key, i+1)
		}
		if n, err := strconv.ParseUint(ver, 10, 64); err != nil || n == 0 {
			return nil, fmt.Errorf("secrets: %s: entry %d: version must be a positive number", key, i+1)
		}
		if seen[ver] {
			return nil, fmt.Errorf("secrets: %s: version %s listed twice", key, ver)
		}
		seen[ver] = true
		if _, err := base64.StdEncoding.Strict().DecodeString(val); err != nil {
			// The error from the decoder quotes an offset, not the value; still, keep it out.
			return nil, fmt.Errorf("secrets: %s: version %s is not valid standard base64", key, ver)
		}
		out = append(out, envVersion{ver, val})
	}
	return out, nil
}

// Latest returns the first entry of the rotation list, or the plain value as version "1".
func (e *Env) Latest(_ context.Context, name string) ([]byte, string, error) {
	vs, err := e.versions(name)
	if err != nil {
		return nil, "", err
	}
	return []byte(vs[0].value), vs[0].version, nil
}

// Version returns the entry of the given version.
func (e *Env) Version(_ context.Context, name, version string) ([]byte, error) {
	vs, err := e.versions(name)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.version == version {
			return []byte(v.value), nil
		}
	}
	return nil, fmt.Errorf("secrets: %s has no version %q: %w", EnvVar(name), version, ErrNotFound)
}

func isRotationList(s string) bool {
	ver, rest, ok := strings.Cut(s, "=")
	return ok && isDigits(ver) && rest != ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
