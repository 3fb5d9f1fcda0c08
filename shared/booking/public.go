package booking

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tenant"
)

// Client is what the public Book function knows about its caller.
type Client struct {
	// IP is the client address (ClientIP), "" when unknown.
	IP string
}

// Resolve completes in from the tenant's configuration (one read of the tenant document):
// with a serviceId, duration, title and buffers come from the catalogue and the staff
// member must offer the service; without one, the request is free-form, which only
// trusted callers (Manage) or tenants with freeFormBooking may use.
func (s *Service) Resolve(ctx context.Context, in Input, trusted bool) (Input, tenant.Config, error) {
	cfg, err := s.Store.TenantConfig(ctx, in.Tenant)
	if err != nil {
		return in, cfg, err
	}
	if in.ServiceID == "" {
		if !in.FreeForm || !trusted && !cfg.Settings.FreeFormBooking {
			return in, cfg, ErrServiceRequired
		}
		return in, cfg, nil
	}
	sv, ok := cfg.Service(in.ServiceID)
	if !ok {
		return in, cfg, ErrServiceNotFound
	}
	if !sv.Offers(in.Staff) {
		return in, cfg, ErrServiceNotOffered
	}
	in.Duration = time.Duration(sv.DurationMin) * time.Minute
	in.Service = sv.Name
	in.BufferBeforeMin, in.BufferAfterMin = sv.BufferBeforeMin, sv.BufferAfterMin
	return in, cfg, nil
}

// Book is a customer's booking through the public Book function: Resolve, then Create
// with the tenant's booking limits per client address, customer e-mail, staff member and
// tenant, each per hour and per day (docs/booking.md, "Limits").
func (s *Service) Book(ctx context.Context, in Input, c Client, now time.Time) (*Created, error) {
	in, cfg, err := s.Resolve(ctx, in, false)
	if err != nil {
		return nil, err
	}
	return s.Create(ctx, in, now, Options{Source: SourceWidget, Quotas: Quotas(cfg.Settings.Limits, in, c)})
}

// Quotas are the limits that apply to one public booking.
func Quotas(l tenant.Limits, in Input, c Client) []store.Quota {
	var qs []store.Quota
	add := func(dim, key string, w tenant.Window) {
		qs = append(qs,
			store.Quota{Dimension: dim, Key: key, Window: time.Hour, Limit: w.Hour},
			store.Quota{Dimension: dim, Key: key, Window: 24 * time.Hour, Limit: w.Day})
	}
	if c.IP != "" {
		add("ip", c.IP, l.PerIP)
	}
	add("email", strings.ToLower(in.CustomerEmail), l.PerEmail)
	add("staff", in.Staff, l.PerStaff)
	add("tenant", in.Tenant, l.PerTenant)
	return qs
}

// ClientIP is the caller's address as a limit key. xff is the X-Forwarded-For header,
// to which every proxy appends the address it received the request from; only the
// entries our own infrastructure appended can be trusted, so the address is the entry
// trustedHops from the right (0: the last one, which the Google Front End appends in
// front of Cloud Run; 1 behind an external Application Load Balancer, which appends
// "<client>, <load balancer>"). Without the header (local runs) it is remoteAddr's host.
// IPv6 addresses are keyed by their /64 network, which one subscriber usually holds
// whole.
func ClientIP(xff, remoteAddr string, trustedHops int) string {
	raw := ""
	if xff != "" {
		parts := strings.Split(xff, ",")
		if i := len(parts) - 1 - trustedHops; i >= 0 {
			raw = strings.TrimSpace(parts[i])
		}
	}
	if raw == "" {
		raw = remoteAddr
	}
	if host, _, err := net.SplitHostPort(raw); err == nil {
		raw = host
	}
	a, err := netip.ParseAddr(strings.Trim(raw, "[]"))
	if err != nil {
		return "unknown" // one shared bucket for whatever cannot be parsed
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// CreateByStaff is a staff-created appointment (Manage): a catalogue service or, since
// the caller is the business's own backend, a free-form duration and title; no limits.
func (s *Service) CreateByStaff(ctx context.Context, in Input, now time.Time) (*Created, error) {
	in, _, err := s.Resolve(ctx, in, true)
	if err != nil {
		return nil, err
	}
	return s.Create(ctx, in, now, Options{Source: SourceStaff})
}
