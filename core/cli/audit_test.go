package cli

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/keys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

// seedAudit writes events for two tenants into cfg's database, signed with
// the key in keyPath, and returns the receipts.
func seedAudit(t *testing.T, cfg audit.Config, keyPath string) []audit.Receipt {
	t.Helper()
	key, err := keys.LoadOrCreate(keyPath)
	require.NoError(t, err)
	l, err := audit.Open(context.Background(), cfg, audit.Options{Signer: key})
	require.NoError(t, err)
	var receipts []audit.Receipt
	for i, tenant := range []string{"acme", "acme", "globex", "acme"} {
		patient := "p1"
		if i == 3 {
			patient = "p2"
		}
		r, err := l.Append(context.Background(), audit.Event{
			Tenant: tenant, Action: "read", ResourceType: "Patient", ResourceID: "p" + string(rune('0'+i)),
			Patient: patient, Subject: "nurse-1", Decision: audit.Allow, Outcome: "success",
		})
		require.NoError(t, err)
		receipts = append(receipts, r)
	}
	require.NoError(t, l.Close())
	return receipts
}

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	receipts := seedAudit(t, audit.Config{DataDir: dir}, audit.KeyPath(dir))

	code, out, errOut := runHub(t, "audit", "verify", "--data-dir", dir)
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "audit chain valid: 2 tenants, 4 events")

	code, out, _ = runHub(t, "audit", "verify", "--data-dir", dir, "--tenant", "globex")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "1 tenant, 1 event,")

	t.Setenv("HUB_DATA_DIR", dir)
	code, out, errOut = runHub(t, "audit", "verify")
	assert.Equal(t, ExitOK, code, "HUB_DATA_DIR names the data directory as for hub serve: %s", errOut)
	assert.Contains(t, out, "audit chain valid: 2 tenants, 4 events")

	db, err := sql.Open("sqlite", filepath.Join(dir, audit.DatabaseFile))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`UPDATE audit_events SET subject = 'intruder' WHERE tenant = 'acme' AND seq = 2`)
	require.NoError(t, err)

	code, out, _ = runHub(t, "audit", "verify", "--data-dir", dir)
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, out, "audit chain broken: tenant acme, event "+receipts[1].EventID+" at seq 2")

	code, _, _ = runHub(t, "audit", "verify", "--data-dir", dir, "--tenant", "globex")
	assert.Equal(t, ExitOK, code, "the other tenant's chain is untouched")

	_, err = db.Exec(`DELETE FROM audit_events WHERE tenant = 'globex'`)
	require.NoError(t, err)
	code, out, _ = runHub(t, "audit", "verify", "--data-dir", dir, "--tenant", "globex")
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, out, "event "+receipts[2].EventID+" at seq 1")
}

func TestAuditCommandsReadHubConfig(t *testing.T) {
	dir := t.TempDir()
	seedAudit(t, audit.Config{DataDir: dir}, audit.KeyPath(dir))
	config := writeTemp(t, t.TempDir(), "hub.yaml", "data_dir: "+dir+"\n")

	code, out, errOut := runHub(t, "audit", "verify", "--config", config)
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "audit chain valid: 2 tenants, 4 events")

	code, out, errOut = runHub(t, "audit", "export", "--config", config, "--since", "2000-01-01", "--ndjson")
	assert.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, 4, strings.Count(out, "\n"))

	code, pem, errOut := runHub(t, "audit", "public-key", "--config", config)
	require.Equal(t, ExitOK, code, errOut)
	assert.True(t, strings.HasPrefix(pem, "-----BEGIN PUBLIC KEY-----"), pem)
	public := writeTemp(t, t.TempDir(), "audit.pub.pem", pem)
	code, out, errOut = runHub(t, "audit", "verify", "--data-dir", dir, "--key", public)
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "audit chain valid")

	code, _, errOut = runHub(t, "audit", "verify", "--data-dir", t.TempDir())
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "--config")
}

// closedPort returns a loopback port that this test opened and closed, so
// that connecting to it fails at once.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func TestAuditVerifyUsageErrors(t *testing.T) {
	dir := t.TempDir()
	seedAudit(t, audit.Config{DataDir: dir}, audit.KeyPath(dir))
	empty := t.TempDir()
	deadURL := fmt.Sprintf("postgres://nobody@127.0.0.1:%d/none?connect_timeout=1", closedPort(t))

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no database", []string{"audit", "verify", "--data-dir", empty, "--key", audit.KeyPath(dir)}, "no database"},
		{"no key", []string{"audit", "verify", "--data-dir", dir, "--key", filepath.Join(empty, "none.pem")}, "no such file"},
		{"stray argument", []string{"audit", "verify", "extra"}, "unknown command"},
		{"bad database url", []string{"audit", "verify", "--key", audit.KeyPath(dir), "--database-url", deadURL}, "open postgres database"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runHub(t, tc.args...)
			assert.Equal(t, ExitUsage, code)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

func TestAuditVerifyOnPostgres(t *testing.T) {
	url := dbtest.PostgresSchema(t)
	dir := t.TempDir()
	receipts := seedAudit(t, audit.Config{Driver: "postgres", URL: url}, audit.KeyPath(dir))

	code, out, errOut := runHub(t, "audit", "verify", "--database-url", url, "--key", audit.KeyPath(dir))
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "4 events")

	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`DELETE FROM audit_events WHERE tenant = 'acme' AND seq = 1`)
	require.NoError(t, err)
	code, out, _ = runHub(t, "audit", "verify", "--database-url", url, "--key", audit.KeyPath(dir))
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, out, receipts[1].EventID, "the report names the event after the gap")
}

func TestAuditExportCommand(t *testing.T) {
	dir := t.TempDir()
	seedAudit(t, audit.Config{DataDir: dir}, audit.KeyPath(dir))

	code, out, errOut := runHub(t, "audit", "export", "--data-dir", dir, "--since", "2000-01-01", "--format", "fhir", "--ndjson", "--tenant", "acme")
	require.Equal(t, ExitOK, code, errOut)
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
		assert.Equal(t, "AuditEvent", ev["resourceType"])
		lines++
	}
	assert.Equal(t, 3, lines)

	file := filepath.Join(t.TempDir(), "audit.json")
	code, _, errOut = runHub(t, "audit", "export", "--data-dir", dir, "--since", "2000-01-01T00:00:00Z", "-o", file)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, errOut, "exported 4 audit events")

	for patient, other := range map[string]string{"p1": "p2", "p2": "p1"} {
		code, out, errOut = runHub(t, "audit", "export", "--data-dir", dir, "--since", "2000-01-01", "--ndjson", "--tenant", "acme", "--patient", patient)
		require.Equal(t, ExitOK, code, errOut)
		want := map[string]int{"p1": 2, "p2": 1}[patient]
		assert.Equal(t, want, strings.Count(out, `"resourceType":"AuditEvent"`), "the accounting of patient %s", patient)
		assert.NotContains(t, out, `"reference":"Patient/`+other+`"`, "patient %s", patient)
	}

	code, out, _ = runHub(t, "audit", "export", "--data-dir", dir, "--since", "2999-01-01")
	require.Equal(t, ExitOK, code)
	var bundle struct {
		Entry []any `json:"entry"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &bundle))
	assert.Empty(t, bundle.Entry)

	for _, args := range [][]string{
		{"audit", "export", "--data-dir", dir, "--since", "yesterday"},
		{"audit", "export", "--data-dir", dir, "--since", "2000-01-01", "--format", "csv"},
		{"audit", "export", "--data-dir", dir},
	} {
		code, _, _ := runHub(t, args...)
		assert.Equal(t, ExitUsage, code, "args %v", args)
	}
}
