package store

import (
	"encoding/json"
	"net/url"
	"time"

	"github.com/healthhub/healthhub/core/fhir"
)

type responseBundleJSON struct {
	ResourceType string              `json:"resourceType"`
	Type         string              `json:"type"`
	Entry        []responseEntryJSON `json:"entry"`
}

type responseEntryJSON struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Response responseJSON    `json:"response"`
}

type responseJSON struct {
	Status       string                 `json:"status"`
	Location     string                 `json:"location,omitempty"`
	ETag         string                 `json:"etag,omitempty"`
	LastModified string                 `json:"lastModified,omitempty"`
	Outcome      *fhir.OperationOutcome `json:"outcome,omitempty"`
}

// MarshalJSON renders the response as a FHIR Bundle of type
// transaction-response or batch-response. Resources are embedded as stored.
// A failed batch entry carries an OperationOutcome like every other of the
// hub, with the JSON Pointers of the problems as issue locations.
func (r *BundleResponse) MarshalJSON() ([]byte, error) {
	out := responseBundleJSON{ResourceType: "Bundle", Type: r.Type, Entry: make([]responseEntryJSON, 0, len(r.Entries))}
	for _, e := range r.Entries {
		entry := responseEntryJSON{Response: responseJSON{Status: e.Status, Location: e.Location, ETag: e.ETag}}
		if !e.LastUpdated.IsZero() {
			entry.Response.LastModified = e.LastUpdated.UTC().Format(time.RFC3339Nano)
		}
		if e.Resource != nil && !e.Resource.Deleted {
			entry.FullURL = e.Resource.Type + "/" + e.Resource.ID
			entry.Resource = e.Resource.Body
		}
		if e.Outcome != nil {
			entry.Response.Outcome = fhir.NewOperationOutcome(e.Outcome)
		}
		out.Entry = append(out.Entry, entry)
	}
	return json.Marshal(out)
}

type searchsetBundleJSON struct {
	ResourceType string               `json:"resourceType"`
	Type         string               `json:"type"`
	Link         []linkJSON           `json:"link,omitempty"`
	Entry        []searchsetEntryJSON `json:"entry"`
}

type linkJSON struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type searchsetEntryJSON struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Search   struct {
		Mode string `json:"mode"`
	} `json:"search"`
}

// searchsetJSON renders a search page as a FHIR searchset Bundle. Links are
// relative to the FHIR base, which the store does not know.
func searchsetJSON(resourceType string, params url.Values, page *SearchPage) ([]byte, error) {
	out := searchsetBundleJSON{ResourceType: "Bundle", Type: "searchset", Entry: make([]searchsetEntryJSON, 0, len(page.Resources))}
	for _, res := range page.Resources {
		e := searchsetEntryJSON{FullURL: res.Type + "/" + res.ID, Resource: res.Body}
		e.Search.Mode = "match"
		out.Entry = append(out.Entry, e)
	}
	if page.Next != "" {
		next := url.Values{}
		for k, vs := range params {
			next[k] = vs
		}
		next.Set("_cursor", page.Next)
		out.Link = append(out.Link, linkJSON{Relation: "next", URL: resourceType + "?" + next.Encode()})
	}
	return json.Marshal(out)
}
