// Package hubtest runs the hub binary as a real "hub serve" process for
// end-to-end tests: it builds the binary, starts it on a free loopback
// port, collects its log and sends it requests.
package hubtest

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

// Build compiles the hub command in the package directory pkg into a new
// temporary directory. The caller removes the directory with cleanup.
func Build(pkg string) (binary string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "hub-e2e-")
	if err != nil {
		return "", nil, err
	}
	binary = filepath.Join(dir, "hub")
	build := exec.Command("go", "build", "-o", binary, pkg)
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build hub: %w", err)
	}
	return binary, func() { os.RemoveAll(dir) }, nil
}

// Hub is a running "hub serve".
type Hub struct {
	Binary  string
	BaseURL string
	DataDir string

	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []string
	// exited is closed when the process has exited, with its result in err.
	exited chan struct{}
	err    error
}

// Start starts "hub serve" with args on a free loopback port and the data
// directory dataDir, with env added to the test's environment, and waits
// until it listens. The hub stops when the test ends.
func Start(t testing.TB, binary, dataDir string, args []string, env ...string) *Hub {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "HUB_DATA_DIR="+dataDir, "HUB_SERVER_LISTEN=127.0.0.1:0")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	h := &Hub{Binary: binary, DataDir: dataDir, cmd: cmd, exited: make(chan struct{})}
	listening := make(chan string, 1)
	go h.readLogs(stderr, listening)
	go func() {
		h.err = cmd.Wait()
		close(h.exited)
	}()
	t.Cleanup(func() { h.Stop(t) })

	select {
	case address := <-listening:
		h.BaseURL = "http://" + address
	case <-h.exited:
		t.Fatalf("hub exited before listening: %v\n%s", h.err, h.Logs())
	case <-time.After(60 * time.Second):
		t.Fatalf("hub did not listen within 60s\n%s", h.Logs())
	}
	return h
}

func (h *Hub) readLogs(r io.Reader, listening chan<- string) {
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

// Logs returns the lines the hub has logged so far.
func (h *Hub) Logs() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.logs, "\n")
}

// Exited is closed when the hub process has exited.
func (h *Hub) Exited() <-chan struct{} { return h.exited }

// Err returns the result of waiting for the process, once Exited is closed.
func (h *Hub) Err() error { return h.err }

// Signal sends sig to the hub process.
func (h *Hub) Signal(sig os.Signal) error { return h.cmd.Process.Signal(sig) }

// Stop sends SIGTERM and waits for the hub to exit. Stopping a stopped hub
// does nothing.
func (h *Hub) Stop(t testing.TB) {
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
		lines := strings.Split(h.Logs(), "\n")
		t.Errorf("hub did not stop within 30s of SIGTERM; last log lines:\n%s", strings.Join(lines[max(0, len(lines)-25):], "\n"))
	}
}

// Kill stops the hub with SIGKILL, as a crash would.
func (h *Hub) Kill(t testing.TB) {
	t.Helper()
	require.NoError(t, h.cmd.Process.Kill())
	select {
	case <-h.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("hub did not exit after SIGKILL")
	}
}

// CLI runs a hub command against the hub's data directory and returns its
// output, trimmed.
func (h *Hub) CLI(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(h.Binary, args...)
	cmd.Env = append(os.Environ(), "HUB_DATA_DIR="+h.DataDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "hub %s: %s", strings.Join(args, " "), stderr.String())
	return strings.TrimSpace(string(out))
}

// Do sends a request with the credential as bearer token and headers, and
// returns the response with its body read.
func (h *Hub) Do(t testing.TB, method, path, credential string, headers map[string]string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, h.BaseURL+path, body)
	require.NoError(t, err)
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	for name, value := range headers {
		req.Header.Set(name, value)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, data
}

// Call sends a request with a FHIR JSON body, if any, and returns the
// status and the response body.
func (h *Hub) Call(t testing.TB, method, path, credential string, headers map[string]string, body []byte) (int, []byte) {
	t.Helper()
	all := map[string]string{}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
		all["Content-Type"] = "application/fhir+json"
	}
	for name, value := range headers {
		all[name] = value
	}
	resp, data := h.Do(t, method, path, credential, all, reader)
	return resp.StatusCode, data
}
