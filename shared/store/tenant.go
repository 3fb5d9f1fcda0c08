package store

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/tenant"
)

// Tenant is tenants/{t}: the tenant document holds the tenant's settings.
func (s *Store) Tenant(t string) *firestore.DocumentRef {
	return s.FS.Collection("tenants").Doc(t)
}

// tenantDoc is the stored shape of tenants/{t}.
type tenantDoc struct {
	Settings  tenant.Settings `firestore:"settings"`
	UpdatedAt time.Time       `firestore:"settingsUpdatedAt"`
}

// TenantSettings reads a tenant's settings; a tenant that never wrote any gets the defaults,
// and a field missing from a stored document keeps its default.
func (s *Store) TenantSettings(ctx context.Context, t string) (tenant.Settings, error) {
	snap, err := s.Tenant(t).Get(ctx)
	if NotFound(err) {
		return tenant.Defaults(), nil
	}
	if err != nil {
		return tenant.Settings{}, fmt.Errorf("read tenant settings: %w", err)
	}
	return decodeSettings(snap)
}

func decodeSettings(snap *firestore.DocumentSnapshot) (tenant.Settings, error) {
	doc := tenantDoc{Settings: tenant.Defaults()}
	if snap == nil || !snap.Exists() {
		return doc.Settings, nil
	}
	if err := snap.DataTo(&doc); err != nil {
		return tenant.Settings{}, fmt.Errorf("decode tenant settings: %w", err)
	}
	return doc.Settings, nil
}

// PatchTenantSettings applies a JSON merge patch to the tenant's settings in a
// transaction and returns the result (a validation error leaves them unchanged).
func (s *Store) PatchTenantSettings(ctx context.Context, t string, patch []byte, now time.Time) (tenant.Settings, error) {
	var out tenant.Settings
	err := s.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(s.Tenant(t))
		if err != nil && !NotFound(err) {
			return fmt.Errorf("read tenant settings: %w", err)
		}
		cur, err := decodeSettings(snap)
		if err != nil {
			return err
		}
		if out, err = cur.Patch(patch); err != nil {
			return err
		}
		return tx.Set(s.Tenant(t), map[string]any{"settings": out, "settingsUpdatedAt": now}, firestore.MergeAll)
	})
	return out, err
}
