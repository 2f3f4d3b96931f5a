package sdk

import (
	"context"
	"encoding/json"
	"net/url"
)

// SearchRequest is a FHIR search in an external system.
type SearchRequest struct {
	// ResourceType is the type searched, such as "Observation".
	ResourceType string
	// Params are FHIR search parameters, such as patient=123.
	Params url.Values
	// PageToken continues a search from SearchPage.Next. When set,
	// ResourceType and Params are ignored.
	PageToken string
}

// SearchPage is one page of search results.
type SearchPage struct {
	// Resources are the matching resources of this page.
	Resources []json.RawMessage
	// Total is the number of matches the server reported, or -1.
	Total int
	// Next continues the search in a later SearchRequest.PageToken; empty
	// on the last page.
	Next string
}

// EHRReader reads and searches resources in an external system. Read
// returns an error matching ErrNotFound when the resource does not exist.
type EHRReader interface {
	Read(ctx context.Context, resourceType, id string) (json.RawMessage, error)
	Search(ctx context.Context, req SearchRequest) (*SearchPage, error)
}

// EHRWriter creates and updates resources in an external system and returns
// them as the system stored them. Update sends ifMatch as the If-Match
// version check when it is not empty, and returns an error matching
// ErrConflict when the check fails.
type EHRWriter interface {
	Create(ctx context.Context, resource json.RawMessage) (json.RawMessage, error)
	Update(ctx context.Context, resource json.RawMessage, ifMatch string) (json.RawMessage, error)
}

// EHRConnector connects to an external electronic health record system: the
// provider kind "ehr".
type EHRConnector interface {
	EHRReader
	EHRWriter
}

// TransactionRunner is implemented by EHR connectors that submit a
// transaction Bundle in one request (capability "transaction"). It returns
// the transaction-response Bundle.
type TransactionRunner interface {
	Transaction(ctx context.Context, bundle json.RawMessage) (json.RawMessage, error)
}
