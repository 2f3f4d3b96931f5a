package audit

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
)

// Report is the result of Verify.
type Report struct {
	Tenants     int
	Events      int64
	Checkpoints int
	// Broken is the first broken link found, or nil when every chain
	// verifies.
	Broken *Break
}

// Break describes the first point where a chain fails verification.
type Break struct {
	Tenant string
	// Seq is the chain position that fails.
	Seq int64
	// EventID is the event at Seq, or, when that event is missing, the
	// nearest event that names the gap.
	EventID string
	Reason  string
}

func (b *Break) String() string {
	id := b.EventID
	if id == "" {
		id = "(unknown)"
	}
	return fmt.Sprintf("tenant %s, event %s at seq %d: %s", b.Tenant, id, b.Seq, b.Reason)
}

// Verify checks the chains of every tenant, or of one when tenant is not
// empty, and stops at the first broken link. For each chain it checks:
//
//   - seq runs from 1 without gaps;
//   - each event's prev_hash is the previous event's hash;
//   - each event's hash matches its canonical form;
//   - every checkpoint is signed by pub and matches the event at its seq;
//   - the chain ends where its head row and its checkpoints say.
//
// An error means the check could not run, not that the chain is broken.
func (l *Log) Verify(ctx context.Context, tenant string, pub ed25519.PublicKey) (*Report, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("verify audit chain: no public key: pass the hub's audit key")
	}
	tenants, err := l.chainTenants(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("verify audit chain: %w", err)
	}
	report := &Report{}
	for _, t := range tenants {
		report.Tenants++
		if err := l.verifyTenant(ctx, t, pub, report); err != nil {
			return nil, fmt.Errorf("verify audit chain of tenant %s: %w", t, err)
		}
		if report.Broken != nil {
			break
		}
	}
	return report, nil
}

// chainTenants lists the tenants that have a head, events or checkpoints,
// so that a chain whose head or events were removed is still checked.
func (l *Log) chainTenants(ctx context.Context, only string) ([]string, error) {
	seen := map[string]bool{}
	for _, table := range []string{"audit_heads", "audit_events", "audit_checkpoints"} {
		rows, err := l.db.Read.QueryContext(ctx, `SELECT DISTINCT tenant FROM `+table)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return nil, err
			}
			if only == "" || t == only {
				seen[t] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out, nil
}

type checkpoint struct {
	seq       int64
	hash      string
	time      int64
	signature string
}

func (l *Log) verifyTenant(ctx context.Context, tenant string, pub ed25519.PublicKey, report *Report) error {
	checkpoints, err := l.loadCheckpoints(ctx, tenant)
	if err != nil {
		return err
	}
	brk := func(seq int64, id, format string, args ...any) {
		report.Broken = &Break{Tenant: tenant, Seq: seq, EventID: id, Reason: fmt.Sprintf(format, args...)}
	}

	rows, err := l.db.Read.QueryContext(ctx, l.db.Rebind(`SELECT `+eventColumns+` FROM audit_events WHERE tenant = ? ORDER BY seq`), tenant)
	if err != nil {
		return err
	}
	defer rows.Close()
	last := Record{Event: Event{}, Hash: genesisHash}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return err
		}
		report.Events++
		switch {
		case r.Seq != last.Seq+1:
			brk(last.Seq+1, r.ID, "event at seq %d is missing: the next stored event is %s at seq %d", last.Seq+1, r.ID, r.Seq)
		case r.PrevHash != last.Hash:
			brk(r.Seq, r.ID, "prev_hash %s does not match the hash %s of seq %d", short(r.PrevHash), short(last.Hash), last.Seq)
		case hashRecord(&r) != r.Hash:
			brk(r.Seq, r.ID, "content does not match its hash: the event was changed after it was written")
		}
		if report.Broken == nil {
			if cp, ok := checkpoints[r.Seq]; ok {
				l.checkCheckpoint(tenant, cp, r.Hash, pub, report, brk, r.ID)
			}
		}
		if report.Broken != nil {
			return nil
		}
		last = r
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return l.checkTail(ctx, tenant, last, checkpoints, brk)
}

func (l *Log) checkCheckpoint(tenant string, cp checkpoint, hash string, pub ed25519.PublicKey, report *Report, brk func(int64, string, string, ...any), id string) {
	report.Checkpoints++
	sig, err := base64.StdEncoding.DecodeString(cp.signature)
	if err != nil || !ed25519.Verify(pub, checkpointMessage(tenant, cp.seq, cp.hash, cp.time), sig) {
		brk(cp.seq, id, "checkpoint signature does not verify with the given key")
		return
	}
	if cp.hash != hash {
		brk(cp.seq, id, "signed checkpoint records hash %s, the event's hash is %s: the chain was rewritten", short(cp.hash), short(hash))
	}
}

// checkTail compares the end of the stored chain with its head row and its
// checkpoints, which catches events removed from the end.
func (l *Log) checkTail(ctx context.Context, tenant string, last Record, checkpoints map[int64]checkpoint, brk func(int64, string, string, ...any)) error {
	var headSeq int64
	var headHash, headID string
	err := l.db.Read.QueryRowContext(ctx, l.db.Rebind(`SELECT seq, hash, event_id FROM audit_heads WHERE tenant = ?`), tenant).Scan(&headSeq, &headHash, &headID)
	hasHead := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	// The head names the last event, so it names the missing one when
	// only the last event was removed.
	missingID := ""
	if hasHead && headSeq == last.Seq+1 {
		missingID = headID
	}

	var beyond int64
	for seq := range checkpoints {
		if seq > last.Seq && (beyond == 0 || seq < beyond) {
			beyond = seq
		}
	}
	switch {
	case beyond > 0:
		brk(last.Seq+1, missingID, "a signed checkpoint covers seq %d, but the chain ends at seq %d: events were removed", beyond, last.Seq)
	case !hasHead && last.Seq > 0:
		brk(last.Seq, last.ID, "the chain has no head row: it was removed")
	case !hasHead:
	case headSeq > last.Seq:
		brk(last.Seq+1, missingID, "the chain head records event %s at seq %d, but the chain ends at seq %d: events were removed", headID, headSeq, last.Seq)
	case headSeq < last.Seq || headHash != last.Hash:
		brk(last.Seq, last.ID, "the chain head records seq %d with hash %s, which does not match the last event", headSeq, short(headHash))
	}
	return nil
}

func (l *Log) loadCheckpoints(ctx context.Context, tenant string) (map[int64]checkpoint, error) {
	rows, err := l.db.Read.QueryContext(ctx, l.db.Rebind(`SELECT seq, hash, time, signature FROM audit_checkpoints WHERE tenant = ?`), tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]checkpoint{}
	for rows.Next() {
		var cp checkpoint
		if err := rows.Scan(&cp.seq, &cp.hash, &cp.time, &cp.signature); err != nil {
			return nil, err
		}
		out[cp.seq] = cp
	}
	return out, rows.Err()
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12] + "…"
	}
	return hash
}

// checkTails logs each chain whose last event does not match its head row.
// It is the cheap part of Verify, run when a writer opens the trail. The
// trail stays writable, and hub audit verify names the first broken event.
func (l *Log) checkTails(ctx context.Context) {
	rows, err := l.db.Read.QueryContext(ctx, `SELECT tenant, seq, hash FROM audit_heads`)
	if err != nil {
		l.log.ErrorContext(ctx, "audit tail check failed", "error", err)
		return
	}
	type headRow struct {
		tenant, hash string
		seq          int64
	}
	var heads []headRow
	for rows.Next() {
		var h headRow
		if err := rows.Scan(&h.tenant, &h.seq, &h.hash); err != nil {
			rows.Close()
			l.log.ErrorContext(ctx, "audit tail check failed", "error", err)
			return
		}
		heads = append(heads, h)
	}
	rows.Close()
	for _, h := range heads {
		last, err := l.db.Read.QueryContext(ctx, l.db.Rebind(`SELECT `+eventColumns+` FROM audit_events WHERE tenant = ? AND seq = ?`), h.tenant, h.seq)
		if err != nil {
			l.log.ErrorContext(ctx, "audit tail check failed", "tenant", h.tenant, "error", err)
			continue
		}
		records, err := scanRecords(last)
		switch {
		case err != nil:
			l.log.ErrorContext(ctx, "audit tail check failed", "tenant", h.tenant, "error", err)
		case len(records) == 0:
			l.log.ErrorContext(ctx, "audit chain tail is missing: the head names an event that is not stored; run hub audit verify", "tenant", h.tenant, "seq", h.seq)
		case records[0].Hash != h.hash || hashRecord(&records[0]) != h.hash:
			l.log.ErrorContext(ctx, "audit chain tail was changed: the last event does not match the head; run hub audit verify", "tenant", h.tenant, "seq", h.seq)
		}
	}
}
