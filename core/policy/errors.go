package policy

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// LocatedError is one problem found in a policy file, at a row and column
// (1-based; 0 when unknown).
type LocatedError struct {
	File    string `json:"file"`
	Row     int    `json:"row"`
	Col     int    `json:"col"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e LocatedError) Error() string {
	switch {
	case e.File == "":
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	case e.Row == 0:
		return fmt.Sprintf("%s: %s: %s", e.File, e.Code, e.Message)
	default:
		return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Row, e.Col, e.Code, e.Message)
	}
}

// LoadError is returned when a policy set fails to load: it does not parse
// or compile, a Rego test fails, or the decision rule is missing. Errors
// are sorted by file, row and column.
type LoadError struct {
	// Source is the policy directory, or "embedded".
	Source string
	Errors []LocatedError
}

// ErrLoad matches every *LoadError with errors.Is.
var ErrLoad = errors.New("policy set rejected")

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "load policies from %s: %d error", e.Source, len(e.Errors))
	if len(e.Errors) != 1 {
		b.WriteString("s")
	}
	for _, le := range e.Errors {
		b.WriteString("\n  ")
		b.WriteString(le.Error())
	}
	return b.String()
}

// Is matches ErrLoad.
func (e *LoadError) Is(target error) bool { return target == ErrLoad }

func newLoadError(source string, errs []LocatedError) *LoadError {
	slices.SortFunc(errs, func(a, b LocatedError) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Row, b.Row), cmp.Compare(a.Col, b.Col))
	})
	return &LoadError{Source: source, Errors: errs}
}

// locatedErrors converts errors from the OPA parser and compiler.
func locatedErrors(err error) []LocatedError {
	var astErrs ast.Errors
	if errors.As(err, &astErrs) {
		out := make([]LocatedError, 0, len(astErrs))
		for _, e := range astErrs {
			out = append(out, fromASTError(e))
		}
		return out
	}
	var astErr *ast.Error
	if errors.As(err, &astErr) {
		return []LocatedError{fromASTError(astErr)}
	}
	return []LocatedError{{Code: "rego_error", Message: err.Error()}}
}

func fromASTError(e *ast.Error) LocatedError {
	le := LocatedError{Code: e.Code, Message: e.Message}
	if e.Location != nil {
		le.File, le.Row, le.Col = e.Location.File, e.Location.Row, e.Location.Col
	}
	return le
}
