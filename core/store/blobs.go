package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/healthhub/healthhub/sdk"
)

// blobRef is one data string moved to the storage provider.
type blobRef struct {
	value  span // the string token in the received body
	key    string
	sha256 string
	size   int64
}

// offloadBlobs moves Binary.data, and attachment data of at least the
// threshold length, to the storage provider. Only base64 text that
// re-encodes to the identical characters moves, so that a read restores the
// body byte for byte. Anything else stays in the body. Objects are keyed by
// tenant and content hash, so a repeated upload writes the same object.
// It runs before the database transaction, so an upload whose transaction
// then fails leaves an unreferenced object behind, never a reference
// without content.
func (s *sqlStore) offloadBlobs(ctx context.Context, tenant string, p *prepared) error {
	if s.blobs == nil {
		return nil
	}
	isBinary := p.scan.resourceType == "Binary"
	for _, v := range p.scan.data {
		text := p.raw[v.start+1 : v.end-1]
		topLevel := isBinary && isTopLevel(p.scan, v)
		if len(text) == 0 || (!topLevel && len(text) < s.set.blobThreshold) {
			continue
		}
		content, ok := decodeExactBase64(text)
		if !ok {
			continue
		}
		ref, err := s.putBlob(ctx, tenant, p.scan.resourceType, content)
		if err != nil {
			return err
		}
		ref.value = v
		p.blobs = append(p.blobs, ref)
	}
	return nil
}

func isTopLevel(sc *scanResult, v span) bool {
	for _, m := range sc.top {
		if m.value == v {
			return true
		}
	}
	return false
}

// decodeExactBase64 decodes standard base64 and reports whether encoding
// the result gives back exactly text.
func decodeExactBase64(text []byte) ([]byte, bool) {
	if bytes.IndexByte(text, '\\') >= 0 {
		return nil, false
	}
	content := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(content, text)
	if err != nil {
		return nil, false
	}
	content = content[:n]
	if base64.StdEncoding.EncodedLen(n) != len(text) {
		return nil, false
	}
	again := make([]byte, len(text))
	base64.StdEncoding.Encode(again, content)
	return content, bytes.Equal(again, text)
}

func (s *sqlStore) putBlob(ctx context.Context, tenant, resourceType string, content []byte) (blobRef, error) {
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	key := tenant + "/blobs/" + digest
	info, err := s.blobs.Put(ctx, key, bytes.NewReader(content), sdk.PutOptions{
		ContentType: "application/octet-stream",
		Metadata:    map[string]string{"resource-type": resourceType},
		Size:        int64(len(content)),
	})
	if err != nil {
		return blobRef{}, fmt.Errorf("store %s data in blob %s: %w", resourceType, key, err)
	}
	if info.SHA256 != "" && info.SHA256 != digest {
		return blobRef{}, sdk.Errorf(sdk.CodeException, "store %s data in blob %s: storage reports SHA-256 %s, expected %s", resourceType, key, info.SHA256, digest)
	}
	return blobRef{key: key, sha256: digest, size: int64(len(content))}, nil
}

// restoreBlobs reads a version's blobs back from the storage provider,
// checks their SHA-256, and puts their base64 text back in place of the ""
// the body keeps.
func (s *sqlStore) restoreBlobs(ctx context.Context, db queryer, tenant string, v versionRow) ([]byte, error) {
	if s.blobs == nil {
		return nil, sdk.Errorf(sdk.CodeException, "content is in the blob store, but the store has no storage provider: configure the same storage provider that wrote it")
	}
	rows, err := db.QueryContext(ctx, s.q(`SELECT body_offset, storage_key, sha256, size FROM resource_blobs
		WHERE tenant = ? AND seq = ? AND version_id = ? ORDER BY ordinal`), tenant, v.seq, v.version)
	if err != nil {
		return nil, err
	}
	type blobRow struct {
		offset int
		key    string
		sha    string
		size   int64
	}
	var refs []blobRow
	for rows.Next() {
		var r blobRow
		if err := rows.Scan(&r.offset, &r.key, &r.sha, &r.size); err != nil {
			rows.Close()
			return nil, err
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	var out bytes.Buffer
	pos := 0
	for _, r := range refs {
		if r.offset < pos || r.offset+2 > len(v.body) || string(v.body[r.offset:r.offset+2]) != `""` {
			return nil, sdk.Errorf(sdk.CodeException, "blob %s: stored offset %d does not point at the placeholder in the body", r.key, r.offset)
		}
		content, err := s.getBlob(ctx, r.key, r.sha, r.size)
		if err != nil {
			return nil, err
		}
		out.Write(v.body[pos:r.offset])
		out.WriteByte('"')
		out.WriteString(base64.StdEncoding.EncodeToString(content))
		out.WriteByte('"')
		pos = r.offset + 2
	}
	out.Write(v.body[pos:])
	return out.Bytes(), nil
}

func (s *sqlStore) getBlob(ctx context.Context, key, digest string, size int64) ([]byte, error) {
	rc, _, err := s.blobs.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", key, err)
	}
	defer rc.Close()
	content, err := io.ReadAll(io.LimitReader(rc, size+1))
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", key, err)
	}
	sum := sha256.Sum256(content)
	if got := hex.EncodeToString(sum[:]); got != digest || int64(len(content)) != size {
		return nil, sdk.Errorf(sdk.CodeException, "get blob %s: content has SHA-256 %s and %d bytes, the database recorded %s and %d bytes", key, got, len(content), digest, size)
	}
	return content, nil
}
