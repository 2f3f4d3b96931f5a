package fhirtest

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// record is the current version of a resource. Records are replaced, never
// changed in place, so a store clone can share them.
type record struct {
	resource map[string]any
	version  int
	deleted  bool
}

// store holds the resources by type and id, with each type's ids in
// creation order.
type store struct {
	records map[string]map[string]*record
	order   map[string][]string
}

func newStore() *store {
	return &store{records: map[string]map[string]*record{}, order: map[string][]string{}}
}

// clone copies the indexes so a transaction can work on the copy and
// commit it by replacing the original.
func (st *store) clone() *store {
	out := newStore()
	for resourceType, byID := range st.records {
		copied := make(map[string]*record, len(byID))
		for id, rec := range byID {
			copied[id] = rec
		}
		out.records[resourceType] = copied
		out.order[resourceType] = slices.Clone(st.order[resourceType])
	}
	return out
}

func (st *store) get(resourceType, id string) *record {
	return st.records[resourceType][id]
}

// put stores a new version of a resource, setting id and meta.
func (st *store) put(resourceType, id string, resource map[string]any, now time.Time) *record {
	byID := st.records[resourceType]
	if byID == nil {
		byID = map[string]*record{}
		st.records[resourceType] = byID
	}
	version := 1
	if previous := byID[id]; previous != nil {
		version = previous.version + 1
	} else {
		st.order[resourceType] = append(st.order[resourceType], id)
	}
	resource["id"] = id
	resource["meta"] = map[string]any{
		"versionId":   fmt.Sprint(version),
		"lastUpdated": now.UTC().Format(time.RFC3339Nano),
	}
	rec := &record{resource: resource, version: version}
	byID[id] = rec
	return rec
}

func (st *store) remove(resourceType, id string) bool {
	previous := st.records[resourceType][id]
	if previous == nil || previous.deleted {
		return false
	}
	st.records[resourceType][id] = &record{resource: previous.resource, version: previous.version + 1, deleted: true}
	return true
}

func (st *store) count(resourceType string) int {
	n := 0
	for _, rec := range st.records[resourceType] {
		if !rec.deleted {
			n++
		}
	}
	return n
}

// searchParams are the search parameters the server supports besides
// _count and _offset.
var searchParams = map[string]func(resource map[string]any, value string) bool{
	"_id": func(r map[string]any, v string) bool {
		return slices.Contains(strings.Split(v, ","), fmt.Sprint(r["id"]))
	},
	"patient":    matchPatient,
	"subject":    func(r map[string]any, v string) bool { return referenceMatches(nested(r, "subject", "reference"), v) },
	"identifier": matchIdentifier,
	"code":       matchCode,
}

// search returns the ids of the current resources of a type that match
// every parameter, in creation order.
func (st *store) search(resourceType string, params url.Values) ([]string, error) {
	for name := range params {
		if name == "_count" || name == "_offset" {
			continue
		}
		if _, ok := searchParams[name]; !ok {
			return nil, fmt.Errorf("unknown search parameter %q for resource type %s; supported: _id, patient, subject, identifier, code, _count", name, resourceType)
		}
	}

	var ids []string
	for _, id := range st.order[resourceType] {
		rec := st.records[resourceType][id]
		if rec.deleted {
			continue
		}
		if matchesAll(rec.resource, params) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func matchesAll(resource map[string]any, params url.Values) bool {
	for name, values := range params {
		match := searchParams[name]
		if match == nil {
			continue
		}
		for _, value := range values {
			if !match(resource, value) {
				return false
			}
		}
	}
	return true
}

func matchPatient(r map[string]any, v string) bool {
	if r["resourceType"] == "Patient" {
		return false
	}
	for _, field := range []string{"patient", "subject", "beneficiary"} {
		ref := nested(r, field, "reference")
		if strings.HasPrefix(ref, "Patient/") && referenceMatches(ref, v) {
			return true
		}
	}
	return false
}

// referenceMatches compares a stored reference with a search value, which
// may be "Patient/123" or the bare id "123".
func referenceMatches(reference, value string) bool {
	if reference == "" {
		return false
	}
	if reference == value {
		return true
	}
	_, id, found := strings.Cut(reference, "/")
	return found && !strings.Contains(value, "/") && id == value
}

func matchIdentifier(r map[string]any, v string) bool {
	identifiers, _ := r["identifier"].([]any)
	for _, item := range identifiers {
		identifier, _ := item.(map[string]any)
		if tokenMatches(fmt.Sprint(identifier["system"]), fmt.Sprint(identifier["value"]), v) {
			return true
		}
	}
	return false
}

func matchCode(r map[string]any, v string) bool {
	code, _ := r["code"].(map[string]any)
	codings, _ := code["coding"].([]any)
	for _, item := range codings {
		coding, _ := item.(map[string]any)
		if tokenMatches(fmt.Sprint(coding["system"]), fmt.Sprint(coding["code"]), v) {
			return true
		}
	}
	return false
}

// tokenMatches applies a token search value, "system|code" or "code".
func tokenMatches(system, code, value string) bool {
	if wantSystem, wantCode, found := strings.Cut(value, "|"); found {
		return system == wantSystem && code == wantCode
	}
	return code == value
}

func nested(r map[string]any, field, key string) string {
	object, _ := r[field].(map[string]any)
	value, _ := object[key].(string)
	return value
}
