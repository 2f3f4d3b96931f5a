package store

import (
	"errors"
	"fmt"
	"strings"
)

// indexSubquery selects the resources with a row in a search table (%[1]s)
// of one of the stored parameters (%[2]s) that meets one of the
// alternatives (%[3]s). Tenant and type are placeholders rather than r's
// columns, so that SQLite runs the subquery once, not once per resource.
const indexSubquery = "r.seq IN (SELECT s.seq FROM %[1]s s WHERE s.tenant = ? AND s.type = ? AND %[2]s AND (%[3]s))"

// searchParams returns the stored parameters a search parameter reads:
// patient also reads subject rows, because a subject that points to a
// Patient is stored only as subject.
func searchParams(name string) (string, []any) {
	if name == "patient" {
		return "s.param IN (?, ?)", []any{"patient", "subject"}
	}
	return "s.param = ?", []any{name}
}

var errUnknownParam = errors.New("unknown parameter for this resource type")

// searchClause turns one parameter value (comma-separated alternatives)
// into a SQL condition.
func searchClause(resourceType, name, modifier, value string, supported map[string]paramKind) (clause, error) {
	switch name {
	case "_id":
		if modifier != "" {
			return clause{}, fmt.Errorf("modifier :%s is not supported on _id", modifier)
		}
		alts := strings.Split(value, ",")
		args := make([]any, len(alts))
		for i, a := range alts {
			args[i] = a
		}
		return clause{sql: "r.id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(alts)), ",") + ")", args: args}, nil
	case "_lastUpdated":
		return lastUpdatedClause(modifier, value)
	}

	kind, ok := supported[name]
	if !ok {
		return clause{}, errUnknownParam
	}
	var alts []string
	var args []any
	for _, alt := range strings.Split(value, ",") {
		sql, altArgs, err := alternative(kind, name, modifier, alt)
		if err != nil {
			return clause{}, err
		}
		alts = append(alts, "("+sql+")")
		args = append(args, altArgs...)
	}
	table := "search_token"
	if kind == kindDate {
		table = "search_date"
	}
	paramSQL, paramArgs := searchParams(name)
	return clause{sql: fmt.Sprintf(indexSubquery, table, paramSQL, strings.Join(alts, " OR ")), args: append(paramArgs, args...), scoped: true}, nil
}

func alternative(kind paramKind, name, modifier, value string) (string, []any, error) {
	switch kind {
	case kindToken:
		if modifier != "" {
			return "", nil, fmt.Errorf("modifier :%s is not supported on token parameters", modifier)
		}
		return tokenCondition(value)
	case kindReference:
		return referenceCondition(name, modifier, value)
	case kindString:
		return stringCondition(modifier, value)
	case kindDate:
		if modifier != "" {
			return "", nil, fmt.Errorf("modifier :%s is not supported on date parameters", modifier)
		}
		prefix, lo, hi, err := parseDateValue(value)
		if err != nil {
			return "", nil, err
		}
		return dateCondition(prefix, "s.lo", "s.hi", lo, hi)
	}
	return "", nil, errUnknownParam
}

// tokenCondition matches system|code, |code (no system), code (any system)
// and system| (any code of the system).
func tokenCondition(value string) (string, []any, error) {
	system, code, hasSystem := strings.Cut(value, "|")
	switch {
	case !hasSystem:
		if value == "" {
			return "", nil, errors.New("empty token: use code, system|code or system|")
		}
		return "s.value = ?", []any{value}, nil
	case code == "":
		return "s.qualifier = ?", []any{system}, nil
	default:
		return "s.qualifier = ? AND s.value = ?", []any{system, code}, nil
	}
}

// referenceCondition matches Type/id, a bare id, or a URL ending in
// Type/id. patient implies the type Patient; a :Type modifier sets it.
func referenceCondition(name, modifier, value string) (string, []any, error) {
	targetType, targetID := splitReference(value)
	if targetType == "" {
		if !validID(value) {
			return "", nil, fmt.Errorf("%q is not a reference: use Type/id or an id", value)
		}
		targetID = value
	}
	if modifier != "" {
		if !validType(modifier) {
			return "", nil, fmt.Errorf("modifier :%s is not supported on reference parameters: use a resource type such as :Patient", modifier)
		}
		if targetType != "" && targetType != modifier {
			return "", nil, fmt.Errorf("modifier :%s conflicts with the reference type %s", modifier, targetType)
		}
		targetType = modifier
	}
	if name == "patient" {
		if targetType != "" && targetType != "Patient" {
			return "", nil, fmt.Errorf("patient references a Patient, not a %s", targetType)
		}
		targetType = "Patient"
	}
	if targetType == "" {
		return "s.value = ?", []any{targetID}, nil
	}
	return "s.qualifier = ? AND s.value = ?", []any{targetType, targetID}, nil
}

// stringCondition matches the start of the normalized text (no modifier),
// the exact text (:exact) or any part of the normalized text (:contains).
func stringCondition(modifier, value string) (string, []any, error) {
	if value == "" {
		return "", nil, errors.New("empty string: give the text to match")
	}
	folded := normalizeString(value)
	switch modifier {
	case "":
		return "s.value >= ? AND s.value < ?", []any{folded, folded + "\U0010FFFF"}, nil
	case "exact":
		return "s.qualifier = ?", []any{value}, nil
	case "contains":
		return `s.value LIKE ? ESCAPE '\'`, []any{"%" + escapeLike(folded) + "%"}, nil
	default:
		return "", nil, fmt.Errorf("modifier :%s is not supported on string parameters: use :exact or :contains", modifier)
	}
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// datePrefixes are the FHIR comparison prefixes the store supports.
var datePrefixes = []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"}

func parseDateValue(value string) (prefix string, lo, hi int64, err error) {
	prefix = "eq"
	// A prefix is two lower-case letters before the date's first digit.
	// Other text is a malformed date and is reported as one.
	if len(value) > 2 && isLower(value[0]) && isLower(value[1]) && value[2] >= '0' && value[2] <= '9' {
		prefix, value = value[:2], value[2:]
		known := false
		for _, p := range datePrefixes {
			known = known || p == prefix
		}
		if !known {
			return "", 0, 0, fmt.Errorf("prefix %q is not supported: use one of %s", prefix, strings.Join(datePrefixes, ", "))
		}
	}
	lo, hi, err = dateRange(value)
	return prefix, lo, hi, err
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// dateCondition compares a stored range [loCol, hiCol) with the searched
// range [lo, hi), with the FHIR date search semantics:
//
//   - eq: the stored range lies within the searched one (ne: it does not);
//   - gt, lt: part of the stored range lies after or before it;
//   - ge, le: as gt and lt, or the ranges overlap;
//   - sa, eb: all of the stored range lies after or before it.
func dateCondition(prefix, loCol, hiCol string, lo, hi int64) (string, []any, error) {
	switch prefix {
	case "eq":
		return loCol + " >= ? AND " + hiCol + " <= ?", []any{lo, hi}, nil
	case "ne":
		return "NOT (" + loCol + " >= ? AND " + hiCol + " <= ?)", []any{lo, hi}, nil
	case "gt":
		return hiCol + " > ?", []any{hi}, nil
	case "lt":
		return loCol + " < ?", []any{lo}, nil
	case "ge":
		return hiCol + " > ?", []any{lo}, nil
	case "le":
		return loCol + " < ?", []any{hi}, nil
	case "sa":
		return loCol + " >= ?", []any{hi}, nil
	case "eb":
		return hiCol + " <= ?", []any{lo}, nil
	}
	return "", nil, fmt.Errorf("prefix %q is not supported", prefix)
}

// lastUpdatedClause compares meta.lastUpdated, a point in time stored to
// the microsecond, with the searched range.
func lastUpdatedClause(modifier, value string) (clause, error) {
	if modifier != "" {
		return clause{}, fmt.Errorf("modifier :%s is not supported on _lastUpdated", modifier)
	}
	prefix, lo, hi, err := parseDateValue(value)
	if err != nil {
		return clause{}, err
	}
	sql, args, err := dateCondition(prefix, "r.last_updated", "(r.last_updated + 1)", lo, hi)
	return clause{sql: "(" + sql + ")", args: args}, err
}
