package plugin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/plugin/plugintest"
	"github.com/healthhub/healthhub/plugins/storage/fs/fsstore"
	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

func fsConfig(root string) json.RawMessage {
	raw, _ := json.Marshal(map[string]string{"root": root})
	return raw
}

// pluginDir returns a fresh plugin directory holding copies of the named
// built plugins.
func pluginDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		_, err := plugintest.Copy(filepath.Join(builtDir, name), dir)
		require.NoError(t, err)
	}
	return dir
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startHost starts a host on dir with storage-fs rooted in a temp dir and
// closes it when the test ends.
func startHost(t *testing.T, cfg plugin.Config, opts ...plugin.Option) (*plugin.Host, *syncBuffer) {
	t.Helper()
	if cfg.Plugins == nil {
		cfg.Plugins = map[string]json.RawMessage{"storage-fs": fsConfig(t.TempDir())}
	}
	logs := &syncBuffer{}
	host := plugin.New(cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), opts...)
	t.Cleanup(func() { host.Close() })
	require.NoError(t, host.Start(context.Background()))
	return host, logs
}

func storageOf(t *testing.T, host *plugin.Host, name string) sdk.Storage {
	t.Helper()
	p, err := host.Provider(name)
	require.NoError(t, err)
	require.NotNil(t, p.Storage)
	return p.Storage
}

func pidOf(t *testing.T, host *plugin.Host, name string) int {
	t.Helper()
	for _, s := range host.Statuses() {
		if s.Name == name {
			return s.PID
		}
	}
	t.Fatalf("no plugin %q in the host", name)
	return 0
}

// processGone reports whether pid no longer runs. A zombie counts as gone:
// it has exited and only waits for a parent to reap it.
func processGone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}

// waitFor polls cond every 20ms for up to limit.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

func TestHostStorageRoundTrip(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	observer := plugin.WithObserver(func(s plugin.CallStats) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, fmt.Sprintf("%s %s.%s err=%v", s.Plugin, s.Kind, s.Method, s.Err != nil))
	})
	host, logs := startHost(t, plugin.Config{Dir: pluginDir(t, "storage-fs")}, observer)
	store := storageOf(t, host, "storage-fs")
	ctx := context.Background()

	content := []byte(`{"resourceType":"Binary"}`)
	_, err := store.Put(ctx, "a/1.json", bytes.NewReader(content), sdk.PutOptions{ContentType: "application/json", Size: int64(len(content))})
	require.NoError(t, err)

	body, info, err := store.Get(ctx, "a/1.json")
	require.NoError(t, err)
	got, err := io.ReadAll(body)
	require.NoError(t, err)
	require.NoError(t, body.Close())
	assert.Equal(t, content, got)
	assert.Equal(t, "application/json", info.ContentType)

	page, err := store.List(ctx, sdk.ListOptions{Prefix: "a/"})
	require.NoError(t, err)
	require.Len(t, page.Objects, 1)
	assert.Equal(t, "a/1.json", page.Objects[0].Key)

	require.NoError(t, store.Delete(ctx, "a/1.json"))
	_, err = store.Stat(ctx, "a/1.json")
	assert.ErrorIs(t, err, sdk.ErrNotFound)

	mu.Lock()
	assert.Equal(t, []string{
		"storage-fs storage.Put err=false",
		"storage-fs storage.Get err=false",
		"storage-fs storage.List err=false",
		"storage-fs storage.Delete err=false",
		"storage-fs storage.Stat err=true",
	}, calls)
	mu.Unlock()

	status := host.Statuses()
	require.Len(t, status, 1)
	assert.Equal(t, plugin.StateRunning, status[0].State)
	assert.Positive(t, status[0].PID)
	assert.NoError(t, host.CheckHealth(ctx, "storage-fs"))
	assert.Contains(t, logs.String(), `"plugin":"storage-fs"`)
	assert.Contains(t, logs.String(), "storage-fs configured", "the plugin's own log line reaches the hub log")
}

func TestStorageSuiteThroughHost(t *testing.T) {
	host, _ := startHost(t, plugin.Config{Dir: pluginDir(t, "storage-fs")})
	store := storageOf(t, host, "storage-fs")
	sdktest.Storage(t, func(*testing.T) sdk.Storage { return store })
}

func TestStorageSuiteRegisteredInProcess(t *testing.T) {
	store, err := fsstore.New(fsstore.Config{Root: t.TempDir()})
	require.NoError(t, err)
	defer store.Close()
	host := plugin.New(plugin.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer host.Close()
	require.NoError(t, host.Register(sdk.Provider{Info: fsstore.Info(), Storage: store}))

	status := host.Statuses()
	require.Len(t, status, 1)
	assert.Equal(t, plugin.StateInProcess, status[0].State)
	sdktest.Storage(t, func(*testing.T) sdk.Storage { return storageOf(t, host, "storage-fs") })
}

func TestProvidersInNameOrder(t *testing.T) {
	host := plugin.New(plugin.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer host.Close()
	for _, name := range []string{"storage-zeta", "storage-alpha", "storage-mid"} {
		store, err := fsstore.New(fsstore.Config{Root: t.TempDir()})
		require.NoError(t, err)
		defer store.Close()
		info := fsstore.Info()
		info.Name = name
		require.NoError(t, host.Register(sdk.Provider{Info: info, Storage: store}))
	}

	var names []string
	for _, p := range host.Providers(sdk.KindStorage) {
		names = append(names, p.Info.Name)
	}
	assert.Equal(t, []string{"storage-alpha", "storage-mid", "storage-zeta"}, names, "the default provider does not depend on load timing")
	statuses := host.Statuses()
	require.Len(t, statuses, 3)
	assert.Equal(t, "storage-alpha", statuses[0].Name)
}

// blockingBody is a Put body that sends a little data and then blocks
// until released, so that the call is in flight when the test acts.
type blockingBody struct {
	sent    bool
	release chan struct{}
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, bytes.Repeat([]byte("x"), 512<<10)), nil
	}
	<-b.release
	return 0, io.EOF
}

func TestPluginKilledMidCallRestarts(t *testing.T) {
	cfg := plugin.Config{Dir: pluginDir(t, "storage-fs"), Restart: plugin.RestartConfig{InitialBackoff: plugin.Duration(50 * time.Millisecond)}}
	host, logs := startHost(t, cfg)
	store := storageOf(t, host, "storage-fs")
	pid := pidOf(t, host, "storage-fs")

	body := &blockingBody{release: make(chan struct{})}
	defer close(body.release)
	result := make(chan error, 1)
	go func() {
		_, err := store.Put(context.Background(), "inflight", body, sdk.PutOptions{Size: -1})
		result <- err
	}()
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))

	var err error
	select {
	case err = <-result:
	case <-time.After(15 * time.Second):
		t.Fatal("the call in flight did not fail after its plugin was killed")
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrUnavailable)
	assert.Contains(t, err.Error(), `plugin "storage-fs"`)
	assert.Contains(t, err.Error(), "exited during storage.Put")
	assert.Contains(t, err.Error(), "signal: killed")

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err = store.Put(ctx, "after-restart", strings.NewReader("ok"), sdk.PutOptions{Size: 2})
	require.NoError(t, err, "a call after the crash waits for the restart and succeeds")

	newPID := pidOf(t, host, "storage-fs")
	assert.NotEqual(t, pid, newPID)
	status := host.Statuses()[0]
	assert.Equal(t, 1, status.Restarts)
	assert.Equal(t, plugin.StateRunning, status.State)
	assert.Contains(t, logs.String(), "plugin exited unexpectedly")
	assert.Contains(t, logs.String(), "plugin restarted")
}

func TestChecksumMismatchRejected(t *testing.T) {
	dir := pluginDir(t, "storage-fs")
	binary := filepath.Join(dir, "storage-fs", "storage-fs")
	f, err := os.OpenFile(binary, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("tampered"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	manifest, err := plugin.ReadManifest(filepath.Join(dir, "storage-fs"))
	require.NoError(t, err)
	actual, err := plugin.FileSHA256(binary)
	require.NoError(t, err)

	host := plugin.New(plugin.Config{Dir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer host.Close()
	err = host.Start(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, plugin.ErrChecksumMismatch)
	assert.Contains(t, err.Error(), `"storage-fs"`)
	assert.Contains(t, err.Error(), manifest.SHA256, "the error names the manifest's sum")
	assert.Contains(t, err.Error(), actual, "the error names the binary's sum")
	assert.Empty(t, host.Statuses(), "a rejected plugin is not loaded")

	failures := host.LoadFailures()
	require.Len(t, failures, 1, "the rejected plugin is listed for operators")
	assert.Equal(t, "storage-fs", failures[0].Name)
	assert.Equal(t, manifest.Version, failures[0].Version)
	assert.Contains(t, failures[0].Error, actual)
}

func TestUnlistedExecutableRejected(t *testing.T) {
	dir := pluginDir(t)
	stray := filepath.Join(dir, "stray", "tool")
	require.NoError(t, os.MkdirAll(filepath.Dir(stray), 0o755))
	require.NoError(t, os.WriteFile(stray, []byte("#!/bin/sh\n"), 0o755))

	host := plugin.New(plugin.Config{Dir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer host.Close()
	err := host.Start(context.Background())
	assert.ErrorIs(t, err, plugin.ErrUnlisted)
	assert.Contains(t, err.Error(), stray)
}

func TestHandshakeFailures(t *testing.T) {
	tests := []struct {
		plugin string
		want   []string
	}{
		{"garbage", []string{`launch plugin "garbage"`, `"debug: connecting to the database"`, "before its handshake"}},
		{"oldproto", []string{`launch plugin "oldproto"`, "the plugin speaks 2, the hub speaks 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.plugin, func(t *testing.T) {
			host := plugin.New(plugin.Config{Dir: pluginDir(t, tc.plugin), StartTimeout: plugin.Duration(10 * time.Second)},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			defer host.Close()
			err := host.Start(context.Background())
			require.Error(t, err)
			assert.ErrorIs(t, err, plugin.ErrHandshake)
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestCircuitBreakerOpens(t *testing.T) {
	cfg := plugin.Config{
		Dir:     pluginDir(t, "flaky"),
		Plugins: map[string]json.RawMessage{},
		Restart: plugin.RestartConfig{InitialBackoff: plugin.Duration(10 * time.Millisecond), MaxCrashes: 3},
	}
	host, logs := startHost(t, cfg)
	store := storageOf(t, host, "flaky")

	// Every call crashes the plugin; the third crash opens the breaker.
	var err error
	for range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err = store.Stat(ctx, "any")
		cancel()
		if errors.Is(err, plugin.ErrBreakerOpen) {
			break
		}
		require.ErrorIs(t, err, sdk.ErrUnavailable, "a call that crashes the plugin")
	}
	assert.ErrorIs(t, err, plugin.ErrBreakerOpen)
	assert.ErrorIs(t, err, sdk.ErrUnavailable)
	status := host.Statuses()[0]
	require.NotEmpty(t, status.LastError)
	assert.NotContains(t, err.Error(), status.LastError, "the error reaches API clients, so the crash details stay with operators")
	assert.Equal(t, plugin.StateFailed, status.State)
	assert.Equal(t, 2, status.Restarts, "restarted after the first two crashes only")
	assert.Zero(t, status.PID)
	assert.Error(t, host.CheckHealth(context.Background(), "flaky"))
	assert.Contains(t, logs.String(), "circuit breaker open")

	require.NoError(t, host.Restart(context.Background(), "flaky"), "Restart relaunches a plugin whose breaker is open")
	assert.Equal(t, plugin.StateRunning, host.Statuses()[0].State)
	assert.Error(t, host.Restart(context.Background(), "flaky"), "Restart refuses a running plugin")
	assert.Error(t, host.Restart(context.Background(), "flaky-unknown"))
}

func TestConfigRejectedBySchema(t *testing.T) {
	cfg := plugin.Config{
		Dir:     pluginDir(t, "storage-fs"),
		Plugins: map[string]json.RawMessage{"storage-fs": json.RawMessage(`{"root": "", "max_object_size": -1}`)},
	}
	host := plugin.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer host.Close()
	err := host.Start(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrInvalid)

	var outcome *sdk.Outcome
	require.True(t, errors.As(err, &outcome))
	var paths []string
	for _, issue := range outcome.Issues {
		paths = append(paths, issue.Path)
	}
	assert.ElementsMatch(t, []string{"/root", "/max_object_size"}, paths)
	assert.Empty(t, host.Statuses())
}

func TestCallTimeoutEndsCall(t *testing.T) {
	host, _ := startHost(t, plugin.Config{Dir: pluginDir(t, "storage-fs"), CallTimeout: plugin.Duration(300 * time.Millisecond)})
	body := &blockingBody{release: make(chan struct{})}
	defer close(body.release)

	result := make(chan error, 1)
	go func() {
		_, err := storageOf(t, host, "storage-fs").Put(context.Background(), "slow", body, sdk.PutOptions{Size: -1})
		result <- err
	}()
	select {
	case err := <-result:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(15 * time.Second):
		t.Fatal("the call outlived its deadline")
	}
}

func TestCloseStopsPlugins(t *testing.T) {
	host, _ := startHost(t, plugin.Config{Dir: pluginDir(t, "storage-fs")})
	pid := pidOf(t, host, "storage-fs")
	require.NoError(t, host.Close())
	assert.True(t, waitFor(5*time.Second, func() bool { return processGone(pid) }), "plugin %d still runs after Close", pid)
	assert.Equal(t, plugin.StateStopped, host.Statuses()[0].State)

	_, err := storageOf(t, host, "storage-fs").Stat(context.Background(), "x")
	assert.ErrorIs(t, err, sdk.ErrUnavailable)
}

func TestNoOrphansAfterHostKilled(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	helper := exec.Command(self, "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+pluginDir(t, "storage-fs"), helperRootEnv+"="+t.TempDir())
	stdout, err := helper.StdoutPipe()
	require.NoError(t, err)
	helper.Stderr = os.Stderr
	require.NoError(t, helper.Start())
	defer helper.Process.Kill()

	pid, err := readPID(stdout)
	require.NoError(t, err)
	require.Positive(t, pid)
	require.False(t, processGone(pid), "the plugin runs while its host does")

	require.NoError(t, helper.Process.Signal(syscall.SIGKILL))
	_ = helper.Wait()
	assert.True(t, waitFor(10*time.Second, func() bool { return processGone(pid) }),
		"plugin %d outlived its SIGKILLed host", pid)
}

func TestLogsCarryNoPHI(t *testing.T) {
	const canary = "Canary Testpatient"
	host, logs := startHost(t, plugin.Config{Dir: pluginDir(t, "storage-fs")})
	store := storageOf(t, host, "storage-fs")
	ctx := context.Background()

	key := "patients/" + canary + "/note.txt"
	_, err := store.Put(ctx, key, strings.NewReader("seen by "+canary), sdk.PutOptions{Size: -1, Metadata: map[string]string{"patient": canary}})
	require.NoError(t, err)
	_, err = store.Stat(ctx, "patients/"+canary+"/missing")
	require.ErrorIs(t, err, sdk.ErrNotFound)
	_, err = store.Put(ctx, "../"+canary, strings.NewReader("x"), sdk.PutOptions{Size: 1})
	require.ErrorIs(t, err, sdk.ErrInvalid)
	require.NoError(t, host.Close())

	require.NotEmpty(t, logs.String(), "the host logged nothing, so the check below proves nothing")
	assert.NotContains(t, logs.String(), canary)
}
