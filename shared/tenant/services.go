package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/safetext"
)

// Service is one entry of a tenant's service catalogue (tenants/{t}, field services.{id}):
// what customers can book, for how long, with which buffers, and with whom. Book takes
// the duration and the exported title from here, never from the customer.
type Service struct {
	ID              string   `json:"id" firestore:"id"`
	Name            string   `json:"name" firestore:"name"`
	DurationMin     int      `json:"durationMin" firestore:"durationMin"`
	BufferBeforeMin int      `json:"bufferBeforeMin" firestore:"bufferBeforeMin"`
	BufferAfterMin  int      `json:"bufferAfterMin" firestore:"bufferAfterMin"`
	Staff           []string `json:"staff" firestore:"staff"`
}

// Bounds of the catalogue.
const (
	MaxServices        = 100 // per tenant
	MaxServiceStaff    = 20  // staff members per service (= slotquery.MaxAnyStaff, the staff=any cap of Slots)
	MaxServiceNameLen  = 100 // characters
	MinServiceDuration = 5   // minutes
	MaxServiceDuration = 480
	MaxServiceBuffer   = 240
)

// ErrTooManyServices: the catalogue already holds MaxServices services.
var ErrTooManyServices = errors.New("too many services")

// Offers reports whether staff offers the service.
func (s Service) Offers(staff string) bool {
	for _, x := range s.Staff {
		if x == staff {
			return true
		}
	}
	return false
}

// ParseService decodes a PUT body strictly (unknown fields refused; an "id" in the body
// must match the path) and validates it. The name is cleaned with safetext.Clean.
func ParseService(id string, body []byte) (Service, error) {
	var s Service
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil || dec.More() {
		return s, &ValidationError{"body", "must be one JSON object with id, name, durationMin, bufferBeforeMin, bufferAfterMin, staff"}
	}
	if s.ID != "" && s.ID != id {
		return s, &ValidationError{"id", "must match the path"}
	}
	s.ID = id
	return s, s.Validate()
}

// Validate checks every field and normalises the name and staff list (sorted, no
// duplicates).
func (s *Service) Validate() error {
	if !messages.ValidID(s.ID) {
		return &ValidationError{"id", "must be 1–128 of A–Z a–z 0–9 _ - (not __…__)"}
	}
	name, why, ok := safetext.Clean(s.Name, MaxServiceNameLen)
	if !ok {
		return &ValidationError{"name", why}
	}
	s.Name = name
	if s.DurationMin < MinServiceDuration || s.DurationMin > MaxServiceDuration {
		return &ValidationError{"durationMin", fmt.Sprintf("must be %d–%d", MinServiceDuration, MaxServiceDuration)}
	}
	if s.BufferBeforeMin < 0 || s.BufferBeforeMin > MaxServiceBuffer {
		return &ValidationError{"bufferBeforeMin", fmt.Sprintf("must be 0–%d", MaxServiceBuffer)}
	}
	if s.BufferAfterMin < 0 || s.BufferAfterMin > MaxServiceBuffer {
		return &ValidationError{"bufferAfterMin", fmt.Sprintf("must be 0–%d", MaxServiceBuffer)}
	}
	if len(s.Staff) == 0 || len(s.Staff) > MaxServiceStaff {
		return &ValidationError{"staff", fmt.Sprintf("must name 1–%d staff members", MaxServiceStaff)}
	}
	seen := map[string]bool{}
	var staff []string
	for _, x := range s.Staff {
		if !messages.ValidID(x) || x == "any" {
			return &ValidationError{"staff", "each staff id must be 1–128 of A–Z a–z 0–9 _ - (not any, not __…__)"}
		}
		if !seen[x] {
			seen[x] = true
			staff = append(staff, x)
		}
	}
	sort.Strings(staff)
	s.Staff = staff
	return nil
}

// Config is what one read of tenants/{t} gives the public functions: the settings and
// the service catalogue.
type Config struct {
	Settings Settings
	Services map[string]Service
}

// Service returns the catalogue entry id.
func (c Config) Service(id string) (Service, bool) {
	s, ok := c.Services[id]
	return s, ok
}

// SortedServices returns the catalogue by id.
func (c Config) SortedServices() []Service {
	out := make([]Service, 0, len(c.Services))
	for _, s := range c.Services {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
