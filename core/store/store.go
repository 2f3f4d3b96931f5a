package store

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Store keeps FHIR-like resources per tenant, with their history. Every
// method takes the tenant, and no method reads or writes another tenant's
// data. Errors are *sdk.Outcome values that match sdk.ErrNotFound (unknown
// or deleted resource), sdk.ErrConflict (If-Match version mismatch, or a
// conditional reference or create that matches several resources) and
// sdk.ErrInvalid (bad input, with the JSON Pointer of the offending
// element).
type Store interface {
	Reader
	Writer
	Searcher
	BundleProcessor
	BreakGlassSessions
	// Ping checks that the database is reachable, for readiness probes.
	Ping(ctx context.Context) error
	// Close releases the database connections. Calls in flight may fail.
	Close() error
}

// Reader reads resources and their history.
type Reader interface {
	// Read returns the current version of a resource. A deleted resource
	// returns an outcome with code "deleted", which matches sdk.ErrNotFound.
	Read(ctx context.Context, tenant, resourceType, id string) (*Resource, error)
	// VRead returns one version of a resource, by its meta.versionId.
	VRead(ctx context.Context, tenant, resourceType, id, versionID string) (*Resource, error)
	// History returns the versions of a resource, newest first, deletions
	// included.
	History(ctx context.Context, tenant, resourceType, id string, opts HistoryOptions) (*HistoryPage, error)
}

// Writer creates, updates and deletes resources. Each call commits one
// database transaction.
type Writer interface {
	// Create stores a new resource under a server-assigned id. The type is
	// the body's resourceType; an id in the body is replaced.
	Create(ctx context.Context, tenant string, body []byte) (*Resource, error)
	// Update stores a new version of the resource, or creates it with the
	// client's id when it does not exist and opts.IfMatch is empty. It
	// reports whether the resource was created.
	Update(ctx context.Context, tenant, resourceType, id string, body []byte, opts WriteOptions) (res *Resource, created bool, err error)
	// Delete marks the resource deleted and keeps its history. Deleting a
	// deleted resource succeeds without a new version.
	Delete(ctx context.Context, tenant, resourceType, id string, opts WriteOptions) (*Resource, error)
}

// Searcher finds current, non-deleted resources of one type.
type Searcher interface {
	// Search returns one page of the resources of resourceType that match
	// params, which use FHIR search syntax. See the package documentation
	// for the parameters it supports.
	Search(ctx context.Context, tenant, resourceType string, params url.Values) (*SearchPage, error)
}

// BundleProcessor runs FHIR transaction and batch Bundles.
type BundleProcessor interface {
	// ProcessBundle runs a Bundle of type "transaction" (all entries commit
	// together or none do) or "batch" (each entry commits on its own and
	// gets its own result).
	ProcessBundle(ctx context.Context, tenant string, bundle []byte) (*BundleResponse, error)
}

// Resource is one version of a stored resource.
type Resource struct {
	Type string
	ID   string
	// VersionID is the version's meta.versionId: "1" for the first, then
	// counting up by one per update or delete.
	VersionID   string
	LastUpdated time.Time
	// Deleted marks the version written by a delete. It has no Body.
	Deleted bool
	// Body is the resource JSON as received, with id, meta.versionId and
	// meta.lastUpdated set by the store and references rewritten by a
	// transaction. Nil when Deleted.
	Body []byte
}

// ETag returns the weak entity tag of the version, such as W/"3".
func (r *Resource) ETag() string {
	return `W/"` + r.VersionID + `"`
}

// Location returns the version's relative URL, such as
// "Patient/123/_history/3".
func (r *Resource) Location() string {
	return r.Type + "/" + r.ID + "/_history/" + r.VersionID
}

// WriteOptions are the preconditions of an update or delete.
type WriteOptions struct {
	// IfMatch is the version the caller expects to replace, as an ETag
	// (W/"3") or a bare version id ("3"). Empty means no check.
	IfMatch string
}

// HistoryOptions select a page of a resource's history.
type HistoryOptions struct {
	// Count is the page size; 0 means the store's default count.
	Count int
	// Since keeps only versions written at or after this time. Zero keeps
	// all.
	Since time.Time
	// Cursor continues from HistoryPage.Next.
	Cursor string
}

// HistoryPage is one page of a resource's history, newest first.
type HistoryPage struct {
	Versions []*Resource
	// Next continues the history; empty on the last page.
	Next string
}

// SearchPage is one page of search results.
type SearchPage struct {
	Resources []*Resource
	// Next is the cursor for the following page: pass it back as _cursor
	// with the same parameters. Empty on the last page.
	Next string
}

func formatVersion(v int64) string { return strconv.FormatInt(v, 10) }
