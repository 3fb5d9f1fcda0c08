package slotquery

import (
	"context"
	"fmt"

	"github.com/belbo/calsync/shared/store"
)

// reauthPolicy reads the tenant's slotsWhenReauthNeeded setting at most once per request,
// and only when a staff member asked for has a connection that needs reauthorisation —
// so the usual request pays no extra read.
type reauthPolicy struct {
	st     *store.Store
	tenant string
	read   bool
	offer  bool
	reads  int
}

// withhold reports whether d's slots must not be offered: one of the staff member's
// connections needs reauthorisation (its calendars cannot be seen, so every slot may
// collide with a Google event) and the tenant did not choose to offer slots anyway.
func (p *reauthPolicy) withhold(ctx context.Context, d Data) (bool, error) {
	if !d.ReauthNeeded {
		return false, nil
	}
	if !p.read {
		s, err := p.st.TenantSettings(ctx, p.tenant)
		if err != nil {
			return false, fmt.Errorf("reauth policy of %s: %w", p.tenant, err)
		}
		p.read, p.offer = true, s.SlotsWhenReauthNeeded
		p.reads++
	}
	return !p.offer, nil
}

// Withheld reports whether a staff member's slots are withheld because one of their
// connections needs reauthorisation (Book answers calendar_reauth_required then). It reads
// the tenant settings only when d.ReauthNeeded.
func Withheld(ctx context.Context, st *store.Store, tenant string, d Data) (bool, error) {
	p := &reauthPolicy{st: st, tenant: tenant}
	return p.withhold(ctx, d)
}
