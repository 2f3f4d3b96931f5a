package audit

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/healthhub/healthhub/core/internal/sqldb"
)

// head is a tenant's chain head row.
type head struct {
	seq            int64
	hash           string
	checkpointSeq  int64
	checkpointTime int64
}

// eventColumns are the audit_events columns in insert order.
const eventColumns = `tenant, seq, event_id, time, request_id, subject, action, resource_type, resource_id, patient,
	purpose_of_use, decision_id, decision, reasons, obligations, level, review, provider, provider_version, outcome,
	model_id, payload_sha256, prev_hash, hash, subject_tenant, break_glass_reason, roles, policy_revision, format`

const eventColumnCount = 29

// commit appends a batch in one transaction. Tenants are locked in sorted
// order, so that two writers with overlapping batches cannot deadlock.
func (l *Log) commit(ctx context.Context, batch []*appendRequest) error {
	byTenant := map[string][]*Record{}
	var tenants []string
	for _, req := range batch {
		t := req.record.Tenant
		if _, ok := byTenant[t]; !ok {
			tenants = append(tenants, t)
		}
		byTenant[t] = append(byTenant[t], &req.record)
	}
	sort.Strings(tenants)

	return l.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, t := range tenants {
			if err := l.extendChain(ctx, tx, t, byTenant[t]); err != nil {
				return fmt.Errorf("append to audit chain of tenant %s: %w", t, err)
			}
		}
		return nil
	})
}

// lockHead returns the tenant's chain head, creating it for a new tenant,
// and locks it until the transaction ends (FOR UPDATE on PostgreSQL; the
// database write lock on SQLite).
func (l *Log) lockHead(ctx context.Context, tx *sql.Tx, tenant string) (head, error) {
	var h head
	selectHead := l.selectHeadQuery()
	err := l.exec(ctx, tx, selectHead, func(stmt *sql.Stmt) error {
		return stmt.QueryRowContext(ctx, tenant).Scan(&h.seq, &h.hash, &h.checkpointSeq, &h.checkpointTime)
	})
	if !errors.Is(err, sql.ErrNoRows) {
		return h, err
	}

	// A new tenant: another writer may create the head at the same time,
	// so insert without failing, then lock whichever row won.
	_, err = tx.ExecContext(ctx, l.db.Rebind(`INSERT INTO audit_heads (tenant, seq, hash, event_id, checkpoint_seq, checkpoint_time)
		VALUES (?, 0, ?, '', 0, 0) ON CONFLICT (tenant) DO NOTHING`), tenant, genesisHash)
	if err != nil {
		return head{}, err
	}
	err = tx.QueryRowContext(ctx, selectHead, tenant).Scan(&h.seq, &h.hash, &h.checkpointSeq, &h.checkpointTime)
	return h, err
}

func (l *Log) selectHeadQuery() string {
	return l.db.Rebind(`SELECT seq, hash, checkpoint_seq, checkpoint_time FROM audit_heads WHERE tenant = ?` + l.db.ForUpdate())
}

func (l *Log) updateHeadQuery() string {
	return l.db.Rebind(`UPDATE audit_heads SET seq = ?, hash = ?, event_id = ?, checkpoint_seq = ?, checkpoint_time = ? WHERE tenant = ?`)
}

func (l *Log) insertEventsQuery(n int) string {
	return l.db.Rebind(`INSERT INTO audit_events (` + eventColumns + `) VALUES ` + sqldb.Placeholders(n, eventColumnCount))
}

// exec runs fn with the statement for query: a cached prepared statement on
// SQLite, whose single write connection keeps it. On PostgreSQL pgx already
// caches prepared statements per connection, so the query runs as is.
func (l *Log) exec(ctx context.Context, tx *sql.Tx, query string, fn func(*sql.Stmt) error) error {
	if l.stmts == nil {
		stmt, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer stmt.Close()
		return fn(stmt)
	}
	stmt, err := l.stmts.InTx(ctx, tx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	return fn(stmt)
}

func (l *Log) extendChain(ctx context.Context, tx *sql.Tx, tenant string, records []*Record) error {
	h, err := l.lockHead(ctx, tx, tenant)
	if err != nil {
		return err
	}
	args := make([]any, 0, len(records)*eventColumnCount)
	for _, r := range records {
		h.seq++
		r.Seq, r.PrevHash, r.Format = h.seq, h.hash, canonicalFormat
		r.Hash = hashRecord(r)
		h.hash = r.Hash
		row, err := eventRow(r)
		if err != nil {
			return err
		}
		args = append(args, row...)
	}
	query := l.insertEventsQuery(len(records))
	if len(records) == 1 {
		// The common case under light load: a batch of one, whose
		// statement is worth keeping prepared.
		err = l.exec(ctx, tx, query, func(stmt *sql.Stmt) error {
			_, err := stmt.ExecContext(ctx, args...)
			return err
		})
	} else {
		_, err = tx.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return err
	}

	now := l.now().UnixMicro()
	due := h.seq-h.checkpointSeq >= l.set.checkpointEvery || now-h.checkpointTime >= l.set.checkpointInterval.Microseconds()
	if due {
		if err := l.signCheckpoint(ctx, tx, tenant, h.seq, h.hash, now); err != nil {
			return err
		}
		h.checkpointSeq, h.checkpointTime = h.seq, now
	}
	last := records[len(records)-1]
	return l.exec(ctx, tx, l.updateHeadQuery(), func(stmt *sql.Stmt) error {
		_, err := stmt.ExecContext(ctx, h.seq, h.hash, last.ID, h.checkpointSeq, h.checkpointTime, tenant)
		return err
	})
}

func eventRow(r *Record) ([]any, error) {
	reasons, err := json.Marshal(nonNil(r.Reasons))
	if err != nil {
		return nil, err
	}
	obligations := r.Obligations
	if obligations == nil {
		obligations = []Obligation{}
	}
	obligationsJSON, err := json.Marshal(obligations)
	if err != nil {
		return nil, err
	}
	roles, err := json.Marshal(nonNil(r.Roles))
	if err != nil {
		return nil, err
	}
	return []any{r.Tenant, r.Seq, r.ID, r.Time.UnixMicro(), r.RequestID, r.Subject, r.Action, r.ResourceType, r.ResourceID, r.Patient,
		r.PurposeOfUse, r.DecisionID, string(r.Decision), string(reasons), string(obligationsJSON), r.Level, r.Review,
		r.Provider, r.ProviderVersion, r.Outcome, r.ModelID, r.PayloadSHA256, r.PrevHash, r.Hash,
		r.SubjectTenant, r.BreakGlassReason, string(roles), r.PolicyRevision, r.Format}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (l *Log) signCheckpoint(ctx context.Context, tx *sql.Tx, tenant string, seq int64, hash string, now int64) error {
	signature := ed25519.Sign(l.signer, checkpointMessage(tenant, seq, hash, now))
	_, err := tx.ExecContext(ctx, l.db.Rebind(`INSERT INTO audit_checkpoints (tenant, seq, hash, time, key_id, signature)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, seq) DO NOTHING`),
		tenant, seq, hash, now, l.keyID, base64.StdEncoding.EncodeToString(signature))
	if err != nil {
		return fmt.Errorf("sign checkpoint at seq %d: %w", seq, err)
	}
	return nil
}

// Checkpoint signs a checkpoint at the head of every chain that has events
// after its last checkpoint. Close calls it; a daemon may also call it on
// a timer so that quiet tenants are covered too.
func (l *Log) Checkpoint(ctx context.Context) error {
	if l.signer == nil {
		return fmt.Errorf("sign audit checkpoints: the audit log is open read-only")
	}
	rows, err := l.db.Read.QueryContext(ctx, `SELECT tenant FROM audit_heads WHERE seq > checkpoint_seq ORDER BY tenant`)
	if err != nil {
		return fmt.Errorf("sign audit checkpoints: %w", err)
	}
	var tenants []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return fmt.Errorf("sign audit checkpoints: %w", err)
		}
		tenants = append(tenants, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sign audit checkpoints: %w", err)
	}

	for _, tenant := range tenants {
		err := l.db.InTx(ctx, func(tx *sql.Tx) error {
			h, err := l.lockHead(ctx, tx, tenant)
			if err != nil || h.seq == h.checkpointSeq {
				return err
			}
			now := l.now().UnixMicro()
			if err := l.signCheckpoint(ctx, tx, tenant, h.seq, h.hash, now); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, l.db.Rebind(`UPDATE audit_heads SET checkpoint_seq = ?, checkpoint_time = ? WHERE tenant = ?`), h.seq, now, tenant)
			return err
		})
		if err != nil {
			return fmt.Errorf("sign audit checkpoint of tenant %s: %w", tenant, err)
		}
	}
	return nil
}
