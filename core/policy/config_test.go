package policy

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Rego defaults in policies/settings.rego must be the Go defaults, so
// that `opa test` and the hub decide alike.
func TestConfigDefaultsMatchRego(t *testing.T) {
	e := newEngine(t, Config{})
	rs, err := rego.New(rego.Query("data.healthhub.settings.defaults"), rego.Compiler(e.current.Load().compiler)).Eval(context.Background())
	require.NoError(t, err)
	require.Len(t, rs, 1)

	doc, err := Config{}.DataDocument()
	require.NoError(t, err)
	want, err := json.Marshal(doc)
	require.NoError(t, err)
	got, err := json.Marshal(rs[0].Expressions[0].Value)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
}

func TestConfigDataDocument(t *testing.T) {
	cfg := Config{
		AllowedRegions:            []string{"eu"},
		BreakGlassMaxDuration:     "15m",
		BreakGlassMinReasonLength: 40,
		BreakGlassRoles:           []string{"clinician"},
		MaxRetentionDays:          -1,
		AllowMissingScopes:        true,
	}
	doc, err := cfg.DataDocument()
	require.NoError(t, err)
	assert.Equal(t, []any{"eu"}, doc["allowed_regions"])
	assert.Equal(t, int64(900), doc["break_glass_max_seconds"])
	assert.Equal(t, 40, doc["break_glass_min_reason_length"])
	assert.Equal(t, DefaultBreakGlassMinReasonWords, doc["break_glass_min_reason_words"])
	assert.Equal(t, []any{"clinician"}, doc["break_glass_roles"])
	assert.Equal(t, 0, doc["max_retention_days"])
	assert.Equal(t, false, doc["require_scopes"])
	assert.Equal(t, []string{"clinician"}, cfg.BreakGlassRoles, "the caller's config is left alone")
	assert.Equal(t, DefaultMinCoverage, cfg.EffectiveMinCoverage())
	assert.Equal(t, 75.0, Config{MinCoverage: 75}.EffectiveMinCoverage())
}

func TestConfigReachesPolicies(t *testing.T) {
	ctx := context.Background()
	in := chatInput(cloudNoBAA)

	closed := newEngine(t, Config{})
	d, err := closed.Decide(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, []string{"egress.region"}, reasonCodes(d))

	open := newEngine(t, Config{AllowedRegions: []string{"us-east-1"}})
	d, err = open.Decide(ctx, in)
	require.NoError(t, err)
	assert.True(t, d.Allow)
}

func TestRunTestsEmbedded(t *testing.T) {
	report, err := RunTests(context.Background(), "")
	require.NoError(t, err)
	passed, failed, skipped := report.Counts()
	assert.Positive(t, passed)
	assert.Zero(t, failed)
	assert.Zero(t, skipped)
	assert.GreaterOrEqual(t, report.Coverage, DefaultMinCoverage)
	for _, f := range report.Files {
		assert.NotContains(t, f.File, "_test.rego")
	}
}

func TestRunTestsReportsFailures(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "authz.rego", minimalPolicy)
	writeFile(t, dir, "authz_test.rego", `package healthhub.authz_test

import data.healthhub.authz

test_read_allowed if authz.decision.allow with input as {"action": "read"}

test_delete_allowed if authz.decision.allow with input as {"action": "delete"}
`)
	report, err := RunTests(context.Background(), dir)
	require.NoError(t, err)
	passed, failed, _ := report.Counts()
	assert.Equal(t, 1, passed)
	assert.Equal(t, 1, failed)
	require.Len(t, report.Files, 1)
	assert.Equal(t, 100.0, report.Coverage)
}

func TestExplainNamesRules(t *testing.T) {
	e := newEngine(t, Config{})
	input, err := json.Marshal(breakGlassRead())
	require.NoError(t, err)
	ex, err := e.Explain(context.Background(), input)
	require.NoError(t, err)
	assert.True(t, ex.Decision.Allow)

	rules := map[string]bool{}
	for _, hit := range ex.Rules {
		rules[hit.Rule] = true
		assert.NotContains(t, hit.File, "_test.rego")
		assert.Positive(t, hit.Row)
	}
	for _, want := range []string{
		"data.healthhub.authz.decision",
		"data.healthhub.access.grants",
		"data.healthhub.breakglass.active",
		"data.healthhub.labels.notes",
		"data.healthhub.access.notes",
	} {
		assert.True(t, rules[want], "rule %s missing from %v", want, ex.Rules)
	}
	assert.False(t, rules["data.healthhub.access.deny"], "no deny rule succeeded")
}
