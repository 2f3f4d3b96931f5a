package schema

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthhub/healthhub/sdk"
)

// FuzzValidate feeds arbitrary bytes to Validate in both modes. Validation
// must never panic, and every failure must be a well-formed outcome. The
// seeds are the invalid and valid corpora, the small FHIR examples and the
// committed corpus in testdata/fuzz/FuzzValidate.
func FuzzValidate(f *testing.F) {
	def, err := New(context.Background(), Config{}, nil)
	if err != nil {
		f.Fatal(err)
	}
	strict, err := New(context.Background(), Config{Strict: true}, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, pattern := range []string{"../../testdata/schema/*/*.json", "../../testdata/fhir-r4-examples/*.json"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, ".expected.json") {
				continue
			}
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			if len(data) <= 8<<10 {
				f.Add(data)
			}
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []*Validator{def, strict} {
			checkOutcome(t, v.Validate(context.Background(), "", data))
		}
	})
}

func checkOutcome(t *testing.T, err error) {
	if err == nil {
		return
	}
	var o *sdk.Outcome
	if !errors.As(err, &o) {
		t.Fatalf("Validate returned %T, not an outcome: %v", err, err)
	}
	if len(o.Issues) == 0 {
		t.Fatal("outcome without issues")
	}
	for _, issue := range o.Issues {
		if issue.Severity != sdk.SeverityError || issue.Code == "" || issue.Diagnostics == "" {
			t.Fatalf("incomplete issue: %+v", issue)
		}
		if issue.Path != "" && !strings.HasPrefix(issue.Path, "/") {
			t.Fatalf("path %q is not a JSON Pointer", issue.Path)
		}
	}
}
