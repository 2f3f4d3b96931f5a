package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"testing"

	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/plugins/storage/fs/fsstore"
	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBinaryDataGoesToBlobStore(t *testing.T) {
	raw := repoFile(t, "fhir-r4-examples/Binary-f006.json")
	var binary struct {
		ID   string `json:"id"`
		Data string `json:"data"`
	}
	require.NoError(t, json.Unmarshal(raw, &binary))
	content, err := base64.StdEncoding.DecodeString(binary.Data)
	require.NoError(t, err)
	sum := sha256.Sum256(content)
	key := "acme/blobs/" + hex.EncodeToString(sum[:])

	for _, b := range dbtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			blobs, err := fsstore.New(fsstore.Config{Root: t.TempDir()})
			require.NoError(t, err)
			t.Cleanup(func() { blobs.Close() })
			cfg := storeConfig(t, b)
			s := openStoreWith(t, cfg, store.Options{Blobs: blobs})

			created, err := s.Create(ctx, "acme", raw)
			require.NoError(t, err)

			rc, info, err := blobs.Get(ctx, key)
			require.NoError(t, err, "Binary.data must be in the blob store under its SHA-256")
			stored, err := io.ReadAll(rc)
			rc.Close()
			require.NoError(t, err)
			assert.Equal(t, content, stored)
			assert.Equal(t, int64(len(content)), info.Size)

			got, err := s.Read(ctx, "acme", "Binary", created.ID)
			require.NoError(t, err)
			want := expectedBody(raw, binary.ID, created.ID, nil)
			assert.Equal(t, string(want), string(stripInsertedMeta(t, got.Body, got, hasTopLevelMeta(raw))))
			assert.Equal(t, string(got.Body), string(created.Body), "the create result is the body a read returns")

			updated, _, err := s.Update(ctx, "acme", "Binary", created.ID, got.Body, store.WriteOptions{})
			require.NoError(t, err)
			reread, err := s.Read(ctx, "acme", "Binary", created.ID)
			require.NoError(t, err)
			assert.Equal(t, string(reread.Body), string(updated.Body), "the update result is the body a read returns")

			t.Run("without storage provider", func(t *testing.T) {
				plain := openStoreWith(t, cfg, store.Options{})
				_, err := plain.Read(ctx, "acme", "Binary", created.ID)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "no storage provider")
			})

			t.Run("tampered blob", func(t *testing.T) {
				_, err := blobs.Put(ctx, key, bytes.NewReader([]byte("changed")), sdk.PutOptions{Size: -1})
				require.NoError(t, err)
				_, err = s.Read(ctx, "acme", "Binary", created.ID)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "SHA-256")
			})
		})
	}
}
