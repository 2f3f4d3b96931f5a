package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

// clause is one SQL condition with its arguments.
type clause struct {
	sql  string
	args []any
	// scoped marks a condition whose SQL starts with the tenant and type
	// placeholders of indexSubquery, which where fills in before args.
	scoped bool
}

// searchSpec is a parsed search request.
type searchSpec struct {
	resourceType string
	clauses      []clause
	sortExpr     string // SQL expression of the sort key; "0" when unsorted
	sortDesc     bool
	count        int
	cursor       *cursorState
	fingerprint  string
}

// cursorState is the position after the last row of a page.
type cursorState struct {
	Key         int64  `json:"k"`
	Seq         int64  `json:"s"`
	Fingerprint string `json:"f"`
}

// resultParams are the parameters that shape the page rather than select
// resources.
var resultParams = map[string]bool{"_count": true, "_sort": true, "_cursor": true}

func (s *sqlStore) Search(ctx context.Context, tenant, resourceType string, params url.Values) (*SearchPage, error) {
	op := "search " + resourceType
	if err := checkTenant(op, tenant); err != nil {
		return nil, err
	}
	if err := checkType(op, resourceType); err != nil {
		return nil, err
	}
	spec, err := s.parseSearch(op, resourceType, params)
	if err != nil {
		return nil, err
	}
	return s.runSearch(ctx, s.db.Read, op, tenant, spec)
}

func (s *sqlStore) parseSearch(op, resourceType string, params url.Values) (*searchSpec, error) {
	spec := &searchSpec{resourceType: resourceType, sortExpr: "0"}
	supported := paramsFor(resourceType)
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, key := range names {
		name, modifier, _ := strings.Cut(key, ":")
		if resultParams[name] {
			continue
		}
		for _, value := range params[key] {
			c, err := searchClause(resourceType, name, modifier, value, supported)
			if err != nil {
				return nil, s.paramError(op, key, value, err, supported)
			}
			spec.clauses = append(spec.clauses, c)
		}
	}
	spec.fingerprint = fingerprint(params)
	if err := s.parseResultParams(op, spec, params, supported); err != nil {
		return nil, err
	}
	return spec, nil
}

func (s *sqlStore) paramError(op, key, value string, cause error, supported map[string]paramKind) error {
	msg := fmt.Sprintf("%s: parameter %s=%q: %v", op, key, value, cause)
	if errors.Is(cause, errUnknownParam) {
		msg += "; supported: " + strings.Join(sortedParamNames(supported), ", ")
	}
	return sdk.Invalidf("", "%s", msg)
}

func (s *sqlStore) parseResultParams(op string, spec *searchSpec, params url.Values, supported map[string]paramKind) error {
	count := 0
	if v := params.Get("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return sdk.Invalidf("", "%s: invalid _count %q: use a number from 1 to %d", op, v, s.set.maxCount)
		}
		count = n
	}
	var err error
	if spec.count, err = s.pageSize(op, count); err != nil {
		return err
	}

	if v := params.Get("_sort"); v != "" {
		if err := spec.setSort(v, supported); err != nil {
			return sdk.Invalidf("", "%s: _sort=%q: %v", op, v, err)
		}
	}

	if v := params.Get("_cursor"); v != "" {
		c, err := decodeCursor(v)
		if err != nil || c.Fingerprint != spec.fingerprint {
			return sdk.Invalidf("", "%s: invalid _cursor: pass back the Next value of a page, with the same search parameters", op)
		}
		spec.cursor = c
	}
	return nil
}

// setSort supports one sort key: _lastUpdated or a date parameter of the
// type, with "-" for descending order. Resources without a value sort last.
func (spec *searchSpec) setSort(value string, supported map[string]paramKind) error {
	if strings.Contains(value, ",") {
		return fmt.Errorf("sorting by several keys is not supported: give one")
	}
	name := strings.TrimPrefix(value, "-")
	spec.sortDesc = strings.HasPrefix(value, "-")
	if name == "_lastUpdated" {
		spec.sortExpr = "r.last_updated"
		return nil
	}
	if supported[name] != kindDate {
		return fmt.Errorf("cannot sort by %q: sort by _lastUpdated or a date parameter of this type", name)
	}
	// name comes from the fixed parameter list, so it is safe to inline.
	if spec.sortDesc {
		spec.sortExpr = fmt.Sprintf("COALESCE((SELECT MAX(x.hi) FROM search_date x WHERE x.tenant = r.tenant AND x.seq = r.seq AND x.param = '%s'), %d)", name, minMicros)
	} else {
		spec.sortExpr = fmt.Sprintf("COALESCE((SELECT MIN(x.lo) FROM search_date x WHERE x.tenant = r.tenant AND x.seq = r.seq AND x.param = '%s'), %d)", name, maxMicros)
	}
	return nil
}

// fingerprint identifies the selecting parameters, so that a cursor is not
// reused with another search.
func fingerprint(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "_cursor" && k != "_count" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		fmt.Fprintf(h, "%q=%q;", k, vs)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func decodeCursor(s string) (*cursorState, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	var c cursorState
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func encodeCursor(c cursorState) string {
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// where builds the SQL filter of the search, without paging.
func (spec *searchSpec) where(tenant string) (string, []any) {
	var b strings.Builder
	b.WriteString("r.tenant = ? AND r.type = ? AND r.deleted = ?")
	args := []any{tenant, spec.resourceType, false}
	for _, c := range spec.clauses {
		b.WriteString(" AND ")
		b.WriteString(c.sql)
		if c.scoped {
			args = append(args, tenant, spec.resourceType)
		}
		args = append(args, c.args...)
	}
	return b.String(), args
}

// runSearch runs a parsed search through db: the read pool, or a
// transaction whose own writes the search must see.
func (s *sqlStore) runSearch(ctx context.Context, db queryer, op, tenant string, spec *searchSpec) (*SearchPage, error) {
	where, args := spec.where(tenant)
	order, cmp := "ASC", ">"
	if spec.sortDesc {
		order, cmp = "DESC", "<"
	}
	keyset := "1 = 1"
	if spec.cursor != nil {
		keyset = "(sort_key " + cmp + " ? OR (sort_key = ? AND seq > ?))"
	}
	query := `SELECT seq, id, version_id, last_updated, deleted, body, blob_count, sort_key FROM (
		SELECT r.seq AS seq, r.id AS id, v.version_id AS version_id, v.last_updated AS last_updated, v.deleted AS deleted,
			v.body AS body, v.blob_count AS blob_count, ` + spec.sortExpr + ` AS sort_key
		FROM resources r JOIN resource_versions v ON v.tenant = r.tenant AND v.seq = r.seq AND v.version_id = r.version_id
		WHERE ` + where + `) page
		WHERE ` + keyset + ` ORDER BY sort_key ` + order + `, seq LIMIT ?`
	if spec.cursor != nil {
		args = append(args, spec.cursor.Key, spec.cursor.Key, spec.cursor.Seq)
	}
	args = append(args, spec.count+1)

	rows, err := db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	type hit struct {
		id  string
		v   versionRow
		key int64
	}
	var hits []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.v.seq, &h.id, &h.v.version, &h.v.lastUpdated, &h.v.deleted, &h.v.body, &h.v.blobCount, &h.key); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}

	page := &SearchPage{}
	if len(hits) > spec.count {
		hits = hits[:spec.count]
		last := hits[len(hits)-1]
		page.Next = encodeCursor(cursorState{Key: last.key, Seq: last.v.seq, Fingerprint: spec.fingerprint})
	}
	for _, h := range hits {
		res, err := s.resource(ctx, db, tenant, spec.resourceType, h.id, h.v)
		if err != nil {
			return nil, err
		}
		page.Resources = append(page.Resources, res)
	}
	return page, nil
}

// matchIDs returns the ids of up to limit resources that match params,
// reading through db (a transaction, for conditional references and
// creates).
func (s *sqlStore) matchIDs(ctx context.Context, db queryer, tenant, resourceType string, params url.Values, limit int) ([]string, error) {
	op := "search " + resourceType
	for name := range params {
		if resultParams[name] {
			return nil, sdk.Invalidf("", "%s: %s has no meaning in a conditional reference or create: remove it", op, name)
		}
	}
	spec, err := s.parseSearch(op, resourceType, params)
	if err != nil {
		return nil, err
	}
	where, args := spec.where(tenant)
	rows, err := db.QueryContext(ctx, s.q(`SELECT r.id FROM resources r WHERE `+where+` ORDER BY r.seq LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
