package store

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/tenant"
)

// The service catalogue lives in the tenant document (tenants/{t}, field services, a map
// from service id to tenant.Service) next to the settings, so the public functions learn
// both with one document read and an unknown tenant costs exactly one read.

type tenantConfigDoc struct {
	Settings tenant.Settings           `firestore:"settings"`
	Services map[string]tenant.Service `firestore:"services"`
}

// TenantConfig reads a tenant's settings and service catalogue with one document read.
// A tenant that never wrote either gets the default settings and an empty catalogue.
func (s *Store) TenantConfig(ctx context.Context, t string) (tenant.Config, error) {
	snap, err := s.Tenant(t).Get(ctx)
	if err != nil && !NotFound(err) {
		return tenant.Config{}, fmt.Errorf("read tenant config: %w", err)
	}
	return decodeConfig(snap)
}

// txTenantConfig is TenantConfig inside a transaction.
func (s *Store) txTenantConfig(tx *firestore.Transaction, t string) (tenant.Config, error) {
	snap, err := tx.Get(s.Tenant(t))
	if err != nil && !NotFound(err) {
		return tenant.Config{}, fmt.Errorf("read tenant config: %w", err)
	}
	return decodeConfig(snap)
}

func decodeConfig(snap *firestore.DocumentSnapshot) (tenant.Config, error) {
	doc := tenantConfigDoc{Settings: tenant.Defaults()}
	if snap != nil && snap.Exists() {
		if err := snap.DataTo(&doc); err != nil {
			return tenant.Config{}, fmt.Errorf("decode tenant config: %w", err)
		}
	}
	if doc.Services == nil {
		doc.Services = map[string]tenant.Service{}
	}
	for id, sv := range doc.Services {
		sv.ID = id
		doc.Services[id] = sv
	}
	return tenant.Config{Settings: doc.Settings, Services: doc.Services}, nil
}

// Services lists a tenant's catalogue by id.
func (s *Store) Services(ctx context.Context, t string) ([]tenant.Service, error) {
	c, err := s.TenantConfig(ctx, t)
	if err != nil {
		return nil, err
	}
	return c.SortedServices(), nil
}

// PutService creates or replaces one service (already validated) in a transaction;
// created reports whether it is new. A new service beyond tenant.MaxServices is
// tenant.ErrTooManyServices.
func (s *Store) PutService(ctx context.Context, t string, sv tenant.Service, now time.Time) (created bool, err error) {
	err = s.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		cur, err := s.txTenantConfig(tx, t)
		if err != nil {
			return err
		}
		_, exists := cur.Services[sv.ID]
		if !exists && len(cur.Services) >= tenant.MaxServices {
			return tenant.ErrTooManyServices
		}
		created = !exists
		return tx.Set(s.Tenant(t), map[string]any{
			"services":          map[string]any{sv.ID: sv},
			"servicesUpdatedAt": now,
		}, firestore.Merge([]string{"services", sv.ID}, []string{"servicesUpdatedAt"}))
	})
	return created, err
}

// DeleteService removes one service; ErrNotFound when there is none. Bookings made for it
// keep their title and times.
func (s *Store) DeleteService(ctx context.Context, t, id string, now time.Time) error {
	return s.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		cur, err := s.txTenantConfig(tx, t)
		if err != nil {
			return err
		}
		if _, ok := cur.Services[id]; !ok {
			return ErrNotFound
		}
		return tx.Update(s.Tenant(t), []firestore.Update{
			{FieldPath: firestore.FieldPath{"services", id}, Value: firestore.Delete},
			{Path: "servicesUpdatedAt", Value: now},
		})
	})
}
