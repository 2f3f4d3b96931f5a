package store

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

// references maps references as written in received bodies to the
// references stored: a bundle entry's fullUrl (usually urn:uuid:...) to
// the Type/id the entry got, and a conditional reference
// (Type?search) to the one resource it matches.
type references struct {
	local    map[string]string
	resolved map[string]string
}

func newReferences() *references {
	return &references{local: map[string]string{}, resolved: map[string]string{}}
}

// rewrite returns the stored form of ref, or ref itself.
func (r *references) rewrite(ref string) string {
	if target, ok := r.local[ref]; ok {
		return target
	}
	if target, ok := r.resolved[ref]; ok {
		return target
	}
	return ref
}

// conditionalReference splits "Type?query" into its type and query.
func conditionalReference(ref string) (string, string, bool) {
	resourceType, query, ok := strings.Cut(ref, "?")
	if !ok || !validType(resourceType) || query == "" {
		return "", "", false
	}
	return resourceType, query, true
}

// resolveConditional resolves the conditional references of ops by
// searching in tx. A reference that matches no resource, or more than one,
// fails the write with an issue naming the entry and the reference.
func (s *sqlStore) resolveConditional(ctx context.Context, db queryer, tenant string, ops []*writeOp, refs *references) error {
	for _, w := range ops {
		if w.res == nil {
			continue
		}
		for _, r := range w.res.scan.refs {
			if _, done := refs.resolved[r.text]; done {
				continue
			}
			resourceType, query, ok := conditionalReference(r.text)
			if !ok {
				continue
			}
			target, err := s.resolveOne(ctx, db, tenant, resourceType, query)
			if err != nil {
				return w.referenceError(r, err)
			}
			refs.resolved[r.text] = target
		}
	}
	return nil
}

func (s *sqlStore) resolveOne(ctx context.Context, db queryer, tenant, resourceType, query string) (string, error) {
	params, err := url.ParseQuery(query)
	if err != nil {
		return "", sdk.Errorf(sdk.CodeInvalid, "invalid search %q: %v", query, err)
	}
	ids, err := s.matchIDs(ctx, db, tenant, resourceType, params, 2)
	if err != nil {
		return "", err
	}
	switch len(ids) {
	case 0:
		return "", sdk.Errorf(sdk.CodeInvalid, "no %s matches: create the %s first, or fix the search", resourceType, resourceType)
	case 1:
		return resourceType + "/" + ids[0], nil
	default:
		return "", sdk.Errorf(sdk.CodeConflict, "several %s resources match: make the search select exactly one", resourceType)
	}
}

// referenceError describes a reference that did not resolve, with the JSON
// Pointer of the reference inside the bundle entry.
func (w *writeOp) referenceError(r refSpan, cause error) error {
	code := sdk.CodeInvalid
	diag := cause.Error()
	if o := sdk.AsOutcome(cause); len(o.Issues) > 0 {
		code, diag = o.Issues[0].Code, o.Issues[0].Diagnostics
	}
	pointer := pointerAt(w.res.raw, r.value.start)
	path := pointer
	prefix := "resolve reference"
	if w.entry >= 0 {
		path = "/entry/" + strconv.Itoa(w.entry) + "/resource" + pointer
		prefix = fmt.Sprintf("entry %d: resolve reference", w.entry)
	}
	return sdk.NewOutcome(sdk.Issue{
		Severity:    sdk.SeverityError,
		Code:        code,
		Path:        path,
		Diagnostics: fmt.Sprintf("%s %q: %s", prefix, r.text, diag),
	})
}

// pointerAt returns the JSON Pointer of the value that starts at offset in
// the JSON text b, or "" when no value starts there.
func pointerAt(b []byte, offset int) string {
	s := &scanner{b: b, res: &scanResult{}, quiet: true}
	ptr, _ := s.find(s.skipSpace(0), offset, "")
	return ptr
}

// find descends from the value at i towards the value at target.
func (s *scanner) find(i, target int, prefix string) (string, bool) {
	if i == target {
		return prefix, true
	}
	if i >= len(s.b) {
		return "", false
	}
	step := func(start int, name string) (int, string, bool, error) {
		end, err := s.value(start, 0, nil)
		if err != nil {
			return 0, "", false, err
		}
		if target >= start && target < end {
			p, ok := s.find(start, target, prefix+"/"+name)
			return end, p, ok, nil
		}
		return end, "", false, nil
	}
	switch s.b[i] {
	case '{':
		i = s.skipSpace(i + 1)
		for i < len(s.b) && s.b[i] == '"' {
			keyEnd, err := s.str(i)
			if err != nil {
				return "", false
			}
			name := escapePointer(decodeString(s.b[i:keyEnd]))
			start := s.skipSpace(s.skipSpace(keyEnd) + 1)
			end, p, ok, err := step(start, name)
			if err != nil || ok {
				return p, ok
			}
			i = s.skipSpace(s.skipSpace(end) + 1)
		}
	case '[':
		i = s.skipSpace(i + 1)
		for n := 0; i < len(s.b) && s.b[i] != ']'; n++ {
			end, p, ok, err := step(i, strconv.Itoa(n))
			if err != nil || ok {
				return p, ok
			}
			i = s.skipSpace(s.skipSpace(end) + 1)
		}
	}
	return "", false
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
