package policy

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/healthhub/healthhub/policies"
)

// DecisionQuery is the query every decision evaluates.
const DecisionQuery = "data.healthhub.authz.decision"

// decisionRef is DecisionQuery as a reference, to look the rule up.
var decisionRef = ast.MustParseRef(DecisionQuery)

// embeddedSource names the embedded default policies in errors and logs.
const embeddedSource = "embedded"

// sourceFile is one Rego file of a policy set.
type sourceFile struct {
	name string // path shown in errors: the file path, or embedded/NAME
	rel  string // path below the policy directory, with slashes
	text []byte
}

func (f sourceFile) isTest() bool { return strings.HasSuffix(f.name, "_test.rego") }

// readSource reads the Rego files of dir, or the embedded defaults when dir
// is empty. Files are sorted by name.
func readSource(dir string) ([]sourceFile, error) {
	if dir == "" {
		return readFS(policies.FS, embeddedSource)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("read policies: %s is not a directory: set the policy dir to the directory that contains the .rego files", dir)
	}
	return readFS(os.DirFS(dir), dir)
}

func readFS(fsys fs.FS, prefix string) ([]sourceFile, error) {
	var files []sourceFile
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return nil
		}
		text, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		files = append(files, sourceFile{name: filepath.Join(prefix, filepath.FromSlash(path)), rel: path, text: text})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read policies from %s: %w", prefix, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("read policies from %s: no .rego files found", prefix)
	}
	slices.SortFunc(files, func(a, b sourceFile) int { return strings.Compare(a.name, b.name) })
	return files, nil
}

// revision returns the SHA-256 over the contents of files and their paths
// below the policy directory, so that a copy of a set in another directory
// has the same revision.
func revision(files []sourceFile) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.rel, len(f.text))
		h.Write(f.text)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// parseModules parses every file as Rego v1. It returns all policy modules
// and, separately, the non-test ones.
func parseModules(source string, files []sourceFile) (all, policy map[string]*ast.Module, err error) {
	all = make(map[string]*ast.Module, len(files))
	policy = make(map[string]*ast.Module, len(files))
	var errs []LocatedError
	opts := ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}
	for _, f := range files {
		m, err := ast.ParseModuleWithOpts(f.name, string(f.text), opts)
		if err != nil {
			errs = append(errs, locatedErrors(err)...)
			continue
		}
		all[f.name] = m
		if !f.isTest() {
			policy[f.name] = m
		}
	}
	if len(errs) > 0 {
		return nil, nil, newLoadError(source, errs)
	}
	return all, policy, nil
}

// policySet is a compiled, tested and prepared set of policies. It is never
// changed after build, so decisions may share it.
type policySet struct {
	source   string
	revision string
	files    []sourceFile
	modules  map[string]*ast.Module // policy modules, without tests
	compiler *ast.Compiler
	query    rego.PreparedEvalQuery
}

// build compiles files, runs their Rego tests and prepares the decision
// query over the data document doc.
func build(ctx context.Context, source string, files []sourceFile, doc map[string]any) (*policySet, error) {
	all, modules, err := parseModules(source, files)
	if err != nil {
		return nil, err
	}

	compiler, err := compile(source, modules)
	if err != nil {
		return nil, err
	}

	report, err := runTests(ctx, all, false)
	if err != nil {
		return nil, newLoadError(source, locatedErrors(err))
	}
	if failures := report.failures(); len(failures) > 0 {
		return nil, newLoadError(source, failures)
	}

	// The store keeps the data document as Rego values, so that a decision
	// reading a setting does not convert it from Go values again.
	store := inmem.NewFromObjectWithOpts(map[string]any{"healthhub": map[string]any{"config": doc}},
		inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	query, err := rego.New(
		rego.Query(DecisionQuery),
		rego.Compiler(compiler),
		rego.Store(store),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, newLoadError(source, locatedErrors(err))
	}

	return &policySet{
		source:   source,
		revision: revision(files),
		files:    files,
		modules:  modules,
		compiler: compiler,
		query:    query,
	}, nil
}

// compile compiles the policy modules and checks what every set needs
// besides: the decision rule with its default, and each concern gathered.
func compile(source string, modules map[string]*ast.Module) (*ast.Compiler, error) {
	compiler := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, newLoadError(source, locatedErrors(compiler.Errors))
	}
	if err := checkDecisionRule(source, compiler); err != nil {
		return nil, err
	}
	if err := checkConcernsGathered(source, compiler); err != nil {
		return nil, err
	}
	return compiler, nil
}

// checkDecisionRule rejects a set without the decision rule or without its
// default, so that an undefined decision cannot happen by omission.
func checkDecisionRule(source string, compiler *ast.Compiler) error {
	rules := compiler.GetRulesExact(decisionRef)
	if len(rules) == 0 {
		return newLoadError(source, []LocatedError{{
			Code:    "decision_missing",
			Message: fmt.Sprintf("no rule defines %s: keep package healthhub.authz with a decision rule", DecisionQuery),
		}})
	}
	for _, r := range rules {
		if r.Default {
			return nil
		}
	}
	loc := rules[0].Location
	return newLoadError(source, []LocatedError{{
		File: loc.File, Row: loc.Row, Col: loc.Col,
		Code:    "decision_default_missing",
		Message: "the decision rule has no default: add `default decision := {...}` that denies",
	}})
}

// gatheredRules are the rule names through which a concern takes part in
// decisions: authz gathers each concern's deny, notes and obligations by
// package name.
var gatheredRules = map[string]bool{"deny": true, "notes": true, "obligations": true}

// checkConcernsGathered rejects a set in which a package defines deny,
// notes or obligations that the decision does not reach, such as a new
// package not yet gathered in authz.rego. Those rules would take no part in
// any decision, and nothing would report it. A rule of another package that
// reads them does not count unless the decision reaches that rule too.
func checkConcernsGathered(source string, compiler *ast.Compiler) error {
	reached := reachedFromDecision(compiler)
	var errs []LocatedError
	reported := map[string]bool{}
	for _, m := range compiler.Modules {
		if decisionRef.HasPrefix(m.Package.Path) {
			continue // authz, which gathers the others
		}
		for _, rule := range m.Rules {
			head := rule.Head.Ref()
			if len(head) != 1 || !gatheredRules[head[0].String()] {
				continue
			}
			path := rule.Ref()
			if reported[path.String()] || reached[rule] {
				continue
			}
			reported[path.String()] = true
			pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
			name := head[0].String()
			errs = append(errs, LocatedError{
				File: rule.Location.File, Row: rule.Location.Row, Col: rule.Location.Col,
				Code: "concern_not_gathered",
				Message: fmt.Sprintf("%s.%s is not reached from %s, so it takes no part in decisions: "+
					"import data.%s in authz.rego and gather it there, as authz does for the other concerns' %s",
					pkg, name, DecisionQuery, pkg, name),
			})
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b LocatedError) int {
			return cmp.Or(strings.Compare(a.File, b.File), a.Row-b.Row)
		})
		return newLoadError(source, errs)
	}
	return nil
}

// reachedFromDecision returns the rules that the decision rules depend on,
// directly or through other rules, else branches included.
func reachedFromDecision(compiler *ast.Compiler) map[*ast.Rule]bool {
	reached := map[*ast.Rule]bool{}
	queue := slices.Clone(compiler.GetRulesExact(decisionRef))
	for len(queue) > 0 {
		rule := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if rule == nil || reached[rule] {
			continue
		}
		reached[rule] = true
		queue = append(queue, rule.Else)
		for dep := range compiler.Graph.Dependencies(rule) {
			if r, ok := dep.(*ast.Rule); ok {
				queue = append(queue, r)
			}
		}
	}
	return reached
}
