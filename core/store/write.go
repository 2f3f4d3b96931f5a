package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/healthhub/healthhub/core/internal/sqldb"
	"github.com/healthhub/healthhub/sdk"
)

// prepared is a received resource, scanned and with its blobs uploaded,
// ready to be written.
type prepared struct {
	raw   []byte
	scan  *scanResult
	blobs []blobRef
}

// prepare checks that raw is one JSON resource and scans it.
func prepare(raw []byte) (*prepared, error) {
	if !json.Valid(raw) {
		detail := "body is not valid JSON"
		var v any
		var syntax *json.SyntaxError
		if err := json.Unmarshal(raw, &v); errors.As(err, &syntax) {
			detail = fmt.Sprintf("invalid JSON at byte %d: %v", syntax.Offset, syntax)
		}
		return nil, sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeStructure,
			Diagnostics: "read resource: " + detail + ": check quoting and commas"})
	}
	sc, err := scanResource(raw)
	if err != nil {
		return nil, err
	}
	if !validType(sc.resourceType) {
		return nil, sdk.Invalidf("/resourceType", "read resource: invalid resourceType %q: use a FHIR resource type name such as Patient", sc.resourceType)
	}
	return &prepared{raw: raw, scan: sc}, nil
}

type opKind int

const (
	opCreate opKind = iota + 1
	opUpdate
	opDelete
)

// writeOp is one resource write of a transaction.
type writeOp struct {
	entry        int // bundle entry index; -1 outside a bundle
	kind         opKind
	resourceType string
	id           string
	ifMatch      string
	res          *prepared // nil for deletes

	// Set while the transaction runs.
	seq     int64
	version int64
	updated int64 // last_updated of the current version, for skipped deletes
	isNew   bool
	skip    bool // delete of a deleted resource: nothing to write
	body    []byte
	offsets []int
	index   []indexRow
	result  *Resource
}

func (w *writeOp) describe() string { return describe(w.resourceType, w.id) }

// fail returns an outcome about the op, naming its bundle entry when it has
// one.
func (w *writeOp) fail(code sdk.IssueCode, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if w.entry < 0 {
		return sdk.Errorf(code, "%s", msg)
	}
	o := sdk.Errorf(code, "entry %d: %s", w.entry, msg)
	o.Issues[0].Path = fmt.Sprintf("/entry/%d", w.entry)
	return o
}

// failIfMatch returns the conflict of a failed If-Match. In a Bundle its
// path is the entry's request.ifMatch, which IfMatchFailed recognizes.
func (w *writeOp) failIfMatch(format string, args ...any) error {
	err := w.fail(sdk.CodeConflict, format, args...)
	if w.entry >= 0 {
		o := sdk.AsOutcome(err)
		o.Issues[0].Path = fmt.Sprintf("/entry/%d/request/ifMatch", w.entry)
		return o
	}
	return err
}

// IfMatchFailed reports whether o is the conflict of a Bundle entry's
// failed request.ifMatch. Its HTTP status is 412, as for a failed If-Match
// header.
func IfMatchFailed(o *sdk.Outcome) bool {
	for _, issue := range o.Issues {
		if issue.Code == sdk.CodeConflict && strings.HasSuffix(issue.Path, "/request/ifMatch") {
			return true
		}
	}
	return false
}

// applyWrites writes ops in tx: it reads the current versions, checks
// If-Match, assigns versions and sequence numbers, renders the bodies and
// inserts all rows with multi-row statements.
func (s *sqlStore) applyWrites(ctx context.Context, tx *sql.Tx, tenant string, ops []*writeOp, now time.Time, refs *references) error {
	if err := s.loadCurrent(ctx, tx, tenant, ops); err != nil {
		return err
	}
	if err := s.assignSeqs(ctx, tx, ops); err != nil {
		return err
	}
	err := forEach(len(ops), func(i int) error {
		return ops[i].render(now, refs)
	})
	if err != nil {
		return err
	}
	return s.insertWrites(ctx, tx, tenant, ops, now)
}

// loadCurrent reads the current version of every resource that ops update
// or delete, locking its row on PostgreSQL, and checks If-Match.
func (s *sqlStore) loadCurrent(ctx context.Context, tx *sql.Tx, tenant string, ops []*writeOp) error {
	query := s.q(`SELECT seq, version_id, last_updated, deleted FROM resources WHERE tenant = ? AND type = ? AND id = ?` + s.db.ForUpdate())
	for _, w := range ops {
		if w.kind == opCreate {
			w.isNew, w.version = true, 1
			continue
		}
		var current int64
		var deleted bool
		err := tx.QueryRowContext(ctx, query, tenant, w.resourceType, w.id).Scan(&w.seq, &current, &w.updated, &deleted)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := w.absent(); err != nil {
				return err
			}
			continue
		case err != nil:
			return fmt.Errorf("read current version of %s: %w", w.describe(), err)
		}
		if err := w.checkIfMatch(current); err != nil {
			return err
		}
		w.version = current + 1
		if w.kind == opDelete && deleted {
			w.skip, w.version = true, current
		}
	}
	return nil
}

func (w *writeOp) absent() error {
	switch {
	case w.kind == opDelete:
		return w.fail(sdk.CodeNotFound, "delete %s: no such resource", w.describe())
	case w.ifMatch != "":
		return w.failIfMatch("update %s: If-Match %s given, but the resource does not exist: drop If-Match to create it", w.describe(), w.ifMatch)
	}
	w.isNew, w.version = true, 1
	return nil
}

func (w *writeOp) checkIfMatch(current int64) error {
	if w.ifMatch == "" {
		return nil
	}
	want, err := parseVersion("check If-Match", w.ifMatch)
	if err != nil {
		return err
	}
	if want != current {
		return w.failIfMatch("%s: If-Match expects version %d, current version is %d: read the resource again and retry", w.describe(), want, current)
	}
	return nil
}

// assignSeqs numbers the new resources.
func (s *sqlStore) assignSeqs(ctx context.Context, tx *sql.Tx, ops []*writeOp) error {
	n := 0
	for _, w := range ops {
		if w.isNew {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	seqs, err := s.reserveSeqs(ctx, tx, n)
	if err != nil {
		return fmt.Errorf("number new resources: %w", err)
	}
	for _, w := range ops {
		if w.isNew {
			w.seq, seqs = seqs[0], seqs[1:]
		}
	}
	return nil
}

func (s *sqlStore) reserveSeqs(ctx context.Context, tx *sql.Tx, n int) ([]int64, error) {
	seqs := make([]int64, 0, n)
	if s.db.Dialect == sqldb.Postgres {
		rows, err := tx.QueryContext(ctx, `SELECT nextval('resource_seq') FROM generate_series(1, $1)`, n)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			seqs = append(seqs, v)
		}
		return seqs, rows.Err()
	}
	// SQLite: the write transaction holds the database's write lock, so
	// MAX(seq) cannot move under it.
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM resources`).Scan(&last); err != nil {
		return nil, err
	}
	for i := range n {
		seqs = append(seqs, last+1+int64(i))
	}
	return seqs, nil
}

// render builds the stored body and the search values of a create or
// update, and the result of every op.
func (w *writeOp) render(now time.Time, refs *references) error {
	w.result = &Resource{Type: w.resourceType, ID: w.id, VersionID: formatVersion(w.version), LastUpdated: now}
	if w.kind == opDelete {
		w.result.Deleted = true
		if w.skip {
			w.result.LastUpdated = time.UnixMicro(w.updated).UTC()
		}
		return nil
	}

	sc := w.res.scan
	edits := identityEdits(sc, w.id, w.version, now)
	for _, r := range sc.refs {
		if target := refs.rewrite(r.text); target != r.text {
			edits = append(edits, edit{start: r.value.start, end: r.value.end, text: quoteJSON(target)})
		}
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	if len(w.res.blobs) > 0 {
		// The caller gets the resource as it will read it back, with the
		// content that the database row leaves out.
		full, _, err := splice(w.res.raw, edits)
		if err != nil {
			return w.fail(sdk.CodeException, "%s: %v", w.describe(), err)
		}
		w.result.Body = full
	}
	for _, b := range w.res.blobs {
		edits = append(edits, edit{start: b.value.start, end: b.value.end, text: []byte(`""`), mark: true})
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })

	body, offsets, err := splice(w.res.raw, edits)
	if err != nil {
		return w.fail(sdk.CodeException, "%s: %v", w.describe(), err)
	}
	w.body, w.offsets = body, offsets
	w.index = extractIndex(w.resourceType, w.res.raw, sc.top, refs.rewrite)
	if w.result.Body == nil {
		w.result.Body = body
	}
	return nil
}

// insertWrites writes the rows of all ops: resources (insert or update),
// resource_versions, search_token and search_date (replacing the old
// values) and
// resource_blobs.
func (s *sqlStore) insertWrites(ctx context.Context, tx *sql.Tx, tenant string, ops []*writeOp, now time.Time) error {
	// Each slice holds the column values of its table's rows, row after
	// row, ready to bind. Sizing them up front saves regrowing large
	// slices of a big transaction.
	var tokenRows, dateRows int
	for _, w := range ops {
		for _, r := range w.index {
			if r.date {
				dateRows++
			} else {
				tokenRows++
			}
		}
	}
	resources := make([]any, 0, 7*len(ops))
	versions := make([]any, 0, 7*len(ops))
	tokens := make([]any, 0, 6*tokenRows)
	dates := make([]any, 0, 6*dateRows)
	var blobs, reindexed []any
	for _, w := range ops {
		if w.skip {
			continue
		}
		deleted := w.kind == opDelete
		var body []byte
		if !deleted {
			body = w.body
		}
		resources = append(resources, w.seq, tenant, w.resourceType, w.id, w.version, now.UnixMicro(), deleted)
		versions = append(versions, tenant, w.seq, w.version, now.UnixMicro(), deleted, body, len(w.offsets))
		if !w.isNew {
			reindexed = append(reindexed, w.seq)
		}
		for _, r := range w.index {
			if r.date {
				dates = append(dates, tenant, w.seq, r.param, r.lo, r.hi, w.resourceType)
			} else {
				tokens = append(tokens, tenant, w.seq, r.param, r.qualifier, r.value, w.resourceType)
			}
		}
		for i, b := range w.res.blobRefs() {
			blobs = append(blobs, tenant, w.seq, w.version, i, w.offsets[i], b.key, b.sha256, b.size)
		}
	}

	err := s.insertRows(ctx, tx, `INSERT INTO resources (seq, tenant, type, id, version_id, last_updated, deleted) VALUES `, 7, resources,
		` ON CONFLICT (seq) DO UPDATE SET version_id = excluded.version_id, last_updated = excluded.last_updated, deleted = excluded.deleted`)
	if err != nil {
		if sqldb.IsUniqueViolation(err) {
			return sdk.Errorf(sdk.CodeConflict, "write resources: another request created one of these ids at the same time: retry")
		}
		return fmt.Errorf("write resources: %w", err)
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO resource_versions (tenant, seq, version_id, last_updated, deleted, body, blob_count) VALUES `, 7, versions, ""); err != nil {
		return fmt.Errorf("write resource versions: %w", err)
	}
	if err := s.deleteIndex(ctx, tx, tenant, reindexed); err != nil {
		return fmt.Errorf("remove old search values: %w", err)
	}
	// Duplicate values (a name given twice) collapse into one row.
	if err := s.insertRows(ctx, tx, `INSERT INTO search_token (tenant, seq, param, qualifier, value, type) VALUES `, 6, tokens, " ON CONFLICT DO NOTHING"); err != nil {
		return fmt.Errorf("write search values: %w", err)
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO search_date (tenant, seq, param, lo, hi, type) VALUES `, 6, dates, " ON CONFLICT DO NOTHING"); err != nil {
		return fmt.Errorf("write search dates: %w", err)
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO resource_blobs (tenant, seq, version_id, ordinal, body_offset, storage_key, sha256, size) VALUES `, 8, blobs, ""); err != nil {
		return fmt.Errorf("write blob references: %w", err)
	}
	return nil
}

func (p *prepared) blobRefs() []blobRef {
	if p == nil {
		return nil
	}
	return p.blobs
}

// maxRowsPerInsert bounds one multi-row INSERT: well under SQLite's 32766
// bound parameters and PostgreSQL's 65535 at eight columns.
const maxRowsPerInsert = 500

// rowsPerStatement is the row count of the prepared multi-row INSERT that
// insertRows reuses within a transaction. Parsing one statement per chunk
// of a large transaction costs more than executing a prepared one again.
const rowsPerStatement = 64

// insertRows inserts rows with multi-row INSERT statements. values holds
// cols values per row, row after row. A prepared statement of
// rowsPerStatement rows runs as often as the rows fill it, then one
// statement takes the rest.
func (s *sqlStore) insertRows(ctx context.Context, tx *sql.Tx, prefix string, cols int, values []any, suffix string) error {
	chunk := rowsPerStatement * cols
	if full := len(values) / chunk; full > 1 {
		stmt, err := tx.PrepareContext(ctx, s.q(prefix+sqldb.Placeholders(rowsPerStatement, cols)+suffix))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for range full {
			if _, err := stmt.ExecContext(ctx, values[:chunk]...); err != nil {
				return err
			}
			values = values[chunk:]
		}
	}
	for len(values) > 0 {
		n := min(len(values), maxRowsPerInsert*cols)
		if _, err := tx.ExecContext(ctx, s.q(prefix+sqldb.Placeholders(n/cols, cols)+suffix), values[:n]...); err != nil {
			return err
		}
		values = values[n:]
	}
	return nil
}

func (s *sqlStore) deleteIndex(ctx context.Context, tx *sql.Tx, tenant string, seqs []any) error {
	for len(seqs) > 0 {
		n := min(len(seqs), maxRowsPerInsert)
		in := strings.TrimSuffix(strings.Repeat("?,", n), ",")
		args := append([]any{tenant}, seqs[:n]...)
		for _, table := range []string{"search_token", "search_date"} {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+table+` WHERE tenant = ? AND seq IN (`+in+`)`), args...); err != nil {
				return err
			}
		}
		seqs = seqs[n:]
	}
	return nil
}
