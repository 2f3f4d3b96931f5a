package fsstore

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

func keysOf(objects []sdk.ObjectInfo) []string {
	keys := make([]string, len(objects))
	for i, o := range objects {
		keys[i] = o.Key
	}
	return keys
}

func listAll(t *testing.T, s *Store, prefix string, limit int) ([]string, int) {
	t.Helper()
	var keys []string
	pages := 0
	cursor := ""
	for {
		page, err := s.List(context.Background(), sdk.ListOptions{Prefix: prefix, Cursor: cursor, Limit: limit})
		require.NoError(t, err)
		pages++
		keys = append(keys, keysOf(page.Objects)...)
		if page.NextCursor == "" {
			return keys, pages
		}
		require.Less(t, pages, 100, "listing does not end")
		cursor = page.NextCursor
	}
}

func TestListOrderMatchesKeyOrder(t *testing.T) {
	s := openStore(t, Config{})
	// Byte order: "-" (0x2d) < "." (0x2e) < "/" (0x2f) < "0" (0x30).
	keys := []string{"a", "a-b", "a.b", "a/c", "a/c/d", "a0", "b/x/y/z", "b/x0"}
	for _, k := range keys {
		put(t, s, k, []byte(k))
	}

	got, _ := listAll(t, s, "", 0)
	assert.Equal(t, keys, got)
}

func TestListPaging(t *testing.T) {
	s := openStore(t, Config{})
	keys := []string{"t/a", "t/b/1", "t/b/2", "t/b/3", "t/c", "t/d/e/f", "u/1"}
	for _, k := range keys {
		put(t, s, k, []byte(k))
	}

	for _, limit := range []int{1, 2, 3, 7, 100} {
		got, pages := listAll(t, s, "", limit)
		assert.Equal(t, keys, got, "limit %d", limit)
		assert.Equal(t, (len(keys)+limit-1)/limit, pages, "limit %d", limit)
	}
}

func TestListPrefix(t *testing.T) {
	s := openStore(t, Config{})
	for _, k := range []string{"tenant-a/x", "tenant-a/y/z", "tenant-ab/w", "tenant-b/x"} {
		put(t, s, k, []byte(k))
	}

	got, _ := listAll(t, s, "tenant-a/", 2)
	assert.Equal(t, []string{"tenant-a/x", "tenant-a/y/z"}, got)

	got, _ = listAll(t, s, "tenant-a", 0)
	assert.Equal(t, []string{"tenant-a/x", "tenant-a/y/z", "tenant-ab/w"}, got)

	got, _ = listAll(t, s, "nothing", 0)
	assert.Empty(t, got)
}

func TestListReturnsMetadata(t *testing.T) {
	s := openStore(t, Config{EncryptionKey: newTestKey(t)})
	_, err := s.Put(context.Background(), "k", nil, sdk.PutOptions{ContentType: "text/plain", Metadata: map[string]string{"m": "v"}})
	require.NoError(t, err)

	page, err := s.List(context.Background(), sdk.ListOptions{})
	require.NoError(t, err)
	require.Len(t, page.Objects, 1)
	assert.Equal(t, "text/plain", page.Objects[0].ContentType)
	assert.Equal(t, map[string]string{"m": "v"}, page.Objects[0].Metadata)
	assert.Zero(t, page.Objects[0].Size)
}

func TestListNegativeLimit(t *testing.T) {
	s := openStore(t, Config{})
	_, err := s.List(context.Background(), sdk.ListOptions{Limit: -1})
	assert.ErrorIs(t, err, sdk.ErrInvalid)
}
