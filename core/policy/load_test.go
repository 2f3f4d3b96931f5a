package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// minimalPolicy is a complete policy set of one module: it allows reads
// and denies everything else.
const minimalPolicy = `package healthhub.authz

default decision := {"allow": false, "reasons": [{"code": "test.deny", "message": "denied"}], "obligations": {"audit_level": "standard", "review": false, "reidentify": false}}

decision := {"allow": true, "reasons": [{"code": "test.read", "message": "reads are allowed"}], "obligations": {"audit_level": "standard", "review": false, "reidentify": false}} if input.action == "read"
`

func TestNewRejectsPolicySets(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		code  string
		file  string
		row   int
	}{
		{
			name:  "syntax error",
			files: map[string]string{"authz.rego": "package healthhub.authz\n\ndecision := {\"allow\" false}\n"},
			code:  "rego_parse_error", file: "authz.rego", row: 3,
		},
		{
			name:  "compile error",
			files: map[string]string{"authz.rego": minimalPolicy + "\nbroken if undefined_function(1)\n"},
			code:  "rego_type_error", file: "authz.rego", row: 7,
		},
		{
			name:  "no decision rule",
			files: map[string]string{"authz.rego": "package healthhub.authz\n\nallow := true\n"},
			code:  "decision_missing",
		},
		{
			name:  "no default decision",
			files: map[string]string{"authz.rego": "package healthhub.authz\n\ndecision := {\"allow\": false}\n"},
			code:  "decision_default_missing", file: "authz.rego", row: 3,
		},
		{
			name: "failing Rego test",
			files: map[string]string{
				"authz.rego":      minimalPolicy,
				"authz_test.rego": "package healthhub.authz_test\n\nimport data.healthhub.authz\n\ntest_update_allowed if authz.decision.allow with input as {\"action\": \"update\"}\n",
			},
			code: "rego_test_failed", file: "authz_test.rego", row: 5,
		},
		{
			name: "deny rules nobody gathers",
			files: map[string]string{
				"authz.rego": minimalPolicy,
				"vip.rego":   "package healthhub.vip\n\ndeny contains \"vip.restricted\" if input.resource.vip\n",
			},
			code: "concern_not_gathered", file: "vip.rego", row: 3,
		},
		{
			name: "deny rules read only outside the decision",
			files: map[string]string{
				"authz.rego":   minimalPolicy,
				"vip.rego":     "package healthhub.vip\n\ndeny contains \"vip.restricted\" if input.resource.vip\n",
				"scratch.rego": "package healthhub.scratch\n\nimport data.healthhub.vip\n\nvip_denials := count(vip.deny)\n",
			},
			code: "concern_not_gathered", file: "vip.rego", row: 3,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tc.files {
				writeFile(t, dir, name, text)
			}
			_, err := New(context.Background(), Config{Dir: dir}, discardLogger())
			require.ErrorIs(t, err, ErrLoad)
			var loadErr *LoadError
			require.True(t, errors.As(err, &loadErr))
			require.NotEmpty(t, loadErr.Errors)
			first := loadErr.Errors[0]
			assert.Equal(t, tc.code, first.Code)
			if tc.file != "" {
				assert.Equal(t, filepath.Join(dir, tc.file), first.File)
				assert.Equal(t, tc.row, first.Row)
			}
			assert.Contains(t, err.Error(), tc.code)
		})
	}
}

func TestNewLoadsGatheredConcern(t *testing.T) {
	dir := copyPolicies(t)
	writeFile(t, dir, "vip.rego", `package healthhub.vip

deny contains {"code": "vip.restricted", "message": "VIP records need the vip-desk role"} if {
	some label in input.resource.security_labels
	label.code == "VIP"
	not "vip-desk" in input.subject.roles
}
`)
	authz, err := os.ReadFile(filepath.Join(dir, "authz.rego"))
	require.NoError(t, err)
	gathered := strings.Replace(string(authz), "import data.healthhub.access\n", "import data.healthhub.access\nimport data.healthhub.vip\n", 1) +
		"\ndenials contains reason if some reason in vip.deny\n"
	writeFile(t, dir, "authz.rego", gathered)

	e := newEngine(t, Config{Dir: dir})
	in := clinicianRead()
	in.Resource.SecurityLabels = []Coding{{Code: "VIP"}}
	d, err := e.Decide(context.Background(), in)
	require.NoError(t, err)
	assert.False(t, d.Allow)
	assert.Contains(t, reasonCodes(d), "vip.restricted")
}

func TestNewRejectsMissingDirectory(t *testing.T) {
	_, err := New(context.Background(), Config{Dir: filepath.Join(t.TempDir(), "absent")}, discardLogger())
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	for _, cfg := range []Config{
		{MinCoverage: 101},
		{BreakGlassMaxDuration: "forever"},
		{BreakGlassMaxDuration: "10ms"},
		{BreakGlassMinReasonLength: -1},
		{BreakGlassMinReasonWords: -3},
	} {
		_, err := New(context.Background(), cfg, discardLogger())
		assert.Error(t, err, "%+v", cfg)
	}
}

func TestReloadKeepsOldSetOnBrokenFile(t *testing.T) {
	dir := copyPolicies(t)
	e := newEngine(t, Config{Dir: dir})
	before := e.Revision()

	writeFile(t, dir, "broken.rego", "package healthhub.broken\n\nallow if input.x == ]\n")
	err := e.Reload(context.Background())
	require.ErrorIs(t, err, ErrLoad)
	var loadErr *LoadError
	require.True(t, errors.As(err, &loadErr))
	assert.Equal(t, filepath.Join(dir, "broken.rego"), loadErr.Errors[0].File)
	assert.Equal(t, "rego_parse_error", loadErr.Errors[0].Code)
	assert.Positive(t, loadErr.Errors[0].Row)
	assert.Positive(t, loadErr.Errors[0].Col)

	assert.Equal(t, before, e.Revision())
	d, err := e.Decide(context.Background(), clinicianRead())
	require.NoError(t, err)
	assert.True(t, d.Allow)
	assert.Equal(t, before, d.Revision)

	require.NoError(t, os.Remove(filepath.Join(dir, "broken.rego")))
	require.NoError(t, e.Reload(context.Background()))
	assert.Equal(t, before, e.Revision())
}

// searchPolicy is minimalPolicy that also allows searches.
var searchPolicy = strings.Replace(minimalPolicy, `if input.action == "read"`, `if input.action in {"read", "search"}`, 1)

func TestReloadPutsNewSetInForce(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "authz.rego", minimalPolicy)
	e := newEngine(t, Config{Dir: dir})
	search := clinicianRead()
	search.Action = "search"
	d, err := e.Decide(context.Background(), search)
	require.NoError(t, err)
	assert.False(t, d.Allow)

	writeFile(t, dir, "authz.rego", searchPolicy)
	require.NoError(t, e.Reload(context.Background()))
	d, err = e.Decide(context.Background(), search)
	require.NoError(t, err)
	assert.True(t, d.Allow)
}

func TestConcurrentDecisionsDuringReload(t *testing.T) {
	dir := copyPolicies(t)
	e := newEngine(t, Config{Dir: dir})
	original, err := os.ReadFile(filepath.Join(dir, "access.rego"))
	require.NoError(t, err)
	// The variant words the grant differently; the Rego tests check codes
	// only, so both sets pass them.
	variant := bytes.Replace(original, []byte(`"role %s may %s %s"`), []byte(`"role %s is permitted to %s %s"`), 1)
	require.NotEqual(t, original, variant)
	messages := []string{"role clinician may read Observation", "role clinician is permitted to read Observation"}

	revisions := map[string]bool{e.Revision(): true}
	var mu sync.Mutex
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := e.Decide(ctx, clinicianRead())
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				known := revisions[d.Revision]
				mu.Unlock()
				assert.True(t, known, "decision from an unknown revision")
				if assert.True(t, d.Allow) && assert.Len(t, d.Reasons, 1) {
					assert.Contains(t, messages, d.Reasons[0].Message)
				}
			}
		})
	}

	for i := range 6 {
		text := original
		if i%2 == 0 {
			text = variant
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "access.rego"), text, 0o644))
		files, err := readSource(dir)
		require.NoError(t, err)
		mu.Lock()
		revisions[revision(files)] = true
		mu.Unlock()
		require.NoError(t, e.Reload(ctx))
	}
	close(stop)
	wg.Wait()
}

func TestWatchReloadsOnChange(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "authz.rego", minimalPolicy)
	e := newEngine(t, Config{Dir: dir, Watch: true})
	before := e.Revision()

	writeFile(t, dir, "authz.rego", searchPolicy)
	require.Eventually(t, func() bool { return e.Revision() != before }, 10*time.Second, 20*time.Millisecond)

	search := clinicianRead()
	search.Action = "search"
	d, err := e.Decide(context.Background(), search)
	require.NoError(t, err)
	assert.True(t, d.Allow)

	// A broken save is rejected and the last good set stays.
	good := e.Revision()
	writeFile(t, dir, "authz.rego", "package healthhub.authz\n\ndecision := \n")
	time.Sleep(3 * watchDebounce)
	assert.Equal(t, good, e.Revision())
}

func TestDecideUndefinedResultDenies(t *testing.T) {
	e := newEngine(t, Config{})
	set := *e.current.Load()
	query, err := rego.New(rego.Query("data.healthhub.nothing.here"), rego.Compiler(set.compiler)).PrepareForEval(context.Background())
	require.NoError(t, err)
	set.query = query

	value, err := clinicianRead().ASTValue()
	require.NoError(t, err)
	d, err := set.decide(context.Background(), value)
	require.ErrorIs(t, err, ErrUndefined)
	assert.False(t, d.Allow)
	assert.Equal(t, []string{ReasonUndefined}, reasonCodes(d))
	assert.Equal(t, AuditHigh, d.Obligations.AuditLevel)
}

func TestDecideMalformedDecisionDenies(t *testing.T) {
	tests := []struct {
		name     string
		decision string
	}{
		{"allow without reasons", `{"allow": true}`},
		{"allow as a string", `{"allow": "yes", "reasons": [{"code": "a", "message": "b"}], "obligations": {"audit_level": "standard", "review": false, "reidentify": false}}`},
		{"unknown audit level", `{"allow": true, "reasons": [{"code": "a", "message": "b"}], "obligations": {"audit_level": "none", "review": false, "reidentify": false}}`},
		{"unknown precision", `{"allow": true, "reasons": [{"code": "a", "message": "b"}], "obligations": {"audit_level": "standard", "review": false, "reidentify": false, "generalize_dates": [{"path": "Patient.birthDate", "precision": "day", "rule": "r"}]}}`},
		{"obligation without rule", `{"allow": true, "reasons": [{"code": "a", "message": "b"}], "obligations": {"audit_level": "standard", "review": false, "reidentify": false, "remove": [{"path": "Patient.name"}]}}`},
		{"unknown scrub mode", `{"allow": true, "reasons": [{"code": "a", "message": "b"}], "obligations": {"audit_level": "standard", "review": false, "reidentify": false, "scrub_text": [{"path": "Resource.text.div", "replace": "shred", "rule": "r"}]}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "authz.rego", "package healthhub.authz\n\ndefault decision := "+tc.decision+"\n")
			e := newEngine(t, Config{Dir: dir})
			d, err := e.Decide(context.Background(), clinicianRead())
			require.ErrorIs(t, err, ErrMalformed)
			assert.False(t, d.Allow)
			assert.Equal(t, []string{ReasonMalformed}, reasonCodes(d))
		})
	}
}

func TestDecideConflictErrorDenies(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "authz.rego", minimalPolicy+`
decision := {"allow": true, "reasons": [{"code": "x", "message": "y"}], "obligations": {"audit_level": "high", "review": false, "reidentify": false}} if input.subject.id
`)
	e := newEngine(t, Config{Dir: dir})
	d, err := e.Decide(context.Background(), clinicianRead())
	require.ErrorIs(t, err, ErrEvaluation)
	assert.False(t, d.Allow)
	assert.Equal(t, []string{ReasonError}, reasonCodes(d))
	assert.Contains(t, d.Reasons[0].Message, "eval_conflict_error")
}

// A policy receives payload numbers exactly as written: 2^53+1 is not
// rounded to 2^53, as a float64 round trip would do.
func TestDecidePayloadNumbersKeepPrecision(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "authz.rego", minimalPolicy+`
exact if input.resource.payload.valueQuantity.value == 9007199254740993

decision := {"allow": true, "reasons": [{"code": "test.exact", "message": "exact"}], "obligations": {"audit_level": "standard", "review": false, "reidentify": false}} if {
	input.action == "search"
	exact
}
`)
	e := newEngine(t, Config{Dir: dir})
	for _, tc := range []struct {
		value string
		allow bool
	}{
		{"9007199254740993", true},
		{"9007199254740992", false},
		{"9007199254740993.0", true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			in := clinicianRead()
			in.Action = "search"
			in.Resource.Payload = json.RawMessage(`{"resourceType": "Observation", "valueQuantity": {"value": ` + tc.value + `}}`)
			d, err := e.Decide(context.Background(), in)
			require.NoError(t, err)
			assert.Equal(t, tc.allow, d.Allow)

			m, err := in.Map()
			require.NoError(t, err)
			raw, err := json.Marshal(m)
			require.NoError(t, err)
			d, err = e.DecideJSON(context.Background(), raw)
			require.NoError(t, err)
			assert.Equal(t, tc.allow, d.Allow)
		})
	}
}

func TestRevisionFollowsContentsNotDirectory(t *testing.T) {
	embedded := newEngine(t, Config{})
	copied := newEngine(t, Config{Dir: copyPolicies(t)})
	assert.Equal(t, embedded.Revision(), copied.Revision(), "a copy of the set has its revision")

	dir := copyPolicies(t)
	wd, err := os.Getwd()
	require.NoError(t, err)
	relative, err := filepath.Rel(wd, dir)
	require.NoError(t, err)
	assert.Equal(t, embedded.Revision(), newEngine(t, Config{Dir: relative}).Revision(), "the path's spelling does not count")

	text, err := os.ReadFile(filepath.Join(dir, "access.rego"))
	require.NoError(t, err)
	writeFile(t, dir, "access.rego", string(text)+"\n# edited\n")
	assert.NotEqual(t, embedded.Revision(), newEngine(t, Config{Dir: dir}).Revision(), "a changed file changes the revision")
}
