package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/healthhub/healthhub/sdk"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var printer = message.NewPrinter(language.English)

// converter turns the error tree of the jsonschema library into issues,
// one per leaf failure.
type converter struct {
	compiled *compiled
	// rootType and doc are the type and the whole document, from which
	// expressions start.
	rootType string
	doc      any
	// base is the value that was validated, and prefix its location in
	// doc: doc itself and nil, or a Bundle entry's resource.
	base   any
	prefix []string
	issues []sdk.Issue
}

func newConverter(c *compiled, rootType string, doc any) *converter {
	return &converter{compiled: c, rootType: rootType, doc: doc, base: doc}
}

func (conv *converter) add(err error) {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		conv.issues = append(conv.issues, sdk.Issue{
			Severity: sdk.SeverityError, Code: sdk.CodeException, Source: sdk.SourceHub,
			Diagnostics: fmt.Sprintf("validate: %v", err),
		})
		return
	}
	conv.walk(verr)
}

func (conv *converter) walk(e *jsonschema.ValidationError) {
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		for _, cause := range e.Causes {
			conv.walk(cause)
		}
	case *kind.AnyOf:
		conv.alternatives(e, "any")
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			conv.alternatives(e, "one")
			return
		}
		conv.emit(e.InstanceLocation, sdk.CodeStructure, fmt.Sprintf("matches more than one of the alternatives (%d and %d) where exactly one must match", k.Subschemas[0], k.Subschemas[1]))
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			conv.emit(appendToken(e.InstanceLocation, name), sdk.CodeStructure, conv.unknownElement(e, name))
		}
	case *kind.Required:
		for _, name := range k.Missing {
			conv.emit(e.InstanceLocation, sdk.CodeRequired, fmt.Sprintf("missing required element %q; add it", name))
		}
	case *ChoiceConflict:
		conv.emit(appendToken(e.InstanceLocation, conv.variantName(e.InstanceLocation, k.Present[1])), sdk.CodeStructure, k.LocalizedString(printer))
	case *ChoiceMissing:
		conv.emit(e.InstanceLocation, sdk.CodeRequired, k.LocalizedString(printer))
	case *UnknownResourceType:
		conv.emit(appendToken(e.InstanceLocation, "resourceType"), sdk.CodeNotSupported, k.LocalizedString(printer))
	case *ResourceTypeMissing:
		loc := e.InstanceLocation
		if k.NotString {
			loc = appendToken(loc, "resourceType")
		}
		conv.emit(loc, sdk.CodeRequired, k.LocalizedString(printer))
	default:
		code, msg := conv.leaf(e)
		conv.emit(e.InstanceLocation, code, msg)
	}
}

// leaf returns the code and diagnostic of a failed value keyword.
func (conv *converter) leaf(e *jsonschema.ValidationError) (sdk.IssueCode, string) {
	value := conv.valueAt(e.InstanceLocation)
	typeName := conv.compiled.fhirType(e.SchemaURL)
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		return sdk.CodeStructure, typeMessage(value, k.Want, typeName)
	case *kind.Format:
		var ferr *FormatError
		if errors.As(k.Err, &ferr) {
			return sdk.CodeValue, ferr.Error()
		}
		return sdk.CodeValue, fmt.Sprintf("%s is not a valid %s: %v", quoteJSON(value), k.Want, k.Err)
	case *kind.Enum:
		return sdk.CodeValue, fmt.Sprintf("%s is not an allowed value; use one of %s", quoteJSON(value), listValues(k.Want))
	case *kind.Const:
		return sdk.CodeValue, fmt.Sprintf("%s is not allowed here; the value must be %s", quoteJSON(value), quoteJSON(k.Want))
	case *kind.Pattern:
		if s, ok := value.(string); ok && typeName != "" {
			if err := checkPrimitive(typeName, s); err != nil {
				return sdk.CodeValue, err.Error()
			}
			return sdk.CodeValue, fmt.Sprintf("%s is not a valid FHIR %s (pattern %s)", quoteJSON(value), typeName, k.Want)
		}
		msg := fmt.Sprintf("%s does not match the pattern %s", quoteJSON(value), k.Want)
		if d := conv.compiled.description(e.SchemaURL); d != "" {
			msg += "; expected: " + d
		}
		return sdk.CodeValue, msg
	case *kind.FalseSchema:
		return sdk.CodeStructure, "element not allowed here; remove it"
	case *kind.Not:
		msg := fmt.Sprintf("%s has a form that is not allowed here", quoteJSON(value))
		if d := conv.compiled.description(e.SchemaURL); d != "" {
			msg += "; expected: " + d
		}
		return sdk.CodeValue, msg
	case *kind.MinItems:
		return sdk.CodeStructure, fmt.Sprintf("the array has %d items, fewer than the minimum of %d", k.Got, k.Want)
	case *kind.MaxItems:
		return sdk.CodeStructure, fmt.Sprintf("the array has %d items, more than the maximum of %d", k.Got, k.Want)
	case *kind.MinProperties:
		return sdk.CodeStructure, fmt.Sprintf("the object has %d members, fewer than the minimum of %d", k.Got, k.Want)
	case *kind.MaxProperties:
		return sdk.CodeStructure, fmt.Sprintf("the object has %d members, more than the maximum of %d", k.Got, k.Want)
	}
	return sdk.CodeValue, rangeMessage(value, e.ErrorKind)
}

// rangeMessage words the failures of the numeric and length keywords, and
// falls back to the library's wording for the others.
func rangeMessage(value any, k jsonschema.ErrorKind) string {
	v := quoteJSON(value)
	switch k := k.(type) {
	case *kind.Minimum:
		return fmt.Sprintf("%s is less than the minimum of %s", v, k.Want.RatString())
	case *kind.Maximum:
		return fmt.Sprintf("%s is more than the maximum of %s", v, k.Want.RatString())
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("%s must be more than %s", v, k.Want.RatString())
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("%s must be less than %s", v, k.Want.RatString())
	case *kind.MultipleOf:
		return fmt.Sprintf("%s is not a multiple of %s", v, k.Want.RatString())
	case *kind.MinLength:
		return fmt.Sprintf("%s is %d characters long, shorter than the minimum of %d", v, k.Got, k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("%s is %d characters long, longer than the maximum of %d", v, k.Got, k.Want)
	default:
		return k.LocalizedString(printer)
	}
}

// alternatives reports an anyOf or oneOf that no branch matched, as one
// issue that names the first failure of each branch.
func (conv *converter) alternatives(e *jsonschema.ValidationError, which string) {
	here := pointer(conv.full(e.InstanceLocation))
	var branches []string
	for _, cause := range e.Causes {
		sub := *conv
		sub.issues = nil
		sub.walk(cause)
		if len(sub.issues) == 0 {
			continue
		}
		first := sub.issues[0]
		if first.Path != here && first.Expression != "" {
			branches = append(branches, first.Expression+": "+first.Diagnostics)
		} else {
			branches = append(branches, first.Diagnostics)
		}
	}
	msg := fmt.Sprintf("none of the alternatives matches, and %s must", which)
	if len(branches) > 0 {
		msg += "; fix one: " + strings.Join(branches, ", or ")
	}
	conv.emit(e.InstanceLocation, sdk.CodeStructure, msg)
}

// full returns a location relative to base as a location in doc.
func (conv *converter) full(loc []string) []string {
	if len(conv.prefix) == 0 {
		return loc
	}
	out := make([]string, 0, len(conv.prefix)+len(loc))
	return append(append(out, conv.prefix...), loc...)
}

func (conv *converter) emit(loc []string, code sdk.IssueCode, msg string) {
	loc = conv.full(loc)
	conv.issues = append(conv.issues, sdk.Issue{
		Severity:    sdk.SeverityError,
		Code:        code,
		Path:        pointer(loc),
		Expression:  expression(conv.rootType, conv.doc, loc),
		Diagnostics: msg,
		Source:      sdk.SourceHub,
	})
}

// unknownElement words the issue of an undeclared member, with the nearest
// declared name when one is close.
func (conv *converter) unknownElement(e *jsonschema.ValidationError, name string) string {
	msg := fmt.Sprintf("unknown element %q", name)
	if best := closest(name, conv.compiled.declaredProperties(e.SchemaURL)); best != "" {
		return msg + fmt.Sprintf("; did you mean %q?", best)
	}
	return msg + "; remove it or carry the data in an extension"
}

// variantName returns how a choice variant is written in the object at loc:
// as its name, or as "_name" when only the primitive extension is present.
func (conv *converter) variantName(loc []string, variant string) string {
	if obj, ok := conv.valueAt(loc).(map[string]any); ok {
		if _, ok := obj[variant]; !ok {
			return "_" + variant
		}
	}
	return variant
}

// valueAt returns the value at a location relative to base.
func (conv *converter) valueAt(loc []string) any {
	cur := conv.base
	for _, tok := range loc {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// fhirTypeName returns the FHIR type a schema location defines, such as
// "date" for ".../datatypes.schema.json#/$defs/date" or the official
// "#/definitions/date", or "" for other locations.
func fhirTypeName(schemaURL string) string {
	_, frag, _ := strings.Cut(schemaURL, "#")
	for _, prefix := range []string{"/$defs/", "/definitions/"} {
		if name, ok := strings.CutPrefix(frag, prefix); ok && !strings.Contains(name, "/") {
			return name
		}
	}
	return ""
}

func typeMessage(value any, want []string, typeName string) string {
	wanted := strings.Join(want, " or ")
	if typeName != "" && typeName[0] >= 'a' && typeName[0] <= 'z' {
		wanted = fmt.Sprintf("%s (FHIR %s)", wanted, typeName)
	}
	msg := fmt.Sprintf("expected %s, found %s", wanted, describeJSON(value))
	if s, ok := value.(string); ok && len(want) == 1 && (want[0] == "number" || want[0] == "integer") {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			msg += fmt.Sprintf("; write the number without quotes, as %s, and the hub keeps its exact text", s)
		}
	}
	if s, ok := value.(string); ok && len(want) == 1 && want[0] == "boolean" && (s == "true" || s == "false") {
		msg += fmt.Sprintf("; write %s without quotes", s)
	}
	return msg
}

// describeJSON names the JSON type of a value, with the value for scalars.
func describeJSON(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("the boolean %t", v)
	case string:
		return "the string " + quoteValue(v)
	case json.Number:
		return "the number " + string(v)
	case float64:
		return "the number " + strconv.FormatFloat(v, 'g', -1, 64)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

func quoteJSON(v any) string {
	switch v := v.(type) {
	case string:
		return quoteValue(v)
	case json.Number:
		return string(v)
	case nil:
		return "null"
	case map[string]any, []any:
		return describeJSON(v)
	default:
		return fmt.Sprint(v)
	}
}

func listValues(values []any) string {
	const limit = 12
	parts := make([]string, 0, min(len(values), limit))
	for i, v := range values {
		if i == limit {
			return strings.Join(parts, ", ") + fmt.Sprintf(" (and %d more)", len(values)-limit)
		}
		parts = append(parts, quoteJSON(v))
	}
	return strings.Join(parts, ", ")
}

func appendToken(loc []string, tok string) []string {
	out := make([]string, len(loc), len(loc)+1)
	copy(out, loc)
	return append(out, tok)
}

// closest returns the candidate within edit distance 2 of name, ignoring
// case, or "" when there is none or name is short.
func closest(name string, candidates []string) string {
	if len(name) < 3 {
		return ""
	}
	best, bestDist := "", 3
	lower := strings.ToLower(name)
	for _, c := range candidates {
		if d := editDistance(lower, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// compareIssues orders issues by their path, comparing array indexes as
// numbers, then by diagnostics.
func compareIssues(a, b sdk.Issue) int {
	if c := comparePointers(a.Path, b.Path); c != 0 {
		return c
	}
	return strings.Compare(a.Diagnostics, b.Diagnostics)
}

func comparePointers(a, b string) int {
	at, bt := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(at) && i < len(bt); i++ {
		if at[i] == bt[i] {
			continue
		}
		ai, aerr := strconv.Atoi(at[i])
		bi, berr := strconv.Atoi(bt[i])
		if aerr == nil && berr == nil {
			return ai - bi
		}
		return strings.Compare(at[i], bt[i])
	}
	return len(at) - len(bt)
}
