package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// The go-plugin handshake. The cookie only lets a plugin binary detect that
// the hub started it. It is not a security measure.
const (
	magicCookieKey   = "HEALTHHUB_PLUGIN"
	magicCookieValue = "b6e1f8a2-provider-plugin"
	// pluginName is the name of the one plugin each binary serves in the
	// go-plugin plugin set.
	pluginName = "provider"
	// LogLevelEnv is the environment variable through which the hub passes
	// a plugin the lowest log level it keeps: "debug", "info", "warn" or
	// "error". NewPluginLogger reads it.
	LogLevelEnv = "HEALTHHUB_PLUGIN_LOG_LEVEL"
	// parentPollInterval is how often a plugin checks that the hub that
	// started it is still alive.
	parentPollInterval = 500 * time.Millisecond
)

// pluginStderr is the process's standard error as it was before Serve.
// go-plugin replaces os.Stderr while serving with a pipe that the hub does
// not read as logs, so plugin logs are written here.
var pluginStderr = os.Stderr

func handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   magicCookieKey,
		MagicCookieValue: magicCookieValue,
	}
}

// grpcPlugin is the go-plugin glue: on the plugin side it registers the
// provider's services, on the hub side it returns a *Conn.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	provider Provider
}

func (g *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	registerServers(s, g.provider)
	return nil
}

func (g *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return newConn(cc), nil
}

// Serve runs p as a plugin binary: it replies to the hub's handshake and
// serves p over gRPC until the hub stops it, then exits the process. Call
// it from main. Serve exits with status 1 when p is incomplete (see
// Provider.Validate) or when the binary was not started by the hub.
//
// The plugin also exits when the hub process that started it is gone, so
// that a hub killed without a chance to clean up leaves no plugin behind.
func Serve(p Provider) {
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       p.Info.Name,
		Output:     pluginStderr,
		JSONFormat: true,
		Level:      hclog.LevelFromString(logLevelName(pluginLogLevel())),
	})
	if p.Info.ProtocolVersion == 0 {
		p.Info.ProtocolVersion = ProtocolVersion
	}
	if err := validateServed(p); err != nil {
		logger.Error("cannot serve the plugin", "error", err)
		os.Exit(1)
	}

	go exitWhenParentDies(logger, parentPollInterval)
	plugin.Serve(serveConfig(p, logger))
	os.Exit(0)
}

func serveConfig(p Provider, logger hclog.Logger) *plugin.ServeConfig {
	return &plugin.ServeConfig{
		HandshakeConfig:  handshake(),
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {pluginName: &grpcPlugin{provider: p}}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))
			return grpc.NewServer(opts...)
		},
		Logger: logger,
	}
}

func validateServed(p Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Info.ProtocolVersion != ProtocolVersion {
		return fmt.Errorf("provider %q: Info.ProtocolVersion is %d but this SDK speaks %d; leave it 0 or set it to sdk.ProtocolVersion",
			p.Info.Name, p.Info.ProtocolVersion, ProtocolVersion)
	}
	return nil
}

// exitWhenParentDies polls the parent process id and exits when it changes,
// which on Unix means the parent died and the plugin was re-parented.
func exitWhenParentDies(logger hclog.Logger, interval time.Duration) {
	parent := os.Getppid()
	if parent <= 1 {
		// Started by init or a container's first process: there is no hub
		// whose death could be observed this way.
		return
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for range ticker.C {
		if os.Getppid() != parent {
			logger.Error("hub process is gone; plugin exiting", "hub_pid", parent)
			os.Exit(1)
		}
	}
}

// ConfigureClient fills in what the plugin protocol fixes in a go-plugin
// client configuration: the handshake, the plugin set, gRPC as the only
// protocol and message size limits of MaxMessageSize. The host sets the
// rest (command, logger, TLS) and then calls DispenseConn on the client.
func ConfigureClient(cfg *plugin.ClientConfig) {
	cfg.HandshakeConfig = handshake()
	plugins := plugin.PluginSet{pluginName: &grpcPlugin{}}
	cfg.VersionedPlugins = map[int]plugin.PluginSet{ProtocolVersion: plugins}
	// A reattaching client skips version negotiation and uses Plugins.
	cfg.Plugins = plugins
	cfg.AllowedProtocols = []plugin.Protocol{plugin.ProtocolGRPC}
	cfg.GRPCDialOptions = append(cfg.GRPCDialOptions, grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(MaxMessageSize),
		grpc.MaxCallSendMsgSize(MaxMessageSize),
	))
}

// DispenseConn returns the connection to the plugin that a started
// go-plugin client (configured with ConfigureClient) speaks to.
func DispenseConn(client plugin.ClientProtocol) (*Conn, error) {
	raw, err := client.Dispense(pluginName)
	if err != nil {
		return nil, fmt.Errorf("dispense plugin: %w", err)
	}
	conn, ok := raw.(*Conn)
	if !ok {
		return nil, fmt.Errorf("dispense plugin: got %T, want *sdk.Conn; configure the client with sdk.ConfigureClient", raw)
	}
	return conn, nil
}

// NewPluginLogger returns a logger for code inside a plugin binary. It
// writes JSON lines to the process's standard error in the format the hub
// reads, so that every record reaches the hub's log under the plugin's
// name with its level and attributes. The level is the one the hub requests
// through LogLevelEnv, or info.
func NewPluginLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(pluginStderr, &slog.HandlerOptions{
		Level:       pluginLogLevel(),
		ReplaceAttr: hclogAttr,
	}))
}

// hclogTimeFormat is the timestamp layout go-plugin parses in JSON logs.
const hclogTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// hclogAttr renames slog's built-in keys to the ones of hclog's JSON format.
func hclogAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		return slog.String("@timestamp", a.Value.Time().Format(hclogTimeFormat))
	case slog.LevelKey:
		level, _ := a.Value.Any().(slog.Level)
		return slog.String("@level", logLevelName(level))
	case slog.MessageKey:
		return slog.String("@message", a.Value.String())
	}
	return a
}

func pluginLogLevel() slog.Level {
	switch strings.ToLower(os.Getenv(LogLevelEnv)) {
	case "debug", "trace":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// logLevelName returns the hclog name of a slog level.
func logLevelName(level slog.Level) string {
	switch {
	case level < slog.LevelInfo:
		return "debug"
	case level < slog.LevelWarn:
		return "info"
	case level < slog.LevelError:
		return "warn"
	default:
		return "error"
	}
}
