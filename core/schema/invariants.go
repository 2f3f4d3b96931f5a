package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

// The FHIR invariants that JSON Schema cannot express and that real data
// breaks most, checked in one walk over the document after the schema pass:
//
//   - ele-1: an element has a value or children, so no {} and no [];
//   - ext-1: an extension has a value or nested extensions, not both;
//   - pat-1: a Patient contact has a name, telecom, address or organization;
//   - obs-6: an Observation has no dataAbsentReason when it has a value;
//   - obs-7: when an Observation has a value, no component code shares a
//     coding with the Observation code;
//   - ref-1: a "#id" reference names a contained resource of the resource
//     it is in ("#" alone names that resource itself);
//
// and one transaction rule: a "urn:uuid:" reference in a transaction Bundle
// names the fullUrl of one of its entries.

// ruleTransactionRef identifies the transaction reference rule in issues.
const ruleTransactionRef = "transaction-ref"

type invariantWalker struct {
	rootType string
	doc      any
	path     []string
	issues   []sdk.Issue
}

// refScope holds the targets that references resolve against at one point
// of the walk.
type refScope struct {
	// containedIDs are the ids of the contained resources of the resource
	// being walked.
	containedIDs map[string]bool
	// fullURLs are the entry fullUrls of the enclosing transaction Bundle,
	// nil outside one.
	fullURLs map[string]bool
}

func checkInvariants(rootType string, doc any) []sdk.Issue {
	w := &invariantWalker{rootType: rootType, doc: doc}
	w.value(doc, "", refScope{})
	return w.issues
}

func (w *invariantWalker) value(v any, key string, scope refScope) {
	switch v := v.(type) {
	case map[string]any:
		w.object(v, key, scope)
	case []any:
		if len(v) == 0 {
			w.report(sdk.CodeInvariant, "ele-1", "empty array; leave the element out instead")
			return
		}
		for i, item := range v {
			w.path = append(w.path, strconv.Itoa(i))
			if key == "extension" || key == "modifierExtension" {
				w.extension(item)
			}
			w.value(item, key, scope)
			w.path = w.path[:len(w.path)-1]
		}
	case string:
		if key == "reference" {
			w.reference(v, scope)
		}
	}
}

func (w *invariantWalker) object(obj map[string]any, key string, scope refScope) {
	if len(obj) == 0 {
		w.report(sdk.CodeInvariant, "ele-1", "empty object; leave the element out instead")
		return
	}
	if rt, ok := obj["resourceType"].(string); ok {
		scope = w.enterResource(rt, obj, key, scope)
	}
	for name, child := range obj {
		w.path = append(w.path, name)
		w.value(child, name, scope)
		w.path = w.path[:len(w.path)-1]
	}
}

// enterResource runs the checks of one resource and returns the scope its
// content resolves references in.
func (w *invariantWalker) enterResource(rt string, obj map[string]any, key string, scope refScope) refScope {
	switch rt {
	case "Patient":
		w.patientContacts(obj)
	case "Observation":
		w.observation(obj)
	}

	// A contained resource resolves "#id" against its container; any other
	// resource against its own contained list.
	if key != "contained" {
		scope.containedIDs = map[string]bool{}
		if list, ok := obj["contained"].([]any); ok {
			for _, item := range list {
				if c, ok := item.(map[string]any); ok {
					if id, ok := c["id"].(string); ok {
						scope.containedIDs[id] = true
					}
				}
			}
		}
	}
	if rt == "Bundle" {
		scope.fullURLs = nil
		if obj["type"] == "transaction" {
			scope.fullURLs = entryFullURLs(obj)
		}
	}
	return scope
}

func entryFullURLs(bundle map[string]any) map[string]bool {
	urls := map[string]bool{}
	entries, _ := bundle["entry"].([]any)
	for _, e := range entries {
		if entry, ok := e.(map[string]any); ok {
			if u, ok := entry["fullUrl"].(string); ok {
				urls[u] = true
			}
		}
	}
	return urls
}

func (w *invariantWalker) reference(ref string, scope refScope) {
	switch {
	case strings.HasPrefix(ref, "#"):
		if ref != "#" && scope.containedIDs != nil && !scope.containedIDs[ref[1:]] {
			w.report(sdk.CodeInvariant, "ref-1", fmt.Sprintf("reference %s names no contained resource; add a contained resource with id %q or correct the reference", quoteValue(ref), ref[1:]))
		}
	case strings.HasPrefix(ref, "urn:uuid:"):
		if scope.fullURLs != nil && !scope.fullURLs[ref] {
			w.report(sdk.CodeInvalid, ruleTransactionRef, fmt.Sprintf("reference %s matches the fullUrl of no entry in this transaction; add that entry or correct the reference", quoteValue(ref)))
		}
	}
}

// extension checks ext-1 on one item of an extension array.
func (w *invariantWalker) extension(item any) {
	ext, ok := item.(map[string]any)
	if !ok || len(ext) == 0 {
		return
	}
	hasValue := false
	for name := range ext {
		if strings.HasPrefix(name, "value") || strings.HasPrefix(name, "_value") {
			hasValue = true
			break
		}
	}
	nested, _ := ext["extension"].([]any)
	switch {
	case hasValue && len(nested) > 0:
		w.report(sdk.CodeInvariant, "ext-1", "extension has both a value and nested extensions; keep one")
	case !hasValue && len(nested) == 0:
		w.report(sdk.CodeInvariant, "ext-1", "extension has neither a value nor nested extensions; add one")
	}
}

func (w *invariantWalker) patientContacts(patient map[string]any) {
	contacts, _ := patient["contact"].([]any)
	for i, c := range contacts {
		contact, ok := c.(map[string]any)
		if !ok || len(contact) == 0 {
			continue
		}
		if hasAny(contact, "name", "telecom", "address", "organization") {
			continue
		}
		w.at([]string{"contact", strconv.Itoa(i)}, func() {
			w.report(sdk.CodeInvariant, "pat-1", "a contact needs a name, telecom, address or organization; add one")
		})
	}
}

func (w *invariantWalker) observation(obs map[string]any) {
	hasValue := false
	for name := range obs {
		if strings.HasPrefix(name, "value") {
			hasValue = true
			break
		}
	}
	if !hasValue {
		return
	}
	if _, ok := obs["dataAbsentReason"]; ok {
		w.at([]string{"dataAbsentReason"}, func() {
			w.report(sdk.CodeInvariant, "obs-6", "dataAbsentReason is present although the Observation has a value; remove one of them")
		})
	}

	codes := codings(obs["code"])
	components, _ := obs["component"].([]any)
	for i, c := range components {
		comp, _ := c.(map[string]any)
		for coding := range codings(comp["code"]) {
			if codes[coding] {
				w.at([]string{"component", strconv.Itoa(i), "code"}, func() {
					w.report(sdk.CodeInvariant, "obs-7", fmt.Sprintf("component code %s equals the Observation code while the Observation has a value; put the value in the component or use a different code", coding))
				})
				break
			}
		}
	}
}

// codings returns the system|code pairs of a CodeableConcept.
func codings(cc any) map[string]bool {
	obj, _ := cc.(map[string]any)
	list, _ := obj["coding"].([]any)
	out := map[string]bool{}
	for _, item := range list {
		coding, _ := item.(map[string]any)
		code, ok := coding["code"].(string)
		if !ok {
			continue
		}
		system, _ := coding["system"].(string)
		out[system+"|"+code] = true
	}
	return out
}

func hasAny(obj map[string]any, names ...string) bool {
	for _, n := range names {
		if _, ok := obj[n]; ok {
			return true
		}
	}
	return false
}

// at runs fn with the walk's path extended by tokens.
func (w *invariantWalker) at(tokens []string, fn func()) {
	n := len(w.path)
	w.path = append(w.path, tokens...)
	fn()
	w.path = w.path[:n]
}

func (w *invariantWalker) report(code sdk.IssueCode, rule, msg string) {
	w.issues = append(w.issues, sdk.Issue{
		Severity:    sdk.SeverityError,
		Code:        code,
		Path:        pointer(w.path),
		Expression:  expression(w.rootType, w.doc, w.path),
		Diagnostics: fmt.Sprintf("%s (%s)", msg, rule),
		Rule:        rule,
		Source:      sdk.SourceHub,
	})
}
