package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

const (
	defaultListLimit = 1000
	maxListLimit     = 10000
)

// List returns objects whose keys start with opts.Prefix and sort after
// opts.Cursor, in ascending byte order of their keys.
func (s *Store) List(ctx context.Context, opts sdk.ListOptions) (sdk.ListPage, error) {
	limit := opts.Limit
	switch {
	case limit < 0:
		return sdk.ListPage{}, sdk.Invalidf("/limit", "list: limit is %d; use 0 for the default or a positive number", limit)
	case limit == 0:
		limit = defaultListLimit
	case limit > maxListLimit:
		limit = maxListLimit
	}

	w := &lister{store: s, ctx: ctx, prefix: opts.Prefix, cursor: opts.Cursor, limit: limit}
	err := w.walk(".", "")
	if err != nil && !errors.Is(err, errPageFull) {
		return sdk.ListPage{}, err
	}
	page := sdk.ListPage{Objects: w.objects}
	if errors.Is(err, errPageFull) {
		page.NextCursor = w.objects[len(w.objects)-1].Key
	}
	return page, nil
}

// errPageFull stops the walk when another object is found after the page is
// full, so the page's last key becomes the cursor of the next page.
var errPageFull = errors.New("page full")

type lister struct {
	store   *Store
	ctx     context.Context
	prefix  string
	cursor  string
	limit   int
	objects []sdk.ObjectInfo
}

// entry is a directory entry with the key form it sorts by: a directory
// "a" sorts as "a/", so that "a-b" (0x2d) comes before "a/c" (0x2f), as the
// keys themselves do.
type entry struct {
	name    string
	sortKey string
	dir     bool
}

// walk lists the directory at dir, whose keys all start with keyPrefix, in
// key order.
func (w *lister) walk(dir, keyPrefix string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	entries, err := w.readDir(dir, keyPrefix)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.dir {
			if err := w.walk(path.Join(dir, e.name), e.sortKey); err != nil {
				return err
			}
			continue
		}
		if err := w.add(path.Join(dir, e.name), e.sortKey); err != nil {
			return err
		}
	}
	return nil
}

// readDir returns the entries of dir that may hold keys in range, sorted by
// key.
func (w *lister) readDir(dir, keyPrefix string) ([]entry, error) {
	dirEntries, err := fs.ReadDir(w.store.root.FS(), dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// A concurrent Delete removed the directory.
			return nil, nil
		}
		return nil, fmt.Errorf("list %q: %w", keyPrefix, err)
	}

	entries := make([]entry, 0, len(dirEntries))
	for _, d := range dirEntries {
		e, ok := w.inRange(d, keyPrefix)
		if ok {
			entries = append(entries, e)
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.sortKey, b.sortKey) })
	return entries, nil
}

// inRange converts a directory entry and reports whether any key it holds
// can match the prefix and follow the cursor. Temporary files and other
// stray files are skipped.
func (w *lister) inRange(d fs.DirEntry, keyPrefix string) (entry, bool) {
	name := d.Name()
	if strings.HasPrefix(name, tempPrefix) {
		return entry{}, false
	}
	if d.IsDir() {
		sortKey := keyPrefix + name + "/"
		if !couldMatchPrefix(sortKey, w.prefix) {
			return entry{}, false
		}
		// Every key below sorts after sortKey and shares it as a prefix, so
		// the subtree lies wholly before the cursor unless the cursor is
		// inside it or after it.
		if w.cursor != "" && sortKey < w.cursor && !strings.HasPrefix(w.cursor, sortKey) {
			return entry{}, false
		}
		return entry{name: name, sortKey: sortKey, dir: true}, true
	}

	if !d.Type().IsRegular() || !strings.HasSuffix(name, objectSuffix) {
		return entry{}, false
	}
	key := keyPrefix + strings.TrimSuffix(name, objectSuffix)
	if !strings.HasPrefix(key, w.prefix) || (w.cursor != "" && key <= w.cursor) {
		return entry{}, false
	}
	return entry{name: name, sortKey: key}, true
}

// couldMatchPrefix reports whether a key that starts with subtree can start
// with prefix.
func couldMatchPrefix(subtree, prefix string) bool {
	return strings.HasPrefix(subtree, prefix) || strings.HasPrefix(prefix, subtree)
}

func (w *lister) add(name, key string) error {
	if len(w.objects) == w.limit {
		return errPageFull
	}
	f, err := w.store.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("list: open %q: %w", key, err)
	}
	t, _, err := w.store.readMeta(f, key)
	f.Close()
	if err != nil {
		return fmt.Errorf("list: %q: %w", key, err)
	}
	w.objects = append(w.objects, t.objectInfo(key))
	return nil
}
