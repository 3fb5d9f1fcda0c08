package fakegoogle

// Partial responses: the standard `fields` query parameter.
//
// Google: "To request a partial response, use the fields request parameter to specify
// the fields you want returned" — syntax: comma-separated fields, `a/b` for a field
// inside a field, `a(b,c)` for a sub-selection of a field, `*` for every field at that
// level (https://developers.google.com/workspace/calendar/api/guides/performance#partial-response;
// the calendar/v3 discovery document lists `fields` among the standard parameters:
// "Selector specifying which fields to include in a partial response."). A field the
// mask does not name is absent from the answer, so the client library leaves it empty.
// Error answers are never masked.
//
// The fake also checks every name in a mask against the response's Go type from
// google.golang.org/api/calendar/v3 (its JSON names are the discovery document's
// property names) and answers 400 for an unknown one, as Google answers an invalid
// selection with 400 Bad Request. The exact wording of Google's message is not
// documented; the fake's is "Invalid field selection <name>".

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"

	"google.golang.org/api/calendar/v3"
)

// fieldSel is a parsed `fields` mask: all selects the whole value; otherwise only the
// named sub-fields are kept.
type fieldSel struct {
	all bool
	sub map[string]*fieldSel
}

func (f *fieldSel) child(name string) *fieldSel {
	if f.sub == nil {
		f.sub = map[string]*fieldSel{}
	}
	c := f.sub[name]
	if c == nil {
		c = &fieldSel{}
		f.sub[name] = c
	}
	return c
}

type fieldsParser struct {
	s   string
	pos int
}

// parseFields parses a mask like `nextPageToken,items(id,start/dateTime),kind`.
func parseFields(s string) (*fieldSel, *apiError) {
	p := &fieldsParser{s: s}
	root := &fieldSel{}
	if err := p.list(root, false); err != nil {
		return nil, err
	}
	if p.pos != len(p.s) {
		return nil, invalidFields(s)
	}
	return root, nil
}

func invalidFields(sel string) *apiError {
	return &apiError{code: http.StatusBadRequest, reason: "invalidParameter", message: "Invalid field selection " + sel}
}

func (p *fieldsParser) list(into *fieldSel, nested bool) *apiError {
	for {
		if err := p.item(into); err != nil {
			return err
		}
		if p.pos < len(p.s) && p.s[p.pos] == ',' {
			p.pos++
			continue
		}
		if nested {
			if p.pos >= len(p.s) || p.s[p.pos] != ')' {
				return invalidFields(p.s)
			}
			p.pos++
		}
		return nil
	}
}

func (p *fieldsParser) name() string {
	start := p.pos
	for p.pos < len(p.s) && !strings.ContainsRune(",/()", rune(p.s[p.pos])) {
		p.pos++
	}
	return strings.TrimSpace(p.s[start:p.pos])
}

// item parses one `a/b/c` path, optionally followed by `(sub-list)`.
func (p *fieldsParser) item(into *fieldSel) *apiError {
	cur := into
	for {
		n := p.name()
		if n == "" {
			return invalidFields(p.s)
		}
		cur = cur.child(n)
		if p.pos < len(p.s) && p.s[p.pos] == '/' {
			p.pos++
			continue
		}
		break
	}
	if p.pos < len(p.s) && p.s[p.pos] == '(' {
		p.pos++
		return p.list(cur, true)
	}
	cur.all = true
	return nil
}

// check verifies every selected name against typ's JSON field names.
func (f *fieldSel) check(typ reflect.Type) *apiError {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	for name, c := range f.sub {
		if name == "*" {
			if len(c.sub) > 0 {
				return invalidFields(name)
			}
			continue
		}
		switch typ.Kind() {
		case reflect.Map, reflect.Interface:
			// free-form keys (extendedProperties.private, …)
			if typ.Kind() == reflect.Map {
				if err := c.check(typ.Elem()); err != nil {
					return err
				}
			}
			continue
		case reflect.Struct:
			ft, ok := jsonField(typ, name)
			if !ok {
				return invalidFields(name)
			}
			if err := c.check(ft); err != nil {
				return err
			}
		default:
			return invalidFields(name)
		}
	}
	return nil
}

func jsonField(typ reflect.Type, name string) (reflect.Type, bool) {
	for i := 0; i < typ.NumField(); i++ {
		sf := typ.Field(i)
		tag := strings.Split(sf.Tag.Get("json"), ",")[0]
		if tag == "-" || !sf.IsExported() {
			continue
		}
		if tag == "" {
			tag = sf.Name
		}
		if tag == name {
			return sf.Type, true
		}
	}
	return nil, false
}

// apply keeps only the selected parts of a decoded JSON value.
func (f *fieldSel) apply(v any) any {
	if f == nil || f.all {
		return v
	}
	if wild := f.sub["*"]; wild != nil && len(f.sub) == 1 {
		return v
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			out = append(out, f.apply(e))
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if c := f.sub[k]; c != nil {
				out[k] = c.apply(val)
			} else if f.sub["*"] != nil {
				out[k] = val
			}
		}
		return out
	}
	return v
}

// Response types whose JSON names a mask is checked against.
var (
	typeEvents       = reflect.TypeFor[calendar.Events]()
	typeEvent        = reflect.TypeFor[calendar.Event]()
	typeCalendarList = reflect.TypeFor[calendar.CalendarList]()
	typeListEntry    = reflect.TypeFor[calendar.CalendarListEntry]()
	typeChannel      = reflect.TypeFor[calendar.Channel]()
)

// fieldsMask parses and checks the request's `fields` parameter against typ (nil, nil
// when the request has none).
func fieldsMask(r *http.Request, typ reflect.Type) (*fieldSel, *apiError) {
	raw := r.URL.Query().Get("fields")
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	sel, err := parseFields(raw)
	if err != nil {
		return nil, err
	}
	if err := sel.check(typ); err != nil {
		return nil, err
	}
	return sel, nil
}

// writeMasked writes a successful API answer reduced to the mask (nil = whole).
func writeMasked(w http.ResponseWriter, status int, v any, sel *fieldSel) {
	if sel == nil {
		writeJSON(w, status, v)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		writeErr(w, errf(500, "backendError", "fake google: marshal: %v", err))
		return
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		writeErr(w, errf(500, "backendError", "fake google: unmarshal: %v", err))
		return
	}
	writeJSON(w, status, sel.apply(generic))
}

// mask reads the request's mask for typ; on a bad mask it answers 400 and reports false.
func mask(w http.ResponseWriter, r *http.Request, typ reflect.Type) (*fieldSel, bool) {
	sel, err := fieldsMask(r, typ)
	if err != nil {
		writeErr(w, err)
		return nil, false
	}
	return sel, true
}
