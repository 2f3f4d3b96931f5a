package plugin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/plugin/plugintest"
)

// builtDir holds the plugin binaries TestMain builds, one directory per
// plugin. Tests copy what they need into a plugin directory of their own.
var builtDir string

// helperEnv makes the test binary act as a hub process for
// TestNoOrphansAfterHostKilled: it starts a host on the plugin directory
// named by the variable, prints the plugin's pid and waits to be killed.
const helperEnv = "PLUGIN_HOST_HELPER_DIR"

// helperRootEnv names the storage-fs root of the helper host.
const helperRootEnv = "PLUGIN_HOST_HELPER_ROOT"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(runHostHelper(dir, os.Getenv(helperRootEnv)))
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "plugin-host-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	builtDir = dir
	for _, src := range []string{
		"plugins/storage/fs",
		"core/plugin/testdata/garbage",
		"core/plugin/testdata/oldproto",
		"core/plugin/testdata/flaky",
	} {
		if _, err := plugintest.Build(src, dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

func runHostHelper(dir, root string) int {
	host := plugin.New(plugin.Config{
		Dir:     dir,
		Plugins: map[string]json.RawMessage{"storage-fs": fsConfig(root)},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := host.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, s := range host.Statuses() {
		fmt.Println(s.PID)
	}
	// Wait for the test to SIGKILL this process; exit on our own after a
	// minute so that a failed test leaves nothing running.
	time.Sleep(time.Minute)
	return 0
}

// readPID reads the first line the helper prints.
func readPID(r io.Reader) (int, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("read helper output %q: %w", line, err)
	}
	var pid int
	_, err = fmt.Sscanf(line, "%d", &pid)
	return pid, err
}
