package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/healthhub/healthhub/core/fhir"
	"github.com/healthhub/healthhub/core/internal/sqldb"
	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/sdk"
)

// Content types the hub reads and writes.
const (
	ContentTypeFHIR = "application/fhir+json"
	ContentTypeJSON = "application/json"
)

// StatusFor returns the HTTP status for err. A conflict on a request with
// If-Match is a failed precondition (412); every other conflict is 409.
// Failures of plugins and upstream services are 502, or 504 when they timed
// out. The hub's own database out of reach is 503, and the hub's other
// unexpected errors are 500.
func StatusFor(r *http.Request, err error) int {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	var unsupported *unsupportedMediaType
	if errors.As(err, &unsupported) {
		return http.StatusUnsupportedMediaType
	}
	var unacceptable *notAcceptable
	if errors.As(err, &unacceptable) {
		return http.StatusNotAcceptable
	}
	if databaseUnavailable(err) {
		return http.StatusServiceUnavailable
	}
	outcome := sdk.AsOutcome(err)
	issue := firstError(outcome)
	external := issue.Source == sdk.SourcePlugin || issue.Source == sdk.SourceUpstream

	switch issue.Code {
	case sdk.CodeInvalid, sdk.CodeStructure, sdk.CodeRequired, sdk.CodeValue, sdk.CodeInvariant:
		if external {
			return http.StatusBadGateway
		}
		return http.StatusBadRequest
	case sdk.CodeBusinessRule, sdk.CodeProcessing:
		return http.StatusUnprocessableEntity
	case sdk.CodeLogin:
		return http.StatusUnauthorized
	case sdk.CodeForbidden, sdk.CodeSecurity:
		return http.StatusForbidden
	case sdk.CodeNotFound:
		return http.StatusNotFound
	case sdk.CodeDeleted:
		return http.StatusGone
	case sdk.CodeConflict, sdk.CodeDuplicate:
		if (r != nil && r.Header.Get("If-Match") != "") || store.IfMatchFailed(outcome) {
			return http.StatusPreconditionFailed
		}
		return http.StatusConflict
	case sdk.CodeTooLong:
		return http.StatusRequestEntityTooLarge
	case sdk.CodeNotSupported:
		return http.StatusNotImplemented
	case sdk.CodeThrottled:
		if external {
			return http.StatusBadGateway
		}
		return http.StatusTooManyRequests
	case sdk.CodeTimeout:
		return http.StatusGatewayTimeout
	case sdk.CodeTransient:
		if external {
			return http.StatusBadGateway
		}
		return http.StatusServiceUnavailable
	case sdk.CodeIncomplete:
		// The client went away; the status is for the access log only.
		return 499
	}
	if external {
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// databaseUnavailable reports whether err is the hub's own database being
// out of reach, as opposed to an outcome, which may come from a plugin or
// an upstream service and carries its own code.
func databaseUnavailable(err error) bool {
	var outcome *sdk.Outcome
	return !errors.As(err, &outcome) && sqldb.IsUnavailable(err)
}

func firstError(o *sdk.Outcome) sdk.Issue {
	for _, issue := range o.Issues {
		if issue.Severity == sdk.SeverityError || issue.Severity == sdk.SeverityFatal {
			return issue
		}
	}
	if len(o.Issues) > 0 {
		return o.Issues[0]
	}
	return sdk.Issue{Code: sdk.CodeException}
}

// WriteError writes err as an OperationOutcome with the status StatusFor
// gives. Errors that are the hub's fault (500) are logged with the request
// id, and their text is replaced by a generic message so that no internal
// detail reaches the client.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	status := StatusFor(r, err)
	outcome := sdk.AsOutcome(err)
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		outcome = sdk.Errorf(sdk.CodeTooLong, "read request body: larger than the limit of %d bytes", tooLarge.Limit)
	}
	switch {
	case status == http.StatusInternalServerError:
		logger.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()), "error", err)
		outcome = sdk.Errorf(sdk.CodeException, "internal error: the hub logged it under request id %s", RequestID(r.Context()))
	case databaseUnavailable(err):
		logger.ErrorContext(r.Context(), "database unavailable", "request_id", RequestID(r.Context()), "error", err)
		outcome = sdk.Errorf(sdk.CodeTransient, "the hub's database is unavailable: retry later (request id %s)", RequestID(r.Context()))
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="healthhub"`)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
	}
	WriteOutcome(w, status, outcome)
}

// WriteOutcome writes o as an OperationOutcome with status.
func WriteOutcome(w http.ResponseWriter, status int, o *sdk.Outcome) {
	if o == nil || len(o.Issues) == 0 {
		o = sdk.Errorf(sdk.CodeException, "unknown error")
	}
	body, err := marshalJSON(fhir.NewOperationOutcome(o))
	if err != nil {
		body = []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)
	}
	header := w.Header()
	header.Set("Content-Type", ContentTypeFHIR+"; charset=utf-8")
	header.Set("Content-Length", strconv.Itoa(len(body)))
	header.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// hubError returns an outcome of code with source hub.
func hubError(code sdk.IssueCode, format string, args ...any) *sdk.Outcome {
	return sdk.Errorf(code, format, args...).WithSource(sdk.SourceHub)
}

// isClientGone reports whether err means the client cancelled the request.
func isClientGone(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) && ctx.Err() != nil
}

// marshalJSON encodes v without escaping <, > and &, which clients read as
// text, not HTML.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	encoder := json.NewEncoder(&b)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
