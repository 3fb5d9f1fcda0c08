// Package jsonhttp holds the few helpers every HTTP function uses to speak the API
// contract: JSON bodies in and out, size-limited decoding, and the error shape
// {"error":{"code":"snake_case","message":"…"}}. It never logs request bodies.
package jsonhttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxBody is the default limit for request bodies (64 KiB): every JSON body the
// contract defines is far smaller.
const MaxBody = 64 << 10

// Problem is an error that maps to a 4xx/5xx answer.
type Problem struct {
	Status  int
	Code    string
	Message string
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Message) }

// Errorf builds a Problem.
func Errorf(status int, code, format string, args ...any) *Problem {
	return &Problem{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 Problem with code "invalid_request" unless code is given.
func BadRequest(code, format string, args ...any) *Problem {
	return Errorf(http.StatusBadRequest, code, format, args...)
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Write encodes v as JSON with the status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// Error writes the contract's error body.
func Error(w http.ResponseWriter, status int, code, message string) {
	var b errorBody
	b.Error.Code = code
	b.Error.Message = message
	Write(w, status, b)
}

// Fail writes err: a *Problem as itself, anything else as 500 internal
// (the message of an unknown error is not shown to the caller).
func Fail(w http.ResponseWriter, err error) {
	var p *Problem
	if errors.As(err, &p) {
		Error(w, p.Status, p.Code, p.Message)
		return
	}
	Error(w, http.StatusInternalServerError, "internal", "internal error")
}

// Decode reads a JSON body of at most limit bytes (MaxBody when limit ≤ 0) into v,
// rejecting unknown fields, trailing data and wrong content types with a Problem.
func Decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if limit <= 0 {
		limit = MaxBody
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return Errorf(http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds %d bytes", limit)
		case errors.Is(err, io.EOF):
			return BadRequest("invalid_json", "request body is empty")
		default:
			return BadRequest("invalid_json", "request body is not valid JSON for this call: %v", err)
		}
	}
	if dec.More() {
		return BadRequest("invalid_json", "request body holds more than one JSON value")
	}
	return nil
}
