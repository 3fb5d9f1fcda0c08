package topology

import (
	"slices"
	"testing"

	"github.com/belbo/calsync/shared/secrets"
)

// The declaration is internally consistent: keys are entry points, every consumer of a
// route consumes exactly that topic and may dead-letter into its own dead-letter topic
// (shared/platform copies poison messages there), and only known topics and secrets appear.
func TestDeclarationConsistent(t *testing.T) {
	t.Parallel()
	topics := map[string]bool{}
	for _, r := range Routes {
		topics[r.Topic], topics[DeadLetter(r.Topic)] = true, true
		a, err := Declared(r.Function)
		if err != nil {
			t.Fatal(err)
		}
		if a.Consumes != r.Topic {
			t.Errorf("%s consumes %q, the route says %q", r.Function, a.Consumes, r.Topic)
		}
		if !a.MayPublish(DeadLetter(r.Topic)) {
			t.Errorf("%s may not publish to %s: its poison messages could not be parked", r.Function, DeadLetter(r.Topic))
		}
		if a.Public {
			t.Errorf("%s consumes a topic and must not be public", r.Function)
		}
	}
	known := []string{secrets.OAuthClientSecret, secrets.StateKey, secrets.TokenKey}
	if !slices.Equal(known, []string{SecretOAuthClient, SecretState, SecretToken}) {
		t.Fatalf("secret ids differ from shared/secrets: %v", known)
	}
	folders := map[string]string{}
	for name, a := range Functions {
		if a.Function != name || a.Folder == "" {
			t.Errorf("entry %q: Function %q, Folder %q", name, a.Function, a.Folder)
		}
		if prev, dup := folders[a.Folder]; dup {
			t.Errorf("%s and %s share folder %s", prev, name, a.Folder)
		}
		folders[a.Folder] = name
		if a.Consumes != "" && !topics[a.Consumes] {
			t.Errorf("%s consumes unknown topic %q", name, a.Consumes)
		}
		for _, tp := range a.Publishes {
			if !topics[tp] {
				t.Errorf("%s publishes to unknown topic %q", name, tp)
			}
			if d, ok := dlqSource(tp); ok && a.Consumes != d {
				t.Errorf("%s may publish to %s but does not consume %s", name, tp, d)
			}
		}
		for _, s := range a.Secrets {
			if !slices.Contains(known, s) {
				t.Errorf("%s reads unknown secret %q", name, s)
			}
		}
		if a.Firestore.Role() == "" {
			t.Errorf("%s has no Firestore access; every function reads or writes the store", name)
		}
	}
	if len(Functions) != 8 {
		t.Errorf("%d declarations, want the 8 functions", len(Functions))
	}
	if _, err := Declared("Nope"); err == nil {
		t.Error("an undeclared function was accepted")
	}
}

func dlqSource(topic string) (string, bool) {
	for _, r := range Routes {
		if DeadLetter(r.Topic) == topic {
			return r.Topic, true
		}
	}
	return "", false
}
