package audit

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// Filter selects events. Empty fields select everything.
type Filter struct {
	// Tenant restricts the events to one tenant. Request handlers always
	// set it; operator tools may leave it empty to read every tenant.
	Tenant  string
	Patient string
	Subject string
	// Review selects only the events flagged for review.
	Review bool
	// Level selects only the events of this audit level (LevelStandard or
	// LevelHigh), such as every break-glass request, granted or not.
	Level string
	// Since and Until bound the event time as [Since, Until).
	Since time.Time
	Until time.Time
	// Limit is the page size: 0 means 100; at most 1000.
	Limit int
	// Cursor continues from Page.Next.
	Cursor string
}

// Page is one page of events in chain order (tenant, then seq).
type Page struct {
	Records []Record
	// Next continues the listing; empty on the last page.
	Next string
}

const (
	defaultLimit = 100
	maxLimit     = 1000
)

// Query returns one page of the events that match f.
func (l *Log) Query(ctx context.Context, f Filter) (*Page, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = defaultLimit
	case limit < 0:
		return nil, sdk.Invalidf("", "query audit events: invalid limit %d: use 1 to %d", limit, maxLimit)
	}
	limit = min(limit, maxLimit)

	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.Tenant != "" {
		add("tenant = ?", f.Tenant)
	}
	if f.Patient != "" {
		add("patient = ?", f.Patient)
	}
	if f.Subject != "" {
		add("subject = ?", f.Subject)
	}
	if f.Review {
		// A bare column, so that the partial index on review applies.
		where = append(where, "review")
	}
	if f.Level != "" {
		add("level = ?", f.Level)
	}
	if !f.Since.IsZero() {
		add("time >= ?", f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		add("time < ?", f.Until.UnixMicro())
	}
	if f.Cursor != "" {
		tenant, seq, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, sdk.Invalidf("", "query audit events: invalid cursor: pass back the Next value of the previous page")
		}
		where = append(where, "(tenant > ? OR (tenant = ? AND seq > ?))")
		args = append(args, tenant, tenant, seq)
	}

	query := `SELECT ` + eventColumns + ` FROM audit_events WHERE ` + strings.Join(where, " AND ") + ` ORDER BY tenant, seq LIMIT ?`
	rows, err := l.db.Read.QueryContext(ctx, l.db.Rebind(query), append(args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("query audit events: %w", err)
	}
	records, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("query audit events: %w", err)
	}
	page := &Page{Records: records}
	if len(records) > limit {
		page.Records = records[:limit]
		last := page.Records[limit-1]
		page.Next = encodeCursor(last.Tenant, last.Seq)
	}
	return page, nil
}

func encodeCursor(tenant string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tenant + "\n" + strconv.FormatInt(seq, 10)))
}

func decodeCursor(c string) (string, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", 0, err
	}
	tenant, seqText, ok := strings.Cut(string(raw), "\n")
	if !ok {
		return "", 0, fmt.Errorf("malformed cursor")
	}
	seq, err := strconv.ParseInt(seqText, 10, 64)
	return tenant, seq, err
}

// scanRecords reads audit_events rows selected with eventColumns.
func scanRecords(rows *sql.Rows) ([]Record, error) {
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func scanRecord(rows *sql.Rows) (Record, error) {
	var r Record
	var micros int64
	var decision, reasons, obligations, roles string
	err := rows.Scan(&r.Tenant, &r.Seq, &r.ID, &micros, &r.RequestID, &r.Subject, &r.Action, &r.ResourceType, &r.ResourceID, &r.Patient,
		&r.PurposeOfUse, &r.DecisionID, &decision, &reasons, &obligations, &r.Level, &r.Review, &r.Provider, &r.ProviderVersion,
		&r.Outcome, &r.ModelID, &r.PayloadSHA256, &r.PrevHash, &r.Hash, &r.SubjectTenant, &r.BreakGlassReason, &roles, &r.PolicyRevision, &r.Format)
	if err != nil {
		return r, err
	}
	r.Time = time.UnixMicro(micros).UTC()
	r.Decision = Decision(decision)
	// A row whose lists do not parse keeps them empty; its hash then no
	// longer matches, and Verify reports the row.
	if json.Unmarshal([]byte(reasons), &r.Reasons) != nil || len(r.Reasons) == 0 {
		r.Reasons = nil
	}
	if json.Unmarshal([]byte(obligations), &r.Obligations) != nil || len(r.Obligations) == 0 {
		r.Obligations = nil
	}
	if json.Unmarshal([]byte(roles), &r.Roles) != nil || len(r.Roles) == 0 {
		r.Roles = nil
	}
	return r, nil
}
