package manageapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/belbo/calsync/shared/erasure"
)

// An erasure request that can never succeed is 400; one that stopped part-way is 503 with
// Retry-After, logged; a body that is not {"email"} is refused before anything is erased.
func TestErasureAnswers(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	c := testController(&logs)
	answer := func(err error) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		c.eraseError(rec, httptest.NewRequest("POST", "/v1/tenants/t1/erasure/customers", nil), err)
		return rec
	}
	if rec := answer(fmt.Errorf("customer: %w", erasure.ErrInvalid)); rec.Code != http.StatusBadRequest || !bytes.Contains(rec.Body.Bytes(), []byte("invalid_request")) {
		t.Errorf("invalid: %d %s", rec.Code, rec.Body)
	}
	rec := answer(fmt.Errorf("%w: google down", erasure.ErrRetry))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "10" || !bytes.Contains(rec.Body.Bytes(), []byte("erasure_incomplete")) ||
		!bytes.Contains(logs.Bytes(), []byte("google down")) {
		t.Errorf("incomplete: %d %v %s (logged %s)", rec.Code, rec.Header(), rec.Body, logs.String())
	}
	if rec := answer(errors.New("anything else")); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("other error: %d", rec.Code)
	}
	expect(t, "POST "+tenantPath+"/erasure/customers", c.EraseCustomer, []refusal{
		{"unknown field", "/v1/tenants/t1/erasure/customers", `{"mail":"a@x"}`, http.StatusBadRequest, "invalid_json"},
	})
}
