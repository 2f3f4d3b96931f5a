package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerifyNamesTamperedEvent(t *testing.T) {
	tests := []struct {
		name   string
		sql    string // run with the event ids of seq 1..5 available as args
		seq    int64  // where the chain must break
		idSeq  int64  // seq of the event the report must name; 0 for none
		reason string
	}{
		{"changed patient", `UPDATE audit_events SET patient = 'someone-else' WHERE tenant = 'acme' AND seq = 3`, 3, 3, "changed after it was written"},
		{"changed time", `UPDATE audit_events SET time = time + 1 WHERE tenant = 'acme' AND seq = 2`, 2, 2, "changed after it was written"},
		{"changed reasons json", `UPDATE audit_events SET reasons = '["other"]' WHERE tenant = 'acme' AND seq = 4`, 4, 4, "changed after it was written"},
		{"deleted middle event", `DELETE FROM audit_events WHERE tenant = 'acme' AND seq = 3`, 3, 4, "seq 3 is missing"},
		{"deleted first event", `DELETE FROM audit_events WHERE tenant = 'acme' AND seq = 1`, 1, 2, "seq 1 is missing"},
		{"deleted last event", `DELETE FROM audit_events WHERE tenant = 'acme' AND seq = 5`, 5, 5, "events were removed"},
		{"rehashed event", `UPDATE audit_events SET hash = 'ab' || substr(hash, 3) WHERE tenant = 'acme' AND seq = 2`, 2, 2, "changed after it was written"},
		{"changed break-glass reason", `UPDATE audit_events SET break_glass_reason = 'routine' WHERE tenant = 'acme' AND seq = 3`, 3, 3, "changed after it was written"},
		{"changed subject tenant", `UPDATE audit_events SET subject_tenant = 'acme' WHERE tenant = 'acme' AND seq = 4`, 4, 4, "changed after it was written"},
		{"changed roles", `UPDATE audit_events SET roles = '["admin"]' WHERE tenant = 'acme' AND seq = 2`, 2, 2, "changed after it was written"},
		{"changed policy revision", `UPDATE audit_events SET policy_revision = 'other' WHERE tenant = 'acme' AND seq = 5`, 5, 5, "changed after it was written"},
		{"downgraded format", `UPDATE audit_events SET format = 1 WHERE tenant = 'acme' AND seq = 2`, 2, 2, "changed after it was written"},
		{"forged checkpoint", `UPDATE audit_checkpoints SET signature = 'AAAA' WHERE tenant = 'acme'`, 1, 1, "signature"},
		{"removed head", `DELETE FROM audit_heads WHERE tenant = 'acme'`, 5, 5, "no head row"},
	}
	forEachBackend(t, func(t *testing.T, db testDB) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				key := newKey(t)
				l := openLog(t, db.cfg, key)
				ids := map[int64]string{}
				for i := range 5 {
					e := event("acme", "p1", i)
					e.SubjectTenant, e.BreakGlassReason = "south", "patient unconscious, history needed"
					e.Roles, e.PolicyRevision = []string{"clinician"}, "7341e3"
					r, err := l.Append(ctx, e)
					require.NoError(t, err)
					ids[r.Seq] = r.EventID
				}
				require.NoError(t, l.Checkpoint(ctx))
				_, err := l.Append(ctx, event("other", "p9", 9))
				require.NoError(t, err)

				pub := key.Public().(ed25519.PublicKey)
				report, err := l.Verify(ctx, "", pub)
				require.NoError(t, err)
				require.Nil(t, report.Broken, "the chain verifies before tampering")

				_, err = db.raw.ExecContext(ctx, tc.sql)
				require.NoError(t, err)

				report, err = l.Verify(ctx, "", pub)
				require.NoError(t, err)
				require.NotNil(t, report.Broken, "tampering must break the chain")
				assert.Equal(t, "acme", report.Broken.Tenant)
				assert.Equal(t, tc.seq, report.Broken.Seq)
				assert.Equal(t, ids[tc.idSeq], report.Broken.EventID)
				assert.Contains(t, report.Broken.Reason, tc.reason)

				// Clean the shared database for the next case.
				for _, table := range []string{"audit_events", "audit_heads", "audit_checkpoints"} {
					_, err = db.raw.ExecContext(ctx, `DELETE FROM `+table)
					require.NoError(t, err)
				}
			})
		}
	})
}

func TestRewrittenChainCaughtByCheckpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db.cfg, key)
		appendEvents(t, l, "acme", 0, 3)
		require.NoError(t, l.Checkpoint(ctx))

		// An attacker without the key deletes the whole chain and writes
		// a new, internally consistent one in its place.
		forger := openLog(t, db.cfg, newKey(t))
		for _, table := range []string{"audit_events", "audit_heads"} {
			_, err := db.raw.ExecContext(ctx, `DELETE FROM `+table)
			require.NoError(t, err)
		}
		appendEvents(t, forger, "acme", 100, 3)

		report, err := l.Verify(ctx, "acme", key.Public().(ed25519.PublicKey))
		require.NoError(t, err)
		require.NotNil(t, report.Broken)
		assert.Equal(t, int64(1), report.Broken.Seq)
		assert.Contains(t, report.Broken.Reason, "the chain was rewritten")
	})
}

func TestCanonicalFormIsStable(t *testing.T) {
	r := &audit.Record{
		Event: event("acme", "p1", 7),
		Seq:   42, PrevHash: "00ff",
	}
	r.ID = "e-1"
	r.Time = time.UnixMicro(1_700_000_000_123456)
	r.ModelID = "whisper-1"
	r.Level = audit.LevelHigh
	r.Review = true
	r.SubjectTenant = "south"
	r.BreakGlassReason = "coma"
	r.Roles = []string{"clinician", "nurse"}
	r.PolicyRevision = "7341e3"

	r.Format = 1
	want := "healthhub-audit-v1\n" +
		"4:acme,2:42,3:e-1,16:1700000000123456,5:req-7,8:dr-house,4:read,11:Observation,5:obs-7,2:p1," +
		"5:TREAT,5:dec-7,5:allow,27:23:role clinician may read,,42:38:8:mask_ssn,23:19:/identifier/0/value,,,," +
		"4:high,4:true," +
		"0:,0:,7:success,9:whisper-1,0:,4:00ff,"
	assert.Equal(t, want, string(audit.Canonical(r)), "version 1 leaves the later fields out")

	r.Format = 2
	want = "healthhub-audit-v2\n" +
		"4:acme,2:42,3:e-1,16:1700000000123456,5:req-7,8:dr-house,4:read,11:Observation,5:obs-7,2:p1," +
		"5:TREAT,5:dec-7,5:allow,27:23:role clinician may read,,42:38:8:mask_ssn,23:19:/identifier/0/value,,,," +
		"4:high,4:true,5:south,4:coma,20:9:clinician,5:nurse,,6:7341e3," +
		"0:,0:,7:success,9:whisper-1,0:,4:00ff,"
	assert.Equal(t, want, string(audit.Canonical(r)))

	r.Format = 3
	assert.Empty(t, audit.Canonical(r), "an unknown version has no canonical form")
}

// A chain written before version 2 of the canonical form keeps verifying,
// and new events extend it in version 2.
func TestVersionOneChainStillVerifies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db.cfg, key)
		appendEvents(t, l, "acme", 0, 2)

		// Rewrite both events as an earlier release wrote them: format 1,
		// hashed over the version 1 form, without checkpoints yet.
		page, err := l.Query(ctx, audit.Filter{Tenant: "acme"})
		require.NoError(t, err)
		require.Len(t, page.Records, 2)
		prev := strings.Repeat("0", 64)
		for _, r := range page.Records {
			r.Format, r.PrevHash = 1, prev
			sum := sha256.Sum256(audit.Canonical(&r))
			r.Hash = hex.EncodeToString(sum[:])
			_, err := db.raw.ExecContext(ctx, rebind(db, `UPDATE audit_events SET format = 1, prev_hash = ?, hash = ? WHERE tenant = 'acme' AND seq = ?`), r.PrevHash, r.Hash, r.Seq)
			require.NoError(t, err)
			prev = r.Hash
		}
		_, err = db.raw.ExecContext(ctx, rebind(db, `UPDATE audit_heads SET hash = ? WHERE tenant = 'acme'`), prev)
		require.NoError(t, err)
		_, err = db.raw.ExecContext(ctx, `DELETE FROM audit_checkpoints`)
		require.NoError(t, err)

		l2 := openLog(t, db.cfg, key)
		e := event("acme", "p1", 2)
		e.BreakGlassReason = "patient unconscious, history needed"
		_, err = l2.Append(ctx, e)
		require.NoError(t, err)
		require.NoError(t, l2.Checkpoint(ctx))

		report, err := l2.Verify(ctx, "acme", key.Public().(ed25519.PublicKey))
		require.NoError(t, err)
		assert.Nil(t, report.Broken)
		assert.Equal(t, int64(3), report.Events)
		page, err = l2.Query(ctx, audit.Filter{Tenant: "acme"})
		require.NoError(t, err)
		require.Len(t, page.Records, 3)
		assert.Equal(t, []int{1, 1, 2}, []int{page.Records[0].Format, page.Records[1].Format, page.Records[2].Format})
		assert.Equal(t, "patient unconscious, history needed", page.Records[2].BreakGlassReason)
	})
}

func rebind(db testDB, query string) string {
	if db.cfg.Driver != "postgres" {
		return query
	}
	n := 0
	return regexp.MustCompile(`\?`).ReplaceAllStringFunc(query, func(string) string {
		n++
		return "$" + strconv.Itoa(n)
	})
}

// Opening the trail for writing checks each chain's tail against its head
// and logs a changed or missing last event.
func TestOpenLogsTamperedTail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db.cfg, key)
		appendEvents(t, l, "acme", 0, 3)
		_, err := l.Append(ctx, event("globex", "p9", 9))
		require.NoError(t, err)
		require.NoError(t, l.Close())

		reopen := func() string {
			var logs strings.Builder
			reopened, err := audit.Open(ctx, db.cfg, audit.Options{Signer: key, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			require.NoError(t, err)
			require.NoError(t, reopened.Close())
			return logs.String()
		}
		assert.NotContains(t, reopen(), "level=ERROR", "an intact trail opens quietly")

		_, err = db.raw.ExecContext(ctx, `UPDATE audit_events SET patient = 'someone-else' WHERE tenant = 'acme' AND seq = 3`)
		require.NoError(t, err)
		logs := reopen()
		assert.Contains(t, logs, "audit chain tail was changed")
		assert.Contains(t, logs, "tenant=acme")
		assert.NotContains(t, logs, "tenant=globex")

		_, err = db.raw.ExecContext(ctx, `DELETE FROM audit_events WHERE tenant = 'acme' AND seq = 3`)
		require.NoError(t, err)
		assert.Contains(t, reopen(), "audit chain tail is missing")
	})
}

// appendEvents appends n events of tenant about patient p1, numbered from
// first.
func appendEvents(t *testing.T, l *audit.Log, tenant string, first, n int) {
	t.Helper()
	for i := range n {
		_, err := l.Append(context.Background(), event(tenant, "p1", first+i))
		require.NoError(t, err)
	}
}
