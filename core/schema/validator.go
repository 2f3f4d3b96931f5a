package schema

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/healthhub/healthhub/sdk"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Names of the hub request schemas, for ValidateRequest.
const (
	// RequestChat is the schema of a chat request.
	RequestChat = "chat-request"
	// RequestTranscription is the schema of a transcription request.
	RequestTranscription = "transcription-request"
	// RequestImagingAnalysis is the schema of an imaging analysis request.
	RequestImagingAnalysis = "imaging-analysis-request"
)

// Validator validates FHIR resources and hub requests against compiled
// schemas. It compiles them in New and Reload. Validation only reads the
// compiled state, so a Validator is safe for concurrent use, also while
// Reload runs.
type Validator struct {
	cfg    Config
	logger *slog.Logger
	state  atomic.Pointer[compiled]
}

// New compiles the schemas that cfg selects. It returns an error naming the
// document at fault when a schema does not parse or compile. A nil logger
// discards the log.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Validator, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	v := &Validator{cfg: cfg, logger: logger}
	if err := v.Reload(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// Reload compiles the schemas again, reading the schema directory anew. On
// failure the Validator keeps the schemas it had and Reload returns the
// error.
func (v *Validator) Reload(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	c, err := compile(v.cfg)
	if err != nil {
		v.logger.ErrorContext(ctx, "schema compilation failed", "dir", v.cfg.Dir, "strict", v.cfg.Strict, "error", err)
		return err
	}
	v.state.Store(c)
	v.logger.InfoContext(ctx, "schemas compiled", "dir", v.cfg.Dir, "strict", v.cfg.Strict,
		"resource_types", len(c.resources), "requests", len(c.requests), "duration", time.Since(start))
	return nil
}

// ResourceTypes returns the resource types the Validator has a schema for,
// sorted: the embedded and directory types, or in strict mode every FHIR R4
// resource type and the directory types.
func (v *Validator) ResourceTypes() []string {
	return v.state.Load().resources.names()
}

// HasResourceType reports whether the Validator has a schema for the
// resource type.
func (v *Validator) HasResourceType(resourceType string) bool {
	_, ok := v.state.Load().resources[resourceType]
	return ok
}

// Validate parses data and validates it as a resource of resourceType, or
// of the type its resourceType member names when resourceType is "". It
// returns nil when the resource is valid, and otherwise an *sdk.Outcome
// with one issue per failure. The outcome matches sdk.ErrInvalid with
// errors.Is, or sdk.ErrNotSupported when the type has no schema.
func (v *Validator) Validate(ctx context.Context, resourceType string, data []byte) error {
	doc, err := Parse(data)
	if err != nil {
		return err
	}
	return v.ValidateDocument(ctx, resourceType, doc)
}

// ValidateDocument is Validate for a document that Parse already decoded,
// so that a caller that needs the values does not parse twice. doc may also
// come from encoding/json with UseNumber; float64 numbers work as well but
// lose the exact text of decimals.
func (v *Validator) ValidateDocument(ctx context.Context, resourceType string, doc any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := v.state.Load()
	rt, issue := resourceTypeOf(doc, resourceType)
	if issue != nil {
		return sdk.NewOutcome(*issue)
	}
	sch, ok := c.resources[rt]
	if !ok {
		return sdk.NewOutcome(sdk.Issue{
			Severity:    sdk.SeverityError,
			Code:        sdk.CodeNotSupported,
			Path:        "/resourceType",
			Expression:  rt + ".resourceType",
			Diagnostics: unknownTypeMessage(rt, c.resources.names()),
			Source:      sdk.SourceHub,
		})
	}

	conv := newConverter(c, rt, doc)
	if bundle, ok := v.concurrentBundle(c, rt, doc); ok {
		if err := v.validateBundle(ctx, c, conv, bundle); err != nil {
			return err
		}
	} else if err := sch.Validate(doc); err != nil {
		conv.add(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	conv.issues = append(conv.issues, checkInvariants(rt, doc)...)
	return conv.outcome()
}

// ValidateRequest parses data and validates it against the hub request
// schema name, such as RequestChat. It returns nil or an *sdk.Outcome, or
// an error matching sdk.ErrNotSupported when no request schema has that
// name.
func (v *Validator) ValidateRequest(ctx context.Context, name string, data []byte) error {
	doc, err := Parse(data)
	if err != nil {
		return err
	}
	return v.ValidateRequestDocument(ctx, name, doc)
}

// ValidateRequestDocument is ValidateRequest for a parsed document.
func (v *Validator) ValidateRequestDocument(ctx context.Context, name string, doc any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := v.state.Load()
	sch, ok := c.requests[name]
	if !ok {
		return fmt.Errorf("validate request: no request schema %q; known: %v: %w", name, sortedKeys(c.requests), sdk.ErrNotSupported)
	}
	return validateWith(c, sch, "", doc)
}

// validateWith validates doc against sch and converts the errors, without
// FHIR invariants.
func validateWith(c *compiled, sch *jsonschema.Schema, rootType string, doc any) error {
	err := sch.Validate(doc)
	if err == nil {
		return nil
	}
	conv := newConverter(c, rootType, doc)
	conv.add(err)
	return conv.outcome()
}

// resourceTypeOf returns the type to validate doc as, or an issue when doc
// is not a resource or is not of the expected type.
func resourceTypeOf(doc any, expected string) (string, *sdk.Issue) {
	fail := func(code sdk.IssueCode, path, msg string) (string, *sdk.Issue) {
		return "", &sdk.Issue{Severity: sdk.SeverityError, Code: code, Path: path, Diagnostics: msg, Source: sdk.SourceHub}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return fail(sdk.CodeStructure, "", fmt.Sprintf("a resource is a JSON object, not %s", describeJSON(doc)))
	}
	raw, ok := obj["resourceType"]
	if !ok {
		return fail(sdk.CodeRequired, "", "missing resourceType; a resource names its type, such as \"resourceType\": \"Patient\"")
	}
	rt, ok := raw.(string)
	if !ok {
		return fail(sdk.CodeStructure, "/resourceType", fmt.Sprintf("resourceType must be a string naming the resource type, not %s", describeJSON(raw)))
	}
	if expected != "" && rt != expected {
		_, issue := fail(sdk.CodeInvalid, "/resourceType", fmt.Sprintf("resourceType is %q but a %s is expected here; send a %s", rt, expected, expected))
		issue.Expression = rt + ".resourceType"
		return "", issue
	}
	return rt, nil
}

// outcome sorts the issues by document position and returns them as an
// outcome, or nil when there are none.
func (conv *converter) outcome() error {
	if len(conv.issues) == 0 {
		return nil
	}
	slices.SortStableFunc(conv.issues, compareIssues)
	return sdk.NewOutcome(conv.issues...)
}
