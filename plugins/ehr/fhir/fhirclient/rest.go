package fhirclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/sdk"
)

const fhirJSON = "application/fhir+json"

var (
	// resourceTypePattern and idPattern are the FHIR R4 rules for resource
	// type names and logical ids ([A-Za-z0-9\-\.]{1,64}).
	resourceTypePattern = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)
	idPattern           = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
)

var writeHeader = http.Header{
	"Content-Type": {fhirJSON + "; charset=utf-8"},
	"Prefer":       {"return=representation"},
}

// Read returns the current version of a resource. It returns an error
// matching sdk.ErrNotFound when the server has no such resource or it was
// deleted.
func (c *Client) Read(ctx context.Context, resourceType, id string) (json.RawMessage, error) {
	s, err := c.current()
	if err != nil {
		return nil, err
	}
	if err := checkReference(resourceType, id); err != nil {
		return nil, err
	}
	op := "fhir read " + resourceType
	resp, err := s.http.Do(ctx, httpx.Request{Op: op, Method: http.MethodGet, Path: resourceType + "/" + id})
	if err != nil {
		return nil, err
	}
	return decodeResource(resp.Body, resourceType, op, s.http.Host())
}

// Create creates the resource on the server, which assigns its id, and
// returns it as the server stored it. Create is a POST and is never
// retried.
func (c *Client) Create(ctx context.Context, resource json.RawMessage) (json.RawMessage, error) {
	s, err := c.current()
	if err != nil {
		return nil, err
	}
	resourceType, _, err := resourceIdentity(resource)
	if err != nil {
		return nil, err
	}
	op := "fhir create " + resourceType
	resp, err := s.http.Do(ctx, httpx.Request{Op: op, Method: http.MethodPost, Path: resourceType, Header: writeHeader, Body: resource})
	if err != nil {
		return nil, err
	}
	return s.storedResource(ctx, resp, resourceType, op)
}

// Update replaces the resource with the id it carries. A non-empty ifMatch
// is sent as If-Match; a bare version such as "3" is sent as W/"3". A
// stale version returns an error matching sdk.ErrConflict. Updates with
// If-Match are retried after transient failures, because the version check
// makes a second application fail instead of applying twice.
func (c *Client) Update(ctx context.Context, resource json.RawMessage, ifMatch string) (json.RawMessage, error) {
	s, err := c.current()
	if err != nil {
		return nil, err
	}
	resourceType, id, err := resourceIdentity(resource)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeRequired, Path: "/id", Diagnostics: "fhir update " + resourceType + ": resource has no id; use Create for new resources"})
	}
	if err := checkReference(resourceType, id); err != nil {
		return nil, err
	}

	header := writeHeader.Clone()
	if ifMatch != "" {
		header.Set("If-Match", weakETag(ifMatch))
	}
	op := "fhir update " + resourceType
	resp, err := s.http.Do(ctx, httpx.Request{Op: op, Method: http.MethodPut, Path: resourceType + "/" + id, Header: header, Body: resource})
	if err != nil {
		return nil, err
	}
	return s.storedResource(ctx, resp, resourceType, op)
}

// Transaction submits a transaction Bundle and returns the
// transaction-response Bundle. The server applies all entries or none. A
// transaction is a POST and is never retried, even after a connection
// failure, because the server may have applied it.
func (c *Client) Transaction(ctx context.Context, bundle json.RawMessage) (json.RawMessage, error) {
	s, err := c.current()
	if err != nil {
		return nil, err
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
	}
	if err := json.Unmarshal(bundle, &head); err != nil {
		return nil, sdk.Invalidf("", "fhir transaction: bundle is not a JSON object: %v", err)
	}
	if head.ResourceType != "Bundle" {
		return nil, sdk.Invalidf("/resourceType", "fhir transaction: resourceType is %q; send a Bundle", head.ResourceType)
	}
	if head.Type != "transaction" {
		return nil, sdk.Invalidf("/type", "fhir transaction: Bundle type is %q; set it to \"transaction\"", head.Type)
	}

	op := "fhir transaction"
	// The transaction endpoint is the base URL itself, without the slash
	// that relative paths need.
	endpoint := *s.base
	endpoint.Path = strings.TrimSuffix(endpoint.Path, "/")
	endpoint.RawPath = ""
	resp, err := s.http.Do(ctx, httpx.Request{Op: op, Method: http.MethodPost, URL: &endpoint, Header: writeHeader, Body: bundle})
	if err != nil {
		return nil, err
	}
	return decodeResource(resp.Body, "Bundle", op, s.http.Host())
}

// storedResource returns the resource from a create or update response,
// reading it from the Location header when the server sent no body.
func (s *state) storedResource(ctx context.Context, resp *httpx.Response, resourceType, op string) (json.RawMessage, error) {
	if len(strings.TrimSpace(string(resp.Body))) > 0 {
		return decodeResource(resp.Body, resourceType, op, s.http.Host())
	}
	location := resp.Header.Get("Location")
	if location == "" {
		location = resp.Header.Get("Content-Location")
	}
	if location == "" {
		return nil, sdk.Upstreamf(sdk.CodeException, "%s: %s returned neither a body nor a Location header", op, s.http.Host())
	}
	target, err := s.base.Parse(location)
	if err != nil {
		return nil, sdk.Upstreamf(sdk.CodeException, "%s: Location %q is not a URL", op, location)
	}
	if !underBase(target, s.base) {
		return nil, sdk.Upstreamf(sdk.CodeException, "%s: Location %q is not under the base URL", op, location)
	}
	read, err := s.http.Do(ctx, httpx.Request{Op: op + " read back", Method: http.MethodGet, URL: target})
	if err != nil {
		return nil, err
	}
	return decodeResource(read.Body, resourceType, op, s.http.Host())
}

// checkReference rejects a type or id that is not valid FHIR, so it cannot
// change the request path.
func checkReference(resourceType, id string) error {
	if !resourceTypePattern.MatchString(resourceType) {
		return sdk.Invalidf("/resourceType", "fhir: %q is not a FHIR resource type name", resourceType)
	}
	if !idPattern.MatchString(id) {
		return sdk.Invalidf("/id", "fhir: id %q is not a FHIR id: 1 to 64 letters, digits, '-' or '.'", id)
	}
	return nil
}

// resourceIdentity reads resourceType and id from a resource.
func resourceIdentity(resource json.RawMessage) (string, string, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(resource, &head); err != nil {
		return "", "", sdk.Invalidf("", "fhir: resource is not a JSON object: %v", err)
	}
	if !resourceTypePattern.MatchString(head.ResourceType) {
		return "", "", sdk.Invalidf("/resourceType", "fhir: resourceType %q is not a FHIR resource type name", head.ResourceType)
	}
	return head.ResourceType, head.ID, nil
}

// decodeResource checks that a response body is a resource of the expected
// type.
func decodeResource(body []byte, resourceType, op, host string) (json.RawMessage, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, sdk.Upstreamf(sdk.CodeException, "%s: %s returned a body that is not a JSON resource: %v", op, host, err)
	}
	if head.ResourceType != resourceType {
		return nil, sdk.Upstreamf(sdk.CodeException, "%s: %s returned a %s, expected a %s", op, host, head.ResourceType, resourceType)
	}
	return json.RawMessage(body), nil
}

// weakETag turns a version into the If-Match value FHIR servers expect:
// "3" becomes W/"3", and a value that is already an entity tag is kept.
func weakETag(version string) string {
	if strings.HasPrefix(version, `W/"`) || strings.HasPrefix(version, `"`) {
		return version
	}
	if _, err := strconv.Atoi(version); err == nil {
		return fmt.Sprintf(`W/"%s"`, version)
	}
	return fmt.Sprintf(`W/%q`, version)
}

// underBase reports whether u is on the base URL's scheme and host and
// under its path.
func underBase(u, base *url.URL) bool {
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return false
	}
	basePath := strings.TrimSuffix(base.Path, "/")
	return u.Path == basePath || strings.HasPrefix(u.Path, basePath+"/")
}
