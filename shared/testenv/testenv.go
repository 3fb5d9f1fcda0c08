// Package testenv gives tests the real emulators: an isolated Firestore project and a
// Pub/Sub client for it. Emulators are started once per test run by
// scripts/with-emulators.sh (make test), which exports FIRESTORE_EMULATOR_HOST and
// PUBSUB_EMULATOR_HOST. Without them a test is skipped locally and fails in CI
// (CI=true), so a missing emulator can never turn into a silently green run.
//
// Isolation: every call to Project returns a fresh project id, and the emulators keep
// projects apart, so tests run in parallel without resets.
//
// TableRows reads a Markdown table, for tests that hold a document to the code.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
)

// Require skips (or, in CI, fails) the test when the named emulator variable is unset.
func Require(t testing.TB, vars ...string) {
	t.Helper()
	for _, v := range vars {
		if os.Getenv(v) != "" {
			continue
		}
		msg := v + " is not set: run the tests through `make test` (scripts/with-emulators.sh), which starts the emulators"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// Project returns a fresh, valid project id for one test.
func Project(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-", " ", "-").Replace(t.Name()))
	if len(name) > 12 {
		name = name[:12]
	}
	return "t-" + strings.Trim(name, "-") + "-" + hex.EncodeToString(b)
}

// Firestore returns a client for a fresh project on the Firestore emulator.
func Firestore(t testing.TB) (*firestore.Client, string) {
	t.Helper()
	Require(t, "FIRESTORE_EMULATOR_HOST")
	project := Project(t)
	fs, err := firestore.NewClient(context.Background(), project)
	if err != nil {
		t.Fatalf("firestore client: %v", err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs, project
}

// PubSub returns a client for project on the Pub/Sub emulator.
func PubSub(t testing.TB, project string) *pubsub.Client {
	t.Helper()
	Require(t, "PUBSUB_EMULATOR_HOST")
	ps, err := pubsub.NewClient(context.Background(), project)
	if err != nil {
		t.Fatalf("pubsub client: %v", err)
	}
	t.Cleanup(func() { ps.Close() })
	return ps
}
