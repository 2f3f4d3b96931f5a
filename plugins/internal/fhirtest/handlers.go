package fhirtest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

var (
	typePattern = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
)

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	resourceType, id := r.PathValue("type"), r.PathValue("id")
	s.mu.Lock()
	rec := s.store.get(resourceType, id)
	s.mu.Unlock()

	switch {
	case rec == nil:
		operationOutcome(w, http.StatusNotFound, "not-found", fmt.Sprintf("Resource %s/%s is not known", resourceType, id))
	case rec.deleted:
		operationOutcome(w, http.StatusGone, "deleted", fmt.Sprintf("Resource %s/%s was deleted", resourceType, id))
	default:
		w.Header().Set("ETag", fmt.Sprintf(`W/"%d"`, rec.version))
		writeResource(w, http.StatusOK, rec.resource)
	}
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	resourceType := r.PathValue("type")
	if !typePattern.MatchString(resourceType) {
		operationOutcome(w, http.StatusBadRequest, "invalid", fmt.Sprintf("%q is not a resource type", resourceType))
		return
	}
	params := r.URL.Query()
	count, offset, err := s.paging(params)
	if err != nil {
		operationOutcome(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}

	s.mu.Lock()
	ids, err := s.store.search(resourceType, params)
	var entries []any
	if err == nil {
		end := min(offset+count, len(ids))
		for _, id := range ids[min(offset, len(ids)):end] {
			entries = append(entries, map[string]any{
				"fullUrl":  s.BaseURL() + "/" + resourceType + "/" + id,
				"resource": s.store.get(resourceType, id).resource,
				"search":   map[string]any{"mode": "match"},
			})
		}
	}
	s.mu.Unlock()
	if err != nil {
		operationOutcome(w, http.StatusBadRequest, "not-supported", err.Error())
		return
	}

	links := []any{map[string]any{"relation": "self", "url": s.pageURL(resourceType, params, offset, count)}}
	if offset+count < len(ids) {
		links = append(links, map[string]any{"relation": "next", "url": s.pageURL(resourceType, params, offset+count, count)})
	}
	bundle := map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(ids), "link": links}
	if entries != nil {
		bundle["entry"] = entries
	}
	writeResource(w, http.StatusOK, bundle)
}

func (s *Server) paging(params url.Values) (count, offset int, err error) {
	count = s.PageSize
	if count <= 0 {
		count = 10
	}
	if raw := params.Get("_count"); raw != "" {
		if count, err = strconv.Atoi(raw); err != nil || count < 1 {
			return 0, 0, fmt.Errorf("_count %q is not a positive integer", raw)
		}
	}
	if raw := params.Get("_offset"); raw != "" {
		if offset, err = strconv.Atoi(raw); err != nil || offset < 0 {
			return 0, 0, fmt.Errorf("_offset %q is not a non-negative integer", raw)
		}
	}
	return count, offset, nil
}

func (s *Server) pageURL(resourceType string, params url.Values, offset, count int) string {
	page := url.Values{}
	for name, values := range params {
		if name != "_offset" && name != "_count" {
			page[name] = values
		}
	}
	page.Set("_count", strconv.Itoa(count))
	page.Set("_offset", strconv.Itoa(offset))
	return s.BaseURL() + "/" + resourceType + "?" + page.Encode()
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	resourceType := r.PathValue("type")
	resource, ok := s.checkBody(w, r, resourceType)
	if !ok {
		return
	}
	s.mu.Lock()
	id := s.newID()
	rec := s.store.put(resourceType, id, resource, s.now())
	s.mu.Unlock()
	s.writeStored(w, http.StatusCreated, resourceType, id, rec)
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) {
	resourceType, id := r.PathValue("type"), r.PathValue("id")
	resource, ok := s.checkBody(w, r, resourceType)
	if !ok {
		return
	}
	if bodyID, _ := resource["id"].(string); bodyID != id {
		operationOutcome(w, http.StatusBadRequest, "invalid", fmt.Sprintf("resource id %q does not match the URL id %q", bodyID, id))
		return
	}

	s.mu.Lock()
	current := s.store.get(resourceType, id)
	conflict, message := checkIfMatch(r.Header.Get("If-Match"), current)
	var rec *record
	if conflict == 0 {
		rec = s.store.put(resourceType, id, resource, s.now())
	}
	s.mu.Unlock()

	if conflict != 0 {
		operationOutcome(w, conflict, "conflict", message)
		return
	}
	status := http.StatusOK
	if rec.version == 1 || current.deleted {
		status = http.StatusCreated
	}
	s.writeStored(w, status, resourceType, id, rec)
}

// handleVersionRead serves GET [base]/[type]/[id]/_history/[vid] for the
// current version, which is the only one the server keeps.
func (s *Server) handleVersionRead(w http.ResponseWriter, r *http.Request) {
	resourceType, id, vid := r.PathValue("type"), r.PathValue("id"), r.PathValue("vid")
	s.mu.Lock()
	rec := s.store.get(resourceType, id)
	s.mu.Unlock()
	if rec == nil || rec.deleted || strconv.Itoa(rec.version) != vid {
		operationOutcome(w, http.StatusNotFound, "not-found", fmt.Sprintf("Version %s of %s/%s is not known", vid, resourceType, id))
		return
	}
	w.Header().Set("ETag", fmt.Sprintf(`W/"%d"`, rec.version))
	writeResource(w, http.StatusOK, rec.resource)
}

// checkIfMatch applies an If-Match version check. It returns status 0 when
// the update may proceed.
func checkIfMatch(ifMatch string, current *record) (int, string) {
	if ifMatch == "" {
		return 0, ""
	}
	want := strings.Trim(strings.TrimPrefix(ifMatch, "W/"), `"`)
	if current == nil || current.deleted {
		return http.StatusPreconditionFailed, fmt.Sprintf("If-Match %s given but the resource does not exist", ifMatch)
	}
	if want != strconv.Itoa(current.version) {
		return http.StatusPreconditionFailed, fmt.Sprintf("version conflict: If-Match %s but the current version is %d", ifMatch, current.version)
	}
	return 0, ""
}

// checkBody reads the request body as a resource of the URL's type,
// writing an OperationOutcome when it is not one.
func (s *Server) checkBody(w http.ResponseWriter, r *http.Request, resourceType string) (map[string]any, bool) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/fhir+json") {
		operationOutcome(w, http.StatusUnsupportedMediaType, "not-supported", fmt.Sprintf("Content-Type %q is not supported; use application/fhir+json", r.Header.Get("Content-Type")))
		return nil, false
	}
	resource, err := readResource(r)
	if err != nil {
		operationOutcome(w, http.StatusBadRequest, "structure", "failed to parse request body as JSON resource: "+err.Error())
		return nil, false
	}
	if resource["resourceType"] != resourceType {
		operationOutcome(w, http.StatusBadRequest, "invalid", fmt.Sprintf("resourceType %v does not match the URL type %s", resource["resourceType"], resourceType))
		return nil, false
	}
	return resource, true
}

func (s *Server) writeStored(w http.ResponseWriter, status int, resourceType, id string, rec *record) {
	w.Header().Set("Location", fmt.Sprintf("%s/%s/%s/_history/%d", s.BaseURL(), resourceType, id, rec.version))
	w.Header().Set("ETag", fmt.Sprintf(`W/"%d"`, rec.version))
	if s.MinimalCreate {
		w.WriteHeader(status)
		return
	}
	writeResource(w, status, rec.resource)
}

// newID returns the next server-assigned id. The caller holds s.mu.
func (s *Server) newID() string {
	s.nextID++
	return fmt.Sprintf("s%05d", s.nextID)
}
