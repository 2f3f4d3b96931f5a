package fhirtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// txError fails a whole transaction with an HTTP status and an issue.
type txError struct {
	status int
	code   string
	text   string
}

func (e *txError) Error() string { return e.text }

func txFail(status int, code, format string, args ...any) *txError {
	return &txError{status: status, code: code, text: fmt.Sprintf(format, args...)}
}

// txEntry is one checked entry of a transaction Bundle.
type txEntry struct {
	index    int
	method   string
	url      string
	ifMatch  string
	ifNone   string
	resource map[string]any
	// target is the "Type/id" the entry acts on, assigned in the first
	// pass for creates.
	target string
}

// methodOrder is the processing order the FHIR R4 specification gives for
// transactions (section 3.1.0.11.2): deletes, creates, updates, reads.
var methodOrder = []string{http.MethodDelete, http.MethodPost, http.MethodPut, http.MethodGet}

func (s *Server) handleTransaction(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/fhir+json") {
		operationOutcome(w, http.StatusUnsupportedMediaType, "not-supported", "use Content-Type application/fhir+json")
		return
	}
	bundle, err := readResource(r)
	if err != nil {
		operationOutcome(w, http.StatusBadRequest, "structure", "failed to parse request body as JSON resource: "+err.Error())
		return
	}
	if bundle["resourceType"] != "Bundle" || bundle["type"] != "transaction" {
		operationOutcome(w, http.StatusBadRequest, "invalid", fmt.Sprintf("expected a Bundle of type transaction, got %v of type %v", bundle["resourceType"], bundle["type"]))
		return
	}

	s.mu.Lock()
	response, txErr := s.applyTransaction(bundle)
	s.mu.Unlock()
	if txErr != nil {
		operationOutcome(w, txErr.status, txErr.code, txErr.text)
		return
	}
	writeResource(w, http.StatusOK, response)
}

// applyTransaction applies every entry to a copy of the store and commits
// the copy only when all succeed. The caller holds s.mu.
func (s *Server) applyTransaction(bundle map[string]any) (map[string]any, *txError) {
	entries, err := parseEntries(bundle)
	if err != nil {
		return nil, err
	}
	work := s.store.clone()
	nextID := s.nextID
	references := map[string]string{}
	for _, e := range entries {
		if e.method == http.MethodPost {
			nextID++
			e.target = e.url + "/" + fmt.Sprintf("s%05d", nextID)
			if fullURL, _ := entryFullURL(bundle, e.index); fullURL != "" {
				references[fullURL] = e.target
			}
		}
	}
	for _, e := range entries {
		if e.resource != nil {
			rewriteReferences(e.resource, references)
		}
	}

	responses := make([]any, len(entries))
	now := s.now()
	for _, method := range methodOrder {
		for _, e := range entries {
			if e.method != method {
				continue
			}
			response, err := s.applyEntry(work, e, now)
			if err != nil {
				return nil, err
			}
			responses[e.index] = response
		}
	}

	s.store, s.nextID = work, nextID
	return map[string]any{"resourceType": "Bundle", "type": "transaction-response", "entry": responses}, nil
}

func parseEntries(bundle map[string]any) ([]*txEntry, *txError) {
	raw, _ := bundle["entry"].([]any)
	entries := make([]*txEntry, 0, len(raw))
	for i, item := range raw {
		entry, _ := item.(map[string]any)
		request, _ := entry["request"].(map[string]any)
		e := &txEntry{index: i}
		e.method, _ = request["method"].(string)
		e.url, _ = request["url"].(string)
		e.ifMatch, _ = request["ifMatch"].(string)
		e.ifNone, _ = request["ifNoneExist"].(string)
		e.resource, _ = entry["resource"].(map[string]any)
		if e.method == "" || e.url == "" {
			return nil, txFail(http.StatusBadRequest, "required", "entry %d: request.method and request.url are required", i)
		}
		if strings.ContainsAny(e.url, "?$") {
			return nil, txFail(http.StatusBadRequest, "not-supported", "entry %d: %s %s: conditional, search and operation URLs are not supported by this server", i, e.method, e.url)
		}
		if (e.method == http.MethodPost || e.method == http.MethodPut) && e.resource == nil {
			return nil, txFail(http.StatusBadRequest, "required", "entry %d: %s needs a resource", i, e.method)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func entryFullURL(bundle map[string]any, index int) (string, bool) {
	raw, _ := bundle["entry"].([]any)
	entry, _ := raw[index].(map[string]any)
	fullURL, ok := entry["fullUrl"].(string)
	return fullURL, ok
}

// applyEntry performs one entry on the working store.
func (s *Server) applyEntry(work *store, e *txEntry, now time.Time) (map[string]any, *txError) {
	switch e.method {
	case http.MethodPost:
		return s.applyCreate(work, e, now)
	case http.MethodPut:
		resourceType, id, _ := strings.Cut(e.url, "/")
		if status, message := checkIfMatch(e.ifMatch, work.get(resourceType, id)); status != 0 {
			return nil, txFail(status, "conflict", "entry %d: %s", e.index, message)
		}
		if e.resource["resourceType"] != resourceType {
			return nil, txFail(http.StatusBadRequest, "invalid", "entry %d: resourceType %v does not match %s", e.index, e.resource["resourceType"], e.url)
		}
		existed := work.get(resourceType, id) != nil
		rec := work.put(resourceType, id, e.resource, now)
		status := "200 OK"
		if !existed {
			status = "201 Created"
		}
		return entryResponse(status, resourceType, id, rec), nil
	case http.MethodDelete:
		resourceType, id, _ := strings.Cut(e.url, "/")
		work.remove(resourceType, id)
		return map[string]any{"response": map[string]any{"status": "204 No Content"}}, nil
	case http.MethodGet:
		resourceType, id, _ := strings.Cut(e.url, "/")
		rec := work.get(resourceType, id)
		if rec == nil || rec.deleted {
			return nil, txFail(http.StatusNotFound, "not-found", "entry %d: resource %s is not known", e.index, e.url)
		}
		return map[string]any{"resource": rec.resource, "response": map[string]any{"status": "200 OK"}}, nil
	}
	return nil, txFail(http.StatusBadRequest, "not-supported", "entry %d: method %q is not supported", e.index, e.method)
}

func (s *Server) applyCreate(work *store, e *txEntry, now time.Time) (map[string]any, *txError) {
	resourceType, id, _ := strings.Cut(e.target, "/")
	if e.resource["resourceType"] != resourceType {
		return nil, txFail(http.StatusBadRequest, "invalid", "entry %d: resourceType %v does not match %s", e.index, e.resource["resourceType"], e.url)
	}
	if e.ifNone != "" {
		params, err := url.ParseQuery(e.ifNone)
		if err != nil {
			return nil, txFail(http.StatusBadRequest, "invalid", "entry %d: ifNoneExist %q is not a query", e.index, e.ifNone)
		}
		matches, searchErr := work.search(resourceType, params)
		if searchErr != nil {
			return nil, txFail(http.StatusBadRequest, "not-supported", "entry %d: %v", e.index, searchErr)
		}
		switch len(matches) {
		case 0:
		case 1:
			return entryResponse("200 OK", resourceType, matches[0], work.get(resourceType, matches[0])), nil
		default:
			return nil, txFail(http.StatusPreconditionFailed, "duplicate", "entry %d: ifNoneExist matched %d resources", e.index, len(matches))
		}
	}
	rec := work.put(resourceType, id, e.resource, now)
	return entryResponse("201 Created", resourceType, id, rec), nil
}

func entryResponse(status, resourceType, id string, rec *record) map[string]any {
	meta, _ := rec.resource["meta"].(map[string]any)
	return map[string]any{"response": map[string]any{
		"status":       status,
		"location":     fmt.Sprintf("%s/%s/_history/%d", resourceType, id, rec.version),
		"etag":         fmt.Sprintf(`W/"%d"`, rec.version),
		"lastModified": meta["lastUpdated"],
	}}
}

// rewriteReferences replaces references to bundle fullUrls, such as
// "urn:uuid:…", with the "Type/id" the server assigned.
func rewriteReferences(value any, references map[string]string) {
	switch v := value.(type) {
	case map[string]any:
		for key, child := range v {
			if ref, ok := child.(string); ok && key == "reference" {
				if target, found := references[ref]; found {
					v[key] = target
				}
				continue
			}
			rewriteReferences(child, references)
		}
	case []any:
		for _, child := range v {
			rewriteReferences(child, references)
		}
	}
}
