package jsonhttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	type body struct {
		Name string `json:"name"`
	}
	tests := []struct {
		in     string
		status int // 0 = ok
	}{
		{`{"name":"x"}`, 0},
		{``, 400},
		{`{"name":1}`, 400},
		{`{"other":"x"}`, 400},
		{`{"name":"x"} {"name":"y"}`, 400},
		{`{"name":"` + strings.Repeat("a", 200) + `"}`, 413},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.in))
		var b body
		err := Decode(httptest.NewRecorder(), r, 100, &b)
		var p *Problem
		switch {
		case tc.status == 0 && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.status != 0 && (!errors.As(err, &p) || p.Status != tc.status):
			t.Errorf("%q: err %v, want status %d", tc.in, err, tc.status)
		}
	}
}

func TestFailShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{BadRequest("bad_thing", "no %s", "way"), 400, "bad_thing"},
		{errors.New("database password is hunter2"), 500, "internal"},
	} {
		rec := httptest.NewRecorder()
		Fail(rec, tc.err)
		var b struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || rec.Code != tc.status || b.Error.Code != tc.code {
			t.Errorf("Fail(%v) = %d %s", tc.err, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "hunter2") {
			t.Error("internal error text leaked to the caller")
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("content type %q", ct)
		}
	}
	_ = http.StatusOK
}
