package sdktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// LargeObjectSize is the size of the object the storage suite streams
// through Put and Get, in bytes: 100 MiB, or 8 MiB under go test -short.
func LargeObjectSize() int64 {
	if testing.Short() {
		return 8 << 20
	}
	return 100 << 20
}

// Storage runs the conformance suite for sdk.Storage. newStorage is called
// once per subtest and returns a ready store.
func Storage(t *testing.T, newStorage func(t *testing.T) sdk.Storage) {
	tests := []struct {
		name string
		run  func(t *testing.T, s sdk.Storage, prefix string)
	}{
		{"PutGetRoundTrip", storageRoundTrip},
		{"DefaultContentType", storageDefaultContentType},
		{"EmptyObject", storageEmptyObject},
		{"NotFound", storageNotFound},
		{"InvalidKeys", storageInvalidKeys},
		{"Delete", storageDelete},
		{"ReplaceIsAtomic", storageReplaceIsAtomic},
		{"ListOrderAndPaging", storageListPaging},
		{"ListPrefix", storageListPrefix},
		{"LargeObject", storageLargeObject},
		{"ConcurrentCalls", storageConcurrent},
		{"CancelPut", storageCancelPut},
		{"CancelGet", storageCancelGet},
		{"CancelledContext", storageCancelledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStorage(t)
			require.NotNil(t, s, "the factory returned a nil store")
			tc.run(t, s, uniquePrefix(t))
		})
	}
}

func putBytes(t *testing.T, s sdk.Storage, key string, content []byte, opts sdk.PutOptions) sdk.ObjectInfo {
	t.Helper()
	if opts.Size == 0 {
		opts.Size = int64(len(content))
	}
	info, err := s.Put(context.Background(), key, bytes.NewReader(content), opts)
	require.NoError(t, err, "put %q", key)
	return info
}

func getBytes(t *testing.T, s sdk.Storage, key string) ([]byte, sdk.ObjectInfo) {
	t.Helper()
	body, info, err := s.Get(context.Background(), key)
	require.NoError(t, err, "get %q", key)
	defer body.Close()
	content, err := io.ReadAll(body)
	require.NoError(t, err, "read %q", key)
	return content, info
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func storageRoundTrip(t *testing.T, s sdk.Storage, prefix string) {
	key := prefix + "dir/report.json"
	content := []byte(`{"resourceType":"DiagnosticReport","status":"final"}`)
	metadata := map[string]string{"patient-ref": "Patient/123", "x-origin": "sdktest"}
	put := putBytes(t, s, key, content, sdk.PutOptions{ContentType: "application/fhir+json", Metadata: metadata})
	assert.Equal(t, key, put.Key, "Put: key")
	assert.Equal(t, int64(len(content)), put.Size, "Put: size")

	got, info := getBytes(t, s, key)
	assert.Equal(t, content, got, "Get: content")
	assert.Equal(t, key, info.Key, "Get: key")
	assert.Equal(t, int64(len(content)), info.Size, "Get: size")
	assert.Equal(t, "application/fhir+json", info.ContentType, "Get: content type")
	assert.Equal(t, metadata, info.Metadata, "Get: metadata")
	assert.False(t, info.ModTime.IsZero(), "Get: mod time is set")
	if info.SHA256 != "" {
		assert.Equal(t, hexSHA256(content), info.SHA256, "Get: SHA-256")
	}

	stat, err := s.Stat(context.Background(), key)
	require.NoError(t, err)
	assert.Equal(t, info.Size, stat.Size, "Stat: size")
	assert.Equal(t, info.ContentType, stat.ContentType, "Stat: content type")
	assert.Equal(t, metadata, stat.Metadata, "Stat: metadata")
	assert.Equal(t, info.SHA256, stat.SHA256, "Stat: SHA-256")
}

func storageDefaultContentType(t *testing.T, s sdk.Storage, prefix string) {
	key := prefix + "blob"
	putBytes(t, s, key, []byte{0, 1, 2, 3}, sdk.PutOptions{})
	stat, err := s.Stat(context.Background(), key)
	require.NoError(t, err)
	assert.Equal(t, "application/octet-stream", stat.ContentType)
}

func storageEmptyObject(t *testing.T, s sdk.Storage, prefix string) {
	key := prefix + "empty"
	info, err := s.Put(context.Background(), key, bytes.NewReader(nil), sdk.PutOptions{Size: 0})
	require.NoError(t, err)
	assert.Equal(t, int64(0), info.Size)

	got, info := getBytes(t, s, key)
	assert.Empty(t, got)
	assert.Equal(t, int64(0), info.Size)
}

func storageNotFound(t *testing.T, s sdk.Storage, prefix string) {
	ctx := context.Background()
	key := prefix + "missing/object"

	body, _, err := s.Get(ctx, key)
	if body != nil {
		body.Close()
	}
	assert.ErrorIs(t, err, sdk.ErrNotFound, "Get")

	_, err = s.Stat(ctx, key)
	assert.ErrorIs(t, err, sdk.ErrNotFound, "Stat")

	err = s.Delete(ctx, key)
	assert.ErrorIs(t, err, sdk.ErrNotFound, "Delete")
}

func storageInvalidKeys(t *testing.T, s sdk.Storage, prefix string) {
	ctx := context.Background()
	for _, key := range []string{"", "/etc/passwd", "../../etc/passwd", prefix + "a/../../b", "./" + prefix + "a", prefix + "a/./b", prefix + ".."} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			_, err := s.Put(ctx, key, bytes.NewReader([]byte("x")), sdk.PutOptions{Size: 1})
			assert.ErrorIs(t, err, sdk.ErrInvalid, "Put")

			body, _, err := s.Get(ctx, key)
			if body != nil {
				body.Close()
			}
			assert.ErrorIs(t, err, sdk.ErrInvalid, "Get")

			_, err = s.Stat(ctx, key)
			assert.ErrorIs(t, err, sdk.ErrInvalid, "Stat")

			err = s.Delete(ctx, key)
			assert.ErrorIs(t, err, sdk.ErrInvalid, "Delete")
		})
	}
}

func storageDelete(t *testing.T, s sdk.Storage, prefix string) {
	ctx := context.Background()
	key := prefix + "to-delete"
	putBytes(t, s, key, []byte("gone soon"), sdk.PutOptions{})
	require.NoError(t, s.Delete(ctx, key))

	_, err := s.Stat(ctx, key)
	assert.ErrorIs(t, err, sdk.ErrNotFound, "Stat after Delete")
	page, err := s.List(ctx, sdk.ListOptions{Prefix: prefix})
	require.NoError(t, err)
	assert.Empty(t, page.Objects, "List after Delete")
}

// storageReplaceIsAtomic overwrites one key with two contents of different
// sizes while readers check that every Get returns one of them whole.
func storageReplaceIsAtomic(t *testing.T, s sdk.Storage, prefix string) {
	key := prefix + "replaced"
	versions := [][]byte{
		bytes.Repeat([]byte("A"), 256<<10),
		bytes.Repeat([]byte("B"), 384<<10),
	}
	putBytes(t, s, key, versions[0], sdk.PutOptions{ContentType: "text/plain", Metadata: map[string]string{"v": "0"}})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := readOneVersion(s, key, versions); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range 20 {
		v := (i + 1) % 2
		putBytes(t, s, key, versions[v], sdk.PutOptions{ContentType: "text/plain", Metadata: map[string]string{"v": fmt.Sprint(v)}})
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

func readOneVersion(s sdk.Storage, key string, versions [][]byte) error {
	body, info, err := s.Get(context.Background(), key)
	if err != nil {
		return fmt.Errorf("get during replace: %w", err)
	}
	defer body.Close()
	content, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("read during replace: %w", err)
	}
	for v, want := range versions {
		if bytes.Equal(content, want) {
			if info.Metadata["v"] != fmt.Sprint(v) || info.Size != int64(len(want)) {
				return fmt.Errorf("content of version %d came with metadata %v and size %d", v, info.Metadata, info.Size)
			}
			return nil
		}
	}
	return fmt.Errorf("get during replace returned %d bytes that match neither version", len(content))
}

func storageListPaging(t *testing.T, s sdk.Storage, prefix string) {
	ctx := context.Background()
	var want []string
	for i := range 25 {
		want = append(want, fmt.Sprintf("%sitem-%02d", prefix, i))
	}
	shuffled := slices.Clone(want)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, key := range shuffled {
		putBytes(t, s, key, []byte(key), sdk.PutOptions{})
	}

	var got []string
	var pages int
	opts := sdk.ListOptions{Prefix: prefix, Limit: 10}
	for {
		page, err := s.List(ctx, opts)
		require.NoError(t, err, "list page %d", pages+1)
		pages++
		assert.LessOrEqual(t, len(page.Objects), 10, "page %d exceeds the limit", pages)
		for _, o := range page.Objects {
			got = append(got, o.Key)
			assert.Equal(t, int64(len(o.Key)), o.Size, "size of %q in the listing", o.Key)
		}
		if page.NextCursor == "" {
			break
		}
		require.Less(t, pages, 10, "listing 25 objects 10 at a time never ended")
		opts.Cursor = page.NextCursor
	}
	assert.Equal(t, want, got, "listing returns every key once, in ascending order")
	assert.GreaterOrEqual(t, pages, 3, "25 objects with limit 10 take at least 3 pages")
}

func storageListPrefix(t *testing.T, s sdk.Storage, prefix string) {
	for _, key := range []string{"a/1", "a/2", "ab", "b/1"} {
		putBytes(t, s, prefix+key, []byte(key), sdk.PutOptions{})
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"a/", []string{"a/1", "a/2"}},
		{"a", []string{"a/1", "a/2", "ab"}},
		{"b/", []string{"b/1"}},
		{"c", nil},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			page, err := s.List(context.Background(), sdk.ListOptions{Prefix: prefix + tc.prefix})
			require.NoError(t, err)
			var got []string
			for _, o := range page.Objects {
				got = append(got, o.Key[len(prefix):])
			}
			assert.Equal(t, tc.want, got)
			assert.Empty(t, page.NextCursor)
		})
	}
}

func storageLargeObject(t *testing.T, s sdk.Storage, prefix string) {
	size := LargeObjectSize()
	key := prefix + "large.bin"
	info, err := s.Put(context.Background(), key, newPayload(7, size), sdk.PutOptions{Size: size, ContentType: "application/octet-stream"})
	require.NoError(t, err, "put %d bytes", size)
	assert.Equal(t, size, info.Size)

	body, info, err := s.Get(context.Background(), key)
	require.NoError(t, err)
	defer body.Close()
	h := sha256.New()
	n, err := io.Copy(h, body)
	require.NoError(t, err)
	assert.Equal(t, size, n, "bytes read back")
	assert.Equal(t, size, info.Size)
	assert.Equal(t, payloadSHA256(t, 7, size), hex.EncodeToString(h.Sum(nil)), "content read back")
}

func storageConcurrent(t *testing.T, s sdk.Storage, prefix string) {
	const workers, perWorker = 8, 4
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				if err := roundTripOnce(s, fmt.Sprintf("%sw%d/o%d", prefix, w, i), byte(w*perWorker+i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

func roundTripOnce(s sdk.Storage, key string, seed byte) error {
	ctx := context.Background()
	const size = 300 << 10
	want := make([]byte, size)
	_, _ = io.ReadFull(newPayload(seed, size), want)
	if _, err := s.Put(ctx, key, bytes.NewReader(want), sdk.PutOptions{Size: size}); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	body, _, err := s.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("get %q: %w", key, err)
	}
	got, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		return fmt.Errorf("read %q: %w", key, err)
	}
	if !bytes.Equal(want, got) {
		return fmt.Errorf("get %q returned other content than was put", key)
	}
	if err := s.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	return nil
}

// storageCancelPut cancels a Put whose body arrives slowly and expects it
// to stop, fail with the cancellation and leave no object behind.
func storageCancelPut(t *testing.T, s sdk.Storage, prefix string) {
	key := prefix + "cancelled"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := returnsWithin(t, cancel, 200*time.Millisecond, func() error {
		_, err := s.Put(ctx, key, newSlowReader(), sdk.PutOptions{Size: -1})
		return err
	})
	assert.True(t, isCancellation(err), "Put after cancel returned %v, want a cancellation error", err)

	_, err = s.Stat(context.Background(), key)
	assert.ErrorIs(t, err, sdk.ErrNotFound, "a cancelled Put leaves no object")
}

// storageCancelGet cancels a Get while its content is being read and
// expects the reader to stop with the cancellation instead of delivering
// the rest of the object.
func storageCancelGet(t *testing.T, s sdk.Storage, prefix string) {
	key := prefix + "read-cancelled"
	size := 32 << 20
	putBytes(t, s, key, make([]byte, size), sdk.PutOptions{})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body, _, err := s.Get(ctx, key)
	require.NoError(t, err)
	defer body.Close()
	_, err = io.ReadFull(body, make([]byte, 1024))
	require.NoError(t, err, "read the first bytes before cancelling")

	var copied int64
	err = returnsWithin(t, cancel, 0, func() error {
		// Read slowly, so that a provider that ignores the cancellation
		// cannot race to the end of the object first.
		buf := make([]byte, 64<<10)
		for {
			n, err := body.Read(buf)
			copied += int64(n)
			if err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
		}
	})
	assert.True(t, isCancellation(err), "reading a Get after cancel returned %v after %d more bytes, want a cancellation error", err, copied)
	assert.Less(t, copied, int64(size-1024), "the reader delivered the whole object after its context was cancelled")
}

func storageCancelledContext(t *testing.T, s sdk.Storage, prefix string) {
	key := prefix + "present"
	putBytes(t, s, key, []byte("x"), sdk.PutOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	calls := map[string]func() error{
		"Get": func() error {
			body, _, err := s.Get(ctx, key)
			if body != nil {
				body.Close()
			}
			return err
		},
		"Stat":   func() error { _, err := s.Stat(ctx, key); return err },
		"Delete": func() error { return s.Delete(ctx, key) },
		"List":   func() error { _, err := s.List(ctx, sdk.ListOptions{Prefix: prefix}); return err },
		"Put": func() error {
			_, err := s.Put(ctx, prefix+"other", bytes.NewReader([]byte("y")), sdk.PutOptions{Size: 1})
			return err
		},
	}
	for _, name := range []string{"Get", "Stat", "List", "Put", "Delete"} {
		t.Run(name, func(t *testing.T) {
			err := calls[name]()
			assert.True(t, isCancellation(err), "%s with a cancelled context returned %v, want a cancellation error", name, err)
		})
	}
}
