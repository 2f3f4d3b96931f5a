package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hubBinary is the hub built once for the tests of this package.
var hubBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hub-provider-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hubBinary = filepath.Join(dir, "hub")
	build := exec.Command("go", "build", "-o", hubBinary, "../../cmd/hub")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hub:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// hubProcess is a running "hub serve".
type hubProcess struct {
	cmd     *exec.Cmd
	baseURL string
	dataDir string
	mu      sync.Mutex
	logs    []string
	// exited is closed when the process has exited.
	exited chan struct{}
	err    error
}

// watch waits for the process in the background and closes exited.
func (h *hubProcess) watch() {
	h.exited = make(chan struct{})
	go func() {
		h.err = h.cmd.Wait()
		close(h.exited)
	}()
}

func (h *hubProcess) readLogs(r io.Reader, listening chan<- string) {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		h.mu.Lock()
		h.logs = append(h.logs, line)
		h.mu.Unlock()
		var entry struct {
			Msg     string `json:"msg"`
			Address string `json:"address"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "hub listening" {
			listening <- entry.Address
		}
	}
}

func (h *hubProcess) logText() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.logs, "\n")
}

// stop sends SIGTERM and waits for the hub to exit.
func (h *hubProcess) stop(t *testing.T) {
	select {
	case <-h.exited:
		return
	default:
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(30 * time.Second):
		_ = h.cmd.Process.Kill()
		lines := strings.Split(h.logText(), "\n")
		t.Errorf("hub did not stop within 30s of SIGTERM; last log lines:\n%s", strings.Join(lines[max(0, len(lines)-25):], "\n"))
	}
}

// cli runs a hub command against the process's data directory.
func (h *hubProcess) cli(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(hubBinary, args...)
	cmd.Env = append(os.Environ(), "HUB_DATA_DIR="+h.dataDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "hub %s: %s", strings.Join(args, " "), stderr.String())
	return strings.TrimSpace(string(out))
}

// call sends a request to the hub and returns the status and body.
func (h *hubProcess) call(t *testing.T, method, path, credential string, headers map[string]string, body []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.baseURL+path, reader)
	require.NoError(t, err)
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for name, value := range headers {
		req.Header.Set(name, value)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, data
}
