package fsstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

func newTestKey(t *testing.T) string {
	t.Helper()
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(key)
}

func openStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	if cfg.Root == "" {
		cfg.Root = t.TempDir()
	}
	s, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func put(t *testing.T, s *Store, key string, content []byte) sdk.ObjectInfo {
	t.Helper()
	info, err := s.Put(context.Background(), key, bytes.NewReader(content), sdk.PutOptions{Size: int64(len(content))})
	require.NoError(t, err)
	return info
}

func get(t *testing.T, s *Store, key string) ([]byte, sdk.ObjectInfo) {
	t.Helper()
	r, info, err := s.Get(context.Background(), key)
	require.NoError(t, err)
	defer r.Close()
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	return data, info
}

func TestRoundTrip(t *testing.T) {
	modes := map[string]Config{
		"plaintext": {},
		"encrypted": {EncryptionKey: newTestKey(t)},
	}
	sizes := []int{0, 1, segmentSize - 1, segmentSize, segmentSize + 1, 3*segmentSize + 17}
	for mode, cfg := range modes {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("%s/%d", mode, size), func(t *testing.T) {
				s := openStore(t, cfg)
				content := make([]byte, size)
				rand.Read(content)
				sum := sha256.Sum256(content)

				info, err := s.Put(context.Background(), "tenant-a/blobs/x.dcm", bytes.NewReader(content), sdk.PutOptions{
					ContentType: "application/dicom",
					Metadata:    map[string]string{"patient": "Patient/1"},
					Size:        -1,
				})
				require.NoError(t, err)
				assert.Equal(t, int64(size), info.Size)
				assert.Equal(t, hex.EncodeToString(sum[:]), info.SHA256)

				data, got := get(t, s, "tenant-a/blobs/x.dcm")
				assert.Equal(t, content, data)
				assert.Equal(t, "application/dicom", got.ContentType)
				assert.Equal(t, map[string]string{"patient": "Patient/1"}, got.Metadata)
				assert.Equal(t, info.SHA256, got.SHA256)
			})
		}
	}
}

func TestDefaultContentType(t *testing.T) {
	s := openStore(t, Config{})
	info := put(t, s, "a", []byte("x"))
	assert.Equal(t, "application/octet-stream", info.ContentType)
}

func TestKeysRejected(t *testing.T) {
	s := openStore(t, Config{})
	outside := filepath.Join(filepath.Dir(s.root.Name()), "escaped")
	keys := []string{
		"",
		"../../etc/passwd",
		"a/../../b",
		"/etc/passwd",
		"a//b",
		"a/",
		"./a",
		"a/./b",
		"a\\b",
		"a\x00b",
		"x.obj",
		"dir.obj/y",
		".tmp-abc",
		strings.Repeat("k", 241),
		strings.Repeat("a/", 600) + "a",
		"\xff",
	}
	for _, key := range keys {
		t.Run(fmt.Sprintf("%q", truncate(key, 20)), func(t *testing.T) {
			_, err := s.Put(context.Background(), key, strings.NewReader("x"), sdk.PutOptions{})
			assert.ErrorIs(t, err, sdk.ErrInvalid)
			_, _, err = s.Get(context.Background(), key)
			assert.ErrorIs(t, err, sdk.ErrInvalid)
			assert.ErrorIs(t, s.Delete(context.Background(), key), sdk.ErrInvalid)
		})
	}
	assert.NoFileExists(t, outside)
}

func TestSymlinkOutsideRootNotFollowed(t *testing.T) {
	s := openStore(t, Config{})
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(s.root.Name(), "link")))

	_, err := s.Put(context.Background(), "link/x", strings.NewReader("x"), sdk.PutOptions{})
	require.Error(t, err)
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is written through a link that leaves the root")
}

func TestNotFound(t *testing.T) {
	s := openStore(t, Config{})
	put(t, s, "a/b", []byte("x"))

	for _, key := range []string{"missing", "a/b/c", "a"} {
		_, _, err := s.Get(context.Background(), key)
		assert.ErrorIs(t, err, sdk.ErrNotFound, key)
		_, err = s.Stat(context.Background(), key)
		assert.ErrorIs(t, err, sdk.ErrNotFound, key)
		assert.ErrorIs(t, s.Delete(context.Background(), key), sdk.ErrNotFound, key)
	}
}

func TestDeleteRemovesEmptyDirectories(t *testing.T) {
	s := openStore(t, Config{})
	put(t, s, "t/a/b/c", []byte("x"))
	put(t, s, "t/keep", []byte("y"))

	require.NoError(t, s.Delete(context.Background(), "t/a/b/c"))
	assert.NoDirExists(t, filepath.Join(s.root.Name(), "t", "a"))
	assert.FileExists(t, filepath.Join(s.root.Name(), "t", "keep.obj"))

	_, err := s.Stat(context.Background(), "t/a/b/c")
	assert.ErrorIs(t, err, sdk.ErrNotFound)
}

// Two writers keep emptying and refilling the same parent directories, so a
// Delete often prunes a parent that the other writer's Put is creating.
func TestPutDeleteSiblingDirectories(t *testing.T) {
	s := openStore(t, Config{})
	const workers, rounds = 2, 400
	errs := make(chan error, workers*rounds)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ctx := context.Background()
			for i := range rounds {
				key := fmt.Sprintf("shared/deep/w%d/o%d", w, i)
				if _, err := s.Put(ctx, key, strings.NewReader("x"), sdk.PutOptions{Size: 1}); err != nil {
					errs <- err
					continue
				}
				if err := s.Delete(ctx, key); err != nil {
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
	assert.NoDirExists(t, filepath.Join(s.root.Name(), "shared"))
}

func TestReplaceIsAtomic(t *testing.T) {
	s := openStore(t, Config{EncryptionKey: newTestKey(t)})
	versions := [][]byte{
		bytes.Repeat([]byte("a"), 3*segmentSize),
		bytes.Repeat([]byte("b"), 2*segmentSize+5),
	}
	put(t, s, "k", versions[0])

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := s.Put(context.Background(), "k", bytes.NewReader(versions[i%2]), sdk.PutOptions{})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			r, _, err := s.Get(context.Background(), "k")
			if err != nil {
				errs <- err
				return
			}
			defer r.Close()
			data, err := io.ReadAll(r)
			if err == nil && !bytes.Equal(data, versions[0]) && !bytes.Equal(data, versions[1]) {
				err = fmt.Errorf("read a mix of versions: %d bytes", len(data))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}

	entries, err := os.ReadDir(s.root.Name())
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasPrefix(e.Name(), tempPrefix), "temporary file %s left behind", e.Name())
	}
}

func TestEncryptedAtRest(t *testing.T) {
	s := openStore(t, Config{EncryptionKey: newTestKey(t)})
	secret := []byte("Patient name: Wilhelmina Canarywood, MRN 4455667788")
	put(t, s, "notes/n1", secret)
	_, err := s.Put(context.Background(), "notes/n2", bytes.NewReader(secret), sdk.PutOptions{
		Metadata: map[string]string{"label": "Canarywood"},
	})
	require.NoError(t, err)

	for _, name := range []string{"n1.obj", "n2.obj"} {
		raw, err := os.ReadFile(filepath.Join(s.root.Name(), "notes", name))
		require.NoError(t, err)
		assert.NotContains(t, string(raw), "Canarywood", name)
		assert.NotContains(t, string(raw), "4455667788", name)
	}
}

func TestTamperDetected(t *testing.T) {
	modes := map[string]Config{
		"plaintext": {},
		"encrypted": {EncryptionKey: newTestKey(t)},
	}
	for mode, cfg := range modes {
		t.Run(mode, func(t *testing.T) {
			s := openStore(t, cfg)
			content := bytes.Repeat([]byte("0123456789"), 20000)
			put(t, s, "k", content)
			file := filepath.Join(s.root.Name(), "k.obj")
			raw, err := os.ReadFile(file)
			require.NoError(t, err)

			raw[headerSize+100] ^= 0x01
			require.NoError(t, os.WriteFile(file, raw, 0o600))

			r, _, err := s.Get(context.Background(), "k")
			require.NoError(t, err, "the trailer is intact, so Get opens the object")
			defer r.Close()
			_, err = io.ReadAll(r)
			assert.ErrorIs(t, err, errCorrupt)
		})
	}
}

func TestTruncatedEncryptedObjectDetected(t *testing.T) {
	s := openStore(t, Config{EncryptionKey: newTestKey(t)})
	content := bytes.Repeat([]byte("x"), 3*segmentSize)
	put(t, s, "k", content)
	file := filepath.Join(s.root.Name(), "k.obj")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)

	// Drop the last content segment and keep the trailer and footer, as a
	// torn copy would.
	sealedSegment := segmentSize + 16
	trailerAndFooter := raw[headerSize+3*sealedSegment:]
	truncated := append(append([]byte{}, raw[:headerSize+2*sealedSegment]...), trailerAndFooter...)
	require.NoError(t, os.WriteFile(file, truncated, 0o600))

	r, _, err := s.Get(context.Background(), "k")
	require.NoError(t, err)
	defer r.Close()
	_, err = io.ReadAll(r)
	assert.ErrorIs(t, err, errCorrupt)
}

func TestEncryptedObjectMovedToOtherKey(t *testing.T) {
	s := openStore(t, Config{EncryptionKey: newTestKey(t)})
	put(t, s, "a", []byte("content of a"))
	require.NoError(t, os.Rename(filepath.Join(s.root.Name(), "a.obj"), filepath.Join(s.root.Name(), "b.obj")))

	_, err := s.Stat(context.Background(), "b")
	assert.ErrorIs(t, err, errCorrupt)
}

func TestWrongOrMissingKey(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, Config{Root: root, EncryptionKey: newTestKey(t)})
	put(t, s, "k", []byte("secret"))

	other := openStore(t, Config{Root: root, EncryptionKey: newTestKey(t)})
	_, err := other.Stat(context.Background(), "k")
	assert.ErrorIs(t, err, errCorrupt)

	plain := openStore(t, Config{Root: root})
	_, err = plain.Stat(context.Background(), "k")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no encryption key configured")
}

func TestPlaintextReadableAfterEnablingEncryption(t *testing.T) {
	root := t.TempDir()
	plain := openStore(t, Config{Root: root})
	put(t, plain, "old", []byte("written before encryption"))

	encrypted := openStore(t, Config{Root: root, EncryptionKey: newTestKey(t)})
	data, _ := get(t, encrypted, "old")
	assert.Equal(t, "written before encryption", string(data))
}

func TestMaxObjectSize(t *testing.T) {
	s := openStore(t, Config{MaxObjectSize: 1000})

	_, err := s.Put(context.Background(), "declared", strings.NewReader("x"), sdk.PutOptions{Size: 1001})
	assert.ErrorIs(t, err, sdk.ErrTooLarge)

	_, err = s.Put(context.Background(), "streamed", bytes.NewReader(make([]byte, 1001)), sdk.PutOptions{Size: -1})
	assert.ErrorIs(t, err, sdk.ErrTooLarge)
	_, err = s.Stat(context.Background(), "streamed")
	assert.ErrorIs(t, err, sdk.ErrNotFound, "a rejected put leaves nothing behind")

	put(t, s, "fits", make([]byte, 1000))
}

func TestPutCancelled(t *testing.T) {
	s := openStore(t, Config{})
	put(t, s, "k", []byte("old"))

	ctx, cancel := context.WithCancel(context.Background())
	body := io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), cancelAfterRead{cancel}, bytes.NewReader(make([]byte, 1<<20)))
	_, err := s.Put(ctx, "k", body, sdk.PutOptions{})
	assert.ErrorIs(t, err, context.Canceled)

	data, _ := get(t, s, "k")
	assert.Equal(t, "old", string(data), "a cancelled put keeps the old object")
}

func TestGetReaderStopsWhenCancelled(t *testing.T) {
	s := openStore(t, Config{})
	put(t, s, "k", make([]byte, 1<<20))

	ctx, cancel := context.WithCancel(context.Background())
	r, _, err := s.Get(ctx, "k")
	require.NoError(t, err)
	defer r.Close()

	_, err = r.Read(make([]byte, 1024))
	require.NoError(t, err)
	cancel()
	_, err = io.ReadAll(r)
	assert.ErrorIs(t, err, context.Canceled)
}

// cancelAfterRead cancels a context the first time it is read, then ends.
type cancelAfterRead struct{ cancel context.CancelFunc }

func (c cancelAfterRead) Read([]byte) (int, error) {
	c.cancel()
	return 0, io.EOF
}

func TestConfigErrors(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(keyFile, []byte(newTestKey(t)+"\n"), 0o600))

	tests := []struct {
		name string
		cfg  Config
		path string
	}{
		{"missing root", Config{}, "/root"},
		{"negative max size", Config{Root: t.TempDir(), MaxObjectSize: -1}, "/max_object_size"},
		{"short key", Config{Root: t.TempDir(), EncryptionKey: base64.StdEncoding.EncodeToString([]byte("short"))}, "/encryption_key"},
		{"bad base64", Config{Root: t.TempDir(), EncryptionKey: "not base64!"}, "/encryption_key"},
		{"both keys", Config{Root: t.TempDir(), EncryptionKey: newTestKey(t), EncryptionKeyFile: keyFile}, "/encryption_key_file"},
		{"missing key file", Config{Root: t.TempDir(), EncryptionKeyFile: keyFile + ".missing"}, "/encryption_key_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			require.ErrorIs(t, err, sdk.ErrInvalid)
			o := sdk.AsOutcome(err)
			assert.Equal(t, tc.path, o.Issues[0].Path)
		})
	}

	s := openStore(t, Config{EncryptionKeyFile: keyFile})
	assert.NotNil(t, s.masterKey, "a key file with a trailing newline is accepted")
}

func TestCheckHealth(t *testing.T) {
	s := openStore(t, Config{})
	require.NoError(t, s.CheckHealth(context.Background()))
	entries, err := os.ReadDir(s.root.Name())
	require.NoError(t, err)
	assert.Empty(t, entries, "the probe file is removed")

	require.NoError(t, os.Chmod(s.root.Name(), 0o500))
	t.Cleanup(func() { os.Chmod(s.root.Name(), 0o700) })
	if os.Geteuid() == 0 {
		// root bypasses directory permissions, so only the healthy case can
		// be checked.
		return
	}
	assert.Error(t, s.CheckHealth(context.Background()))
}
