package opslib

import (
	"context"
	"fmt"
	"io"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tokencrypt"
)

// ReencryptReport is what Reencrypt did (or, with DryRun, would do).
type ReencryptReport struct {
	DryRun        bool   `json:"dryRun"`
	LatestVersion string `json:"latestKeyVersion"`
	Connections   int    `json:"connections"`
	Current       int    `json:"alreadyCurrent"`
	Rotated       int    `json:"rotated"` // with DryRun: would be rotated
	NoToken       int    `json:"noToken"` // e.g. revoked connections whose token was deleted
	Failed        int    `json:"failed"`
	// FailedIDs are tenant/staff/connection paths whose token did not open (key version
	// missing from the secret, or tampered data).
	FailedIDs []string `json:"failedIds,omitempty"`
}

// Reencrypt walks every connection (collection group) and, for each whose refresh token
// was sealed under an older version of the token key, re-seals it under the latest
// version in a transaction (read, re-seal, write only if the document did not change).
// Running it twice changes nothing the second time.
func (t *Tool) Reencrypt(ctx context.Context, dryRun bool) (*ReencryptReport, error) {
	_, latest, err := t.P.Secrets.Latest(ctx, tokencrypt.KeyName)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	rep := &ReencryptReport{DryRun: dryRun, LatestVersion: latest}
	for snap, err := range store.Docs(ctx, t.P.Store.AllConnections().Query) {
		if err != nil {
			return rep, fmt.Errorf("list connections: %w", err)
		}
		rep.Connections++
		outcome, err := t.reencryptOne(ctx, snap.Ref, dryRun)
		if err != nil {
			rep.Failed++
			rep.FailedIDs = append(rep.FailedIDs, idPath(snap.Ref))
			continue
		}
		switch outcome {
		case "current":
			rep.Current++
		case "rotated":
			rep.Rotated++
		case "no_token":
			rep.NoToken++
		}
	}
	if rep.Failed > 0 {
		return rep, fmt.Errorf("%d connection token(s) could not be re-encrypted", rep.Failed)
	}
	return rep, nil
}

// idPath is "tenant/staff/connection" of a connection document.
func idPath(ref *firestore.DocumentRef) string {
	tenant, staff := "", ""
	if s := ref.Parent.Parent; s != nil {
		staff = s.ID
		if t := s.Parent.Parent; t != nil {
			tenant = t.ID
		}
	}
	return tenant + "/" + staff + "/" + ref.ID
}

func (t *Tool) reencryptOne(ctx context.Context, ref *firestore.DocumentRef, dryRun bool) (string, error) {
	var outcome string
	err := t.P.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		c, err := decodeConnection(snap)
		if err != nil {
			return err
		}
		if c.Token.KeyVersion == "" || len(c.Token.Ciphertext) == 0 {
			outcome = "no_token"
			return nil
		}
		need, err := t.P.Sealer.NeedsRotation(ctx, c.Token)
		if err != nil {
			return err
		}
		if !need {
			outcome = "current"
			return nil
		}
		outcome = "rotated"
		// The connection's own tenant/staff fields are the associated data the token was
		// sealed with (accounts.Open uses them the same way).
		aad := accounts.AAD(fieldOr(snap, "tenant", c.Tenant), fieldOr(snap, "staff", c.Staff), c.ID)
		sealed, err := t.P.Sealer.Reseal(ctx, c.Token, aad)
		if err != nil {
			return err
		}
		if dryRun {
			return nil
		}
		return tx.Update(ref, []firestore.Update{{Path: "token", Value: sealed}})
	})
	return outcome, err
}

func fieldOr(snap *firestore.DocumentSnapshot, field, def string) string {
	if v, err := snap.DataAt(field); err == nil {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
	}
	return def
}

// KeyVersions is the latest version of each key (versions only, never values).
type KeyVersions struct {
	StateKey string `json:"stateKey"`
	TokenKey string `json:"tokenKey"`
}

// Keys reads the latest versions of the state key and the token key.
func (t *Tool) Keys(ctx context.Context) (KeyVersions, error) {
	var kv KeyVersions
	var err error
	if _, kv.StateKey, err = t.P.Secrets.Latest(ctx, secrets.StateKey); err != nil {
		return kv, fmt.Errorf("state key: %w", err)
	}
	if _, kv.TokenKey, err = t.P.Secrets.Latest(ctx, secrets.TokenKey); err != nil {
		return kv, fmt.Errorf("token key: %w", err)
	}
	return kv, nil
}

// StateKeyTTL is how long an OAuth state lives.
const StateKeyTTL = connect.StateTTL

// RotateStateKeyGuide writes the state-key rotation procedure with the current version.
func RotateStateKeyGuide(w io.Writer, kv KeyVersions, local bool) {
	fmt.Fprintf(w, "state-key: latest version %s\n\n", kv.StateKey)
	fmt.Fprint(w, `Every OAuth state carries the version of the state key that signed it
("<version>.<id>.<mac>"), and the callback verifies it with exactly that version. So:

1. Add a new version (32 random bytes, standard base64). New connect flows sign with it
   at once (Secret Manager "latest" is cached for at most a minute per instance).
`)
	if local {
		fmt.Fprint(w, `     locally: SECRET_STATE_KEY="2=$(head -c32 /dev/urandom | base64),1=<old value>"
     (newest first) and restart the stack.
`)
	} else {
		fmt.Fprint(w, `     head -c32 /dev/urandom | base64 | tr -d '\n' | gcloud secrets versions add state-key --data-file=-
`)
	}
	fmt.Fprintf(w, `2. Keep the old version enabled for %v: states issued before the rotation are still
   in flight and expire after that.
3. Then disable the old version (gcloud secrets versions disable <old> --secret=state-key).
   A state signed by a disabled version is refused ("invalid state"): the user simply
   starts connecting again. Nobody already connected is affected: the state key only
   protects the 15-minute consent round trip.
`, StateKeyTTL)
}
