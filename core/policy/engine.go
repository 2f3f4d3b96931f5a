package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Engine evaluates policy decisions. Its methods are safe for concurrent
// use; decisions run in parallel with reloads.
type Engine struct {
	cfg    Config
	doc    map[string]any
	logger *slog.Logger

	current  atomic.Pointer[policySet]
	reloadMu sync.Mutex // serializes Reload
	// rejected is true when the last load failed. Guarded by reloadMu.
	rejected bool

	watcher *watcher
}

// New loads, compiles and tests the policy set of cfg.Dir (the embedded
// defaults when empty) and returns an engine that decides with it. With
// cfg.Watch it also starts watching cfg.Dir; call Close to stop. A set that
// does not load is a *LoadError.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Engine, error) {
	doc, err := cfg.DataDocument()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, doc: doc, logger: logger}
	if err := e.load(ctx); err != nil {
		return nil, err
	}
	if cfg.Watch && cfg.Dir != "" {
		w, err := startWatcher(ctx, cfg.Dir, e, logger)
		if err != nil {
			return nil, err
		}
		e.watcher = w
	}
	return e, nil
}

// Close stops the directory watcher, if any. Decisions keep working.
func (e *Engine) Close() error {
	if e.watcher != nil {
		return e.watcher.close()
	}
	return nil
}

// Revision returns the revision of the policy set in force.
func (e *Engine) Revision() string {
	return e.current.Load().revision
}

// Reload reads, compiles and tests the policy set again and puts it in
// force. On failure the set in force stays, and the error, a *LoadError
// with the file, row and column of each problem, is logged and returned.
func (e *Engine) Reload(ctx context.Context) error {
	return e.load(ctx)
}

func (e *Engine) load(ctx context.Context) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()

	source := sourceName(e.cfg.Dir)
	set, err := e.buildSet(ctx, source)
	if err != nil {
		e.logLoadError(source, err)
		e.rejected = true
		return err
	}
	old := e.current.Swap(set)
	// After a rejected attempt the log needs the outcome even when the
	// files are back to the set in force.
	if old == nil || old.revision != set.revision || e.rejected {
		e.logger.Info("policy set loaded", "source", source, "revision", set.revision, "modules", len(set.modules))
	}
	e.rejected = false
	return nil
}

func (e *Engine) buildSet(ctx context.Context, source string) (*policySet, error) {
	files, err := readSource(e.cfg.Dir)
	if err != nil {
		return nil, err
	}
	return build(ctx, source, files, e.doc)
}

func (e *Engine) logLoadError(source string, err error) {
	attrs := []any{"source", source, "error", err}
	if current := e.current.Load(); current != nil {
		attrs = append(attrs, "revision_in_force", current.revision)
	}
	var loadErr *LoadError
	if errors.As(err, &loadErr) {
		for _, le := range loadErr.Errors {
			e.logger.Error("policy set rejected", "source", source, "file", le.File, "row", le.Row, "col", le.Col, "code", le.Code, "message", le.Message)
		}
		return
	}
	e.logger.Error("policy set rejected", attrs...)
}

// Decide evaluates the decision for in. It always returns a Decision with
// an ID. When the policy cannot decide (an undefined or malformed result,
// an evaluation or built-in error, an input that cannot be converted), the
// Decision denies with a reason and the returned error gives the cause.
func (e *Engine) Decide(ctx context.Context, in *Input) (Decision, error) {
	set := e.current.Load()
	value, err := in.ASTValue()
	if err != nil {
		d := denyDecision(ReasonError, "the policy input could not be converted")
		return set.finish(d), fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return set.decide(ctx, value)
}

// DecideJSON evaluates the decision for an input given as JSON, with the
// fields of Input and no others. Numbers keep their exact text.
func (e *Engine) DecideJSON(ctx context.Context, input []byte) (Decision, error) {
	set := e.current.Load()
	value, err := parseInputJSON(input)
	if err != nil {
		d := denyDecision(ReasonError, "the policy input does not match the decision contract")
		return set.finish(d), err
	}
	return set.decide(ctx, value)
}

// parseInputJSON parses an input given as JSON. A field that Input lacks,
// at any level, is an error, so that a misspelt field is not read by the
// policy as missing. Values are left to the policy, so a malformed date or
// a number such as 30.0 reaches it.
//
// NOTE: encoding/json reports only the first problem it meets, so an
// unknown field that follows a value of the wrong type is not reported.
func parseInputJSON(input []byte) (ast.Value, error) {
	decoder := json.NewDecoder(bytes.NewReader(input))
	decoder.DisallowUnknownFields()
	var shape Input
	// encoding/json has no error type for an unknown field, only its message.
	if err := decoder.Decode(&shape); err != nil && strings.HasPrefix(err.Error(), "json: unknown field ") {
		return nil, fmt.Errorf("%w: %s: see the input fields in docs/policy.md", ErrInvalidInput, strings.TrimPrefix(err.Error(), "json: "))
	}
	value, err := ast.ValueFromReader(bytes.NewReader(input))
	if err == nil {
		if _, ok := value.(ast.Object); !ok {
			err = fmt.Errorf("the input is a %s, not an object", ast.ValueName(value))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return value, nil
}

// Evaluation options shared by every decision. Metrics are not collected,
// and the result stays a Rego value, which parseDecision reads without the
// conversion to map[string]any that OPA makes by default.
var (
	evalNoMetrics = rego.EvalMetrics(metrics.NoOp())
	evalKeepAST   = rego.EvalGenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil })
)

func (s *policySet) decide(ctx context.Context, input ast.Value, opts ...rego.EvalOption) (Decision, error) {
	// OPA notices a cancelled context only at intervals, so a decision
	// asked for after the request ended could still be evaluated.
	if err := ctx.Err(); err != nil {
		d := denyDecision(ReasonError, evalErrorMessage(err))
		return s.finish(d), fmt.Errorf("%w: %w", ErrEvaluation, err)
	}

	// Without an external cancel, OPA starts a goroutine per evaluation to
	// watch ctx. context.AfterFunc watches it without a goroutine, and a
	// context that cannot be cancelled needs no watching.
	cancel := topdown.NewCancel()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, cancel.Cancel)
		defer stop()
	}
	opts = append(opts, rego.EvalParsedInput(input), rego.EvalExternalCancel(cancel), evalNoMetrics, evalKeepAST)

	rs, err := s.query.Eval(ctx, opts...)
	if err != nil {
		d := denyDecision(ReasonError, evalErrorMessage(err))
		return s.finish(d), fmt.Errorf("%w: %w", ErrEvaluation, err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		d := denyDecision(ReasonUndefined, "the policy produced no decision")
		return s.finish(d), ErrUndefined
	}
	value, ok := rs[0].Expressions[0].Value.(ast.Value)
	if !ok {
		d := denyDecision(ReasonMalformed, "the policy decision is malformed")
		return s.finish(d), fmt.Errorf("%w: the result is a %T, not a Rego value", ErrMalformed, rs[0].Expressions[0].Value)
	}
	d, err := parseDecision(value)
	if err != nil {
		d := denyDecision(ReasonMalformed, "the policy decision is malformed")
		return s.finish(d), err
	}
	return s.finish(d), nil
}

func (s *policySet) finish(d Decision) Decision {
	d.ID = uuid.NewString()
	d.Revision = s.revision
	return d
}

// evalErrorMessage describes an evaluation error for a decision reason:
// the error code and the policy location, without the message, which may
// quote values from the input.
func evalErrorMessage(err error) string {
	var topErr *topdown.Error
	if errors.As(err, &topErr) {
		if topErr.Location != nil {
			return fmt.Sprintf("policy evaluation failed: %s at %s:%d", topErr.Code, topErr.Location.File, topErr.Location.Row)
		}
		return fmt.Sprintf("policy evaluation failed: %s", topErr.Code)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "policy evaluation was cancelled"
	}
	return "policy evaluation failed"
}
