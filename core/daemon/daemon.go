package daemon

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/healthhub/healthhub/core/api"
	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/metrics"
	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

// Daemon is an assembled hub, ready to serve.
type Daemon struct {
	cfg     *config.Config
	logger  *slog.Logger
	server  *api.Server
	metrics *metrics.Metrics
	plugins *plugin.Host
	policy  *policy.Engine
	// pipeline is what the /fhir and /v1 routes go through.
	pipeline *api.Pipeline
}

// New builds a hub from cfg. signingKey is the hub's Ed25519 token signing
// key; the public half verifies the hub's own tokens.
func New(ctx context.Context, cfg *config.Config, signingKey ed25519.PrivateKey, logger *slog.Logger) (*Daemon, error) {
	if err := os.MkdirAll(cfg.DataPath(), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	authenticator, err := newAuthenticator(ctx, cfg, signingKey, logger)
	if err != nil {
		return nil, err
	}

	recorder := metrics.New()
	server, err := api.New(api.Config{
		Server:    cfg.Server,
		Limits:    cfg.Limits,
		Metrics:   cfg.Metrics,
		AccessLog: cfg.Logging.AccessLogEnabled(),
	}, authenticator, recorder, logger)
	if err != nil {
		return nil, err
	}
	engine, err := policy.New(ctx, cfg.Policy, logger.With("component", "policy"))
	if err != nil {
		return nil, err
	}
	server.OnShutdown(func(context.Context) error { return engine.Close() })
	server.RegisterPolicy(engine)

	host := startPlugins(ctx, cfg, recorder, logger)
	server.OnShutdown(func(context.Context) error { return host.Close() })
	server.RegisterPlugins(host)
	server.AddReadinessCheck("storage", func(ctx context.Context) error { return storageHealthy(ctx, host) })

	pipeline, err := openPipeline(ctx, cfg, server, host, engine, recorder, logger)
	if err != nil {
		_ = host.Close()
		return nil, err
	}
	server.RegisterPipeline(pipeline)
	return &Daemon{cfg: cfg, logger: logger, server: server, metrics: recorder, plugins: host, policy: engine, pipeline: pipeline}, nil
}

// startPlugins launches every plugin of the plugin directory. A plugin that
// fails to start is logged and left out, so that one broken plugin does not
// keep the hub down; /readyz and /v1/plugins show what runs.
func startPlugins(ctx context.Context, cfg *config.Config, recorder *metrics.Metrics, logger *slog.Logger) *plugin.Host {
	host := plugin.New(pluginConfig(cfg), logger.With("component", "plugins"), plugin.WithObserver(func(stats plugin.CallStats) {
		code := ""
		if stats.Err != nil {
			code = string(firstCode(stats.Err))
		}
		recorder.ObservePluginCall(stats.Plugin, string(stats.Kind), stats.Method, code, stats.Duration)
	}))
	if err := host.Start(ctx); err != nil {
		logger.Warn("some plugins did not start", "error", err)
	}
	return host
}

// defaultStorageName is the storage plugin the hub ships.
const defaultStorageName = "storage-fs"

// pluginConfig returns the plugin host's configuration with the storage-fs
// root in the data directory ("objects") unless the configuration sets
// one, so that objects live with the rest of the hub's data. The caller's
// configuration is not changed.
func pluginConfig(cfg *config.Config) plugin.Config {
	out := cfg.Plugins
	if _, set := cfg.Plugins.Plugins[defaultStorageName]; set {
		return out
	}
	out.Plugins = maps.Clone(cfg.Plugins.Plugins)
	if out.Plugins == nil {
		out.Plugins = map[string]json.RawMessage{}
	}
	root, _ := json.Marshal(map[string]string{"root": filepath.Join(cfg.DataPath(), "objects")})
	out.Plugins[defaultStorageName] = root
	return out
}

// storageHealthy fails when a storage plugin fails its health check. Only
// storage counts for readiness, because the store keeps attachments there.
// A provider whose upstream service is down (a model server, an EHR) does
// not stop the hub from serving, and /v1/plugins reports its health.
func storageHealthy(ctx context.Context, host *plugin.Host) error {
	var errs []error
	for _, status := range host.Statuses() {
		if !slices.Contains(status.Kinds, sdk.KindStorage) {
			continue
		}
		if err := host.CheckHealth(ctx, status.Name); err != nil {
			errs = append(errs, fmt.Errorf("plugin %s: %w", status.Name, err))
		}
	}
	return errors.Join(errs...)
}

// firstCode returns the issue code of the first error-level issue of err.
func firstCode(err error) sdk.IssueCode {
	for _, issue := range sdk.AsOutcome(err).Issues {
		if issue.Severity == sdk.SeverityError || issue.Severity == sdk.SeverityFatal {
			return issue.Code
		}
	}
	return sdk.CodeException
}

func newAuthenticator(ctx context.Context, cfg *config.Config, signingKey ed25519.PrivateKey, logger *slog.Logger) (*auth.Authenticator, error) {
	apiKeys, err := auth.OpenKeyStore(cfg.APIKeysPath())
	if err != nil {
		return nil, err
	}
	opts := auth.Options{HubKey: signingKey.Public().(ed25519.PublicKey), APIKeys: apiKeys, Logger: logger}

	oidc := cfg.Auth.OIDC
	switch {
	case oidc.Issuer == "":
	case oidc.JWKSFile != "":
		opts.OIDCKeys, err = auth.LoadKeySetFile(oidc.JWKSFile, logger)
		if err != nil {
			return nil, err
		}
	default:
		client := &http.Client{Timeout: oidc.FetchTimeout.Or(auth.DefaultJWKSFetchTimeout)}
		opts.OIDCKeys = auth.NewRemoteKeySet(ctx, oidc, client, logger)
	}
	return auth.NewAuthenticator(cfg.Auth, opts)
}

// Server returns the HTTP server, to register further routes or serve
// requests in tests.
func (d *Daemon) Server() *api.Server { return d.server }

// Plugins returns the plugin host.
func (d *Daemon) Plugins() *plugin.Host { return d.plugins }

// Metrics returns the metrics the hub records.
func (d *Daemon) Metrics() *metrics.Metrics { return d.metrics }

// Run listens on server.listen and serves until ctx ends, then shuts down
// gracefully.
func (d *Daemon) Run(ctx context.Context) error {
	listen := d.cfg.Server.Listen
	if listen == "" {
		listen = api.DefaultListen
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set server.listen or HUB_SERVER_LISTEN to a free address)", listen, err)
	}
	return d.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends, then shuts down gracefully.
func (d *Daemon) Serve(ctx context.Context, ln net.Listener) error {
	err := d.server.Serve(ctx, ln)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
