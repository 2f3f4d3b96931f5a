package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/internal/sqldb"
	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testDB is one private database for a test, on one backend.
type testDB struct {
	cfg audit.Config
	raw *sql.DB // a separate connection for tampering
}

func newTestDB(t *testing.T, b dbtest.Backend) testDB {
	t.Helper()
	o := dbtest.Options(t, b)
	cfg := audit.Config{Path: o.Path}
	driver, dsn := "sqlite", o.Path
	if b.Dialect == sqldb.Postgres {
		cfg = audit.Config{Driver: "postgres", URL: o.URL}
		driver, dsn = "pgx", o.URL
	}
	raw, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { raw.Close() })
	return testDB{cfg: cfg, raw: raw}
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return key
}

func openLog(t *testing.T, cfg audit.Config, key ed25519.PrivateKey) *audit.Log {
	t.Helper()
	l, err := audit.Open(context.Background(), cfg, audit.Options{Signer: key})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

func event(tenant, patient string, i int) audit.Event {
	return audit.Event{
		RequestID:    fmt.Sprintf("req-%d", i),
		Subject:      "dr-house",
		Tenant:       tenant,
		Action:       "read",
		ResourceType: "Observation",
		ResourceID:   fmt.Sprintf("obs-%d", i),
		Patient:      patient,
		PurposeOfUse: "TREAT",
		DecisionID:   fmt.Sprintf("dec-%d", i),
		Decision:     audit.Allow,
		Reasons:      []string{"role clinician may read"},
		Obligations:  []audit.Obligation{{Rule: "mask_ssn", Fields: []string{"/identifier/0/value"}}},
		Outcome:      "success",
	}
}

func forEachBackend(t *testing.T, fn func(t *testing.T, db testDB)) {
	for _, b := range dbtest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, newTestDB(t, b)) })
	}
}

func TestAppendQueryVerify(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db.cfg, key)

		var receipts []audit.Receipt
		for i := range 10 {
			tenant, patient := "acme", "p1"
			if i%2 == 1 {
				tenant, patient = "globex", "p2"
			}
			r, err := l.Append(ctx, event(tenant, patient, i))
			require.NoError(t, err)
			receipts = append(receipts, r)
		}
		assert.Equal(t, int64(1), receipts[0].Seq)
		assert.Equal(t, int64(1), receipts[1].Seq, "each tenant has its own chain")
		assert.Equal(t, int64(5), receipts[8].Seq)
		assert.Len(t, receipts[0].Hash, 64)

		page, err := l.Query(ctx, audit.Filter{Tenant: "acme", Patient: "p1"})
		require.NoError(t, err)
		require.Len(t, page.Records, 5)
		assert.Equal(t, receipts[0].EventID, page.Records[0].ID)
		assert.Equal(t, []string{"role clinician may read"}, page.Records[0].Reasons)
		assert.Equal(t, "/identifier/0/value", page.Records[0].Obligations[0].Fields[0])

		page, err = l.Query(ctx, audit.Filter{Tenant: "acme", Patient: "p2"})
		require.NoError(t, err)
		assert.Empty(t, page.Records, "p2's events are in another tenant")

		var all []audit.Record
		filter := audit.Filter{Limit: 3}
		for {
			page, err := l.Query(ctx, filter)
			require.NoError(t, err)
			all = append(all, page.Records...)
			if page.Next == "" {
				break
			}
			filter.Cursor = page.Next
		}
		assert.Len(t, all, 10)

		page, err = l.Query(ctx, audit.Filter{Tenant: "acme", Since: time.Now().Add(time.Hour)})
		require.NoError(t, err)
		assert.Empty(t, page.Records)

		require.NoError(t, l.Checkpoint(ctx))
		report, err := l.Verify(ctx, "", key.Public().(ed25519.PublicKey))
		require.NoError(t, err)
		assert.Nil(t, report.Broken)
		assert.Equal(t, 2, report.Tenants)
		assert.Equal(t, int64(10), report.Events)
		assert.GreaterOrEqual(t, report.Checkpoints, 2)

		_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
		report, err = l.Verify(ctx, "acme", otherKey.Public().(ed25519.PublicKey))
		require.NoError(t, err)
		require.NotNil(t, report.Broken, "checkpoints signed by another key must not verify")
		assert.Contains(t, report.Broken.Reason, "signature")
	})
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		key := newKey(t)
		// Two logs on one database stand for two hub processes.
		logs := []*audit.Log{openLog(t, db.cfg, key), openLog(t, db.cfg, key)}

		const writers, perWriter = 32, 20
		seqs := make(chan int64, writers*perWriter)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := logs[w%2]
				for i := range perWriter {
					r, err := l.Append(ctx, event("acme", "p1", w*perWriter+i))
					if !assert.NoError(t, err) {
						return
					}
					seqs <- r.Seq
				}
			}()
		}
		wg.Wait()
		close(seqs)

		seen := map[int64]bool{}
		for s := range seqs {
			assert.False(t, seen[s], "seq %d given twice", s)
			seen[s] = true
		}
		assert.Len(t, seen, writers*perWriter)
		for s := int64(1); s <= writers*perWriter; s++ {
			assert.True(t, seen[s], "seq %d missing", s)
		}

		report, err := logs[0].Verify(ctx, "acme", key.Public().(ed25519.PublicKey))
		require.NoError(t, err)
		assert.Nil(t, report.Broken)
		assert.Equal(t, int64(writers*perWriter), report.Events)
	})
}

func TestAppendRejectsInvalidEvents(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*audit.Event)
		path   string
	}{
		{"bad tenant", func(e *audit.Event) { e.Tenant = "a/b" }, "/tenant"},
		{"no action", func(e *audit.Event) { e.Action = "" }, "/action"},
		{"bad decision", func(e *audit.Event) { e.Decision = "maybe" }, "/decision"},
		{"no outcome", func(e *audit.Event) { e.Outcome = "" }, "/outcome"},
		{"unknown level", func(e *audit.Event) { e.Level = "urgent" }, "/level"},
		{"payload not hashed", func(e *audit.Event) { e.PayloadSHA256 = "the note text" }, "/payload_sha256"},
		{"oversized field", func(e *audit.Event) { e.Reasons = []string{string(make([]byte, 2000))} }, "/reasons/0"},
	}
	db := newTestDB(t, dbtest.Backends[0])
	l := openLog(t, db.cfg, newKey(t))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := event("acme", "p1", 1)
			tc.modify(&e)
			_, err := l.Append(context.Background(), e)
			require.Error(t, err)
			assert.True(t, errors.Is(err, sdk.ErrInvalid), "got %v", err)
			assert.Equal(t, tc.path, sdk.AsOutcome(err).Issues[0].Path)
		})
	}
}

func TestQueryEventsFlaggedForReview(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db.cfg, key)
		_, err := l.Append(ctx, event("acme", "p1", 1))
		require.NoError(t, err)
		flagged := event("acme", "p1", 2)
		flagged.Level, flagged.Review = audit.LevelHigh, true
		_, err = l.Append(ctx, flagged)
		require.NoError(t, err)

		page, err := l.Query(ctx, audit.Filter{Tenant: "acme"})
		require.NoError(t, err)
		require.Len(t, page.Records, 2)
		assert.Equal(t, audit.LevelStandard, page.Records[0].Level, "an event without a level is standard")
		assert.False(t, page.Records[0].Review)

		page, err = l.Query(ctx, audit.Filter{Tenant: "acme", Review: true})
		require.NoError(t, err)
		require.Len(t, page.Records, 1)
		assert.Equal(t, "req-2", page.Records[0].RequestID)
		assert.Equal(t, audit.LevelHigh, page.Records[0].Level)
		assert.True(t, page.Records[0].Review)

		_, err = db.raw.ExecContext(ctx, `UPDATE audit_events SET review = false WHERE seq = 2`)
		require.NoError(t, err)
		report, err := l.Verify(ctx, "acme", key.Public().(ed25519.PublicKey))
		require.NoError(t, err)
		require.NotNil(t, report.Broken, "clearing the review flag breaks the chain")
		assert.Equal(t, int64(2), report.Broken.Seq)
	})
}

func TestAppendFailsClosed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		l := openLog(t, db.cfg, newKey(t))
		_, err := l.Append(ctx, event("acme", "p1", 1))
		require.NoError(t, err)

		_, err = db.raw.ExecContext(ctx, `DROP TABLE audit_events`)
		require.NoError(t, err)

		_, err = l.Append(ctx, event("acme", "p1", 2))
		require.Error(t, err, "an append that cannot be written must fail")
	})
}

func TestAppendAfterCloseAndReadOnly(t *testing.T) {
	db := newTestDB(t, dbtest.Backends[0])
	l, err := audit.Open(context.Background(), db.cfg, audit.Options{Signer: newKey(t)})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	_, err = l.Append(context.Background(), event("acme", "p1", 1))
	assert.True(t, errors.Is(err, audit.ErrClosed), "got %v", err)

	ro, err := audit.Open(context.Background(), db.cfg, audit.Options{})
	require.NoError(t, err)
	defer ro.Close()
	_, err = ro.Append(context.Background(), event("acme", "p1", 1))
	assert.ErrorContains(t, err, "read-only")
}

func newBenchConfig(b *testing.B, backend dbtest.Backend) audit.Config {
	b.Helper()
	o := dbtest.Options(b, backend)
	if backend.Dialect == sqldb.Postgres {
		return audit.Config{Driver: "postgres", URL: o.URL}
	}
	return audit.Config{Path: o.Path}
}

func newBenchKey(b *testing.B) ed25519.PrivateKey {
	b.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(b, err)
	return key
}

func itoa(n int) string { return fmt.Sprint(n) }
