package store

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// paramKind is the FHIR search parameter type, which decides how a
// parameter's values are stored and matched.
type paramKind int

const (
	kindToken paramKind = iota + 1
	kindReference
	kindString
	kindDate
)

// indexRow is one search value of a resource: a date range (lo, hi) for
// date parameters, otherwise qualifier and value as described at the
// search_token table.
type indexRow struct {
	param     string
	date      bool
	qualifier string
	value     string
	lo, hi    int64
}

// fieldSource names where a parameter's values come from: a top-level
// member, optionally one member deeper.
type fieldSource struct {
	member string
	nested string
}

// Parameters every resource type supports. identifier, status and code
// read the top-level members of those names; patient and subject read
// Reference members.
var commonParams = map[string]paramKind{
	"identifier": kindToken,
	"status":     kindToken,
	"code":       kindToken,
	"patient":    kindReference,
	"subject":    kindReference,
}

// personTypes have HumanName names and support name, family and given.
var personTypes = map[string]bool{"Patient": true, "Practitioner": true, "RelatedPerson": true, "Person": true}

// birthDateTypes support birthdate.
var birthDateTypes = map[string]bool{"Patient": true, "RelatedPerson": true, "Person": true}

// dateSources are the members behind the "date" parameter, following the
// FHIR R4 search parameter definitions. Encounter's "period" is also served
// as "period".
var dateSources = map[string][]fieldSource{
	"AllergyIntolerance": {{member: "recordedDate"}},
	"Appointment":        {{member: "start"}},
	"CarePlan":           {{member: "period"}},
	"CareTeam":           {{member: "period"}},
	"ClinicalImpression": {{member: "date"}},
	"Composition":        {{member: "date"}},
	"Consent":            {{member: "dateTime"}},
	"DiagnosticReport":   {{member: "effectiveDateTime"}, {member: "effectivePeriod"}},
	"DocumentReference":  {{member: "date"}},
	"Encounter":          {{member: "period"}},
	"EpisodeOfCare":      {{member: "period"}},
	"Flag":               {{member: "period"}},
	"Immunization":       {{member: "occurrenceDateTime"}},
	"Observation":        {{member: "effectiveDateTime"}, {member: "effectivePeriod"}, {member: "effectiveInstant"}},
	"Procedure":          {{member: "performedDateTime"}, {member: "performedPeriod"}},
	"RiskAssessment":     {{member: "occurrenceDateTime"}, {member: "occurrencePeriod"}},
}

// periodSources are the members behind the "period" parameter.
var periodSources = map[string][]fieldSource{
	"Account":           {{member: "servicePeriod"}},
	"Coverage":          {{member: "period"}},
	"DocumentReference": {{member: "context", nested: "period"}},
	"Encounter":         {{member: "period"}},
}

// paramsFor returns the search parameters resourceType supports, without
// the result parameters (_id, _lastUpdated, _count, _sort, _cursor).
func paramsFor(resourceType string) map[string]paramKind {
	params := make(map[string]paramKind, len(commonParams)+4)
	for name, kind := range commonParams {
		params[name] = kind
	}
	if personTypes[resourceType] {
		params["name"] = kindString
		params["family"] = kindString
		params["given"] = kindString
	}
	if resourceType == "Organization" || resourceType == "Location" {
		params["name"] = kindString
	}
	if birthDateTypes[resourceType] {
		params["birthdate"] = kindDate
	}
	if dateSources[resourceType] != nil {
		params["date"] = kindDate
	}
	if periodSources[resourceType] != nil {
		params["period"] = kindDate
	}
	return params
}

// SearchParam is a search parameter the store serves, with its FHIR
// search parameter type: token, reference, string or date.
type SearchParam struct {
	Name string
	Type string
}

var kindNames = map[paramKind]string{kindToken: "token", kindReference: "reference", kindString: "string", kindDate: "date"}

// SearchParams returns the search parameters the store serves for
// resourceType, _id and _lastUpdated included, in name order. The
// CapabilityStatement lists them.
func SearchParams(resourceType string) []SearchParam {
	out := []SearchParam{{Name: "_id", Type: "token"}, {Name: "_lastUpdated", Type: "date"}}
	for name, kind := range paramsFor(resourceType) {
		out = append(out, SearchParam{Name: name, Type: kindNames[kind]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sortedParamNames lists the names for error messages.
func sortedParamNames(params map[string]paramKind) []string {
	names := []string{"_id", "_lastUpdated"}
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

type codingJSON struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

type codeableJSON struct {
	Coding []codingJSON `json:"coding"`
}

type identifierJSON struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type referenceJSON struct {
	Reference string `json:"reference"`
}

type humanNameJSON struct {
	Text   string   `json:"text"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
	Prefix []string `json:"prefix"`
	Suffix []string `json:"suffix"`
}

type periodJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// extractIndex computes the search values of a resource from its
// top-level members. resolve maps a reference as written in the body to
// the reference as stored, so that rewritten references are indexed by
// their target. Values that do not have the expected JSON shape are
// skipped: indexing never rejects a resource.
func extractIndex(resourceType string, body []byte, top []member, resolve func(string) string) []indexRow {
	get := func(name string) []byte {
		for _, m := range top {
			if m.key == name {
				return body[m.value.start:m.value.end]
			}
		}
		return nil
	}

	var rows []indexRow
	rows = appendIdentifiers(rows, get("identifier"))
	rows = appendStatus(rows, get("status"))
	rows = appendCode(rows, get("code"))
	rows = appendReferences(rows, get, resolve)

	if personTypes[resourceType] {
		rows = appendHumanNames(rows, get("name"))
	}
	if resourceType == "Organization" || resourceType == "Location" {
		if name, ok := jsonString(get("name")); ok && name != "" {
			rows = append(rows, indexRow{param: "name", qualifier: name, value: normalizeString(name)})
		}
	}

	if birthDateTypes[resourceType] {
		rows = appendDates(rows, "birthdate", get("birthDate"))
	}
	for _, src := range dateSources[resourceType] {
		rows = appendDates(rows, "date", sourceValue(get, src))
	}
	for _, src := range periodSources[resourceType] {
		rows = appendDates(rows, "period", sourceValue(get, src))
	}
	return rows
}

func sourceValue(get func(string) []byte, src fieldSource) []byte {
	raw := get(src.member)
	if src.nested == "" || raw == nil {
		return raw
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	return obj[src.nested]
}

// unmarshalList decodes raw as a list of T, accepting a single T too,
// because some elements (such as identifier) are lists in most resources
// and single values in a few.
func unmarshalList[T any](raw []byte) []T {
	if len(raw) == 0 {
		return nil
	}
	var list []T
	if raw[0] == '[' {
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
		return list
	}
	var one T
	if json.Unmarshal(raw, &one) != nil {
		return nil
	}
	return []T{one}
}

func appendIdentifiers(rows []indexRow, raw []byte) []indexRow {
	for _, id := range unmarshalList[identifierJSON](raw) {
		if id.Value != "" {
			rows = append(rows, indexRow{param: "identifier", qualifier: id.System, value: id.Value})
		}
	}
	return rows
}

// jsonString decodes a JSON string token, and reports false for any other
// value.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	return decodeString(raw), true
}

func appendStatus(rows []indexRow, raw []byte) []indexRow {
	if status, ok := jsonString(raw); ok && status != "" {
		rows = append(rows, indexRow{param: "status", value: status})
	}
	return rows
}

func appendCode(rows []indexRow, raw []byte) []indexRow {
	for _, cc := range unmarshalList[codeableJSON](raw) {
		for _, c := range cc.Coding {
			if c.Code != "" {
				rows = append(rows, indexRow{param: "code", qualifier: c.System, value: c.Code})
			}
		}
	}
	return rows
}

// appendReferences indexes subject (any target) and patient (the patient
// and beneficiary members). A subject that points to a Patient is stored
// once, as subject: the patient parameter also matches subject rows whose
// target type is Patient (see searchParams).
func appendReferences(rows []indexRow, get func(string) []byte, resolve func(string) string) []indexRow {
	for _, name := range []string{"subject", "patient", "beneficiary"} {
		param := "patient"
		if name == "subject" {
			param = "subject"
		}
		for _, ref := range unmarshalList[referenceJSON](get(name)) {
			if ref.Reference == "" {
				continue
			}
			targetType, targetID := splitReference(resolve(ref.Reference))
			if param == "patient" && targetType != "Patient" {
				continue
			}
			rows = append(rows, indexRow{param: param, qualifier: targetType, value: targetID})
		}
	}
	return rows
}

// splitReference splits "Type/id" (or a URL ending in Type/id, or
// "Type/id/_history/n") into its type and id. Other references return an
// empty type and the reference itself.
func splitReference(ref string) (string, string) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) >= 2 {
		t, id := parts[len(parts)-2], parts[len(parts)-1]
		if validType(t) && validID(id) {
			return t, id
		}
	}
	return "", ref
}

func appendHumanNames(rows []indexRow, raw []byte) []indexRow {
	add := func(param, text string) {
		if text != "" {
			rows = append(rows, indexRow{param: param, qualifier: text, value: normalizeString(text)})
		}
	}
	for _, n := range unmarshalList[humanNameJSON](raw) {
		add("family", n.Family)
		add("name", n.Family)
		for _, g := range n.Given {
			add("given", g)
			add("name", g)
		}
		add("name", n.Text)
		for _, p := range append(n.Prefix, n.Suffix...) {
			add("name", p)
		}
	}
	return rows
}

// appendDates indexes a date, dateTime, instant or Period value.
func appendDates(rows []indexRow, param string, raw []byte) []indexRow {
	if len(raw) == 0 {
		return rows
	}
	if text, ok := jsonString(raw); ok {
		if lo, hi, err := dateRange(text); err == nil {
			rows = append(rows, indexRow{param: param, date: true, lo: lo, hi: hi})
		}
		return rows
	}
	var p periodJSON
	if json.Unmarshal(raw, &p) != nil || (p.Start == "" && p.End == "") {
		return rows
	}
	lo, hi := minMicros, maxMicros
	if p.Start != "" {
		start, _, err := dateRange(p.Start)
		if err != nil {
			return rows
		}
		lo = start
	}
	if p.End != "" {
		_, end, err := dateRange(p.End)
		if err != nil {
			return rows
		}
		hi = end
	}
	return append(rows, indexRow{param: param, date: true, lo: lo, hi: hi})
}

// normalizeString folds text for string search: accents removed (NFD,
// combining marks dropped) and lower case, so "Chalmers" and "chálmers"
// match "chal".
func normalizeString(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
