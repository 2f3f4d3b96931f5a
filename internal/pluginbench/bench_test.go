package pluginbench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	hostplugin "github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/plugin/plugintest"
	"github.com/healthhub/healthhub/examples/echo-llm/echo"
	"github.com/healthhub/healthhub/plugins/storage/fs/fsstore"
	"github.com/healthhub/healthhub/sdk"
)

var (
	// pluginsDir holds echo-llm and storage-fs, built by TestMain as make
	// build would.
	pluginsDir string
	// bareEchoPath is the bare go-plugin echo server binary.
	bareEchoPath string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pluginbench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	pluginsDir = filepath.Join(dir, "plugins")
	for _, src := range []string{"examples/echo-llm", "plugins/storage/fs"} {
		if _, err := plugintest.Build(src, pluginsDir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	bareEchoPath = filepath.Join(dir, "bareecho")
	build := exec.Command("go", "build", "-o", bareEchoPath, "./testdata/bareecho")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build bareecho: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

var payloadSizes = []struct {
	name string
	size int
}{
	{"2KB", 2 << 10},
	{"16MB", 16 << 20},
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startEchoLLM loads echo-llm through the host with an empty prefix, so
// that its reply is the request content byte for byte.
func startEchoLLM(b *testing.B) (*hostplugin.Host, sdk.ChatModel) {
	b.Helper()
	host := hostplugin.New(hostplugin.Config{
		Dir: pluginsDir,
		Plugins: map[string]json.RawMessage{
			"echo-llm":   json.RawMessage(`{"prefix": ""}`),
			"storage-fs": storageConfig(b.TempDir()),
		},
	}, quietLogger())
	if err := host.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	p, err := host.Provider("echo-llm")
	if err != nil {
		b.Fatal(err)
	}
	return host, p.ChatModel
}

func chatOnce(b *testing.B, model sdk.ChatModel, content string) {
	req := sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: sdk.RoleUser, Content: content}}}
	resp, err := model.Chat(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	if len(resp.Message.Content) != len(content) {
		b.Fatalf("reply is %d bytes, want %d", len(resp.Message.Content), len(content))
	}
}

// BenchmarkEchoRoundTrip sends a payload and receives it back three ways:
// through the hub's plugin host to the echo-llm plugin (host), to the same
// model in process (direct), and through a bare go-plugin gRPC server
// with no HealthHub code (bare).
func BenchmarkEchoRoundTrip(b *testing.B) {
	for _, size := range payloadSizes {
		content := strings.Repeat("x", size.size)

		b.Run("host/"+size.name, func(b *testing.B) {
			host, model := startEchoLLM(b)
			defer host.Close()
			b.SetBytes(int64(size.size))
			for b.Loop() {
				chatOnce(b, model, content)
			}
		})

		b.Run("direct/"+size.name, func(b *testing.B) {
			model := echo.New()
			if err := model.Configure(context.Background(), json.RawMessage(`{"prefix": ""}`)); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size.size))
			for b.Loop() {
				chatOnce(b, model, content)
			}
		})

		b.Run("bare/"+size.name, func(b *testing.B) {
			cc, stop := startBareEcho(b)
			defer stop()
			in := &wrapperspb.BytesValue{Value: []byte(content)}
			b.SetBytes(int64(size.size))
			for b.Loop() {
				out := new(wrapperspb.BytesValue)
				if err := cc.Invoke(context.Background(), "/bench.Echo/Echo", in, out); err != nil {
					b.Fatal(err)
				}
				if len(out.Value) != size.size {
					b.Fatalf("echo is %d bytes, want %d", len(out.Value), size.size)
				}
			}
		})
	}
}

// bareEchoPlugin is the client half of testdata/bareecho.
type bareEchoPlugin struct{ plugin.NetRPCUnsupportedPlugin }

func (bareEchoPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }

func (bareEchoPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return cc, nil
}

// startBareEcho launches the bare echo server the way the host launches
// plugins (go-plugin gRPC with AutoMTLS) and returns its connection.
func startBareEcho(b *testing.B) (*grpc.ClientConn, func()) {
	b.Helper()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  plugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: "BENCH_ECHO", MagicCookieValue: "echo"},
		Plugins:          plugin.PluginSet{"echo": bareEchoPlugin{}},
		Cmd:              exec.Command(bareEchoPath),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.NewNullLogger(),
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(sdk.MaxMessageSize), grpc.MaxCallSendMsgSize(sdk.MaxMessageSize))},
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		b.Fatal(err)
	}
	raw, err := rpc.Dispense("echo")
	if err != nil {
		client.Kill()
		b.Fatal(err)
	}
	return raw.(*grpc.ClientConn), client.Kill
}

// BenchmarkPluginStart measures loading one plugin: checksum, launch,
// handshake with mutual TLS, Describe and Configure, then stopping it.
func BenchmarkPluginStart(b *testing.B) {
	manifest, err := hostplugin.ReadManifest(filepath.Join(pluginsDir, "echo-llm"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		host := hostplugin.New(hostplugin.Config{}, quietLogger())
		if err := host.Load(context.Background(), manifest); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		host.Close()
		b.StartTimer()
	}
}

func storageConfig(root string) json.RawMessage {
	raw, _ := json.Marshal(map[string]string{"root": root})
	return raw
}

// putGet stores content under one key and reads it back.
func putGet(b *testing.B, store sdk.Storage, content []byte) {
	ctx := context.Background()
	if _, err := store.Put(ctx, "bench/object", bytes.NewReader(content), sdk.PutOptions{Size: int64(len(content))}); err != nil {
		b.Fatal(err)
	}
	body, _, err := store.Get(ctx, "bench/object")
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, body)
	body.Close()
	if err != nil || n != int64(len(content)) {
		b.Fatalf("read back %d bytes, %v; want %d", n, err, len(content))
	}
}

// BenchmarkStorageRoundTrip puts and gets one object through the host to
// the storage-fs plugin and through the same store in process. The object
// streams in 1 MiB chunks, so the host path here includes the chunking
// that the chat benchmark does not.
func BenchmarkStorageRoundTrip(b *testing.B) {
	for _, size := range payloadSizes {
		content := bytes.Repeat([]byte("x"), size.size)

		b.Run("host/"+size.name, func(b *testing.B) {
			host, _ := startEchoLLM(b)
			defer host.Close()
			p, err := host.Provider("storage-fs")
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size.size))
			for b.Loop() {
				putGet(b, p.Storage, content)
			}
		})

		b.Run("direct/"+size.name, func(b *testing.B) {
			store, err := fsstore.New(fsstore.Config{Root: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			b.SetBytes(int64(size.size))
			for b.Loop() {
				putGet(b, store, content)
			}
		})
	}
}
