package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// BundleResponse is the result of a transaction or batch Bundle, entry for
// entry in the order of the request.
type BundleResponse struct {
	// Type is "transaction-response" or "batch-response".
	Type    string
	Entries []EntryResponse
}

// EntryResponse is the result of one Bundle entry.
type EntryResponse struct {
	// Status is the HTTP status line of the entry, such as "201 Created".
	Status string
	// Location is the relative URL of the version written, such as
	// "Patient/123/_history/1". Empty for reads and failures.
	Location string
	// ETag is the version's weak ETag, such as W/"1".
	ETag        string
	LastUpdated time.Time
	// Resource is the resource written or read; nil for deletes and
	// failures.
	Resource *Resource
	// Outcome describes a failed batch entry. Transactions fail whole, so
	// their entries never carry one.
	Outcome *sdk.Outcome
}

type bundleJSON struct {
	ResourceType string      `json:"resourceType"`
	Type         string      `json:"type"`
	Entry        []entryJSON `json:"entry"`
}

type entryJSON struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  *requestJSON    `json:"request"`
}

type requestJSON struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	IfMatch     string `json:"ifMatch"`
	IfNoneExist string `json:"ifNoneExist"`
}

// bundleEntry is a checked entry: a write, a conditional create or a read.
type bundleEntry struct {
	index       int
	fullURL     string
	write       *writeOp
	ifNoneExist string
	existing    string // id found by ifNoneExist; the create is skipped
	read        *readRequest
	result      EntryResponse
}

// readRequest is a GET entry: a read, a vread or, when search is set, a
// search.
type readRequest struct {
	resourceType, id, version string
	search                    url.Values
}

func (s *sqlStore) ProcessBundle(ctx context.Context, tenant string, body []byte) (*BundleResponse, error) {
	if err := checkTenant("process bundle", tenant); err != nil {
		return nil, err
	}
	b, err := decodeBundle(body)
	if err != nil {
		return nil, err
	}
	if b.ResourceType != "Bundle" {
		return nil, sdk.Invalidf("/resourceType", "process bundle: resourceType is %q: send a Bundle", b.ResourceType)
	}
	switch b.Type {
	case "transaction":
		return s.transaction(ctx, tenant, b.Entry)
	case "batch":
		return s.batch(ctx, tenant, b.Entry)
	default:
		return nil, sdk.Invalidf("/type", "process bundle: type is %q: send a \"transaction\" or \"batch\" Bundle", b.Type)
	}
}

// transaction checks every entry, then writes them all in one database
// transaction: all commit or none does. Reads (GET entries) run after the
// writes, inside the same transaction.
func (s *sqlStore) transaction(ctx context.Context, tenant string, raw []entryJSON) (*BundleResponse, error) {
	entries := make([]*bundleEntry, len(raw))
	err := forEach(len(raw), func(i int) error {
		be, err := checkEntry(i, raw[i])
		entries[i] = be
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := checkDuplicates(entries); err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.write != nil && e.write.res != nil {
			if err := s.offloadBlobs(ctx, tenant, e.write.res); err != nil {
				return nil, fmt.Errorf("entry %d: %w", e.index, err)
			}
		}
	}
	if err := s.runEntries(ctx, tenant, entries); err != nil {
		return nil, err
	}

	resp := &BundleResponse{Type: "transaction-response"}
	for _, e := range entries {
		resp.Entries = append(resp.Entries, e.result)
	}
	return resp, nil
}

// batch runs every entry in a transaction of its own; a failed entry gets
// an outcome and does not stop the others.
func (s *sqlStore) batch(ctx context.Context, tenant string, raw []entryJSON) (*BundleResponse, error) {
	resp := &BundleResponse{Type: "batch-response"}
	for i, e := range raw {
		result, err := s.batchEntry(ctx, tenant, i, e)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("process batch: entry %d: %w", i, err)
			}
			o := sdk.AsOutcome(err)
			result = EntryResponse{Status: statusFor(o), Outcome: o}
		}
		resp.Entries = append(resp.Entries, result)
	}
	return resp, nil
}

func (s *sqlStore) batchEntry(ctx context.Context, tenant string, i int, raw entryJSON) (EntryResponse, error) {
	e, err := checkEntry(i, raw)
	if err != nil {
		return EntryResponse{}, err
	}
	if e.write != nil && e.write.res != nil {
		if err := s.offloadBlobs(ctx, tenant, e.write.res); err != nil {
			return EntryResponse{}, err
		}
	}
	if err := s.runEntries(ctx, tenant, []*bundleEntry{e}); err != nil {
		return EntryResponse{}, err
	}
	return e.result, nil
}

// runEntries runs checked entries in one database transaction.
func (s *sqlStore) runEntries(ctx context.Context, tenant string, entries []*bundleEntry) error {
	now := s.stamp()
	refs := newReferences()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.conditionalCreates(ctx, tx, tenant, entries); err != nil {
			return err
		}
		var ops []*writeOp
		for _, e := range entries {
			if e.write == nil {
				continue
			}
			if e.fullURL != "" {
				refs.local[e.fullURL] = e.write.resourceType + "/" + e.write.id
			}
			if e.existing == "" {
				ops = append(ops, e.write)
			}
		}
		if err := s.resolveConditional(ctx, tx, tenant, ops, refs); err != nil {
			return err
		}
		if err := s.applyWrites(ctx, tx, tenant, ops, now, refs); err != nil {
			return err
		}
		return s.runReads(ctx, tx, tenant, entries)
	})
	if err != nil {
		return s.classify(err)
	}
	for _, e := range entries {
		if e.write != nil && e.existing == "" {
			e.result = writeResponse(e.write)
		}
	}
	return nil
}

// conditionalCreates runs the ifNoneExist search of each POST. No match
// creates the resource; one match skips the create and returns the match;
// several matches fail the bundle.
func (s *sqlStore) conditionalCreates(ctx context.Context, tx *sql.Tx, tenant string, entries []*bundleEntry) error {
	for _, e := range entries {
		if e.ifNoneExist == "" {
			continue
		}
		w := e.write
		params, err := url.ParseQuery(strings.TrimPrefix(e.ifNoneExist, "?"))
		if err != nil {
			return w.fail(sdk.CodeInvalid, "ifNoneExist %q: %v", e.ifNoneExist, err)
		}
		ids, err := s.matchIDs(ctx, tx, tenant, w.resourceType, params, 2)
		if err != nil {
			return w.fail(sdk.CodeInvalid, "ifNoneExist %q: %v", e.ifNoneExist, err)
		}
		switch len(ids) {
		case 0:
			continue
		case 1:
			e.existing = ids[0]
			w.id = ids[0]
		default:
			return w.fail(sdk.CodeConflict, "ifNoneExist %q matches several %s resources: make the search select one", e.ifNoneExist, w.resourceType)
		}
		res, err := s.readCurrent(ctx, tx, "read "+w.describe(), tenant, w.resourceType, w.id)
		if err != nil {
			return err
		}
		e.result = EntryResponse{Status: "200 OK", Location: res.Location(), ETag: res.ETag(), LastUpdated: res.LastUpdated, Resource: res}
	}
	return nil
}

func (s *sqlStore) runReads(ctx context.Context, tx *sql.Tx, tenant string, entries []*bundleEntry) error {
	for _, e := range entries {
		if e.read == nil {
			continue
		}
		r := e.read
		var res *Resource
		var err error
		switch {
		case r.search != nil:
			res, err = s.searchEntry(ctx, tx, tenant, r)
		case r.version == "":
			res, err = s.readCurrent(ctx, tx, "read "+describe(r.resourceType, r.id), tenant, r.resourceType, r.id)
		default:
			res, err = s.readVersion(ctx, tx, "vread "+describe(r.resourceType, r.id), tenant, r.resourceType, r.id, r.version)
		}
		if err != nil {
			return entryError(e.index, err)
		}
		e.result = EntryResponse{Status: "200 OK", Resource: res}
		if r.search == nil {
			e.result.ETag, e.result.LastUpdated = res.ETag(), res.LastUpdated
		}
	}
	return nil
}

// searchEntry runs the search of a GET entry and returns its results as a
// searchset Bundle. A next link carries the cursor of the following page.
func (s *sqlStore) searchEntry(ctx context.Context, tx *sql.Tx, tenant string, r *readRequest) (*Resource, error) {
	op := "search " + r.resourceType
	spec, err := s.parseSearch(op, r.resourceType, r.search)
	if err != nil {
		return nil, err
	}
	page, err := s.runSearch(ctx, tx, op, tenant, spec)
	if err != nil {
		return nil, err
	}
	body, err := searchsetJSON(r.resourceType, r.search, page)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return &Resource{Type: "Bundle", Body: body}, nil
}

func writeResponse(w *writeOp) EntryResponse {
	r := EntryResponse{Location: w.result.Location(), ETag: w.result.ETag(), LastUpdated: w.result.LastUpdated}
	switch {
	case w.kind == opDelete:
		r.Status = "204 No Content"
	case w.isNew:
		r.Status, r.Resource = "201 Created", w.result
	default:
		r.Status, r.Resource = "200 OK", w.result
	}
	return r
}

// entryError prefixes an error with its bundle entry, keeping its outcome.
func entryError(index int, err error) error {
	o := sdk.AsOutcome(err)
	out := &sdk.Outcome{Issues: make([]sdk.Issue, len(o.Issues))}
	for i, issue := range o.Issues {
		issue.Diagnostics = fmt.Sprintf("entry %d: %s", index, issue.Diagnostics)
		if issue.Path == "" {
			issue.Path = fmt.Sprintf("/entry/%d", index)
		}
		out.Issues[i] = issue
	}
	return out
}

// statusFor maps a failed batch entry's outcome to its HTTP status line.
func statusFor(o *sdk.Outcome) string {
	switch {
	case errors.Is(o, sdk.ErrNotFound):
		for _, issue := range o.Issues {
			if issue.Code == sdk.CodeDeleted {
				return "410 Gone"
			}
		}
		return "404 Not Found"
	case IfMatchFailed(o):
		return "412 Precondition Failed"
	case errors.Is(o, sdk.ErrConflict):
		return "409 Conflict"
	case errors.Is(o, sdk.ErrInvalid):
		return "400 Bad Request"
	case errors.Is(o, sdk.ErrNotSupported):
		return "501 Not Implemented"
	case errors.Is(o, sdk.ErrUnavailable):
		return "503 Service Unavailable"
	default:
		return "500 Internal Server Error"
	}
}
