package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Resource is one managed resource instance as the plan will leave it.
type Resource struct {
	Address string
	Type    string
	Name    string
	// After holds the planned values; values only known after apply are absent (nil).
	After map[string]any
	// Unknown mirrors After with true where a value is known only after apply.
	Unknown map[string]any
}

// Plan is what the rules look at.
type Plan struct {
	Resources []Resource
	Variables map[string]any
}

type rawPlan struct {
	Variables map[string]struct {
		Value any `json:"value"`
	} `json:"variables"`
	ResourceChanges []struct {
		Address string `json:"address"`
		Mode    string `json:"mode"`
		Type    string `json:"type"`
		Name    string `json:"name"`
		Change  struct {
			Actions      []string       `json:"actions"`
			After        map[string]any `json:"after"`
			AfterUnknown map[string]any `json:"after_unknown"`
		} `json:"change"`
	} `json:"resource_changes"`
}

// LoadPlan reads `terraform show -json` output.
func LoadPlan(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePlan(b)
}

// ParsePlan decodes plan JSON, keeping managed resources that exist after apply.
func ParsePlan(b []byte) (*Plan, error) {
	var raw rawPlan
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("plan JSON: %w", err)
	}
	if raw.ResourceChanges == nil {
		return nil, fmt.Errorf("plan JSON has no resource_changes (is it `terraform show -json` of a saved plan?)")
	}
	p := &Plan{Variables: map[string]any{}}
	for k, v := range raw.Variables {
		p.Variables[k] = v.Value
	}
	for _, rc := range raw.ResourceChanges {
		if rc.Mode != "" && rc.Mode != "managed" {
			continue
		}
		if len(rc.Change.Actions) == 1 && rc.Change.Actions[0] == "delete" {
			continue
		}
		if rc.Change.After == nil {
			continue
		}
		unk := rc.Change.AfterUnknown
		if unk == nil {
			unk = map[string]any{}
		}
		p.Resources = append(p.Resources, Resource{Address: rc.Address, Type: rc.Type, Name: rc.Name, After: rc.Change.After, Unknown: unk})
	}
	return p, nil
}

// OfType returns the resources of the given types.
func (p *Plan) OfType(types ...string) []Resource {
	var out []Resource
	for _, r := range p.Resources {
		for _, t := range types {
			if r.Type == t {
				out = append(out, r)
			}
		}
	}
	return out
}

// get walks a path of map keys and list indexes ("service_config", 0, "x").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

// present: the value is non-empty in After or known only after apply.
func (r Resource) present(path ...any) bool {
	switch v := get(r.After, path...).(type) {
	case nil:
	case string:
		if v != "" {
			return true
		}
	case []any:
		if len(v) > 0 {
			return true
		}
	default:
		return true
	}
	u, _ := get(r.Unknown, path...).(bool)
	return u
}

// DefaultFunctions are the functions of the design (folder → entry point), used when
// functions/ has no function folders yet.
var DefaultFunctions = map[string]string{
	"manage":          "Manage",
	"oauthcallback":   "OAuthCallback",
	"calendarwebhook": "CalendarWebhook",
	"synccalendar":    "SyncCalendar",
	"renewchannels":   "RenewChannels",
	"slots":           "Slots",
	"book":            "Book",
	"exportbooking":   "ExportBooking",
}

// FunctionFolders lists the subfolders of dir that hold a non-test .go file. fromDisk is
// false when there are none (or dir does not exist) and the fixed list is returned.
func FunctionFolders(dir string) (folders []string, fromDisk bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, false, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.go"))
		if err != nil {
			return nil, false, err
		}
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				folders = append(folders, e.Name())
				break
			}
		}
	}
	if len(folders) == 0 {
		for k := range DefaultFunctions {
			folders = append(folders, k)
		}
		sort.Strings(folders)
		return folders, false, nil
	}
	sort.Strings(folders)
	return folders, true, nil
}
