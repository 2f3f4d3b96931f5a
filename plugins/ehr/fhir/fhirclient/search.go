package fhirclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/sdk"
)

// searchBundle is the part of a searchset Bundle the client reads.
type searchBundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Total        *int   `json:"total"`
	Link         []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
		Search   *struct {
			Mode string `json:"mode"`
		} `json:"search"`
	} `json:"entry"`
}

// Search returns one page of matches. SearchPage.Next is the server's
// "next" link, which a later Search follows as PageToken. A page token must
// lie under the base URL, so paging never sends the request, or its
// authorization, elsewhere.
func (c *Client) Search(ctx context.Context, req sdk.SearchRequest) (*sdk.SearchPage, error) {
	s, err := c.current()
	if err != nil {
		return nil, err
	}
	request, err := s.searchRequest(req)
	if err != nil {
		return nil, err
	}
	resp, err := s.http.Do(ctx, request)
	if err != nil {
		return nil, err
	}

	var bundle searchBundle
	if err := json.Unmarshal(resp.Body, &bundle); err != nil {
		return nil, sdk.Upstreamf(sdk.CodeException, "%s: %s returned a body that is not a JSON Bundle: %v", request.Op, s.http.Host(), err)
	}
	if bundle.ResourceType != "Bundle" || bundle.Type != "searchset" {
		return nil, sdk.Upstreamf(sdk.CodeException, "%s: %s returned a %s of type %q, expected a searchset Bundle", request.Op, s.http.Host(), bundle.ResourceType, bundle.Type)
	}
	return bundlePage(bundle), nil
}

func (s *state) searchRequest(req sdk.SearchRequest) (httpx.Request, error) {
	if req.PageToken != "" {
		next, err := url.Parse(req.PageToken)
		if err != nil || !underBase(next, s.base) {
			return httpx.Request{}, sdk.Invalidf("/page_token", "fhir search: page token is not a link under the base URL %s; pass SearchPage.Next unchanged", s.base)
		}
		return httpx.Request{Op: "fhir search next page", Method: http.MethodGet, URL: next}, nil
	}

	if !resourceTypePattern.MatchString(req.ResourceType) {
		return httpx.Request{}, sdk.Invalidf("/resourceType", "fhir search: %q is not a FHIR resource type name", req.ResourceType)
	}
	params := url.Values{}
	for name, values := range req.Params {
		params[name] = append([]string(nil), values...)
	}
	if s.cfg.PageSize > 0 && params.Get("_count") == "" {
		params.Set("_count", strconv.Itoa(s.cfg.PageSize))
	}
	return httpx.Request{Op: "fhir search " + req.ResourceType, Method: http.MethodGet, Path: req.ResourceType, Query: params}, nil
}

// bundlePage keeps the entries that are matches: those with search mode
// "match" or none. Included resources and OperationOutcome entries are
// left out.
func bundlePage(bundle searchBundle) *sdk.SearchPage {
	page := &sdk.SearchPage{Total: -1, Resources: []json.RawMessage{}}
	if bundle.Total != nil {
		page.Total = *bundle.Total
	}
	for _, entry := range bundle.Entry {
		if entry.Search != nil && entry.Search.Mode != "" && entry.Search.Mode != "match" {
			continue
		}
		if len(entry.Resource) > 0 {
			page.Resources = append(page.Resources, entry.Resource)
		}
	}
	for _, link := range bundle.Link {
		if link.Relation == "next" {
			page.Next = link.URL
		}
	}
	return page
}
