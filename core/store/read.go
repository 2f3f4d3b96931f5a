package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// queryer is the read interface that *sql.DB and *sql.Tx share, so that a
// transaction can read its own writes.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// versionRow is a row of resource_versions.
type versionRow struct {
	seq         int64
	version     int64
	lastUpdated int64
	deleted     bool
	body        []byte
	blobCount   int
}

func (s *sqlStore) Read(ctx context.Context, tenant, resourceType, id string) (*Resource, error) {
	op := "read " + describe(resourceType, id)
	if err := checkTarget(op, tenant, resourceType, id); err != nil {
		return nil, err
	}
	return s.readCurrent(ctx, s.db.Read, op, tenant, resourceType, id)
}

func (s *sqlStore) readCurrent(ctx context.Context, db queryer, op, tenant, resourceType, id string) (*Resource, error) {
	row := db.QueryRowContext(ctx, s.q(`SELECT r.seq, v.version_id, v.last_updated, v.deleted, v.body, v.blob_count
		FROM resources r JOIN resource_versions v ON v.tenant = r.tenant AND v.seq = r.seq AND v.version_id = r.version_id
		WHERE r.tenant = ? AND r.type = ? AND r.id = ?`), tenant, resourceType, id)
	var v versionRow
	if err := row.Scan(&v.seq, &v.version, &v.lastUpdated, &v.deleted, &v.body, &v.blobCount); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, sdk.NotFoundf("%s: no such resource", op)
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if v.deleted {
		return nil, sdk.Errorf(sdk.CodeDeleted, "%s: deleted in version %d", op, v.version)
	}
	return s.resource(ctx, db, tenant, resourceType, id, v)
}

func (s *sqlStore) VRead(ctx context.Context, tenant, resourceType, id, versionID string) (*Resource, error) {
	op := "vread " + describe(resourceType, id) + "/_history/" + versionID
	if err := checkTarget(op, tenant, resourceType, id); err != nil {
		return nil, err
	}
	return s.readVersion(ctx, s.db.Read, op, tenant, resourceType, id, versionID)
}

func (s *sqlStore) readVersion(ctx context.Context, db queryer, op, tenant, resourceType, id, versionID string) (*Resource, error) {
	version, err := strconv.ParseInt(versionID, 10, 64)
	if err != nil || version < 1 {
		return nil, sdk.NotFoundf("%s: no such version: version ids are numbers from 1", op)
	}
	row := db.QueryRowContext(ctx, s.q(`SELECT r.seq, v.version_id, v.last_updated, v.deleted, v.body, v.blob_count
		FROM resources r JOIN resource_versions v ON v.tenant = r.tenant AND v.seq = r.seq
		WHERE r.tenant = ? AND r.type = ? AND r.id = ? AND v.version_id = ?`), tenant, resourceType, id, version)
	var v versionRow
	if err := row.Scan(&v.seq, &v.version, &v.lastUpdated, &v.deleted, &v.body, &v.blobCount); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, sdk.NotFoundf("%s: no such version", op)
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if v.deleted {
		return nil, sdk.Errorf(sdk.CodeDeleted, "%s: this version is a deletion", op)
	}
	return s.resource(ctx, db, tenant, resourceType, id, v)
}

func (s *sqlStore) History(ctx context.Context, tenant, resourceType, id string, opts HistoryOptions) (*HistoryPage, error) {
	op := "history " + describe(resourceType, id)
	if err := checkTarget(op, tenant, resourceType, id); err != nil {
		return nil, err
	}
	count, err := s.pageSize(op, opts.Count)
	if err != nil {
		return nil, err
	}
	before := int64(1<<63 - 1)
	if opts.Cursor != "" {
		before, err = strconv.ParseInt(opts.Cursor, 10, 64)
		if err != nil || before < 1 {
			return nil, sdk.Invalidf("", "%s: invalid cursor %q: pass back the Next value of the previous page", op, opts.Cursor)
		}
	}
	since := int64(-1 << 63)
	if !opts.Since.IsZero() {
		since = opts.Since.UnixMicro()
	}

	var seq int64
	err = s.db.Read.QueryRowContext(ctx, s.q(`SELECT seq FROM resources WHERE tenant = ? AND type = ? AND id = ?`), tenant, resourceType, id).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sdk.NotFoundf("%s: no such resource", op)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}

	rows, err := s.db.Read.QueryContext(ctx, s.q(`SELECT seq, version_id, last_updated, deleted, body, blob_count FROM resource_versions
		WHERE tenant = ? AND seq = ? AND version_id < ? AND last_updated >= ?
		ORDER BY version_id DESC LIMIT ?`), tenant, seq, before, since, count+1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	versions, err := scanVersions(rows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}

	page := &HistoryPage{}
	if len(versions) > count {
		versions = versions[:count]
		page.Next = strconv.FormatInt(versions[count-1].version, 10)
	}
	for _, v := range versions {
		res, err := s.resource(ctx, s.db.Read, tenant, resourceType, id, v)
		if err != nil {
			return nil, err
		}
		page.Versions = append(page.Versions, res)
	}
	return page, nil
}

func scanVersions(rows *sql.Rows) ([]versionRow, error) {
	defer rows.Close()
	var out []versionRow
	for rows.Next() {
		var v versionRow
		if err := rows.Scan(&v.seq, &v.version, &v.lastUpdated, &v.deleted, &v.body, &v.blobCount); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// resource builds the Resource for a version row, putting blob content back
// into the body.
func (s *sqlStore) resource(ctx context.Context, db queryer, tenant, resourceType, id string, v versionRow) (*Resource, error) {
	res := &Resource{
		Type:        resourceType,
		ID:          id,
		VersionID:   formatVersion(v.version),
		LastUpdated: time.UnixMicro(v.lastUpdated).UTC(),
		Deleted:     v.deleted,
	}
	if v.deleted {
		return res, nil
	}
	res.Body = v.body
	if v.blobCount > 0 {
		body, err := s.restoreBlobs(ctx, db, tenant, v)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", res.Location(), err)
		}
		res.Body = body
	}
	return res, nil
}

func (s *sqlStore) pageSize(op string, count int) (int, error) {
	switch {
	case count == 0:
		return s.set.defaultCount, nil
	case count < 0:
		return 0, sdk.Invalidf("", "%s: invalid _count %d: use a number from 1 to %d", op, count, s.set.maxCount)
	default:
		return min(count, s.set.maxCount), nil
	}
}
