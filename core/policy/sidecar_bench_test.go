package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkSidecar measures the same decisions as BenchmarkDecide through
// an `opa run --server` process on 127.0.0.1, over HTTP with keep-alive:
// the deployment the embedded engine replaces. It needs an opa binary in
// HUB_OPA_BIN; scripts/bench-policy.sh builds one and sets it.
func BenchmarkSidecar(b *testing.B) {
	bin := os.Getenv("HUB_OPA_BIN")
	if bin == "" {
		b.Skip("sidecar benchmark skipped: HUB_OPA_BIN is not set; run scripts/bench-policy.sh, which builds opa and sets it")
	}
	if _, err := os.Stat(bin); err != nil {
		b.Skipf("sidecar benchmark skipped: HUB_OPA_BIN=%s: %v; run scripts/bench-policy.sh to build opa", bin, err)
	}
	url, pid := startSidecar(b, bin)
	client := &http.Client{Timeout: 5 * time.Second}

	for _, tc := range benchCases() {
		b.Run(tc.name, func(b *testing.B) {
			body, err := json.Marshal(map[string]any{"input": tc.input})
			require.NoError(b, err)
			allow, err := sidecarDecide(client, url, body)
			require.NoError(b, err)
			require.True(b, allow)
			b.ReportAllocs()
			var samples latencies
			cpu := startCPUMeter(b, pid)
			for b.Loop() {
				start := time.Now()
				if _, err := sidecarDecide(client, url, body); err != nil {
					b.Fatal(err)
				}
				samples.add(start)
			}
			cpu.report(b)
			samples.report(b)
		})
	}
}

// startSidecar runs opa with the embedded policies and the configuration
// document of benchConfig on a free loopback port, and stops it when the
// benchmark ends. It returns the decision URL and the process id.
func startSidecar(b *testing.B, bin string) (string, int) {
	b.Helper()
	dir := copyPolicies(b)
	doc, err := benchConfig.DataDocument()
	require.NoError(b, err)
	data, err := json.Marshal(map[string]any{"healthhub": map[string]any{"config": doc}})
	require.NoError(b, err)
	dataFile := filepath.Join(b.TempDir(), "data.json")
	require.NoError(b, os.WriteFile(dataFile, data, 0o644))

	addr := freeLoopbackAddr(b)
	cmd := exec.Command(bin, "run", "--server", "--addr", addr, "--log-level", "error", dir, dataFile)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(b, cmd.Start())
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	url := "http://" + addr + "/v1/data/healthhub/authz/decision"
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, cmd.Process.Pid
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("opa at %s did not become healthy within 20s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeLoopbackAddr(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	addr := l.Addr().String()
	require.NoError(b, l.Close())
	return addr
}

func sidecarDecide(client *http.Client, url string, body []byte) (bool, error) {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var out struct {
		Result struct {
			Allow bool `json:"allow"`
		} `json:"result"`
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("opa answered %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return false, err
	}
	return out.Result.Allow, nil
}
