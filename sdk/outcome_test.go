package sdk

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOutcomeMatchesSentinels(t *testing.T) {
	tests := []struct {
		name     string
		code     IssueCode
		sentinel error
	}{
		{"not-found", CodeNotFound, ErrNotFound},
		{"deleted", CodeDeleted, ErrNotFound},
		{"required", CodeRequired, ErrInvalid},
		{"invariant", CodeInvariant, ErrInvalid},
		{"conflict", CodeConflict, ErrConflict},
		{"forbidden", CodeForbidden, ErrForbidden},
		{"too-long", CodeTooLong, ErrTooLarge},
		{"throttled", CodeThrottled, ErrUnavailable},
		{"timeout", CodeTimeout, ErrTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", Errorf(tc.code, "x"))
			assert.ErrorIs(t, err, tc.sentinel)
			assert.NotErrorIs(t, err, ErrNotSupported)
		})
	}
}

func TestOutcomeWarningDoesNotMatch(t *testing.T) {
	o := NewOutcome(Issue{Severity: SeverityWarning, Code: CodeNotFound, Diagnostics: "x"})
	assert.NotErrorIs(t, o, ErrNotFound)
	assert.False(t, o.HasErrors())
}

func TestOutcomeErrorMessage(t *testing.T) {
	o := NewOutcome(
		Issue{Severity: SeverityWarning, Code: CodeValue, Diagnostics: "looks odd"},
		Issue{Severity: SeverityError, Code: CodeValue, Expression: "Patient.birthDate", Diagnostics: `"1974-13-01" is not a valid date`},
		Issue{Severity: SeverityError, Code: CodeRequired, Diagnostics: "missing"},
	)
	assert.Equal(t, `Patient.birthDate: "1974-13-01" is not a valid date (and 2 more issues)`, o.Error())
}

func TestAsOutcome(t *testing.T) {
	assert.Nil(t, AsOutcome(nil))

	original := NotFoundf("object %q not found", "a/b")
	assert.Same(t, original, AsOutcome(fmt.Errorf("get: %w", original)))

	deadline := AsOutcome(fmt.Errorf("call: %w", context.DeadlineExceeded))
	require.Len(t, deadline.Issues, 1)
	assert.Equal(t, CodeTimeout, deadline.Issues[0].Code)

	conflict := AsOutcome(fmt.Errorf("put: %w", ErrConflict))
	assert.Equal(t, CodeConflict, conflict.Issues[0].Code)

	other := AsOutcome(errors.New("disk on fire"))
	assert.Equal(t, CodeException, other.Issues[0].Code)
	assert.Equal(t, "disk on fire", other.Issues[0].Diagnostics)
}

func TestWithSourceKeepsExisting(t *testing.T) {
	o := NewOutcome(
		Issue{Severity: SeverityError, Code: CodeException, Diagnostics: "a"},
		Issue{Severity: SeverityError, Code: CodeThrottled, Diagnostics: "b", Source: SourceUpstream},
	)
	marked := o.WithSource(SourcePlugin)
	assert.Equal(t, SourcePlugin, marked.Issues[0].Source)
	assert.Equal(t, SourceUpstream, marked.Issues[1].Source)
	assert.Empty(t, o.Issues[0].Source, "the original outcome is not changed")
}
