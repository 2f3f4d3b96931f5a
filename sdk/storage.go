package sdk

import (
	"context"
	"io"
	"time"
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	// Key is the object's key: slash-separated path segments, such as
	// "tenant-a/blobs/4f1c.dcm".
	Key string `json:"key"`
	// Size is the object's length in bytes.
	Size int64 `json:"size"`
	// ContentType is the MIME type given at Put, such as "application/dicom".
	ContentType string `json:"content_type,omitempty"`
	// Metadata holds the string pairs given at Put.
	Metadata map[string]string `json:"metadata,omitempty"`
	// SHA256 is the lowercase hex SHA-256 of the content.
	SHA256 string `json:"sha256,omitempty"`
	// ModTime is when the object was last written.
	ModTime time.Time `json:"mod_time"`
}

// PutOptions are the settings of one Put.
type PutOptions struct {
	// ContentType is the object's MIME type. Empty means
	// "application/octet-stream".
	ContentType string
	// Metadata is stored with the object and returned by Get and Stat.
	Metadata map[string]string
	// Size is the content length in bytes when the caller knows it, or -1.
	// A provider may use it to reject an object early; it must still read
	// the body to its end.
	Size int64
}

// ListOptions select a page of objects.
type ListOptions struct {
	// Prefix restricts the listing to keys that start with it.
	Prefix string
	// Cursor continues a listing from ListPage.NextCursor. Empty starts at
	// the first key.
	Cursor string
	// Limit is the maximum number of objects in the page; 0 means the
	// provider's default (1000 for the built-in providers).
	Limit int
}

// ListPage is one page of a listing, in ascending key order.
type ListPage struct {
	Objects []ObjectInfo
	// NextCursor continues the listing; empty on the last page.
	NextCursor string
}

// ObjectReader reads objects. Get and Stat return an error matching
// ErrNotFound when the key does not exist.
type ObjectReader interface {
	// Get opens the object for reading. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)
	Stat(ctx context.Context, key string) (ObjectInfo, error)
}

// ObjectWriter writes and deletes objects. Put reads body to its end and
// replaces any object with the same key atomically: a reader sees the old or
// the new content, never a mix. Delete returns an error matching ErrNotFound
// when the key does not exist. Keys that are empty, absolute, or contain
// "." or ".." segments are rejected with ErrInvalid.
type ObjectWriter interface {
	Put(ctx context.Context, key string, body io.Reader, opts PutOptions) (ObjectInfo, error)
	Delete(ctx context.Context, key string) error
}

// ObjectLister lists objects by key prefix, a page at a time.
type ObjectLister interface {
	List(ctx context.Context, opts ListOptions) (ListPage, error)
}

// Storage is an object store: the provider kind "storage". Objects of any
// size stream through it.
type Storage interface {
	ObjectReader
	ObjectWriter
	ObjectLister
}
