package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Severity is the severity of an issue, with the values of FHIR
// OperationOutcome.issue.severity.
type Severity string

// Issue severities.
const (
	SeverityFatal       Severity = "fatal"
	SeverityError       Severity = "error"
	SeverityWarning     Severity = "warning"
	SeverityInformation Severity = "information"
)

// IssueCode is a FHIR R4 issue-type code (value set
// http://hl7.org/fhir/ValueSet/issue-type).
type IssueCode string

// Issue-type codes the hub and its plugins use.
const (
	CodeInvalid      IssueCode = "invalid"
	CodeStructure    IssueCode = "structure"
	CodeRequired     IssueCode = "required"
	CodeValue        IssueCode = "value"
	CodeInvariant    IssueCode = "invariant"
	CodeSecurity     IssueCode = "security"
	CodeLogin        IssueCode = "login"
	CodeForbidden    IssueCode = "forbidden"
	CodeTooLong      IssueCode = "too-long"
	CodeNotSupported IssueCode = "not-supported"
	CodeNotFound     IssueCode = "not-found"
	CodeDeleted      IssueCode = "deleted"
	CodeConflict     IssueCode = "conflict"
	CodeDuplicate    IssueCode = "duplicate"
	CodeBusinessRule IssueCode = "business-rule"
	CodeException    IssueCode = "exception"
	CodeTimeout      IssueCode = "timeout"
	CodeThrottled    IssueCode = "throttled"
	CodeTransient    IssueCode = "transient"
	CodeProcessing   IssueCode = "processing"
	CodeIncomplete   IssueCode = "incomplete"
)

// Source is the party at fault for an issue.
type Source string

// Issue sources.
const (
	// SourceHub marks issues the hub raised: validation, policy, store.
	SourceHub Source = "hub"
	// SourcePlugin marks issues a provider plugin raised about its own work
	// or its input.
	SourcePlugin Source = "plugin"
	// SourceUpstream marks issues a plugin passed on from the external
	// service it calls (a vendor API, a model server, an EHR).
	SourceUpstream Source = "upstream"
)

// Issue is one problem found while handling a request. It maps one to one
// onto an OperationOutcome.issue.
type Issue struct {
	Severity Severity  `json:"severity"`
	Code     IssueCode `json:"code"`
	// Path is an RFC 6901 JSON Pointer into the payload the issue is about,
	// such as "/name/0/given/1". Empty when the issue is not about one
	// element.
	Path string `json:"path,omitempty"`
	// Expression is the FHIRPath-like form of Path, such as
	// "Patient.name[0].given[1]".
	Expression string `json:"expression,omitempty"`
	// Diagnostics is a one-line message a person can act on.
	Diagnostics string `json:"diagnostics"`
	// Rule identifies the rule that raised the issue, such as a FHIR
	// invariant ("pat-1") or a policy rule name. Optional.
	Rule   string `json:"rule,omitempty"`
	Source Source `json:"source,omitempty"`
}

// Outcome is the error type shared by the hub, the SDK and plugins: a list
// of issues. It crosses the plugin boundary with its structure intact and
// becomes a FHIR OperationOutcome at the HTTP edge.
//
// Outcome matches the sentinel errors of this package with errors.Is by
// issue code, so callers never compare messages.
type Outcome struct {
	Issues []Issue `json:"issue"`
}

// NewOutcome returns an outcome with the given issues.
func NewOutcome(issues ...Issue) *Outcome {
	return &Outcome{Issues: issues}
}

// Error returns the first error-level issue's diagnostics with its path,
// and how many more issues there are.
func (o *Outcome) Error() string {
	if o == nil || len(o.Issues) == 0 {
		return "unknown error"
	}
	first := o.Issues[0]
	for _, issue := range o.Issues {
		if issue.Severity == SeverityFatal || issue.Severity == SeverityError {
			first = issue
			break
		}
	}

	var b strings.Builder
	if first.Expression != "" {
		b.WriteString(first.Expression)
		b.WriteString(": ")
	} else if first.Path != "" {
		b.WriteString(first.Path)
		b.WriteString(": ")
	}
	b.WriteString(first.Diagnostics)
	if n := len(o.Issues) - 1; n > 0 {
		fmt.Fprintf(&b, " (and %d more issue", n)
		if n > 1 {
			b.WriteString("s")
		}
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether the outcome has an error-level issue whose code belongs
// to the sentinel target, so that errors.Is(err, sdk.ErrNotFound) works on an
// outcome that came back from a plugin.
func (o *Outcome) Is(target error) bool {
	codes, ok := sentinelCodes[target]
	if !ok || o == nil {
		return false
	}
	for _, issue := range o.Issues {
		if issue.Severity != SeverityError && issue.Severity != SeverityFatal {
			continue
		}
		for _, code := range codes {
			if issue.Code == code {
				return true
			}
		}
	}
	return false
}

// HasErrors reports whether any issue has severity error or fatal.
func (o *Outcome) HasErrors() bool {
	if o == nil {
		return false
	}
	for _, issue := range o.Issues {
		if issue.Severity == SeverityError || issue.Severity == SeverityFatal {
			return true
		}
	}
	return false
}

// WithSource returns a copy of the outcome in which every issue without a
// source gets source s.
func (o *Outcome) WithSource(s Source) *Outcome {
	out := &Outcome{Issues: make([]Issue, len(o.Issues))}
	for i, issue := range o.Issues {
		if issue.Source == "" {
			issue.Source = s
		}
		out.Issues[i] = issue
	}
	return out
}

// Sentinel errors. Each matches an *Outcome that carries an error-level issue
// with one of the listed codes, and is also returned bare by helpers that
// have no path to report.
var (
	// ErrNotFound is returned when the object or resource does not exist
	// (codes not-found, deleted).
	ErrNotFound = errors.New("not found")
	// ErrInvalid is returned when the input does not meet the contract
	// (codes invalid, structure, required, value, invariant).
	ErrInvalid = errors.New("invalid input")
	// ErrConflict is returned when a version check fails or an object
	// already exists (codes conflict, duplicate).
	ErrConflict = errors.New("conflict")
	// ErrForbidden is returned when a policy or the upstream service denies
	// the request (codes forbidden, security, login).
	ErrForbidden = errors.New("forbidden")
	// ErrNotSupported is returned when a provider does not implement the
	// requested operation or option (code not-supported).
	ErrNotSupported = errors.New("not supported")
	// ErrTooLarge is returned when a payload exceeds a limit (code too-long).
	ErrTooLarge = errors.New("payload too large")
	// ErrUnavailable is returned when a plugin or an upstream service
	// cannot take the request now and a later retry may succeed (codes
	// transient, throttled).
	ErrUnavailable = errors.New("unavailable")
	// ErrTimeout is returned when an operation ran out of time (code
	// timeout).
	ErrTimeout = errors.New("timed out")
)

var sentinelCodes = map[error][]IssueCode{
	ErrNotFound:     {CodeNotFound, CodeDeleted},
	ErrInvalid:      {CodeInvalid, CodeStructure, CodeRequired, CodeValue, CodeInvariant},
	ErrConflict:     {CodeConflict, CodeDuplicate},
	ErrForbidden:    {CodeForbidden, CodeSecurity, CodeLogin},
	ErrNotSupported: {CodeNotSupported},
	ErrTooLarge:     {CodeTooLong},
	ErrUnavailable:  {CodeTransient, CodeThrottled},
	ErrTimeout:      {CodeTimeout},
}

// Errorf returns an outcome with one error-level issue of the given code and
// a formatted diagnostic.
func Errorf(code IssueCode, format string, args ...any) *Outcome {
	return NewOutcome(Issue{Severity: SeverityError, Code: code, Diagnostics: fmt.Sprintf(format, args...)})
}

// NotFoundf returns an outcome with one not-found issue.
func NotFoundf(format string, args ...any) *Outcome {
	return Errorf(CodeNotFound, format, args...)
}

// Invalidf returns an outcome with one invalid issue at the JSON Pointer
// path, which may be empty.
func Invalidf(path, format string, args ...any) *Outcome {
	o := Errorf(CodeInvalid, format, args...)
	o.Issues[0].Path = path
	return o
}

// Upstreamf returns an outcome with one issue of the given code whose source
// is the upstream service, for plugins that pass on a vendor's error.
func Upstreamf(code IssueCode, format string, args ...any) *Outcome {
	o := Errorf(code, format, args...)
	o.Issues[0].Source = SourceUpstream
	return o
}

// AsOutcome converts any error into an outcome. An *Outcome anywhere in the
// chain is returned as is. Context errors and the sentinels map to their
// issue codes, and any other error becomes an exception issue whose
// diagnostics is the error text. AsOutcome returns nil for a nil error.
func AsOutcome(err error) *Outcome {
	if err == nil {
		return nil
	}
	var o *Outcome
	if errors.As(err, &o) {
		return o
	}
	code := CodeException
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrTimeout):
		code = CodeTimeout
	case errors.Is(err, context.Canceled):
		code = CodeIncomplete
	default:
		for sentinel, codes := range sentinelCodes {
			if errors.Is(err, sentinel) {
				code = codes[0]
				break
			}
		}
	}
	return Errorf(code, "%s", err.Error())
}
