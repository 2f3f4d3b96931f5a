package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeTemp(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

const clinicianReadInput = `{
  "subject": {"id": "Practitioner/f001", "roles": ["clinician"], "tenant": "north", "scopes": ["user/*.cruds"], "purpose_of_use": "TREAT"},
  "action": "read",
  "resource": {"type": "Observation", "id": "example", "tenant": "north", "patient": "Patient/example"},
  "context": {"time": "2025-03-04T10:00:00Z", "request_id": "req-1"}
}`

const testedPolicy = `package healthhub.authz

default decision := {"allow": false, "reasons": [{"code": "test.deny", "message": "denied"}], "obligations": {"audit_level": "standard", "review": false, "reidentify": false}}

decision := {"allow": true, "reasons": [{"code": "test.read", "message": "reads are allowed"}], "obligations": {"audit_level": "standard", "review": false, "reidentify": false}} if input.action == "read"

unused if input.action == "never"
`

func TestPolicyTestEmbedded(t *testing.T) {
	code, out, errOut := runHubWithInput(t, "", "policy", "test")
	assert.Equal(t, ExitOK, code, errOut)
	assert.Regexp(t, `(?m)^\d+ passed, 0 failed, 0 skipped$`, out)
	assert.Contains(t, out, "coverage")
}

func TestPolicyTestFailures(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "authz.rego", testedPolicy)
	writeTemp(t, dir, "authz_test.rego", `package healthhub.authz_test

import data.healthhub.authz

test_read_allowed if authz.decision.allow with input as {"action": "read"}

test_delete_allowed if authz.decision.allow with input as {"action": "delete"}
`)
	code, out, errOut := runHubWithInput(t, "", "policy", "test", dir)
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, out, "FAIL "+filepath.Join(dir, "authz_test.rego")+":7 healthhub.authz_test.test_delete_allowed")
	assert.Contains(t, out, "1 passed, 1 failed, 0 skipped")
	assert.Contains(t, errOut, "1 of 2 Rego tests failed")
}

func TestPolicyTestRejectsUngatheredConcern(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "authz.rego", testedPolicy)
	writeTemp(t, dir, "vip.rego", "package healthhub.vip\n\ndeny contains \"vip.restricted\" if input.resource.vip\n")
	code, _, errOut := runHubWithInput(t, "", "policy", "test", dir)
	assert.NotEqual(t, ExitOK, code)
	assert.Contains(t, errOut, filepath.Join(dir, "vip.rego")+":3:1: concern_not_gathered: healthhub.vip.deny is not reached from data.healthhub.authz.decision")
}

func TestPolicyTestCoverageThreshold(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "authz.rego", testedPolicy)
	writeTemp(t, dir, "authz_test.rego", `package healthhub.authz_test

import data.healthhub.authz

test_read_allowed if authz.decision.allow with input as {"action": "read"}
`)
	code, out, errOut := runHubWithInput(t, "", "policy", "test", dir)
	assert.Equal(t, ExitFailure, code, out)
	assert.Contains(t, errOut, "below the minimum 90.00%")

	code, _, errOut = runHubWithInput(t, "", "policy", "test", "--min-coverage", "30", dir)
	assert.Equal(t, ExitOK, code, errOut)

	config := writeTemp(t, t.TempDir(), "hub.yaml", "policy:\n  min_coverage: 30\n")
	code, _, errOut = runHubWithInput(t, "", "policy", "test", "--config", config, dir)
	assert.Equal(t, ExitOK, code, errOut)

	config = writeTemp(t, t.TempDir(), "hub.yaml", "policy:\n  dir: "+dir+"\n  min_coverage: 30\n")
	code, out, errOut = runHubWithInput(t, "", "policy", "test", "--config", config)
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "1 passed", "the configured directory is tested, not the embedded set")

	for _, bad := range []string{"150", "-5"} {
		code, _, errOut = runHubWithInput(t, "", "policy", "test", "--min-coverage", bad, dir)
		assert.Equal(t, ExitUsage, code, bad)
		assert.Contains(t, errOut, "out of range", bad)
	}
}

func TestDistinctPercents(t *testing.T) {
	coverage, minimum := distinctPercents(98.4375, 98.44)
	assert.Equal(t, "98.438", coverage)
	assert.Equal(t, "98.440", minimum)
	coverage, minimum = distinctPercents(75, 90)
	assert.Equal(t, "75.00", coverage)
	assert.Equal(t, "90.00", minimum)
}

func TestPolicyTestReadsEnvironment(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "authz.rego", testedPolicy)
	writeTemp(t, dir, "authz_test.rego", `package healthhub.authz_test

import data.healthhub.authz

test_read_allowed if authz.decision.allow with input as {"action": "read"}
`)
	t.Setenv("HUB_POLICY_DIR", dir)
	t.Setenv("HUB_POLICY_MIN_COVERAGE", "30")
	code, out, errOut := runHubWithInput(t, "", "policy", "test")
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "1 passed")
	assert.NotContains(t, out, "embedded")
}

func TestPolicyTestJSON(t *testing.T) {
	code, out, _ := runHubWithInput(t, "", "policy", "test", "--json")
	require.Equal(t, ExitOK, code)
	var report struct {
		Coverage float64 `json:"coverage"`
		Results  []struct {
			Pass bool `json:"pass"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	assert.GreaterOrEqual(t, report.Coverage, 90.0)
	assert.NotEmpty(t, report.Results)
}

func TestPolicyEval(t *testing.T) {
	input := writeTemp(t, t.TempDir(), "input.json", clinicianReadInput)
	code, out, errOut := runHubWithInput(t, "", "policy", "eval", "--input", input)
	require.Equal(t, ExitOK, code, errOut)
	var d struct {
		ID      string `json:"decision_id"`
		Allow   bool   `json:"allow"`
		Reasons []struct {
			Code string `json:"code"`
		} `json:"reasons"`
		Obligations map[string]any `json:"obligations"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &d))
	assert.True(t, d.Allow)
	assert.NotEmpty(t, d.ID)
	assert.Equal(t, "access.role", d.Reasons[0].Code)
	assert.Equal(t, "standard", d.Obligations["audit_level"])
}

func TestPolicyEvalStdinAndDir(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "authz.rego", testedPolicy)
	code, out, errOut := runHubWithInput(t, clinicianReadInput, "policy", "eval", "--input", "-", "--dir", dir)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, `"test.read"`)
}

func TestPolicyEvalErrors(t *testing.T) {
	dir := t.TempDir()
	badDate := writeTemp(t, dir, "bad-date.json", strings.Replace(clinicianReadInput, "2025-03-04T10:00:00Z", "yesterday", 1))
	notJSON := writeTemp(t, dir, "not-json.json", "{")
	badConfig := writeTemp(t, dir, "hub.yaml", "policy:\n  allowed_region: [eu]\n")

	tests := []struct {
		name string
		args []string
		code int
		out  string
		err  string
	}{
		{"malformed date denies", []string{"--input", badDate}, ExitFailure, `"policy.error"`, "eval_builtin_error"},
		{"input not JSON", []string{"--input", notJSON}, ExitUsage, `"allow": false`, "invalid policy input"},
		{"input missing", []string{"--input", filepath.Join(dir, "absent.json")}, ExitUsage, "", "read input"},
		{"unknown config key", []string{"--input", badDate, "--config", badConfig}, ExitUsage, "", "policy.allowed_region: unknown key"},
		{"no input flag", nil, ExitUsage, "", `required flag(s) "input" not set`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runHubWithInput(t, "", append([]string{"policy", "eval"}, tc.args...)...)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, out, tc.out)
			assert.Contains(t, errOut, tc.err)
		})
	}
}

func TestPolicyExplain(t *testing.T) {
	input := writeTemp(t, t.TempDir(), "input.json", clinicianReadInput)
	code, out, errOut := runHubWithInput(t, "", "policy", "explain", "--input", input)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "decision allow")
	assert.Contains(t, out, "reason access.role")
	assert.Regexp(t, `embedded/access\.rego:\d+ data\.healthhub\.access\.grants`, out)
	assert.Contains(t, out, "data.healthhub.authz.audit_level (default)")

	code, out, _ = runHubWithInput(t, "", "policy", "explain", "--json", "--input", input)
	require.Equal(t, ExitOK, code)
	var ex struct {
		Rules []struct {
			Rule string `json:"rule"`
		} `json:"rules"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &ex))
	assert.NotEmpty(t, ex.Rules)
}
