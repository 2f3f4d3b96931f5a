package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/healthhub/healthhub/core/api"
	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/metrics"
)

// Daemon is an assembled hub, ready to serve.
type Daemon struct {
	cfg     *config.Config
	logger  *slog.Logger
	server  *api.Server
	metrics *metrics.Metrics
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
	// TODO: open core/store and core/audit, start the plugin host, load the
	// schemas and policies, and register the /fhir and /v1 routes of the
	// request pipeline once those packages are part of the hub.
	return &Daemon{cfg: cfg, logger: logger, server: server, metrics: recorder}, nil
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
