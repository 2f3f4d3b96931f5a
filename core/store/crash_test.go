package store_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/keys"
	"github.com/healthhub/healthhub/core/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crashHelperEnv names the data directory when the test binary runs as
// the crash test's writer process.
const crashHelperEnv = "HUB_STORE_CRASH_HELPER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashHelperEnv); dir != "" {
		os.Exit(runCrashWriter(dir))
	}
	os.Exit(m.Run())
}

// runCrashWriter imports the Synthea bundles in a loop, as a hub would: a
// transaction, then its audit event. It prints "start N" before each
// import and "done N" once both are committed, and runs until killed.
func runCrashWriter(dir string) int {
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "crash writer:", err)
		return 3
	}
	s, err := store.Open(ctx, store.Config{DataDir: dir}, store.Options{})
	if err != nil {
		return fail(err)
	}
	key, err := keys.Load(audit.KeyPath(dir))
	if err != nil {
		return fail(err)
	}
	l, err := audit.Open(ctx, audit.Config{DataDir: dir}, audit.Options{Signer: key})
	if err != nil {
		return fail(err)
	}
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "synthea-r4", "*.json"))
	if err != nil || len(paths) != 2 {
		return fail(fmt.Errorf("find bundles: %v", err))
	}
	var bundles [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return fail(err)
		}
		bundles = append(bundles, data)
	}

	for i := 0; ; i++ {
		fmt.Printf("start %d\n", i)
		resp, err := s.ProcessBundle(ctx, "crash", bundles[i%2])
		if err != nil {
			return fail(err)
		}
		patient := strings.TrimSuffix(resp.Entries[0].Location, "/_history/1")
		_, err = l.Append(ctx, audit.Event{
			Tenant: "crash", RequestID: fmt.Sprintf("import-%d", i), Action: "transaction",
			ResourceType: "Bundle", Patient: strings.TrimPrefix(patient, "Patient/"),
			Decision: audit.Allow, Outcome: "success",
		})
		if err != nil {
			return fail(err)
		}
		fmt.Printf("done %d\n", i)
	}
}

// bundleCounts returns how many resources of each type a bundle holds.
func bundleCounts(t *testing.T, bundle []byte) map[string]int {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(bundle, &b))
	counts := map[string]int{}
	for _, e := range b.Entry {
		counts[e.Resource.ResourceType]++
	}
	return counts
}

func countAll(t *testing.T, s store.Store, resourceType string, params url.Values) int {
	t.Helper()
	n := 0
	params.Set("_count", "1000")
	for {
		page, err := s.Search(context.Background(), "crash", resourceType, params)
		require.NoError(t, err)
		n += len(page.Resources)
		if page.Next == "" {
			return n
		}
		params.Set("_cursor", page.Next)
	}
}

func TestCrashDuringImportLeavesWholeTransactions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key, err := keys.LoadOrCreate(audit.KeyPath(dir))
	require.NoError(t, err)

	paths := syntheaBundles(t)
	var bundles [][]byte
	s, err := store.Open(ctx, store.Config{DataDir: dir}, store.Options{})
	require.NoError(t, err)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		loadReferencedResources(t, s, "crash", data)
		bundles = append(bundles, data)
	}
	require.NoError(t, s.Close())

	// Kill the writer at several points of an import: while it reads the
	// bundle, and within its database transaction.
	delays := []time.Duration{2 * time.Millisecond, 15 * time.Millisecond, 30 * time.Millisecond}
	var done []string
	for _, delay := range delays {
		done = append(done, runWriterUntilKilled(t, dir, 2, delay)...)
	}

	s, err = store.Open(ctx, store.Config{DataDir: dir}, store.Options{})
	require.NoError(t, err)
	defer s.Close()

	// Each bundle has exactly one Patient, so the Patients count the
	// committed transactions. Every other type must then have exactly the
	// resources of those transactions: a partial transaction would leave
	// more, a lost one fewer.
	families := []string{"Keeling57", "Romaguera67"}
	committed := map[int]int{}
	for i, family := range families {
		committed[i] = countAll(t, s, "Patient", url.Values{"family:exact": {family}})
	}
	total := committed[0] + committed[1]
	t.Logf("writer acknowledged %d imports before SIGKILL; %d transactions are stored", len(done), total)
	assert.GreaterOrEqual(t, total, len(done), "every acknowledged import must be present")
	assert.LessOrEqual(t, total, len(done)+len(delays), "at most the imports in flight may have committed unacknowledged")

	want := map[string]int{}
	for i, b := range bundles {
		for resourceType, n := range bundleCounts(t, b) {
			want[resourceType] += n * committed[i]
		}
	}
	for resourceType, n := range want {
		assert.Equal(t, n, countAll(t, s, resourceType, url.Values{}), "%s resources", resourceType)
	}

	l, err := audit.Open(ctx, audit.Config{DataDir: dir}, audit.Options{})
	require.NoError(t, err)
	defer l.Close()
	report, err := l.Verify(ctx, "", key.Public().(ed25519.PublicKey))
	require.NoError(t, err)
	assert.Nil(t, report.Broken, "the audit chain must verify after the crash")
	assert.GreaterOrEqual(t, report.Events, int64(len(done)), "every acknowledged audit event must be present")

	_, err = s.ProcessBundle(ctx, "crash", bundles[0])
	assert.NoError(t, err, "the database accepts writes after recovery")
}

// runWriterUntilKilled starts the writer process, waits until it has
// finished minImports imports and begun the next one, kills it with
// SIGKILL delay later, and returns the imports it reported done.
func runWriterUntilKilled(t *testing.T, dir string, minImports int, delay time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	var done []string
	deadline := time.After(2 * time.Minute)
	killed := false
	for !killed {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("writer exited before it was killed: %s", stderr.String())
			}
			if strings.HasPrefix(line, "done ") {
				done = append(done, line)
			}
			if strings.HasPrefix(line, "start ") && len(done) >= minImports {
				time.Sleep(delay)
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
				killed = true
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("writer did not finish %d imports in time: %s", minImports, stderr.String())
		}
	}
	for line := range lines {
		if strings.HasPrefix(line, "done ") {
			done = append(done, line)
		}
	}
	err = cmd.Wait()
	require.Error(t, err, "the writer must have been killed")
	return done
}
