package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// testTimeout bounds each Rego test, as `opa test` does by default.
const testTimeout = 5 * time.Second

// TestReport is the result of running a policy set's Rego tests.
type TestReport struct {
	// Source is the policy directory, or "embedded".
	Source string `json:"source"`
	// Results holds one entry per test, sorted by file and row.
	Results []TestResult `json:"results"`
	// Coverage is the line coverage of the policy files (tests excluded),
	// in percent; set when coverage was asked for.
	Coverage float64 `json:"coverage"`
	// Files is the coverage of each policy file, sorted by name.
	Files []FileCoverage `json:"files,omitempty"`
}

// TestResult is the outcome of one Rego test.
type TestResult struct {
	Package string        `json:"package"`
	Name    string        `json:"name"`
	File    string        `json:"file"`
	Row     int           `json:"row"`
	Pass    bool          `json:"pass"`
	Skip    bool          `json:"skip,omitempty"`
	Error   string        `json:"error,omitempty"`
	Output  string        `json:"output,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// FileCoverage is the line coverage of one policy file.
type FileCoverage struct {
	File            string  `json:"file"`
	Coverage        float64 `json:"coverage"`
	CoveredLines    int     `json:"covered_lines"`
	NotCoveredLines int     `json:"not_covered_lines"`
	// NotCovered lists the rows without coverage, as "12" or "12-14".
	NotCovered []string `json:"not_covered,omitempty"`
}

// Counts returns how many tests passed, failed (errors included) and were
// skipped.
func (r *TestReport) Counts() (passed, failed, skipped int) {
	for _, res := range r.Results {
		switch {
		case res.Skip:
			skipped++
		case res.Pass:
			passed++
		default:
			failed++
		}
	}
	return passed, failed, skipped
}

func (r *TestReport) failures() []LocatedError {
	var out []LocatedError
	for _, res := range r.Results {
		if res.Pass || res.Skip {
			continue
		}
		le := LocatedError{File: res.File, Row: res.Row, Code: "rego_test_failed", Message: fmt.Sprintf("test %s.%s failed", res.Package, res.Name)}
		if res.Error != "" {
			le.Code = "rego_test_error"
			le.Message += ": " + res.Error
		}
		out = append(out, le)
	}
	return out
}

// RunTests runs the Rego tests of the policy set in dir (the embedded
// defaults when dir is empty), with line coverage. The tests see no
// data.healthhub.config, so that they pass or fail the same under every
// deployment's configuration. It returns an error when the tests cannot
// run, such as for a file that does not parse, and when the hub would
// reject the set for another reason, such as a concern authz does not
// gather.
func RunTests(ctx context.Context, dir string) (*TestReport, error) {
	source := sourceName(dir)
	files, err := readSource(dir)
	if err != nil {
		return nil, err
	}
	all, modules, err := parseModules(source, files)
	if err != nil {
		return nil, err
	}
	// The checks the hub makes before a set goes live, so that a set that
	// passes here also loads.
	if _, err := compile(source, modules); err != nil {
		return nil, err
	}
	report, err := runTests(ctx, all, true)
	if err != nil {
		return nil, newLoadError(source, locatedErrors(err))
	}
	report.Source = source
	return report, nil
}

func sourceName(dir string) string {
	if dir == "" {
		return embeddedSource
	}
	return dir
}

func runTests(ctx context.Context, modules map[string]*ast.Module, withCoverage bool) (*TestReport, error) {
	runner := tester.NewRunner().
		SetStore(inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false))).
		SetModules(modules).
		SetDefaultRegoVersion(ast.RegoV1).
		SetTimeout(testTimeout)
	var coverage *cover.Cover
	if withCoverage {
		coverage = cover.New()
		runner.SetCoverageQueryTracer(coverage).SetCoverageRuns(nil)
	}
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return nil, err
	}

	report := &TestReport{}
	for res := range ch {
		report.Results = append(report.Results, testResult(res))
	}
	slices.SortFunc(report.Results, func(a, b TestResult) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Row - b.Row
	})
	if coverage != nil {
		report.addCoverage(coverage.Report(modules))
	}
	return report, ctx.Err()
}

func testResult(res *tester.Result) TestResult {
	out := TestResult{
		Package: strings.TrimPrefix(res.Package, "data."),
		Name:    res.Name,
		Pass:    res.Pass(),
		Skip:    res.Skip,
		Output:  string(res.Output),
		Elapsed: res.Duration,
	}
	if res.Location != nil {
		out.File, out.Row = res.Location.File, res.Location.Row
	}
	if res.Error != nil {
		out.Error = res.Error.Error()
	}
	return out
}

// addCoverage adds the coverage of the policy files, leaving test files
// out of the total.
func (r *TestReport) addCoverage(report cover.Report) {
	var covered, notCovered int
	for file, fr := range report.Files {
		if strings.HasSuffix(file, "_test.rego") {
			continue
		}
		fc := FileCoverage{
			File:            file,
			Coverage:        fr.Coverage,
			CoveredLines:    fr.CoveredLines,
			NotCoveredLines: fr.NotCoveredLines,
		}
		rows := make([][2]int, 0, len(fr.NotCovered))
		for _, rng := range fr.NotCovered {
			rows = append(rows, [2]int{rng.Start.Row, rng.End.Row})
		}
		for _, rng := range mergeRows(rows) {
			if rng[0] == rng[1] {
				fc.NotCovered = append(fc.NotCovered, fmt.Sprint(rng[0]))
			} else {
				fc.NotCovered = append(fc.NotCovered, fmt.Sprintf("%d-%d", rng[0], rng[1]))
			}
		}
		covered += fr.CoveredLines
		notCovered += fr.NotCoveredLines
		r.Files = append(r.Files, fc)
	}
	slices.SortFunc(r.Files, func(a, b FileCoverage) int { return strings.Compare(a.File, b.File) })
	if total := covered + notCovered; total > 0 {
		r.Coverage = 100 * float64(covered) / float64(total)
	}
}

// mergeRows sorts row ranges and merges those that overlap or touch. OPA's
// coverage report can list a row both alone and inside a longer range.
func mergeRows(rows [][2]int) [][2]int {
	slices.SortFunc(rows, func(a, b [2]int) int { return a[0] - b[0] })
	var merged [][2]int
	for _, r := range rows {
		if n := len(merged); n > 0 && r[0] <= merged[n-1][1]+1 {
			merged[n-1][1] = max(merged[n-1][1], r[1])
			continue
		}
		merged = append(merged, r)
	}
	return merged
}
