package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/healthhub/healthhub/core/api"
	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/jobs"
	"github.com/healthhub/healthhub/core/keys"
	"github.com/healthhub/healthhub/core/metrics"
	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/schema"
	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/sdk"
)

// openPipeline opens the store, the audit trail and the validator on top
// of the running plugins and policy engine, and registers their shutdown on
// server. On error it closes what it opened.
func openPipeline(ctx context.Context, cfg *config.Config, server *api.Server, host *plugin.Host, engine *policy.Engine, recorder *metrics.Metrics, logger *slog.Logger) (*api.Pipeline, error) {
	var closers []func(context.Context) error
	fail := func(err error) (*api.Pipeline, error) {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i](ctx)
		}
		return nil, err
	}

	var blobs sdk.Storage
	if providers := host.Providers(sdk.KindStorage); len(providers) > 0 {
		blobs = providers[0].Storage
	}
	storeCfg := cfg.Store
	if storeCfg.DataDir == "" {
		storeCfg.DataDir = cfg.DataPath()
	}
	resources, err := store.Open(ctx, storeCfg, store.Options{Blobs: blobs, Logger: logger.With("component", "store")})
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func(context.Context) error { return resources.Close() })

	trail, err := openAudit(ctx, cfg, logger)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func(context.Context) error { return trail.Close() })

	validator, err := schema.New(ctx, cfg.Schema, logger.With("component", "schema"))
	if err != nil {
		return fail(err)
	}

	server.AddReadinessCheck("store", resources.Ping)
	server.AddReadinessCheck("audit", trail.Ping)

	pipeline := &api.Pipeline{
		Store: resources, Validator: validator, Policy: engine, Audit: trail, Plugins: host,
		Metrics: recorder, Logger: logger, BreakGlassWindow: 24 * time.Hour, Operations: cfg.Operations,
	}
	queue, err := openJobs(ctx, cfg, storeCfg, pipeline, logger)
	if err != nil {
		return fail(err)
	}
	// Registered last, the queue stops first at shutdown, while the store
	// and the audit trail its jobs write to are still open.
	closers = append(closers, queue.Close)
	pipeline.Jobs = queue
	for _, closer := range closers {
		server.OnShutdown(closer)
	}
	return pipeline, nil
}

// openJobs opens the job queue in the store's database, registers the
// provider jobs and starts working them.
func openJobs(ctx context.Context, cfg *config.Config, storeCfg store.Config, pipeline *api.Pipeline, logger *slog.Logger) (*jobs.Queue, error) {
	db := jobs.Database{Driver: storeCfg.Driver, Path: store.DatabasePath(storeCfg.DataDir, storeCfg.Path), URL: storeCfg.URL}
	queue, err := jobs.Open(ctx, cfg.Jobs, db, logger.With("component", "jobs"))
	if err != nil {
		return nil, err
	}
	if err := pipeline.RegisterJobs(queue); err != nil {
		_ = queue.Close(ctx)
		return nil, err
	}
	// The queue runs until Close, not until the context of the start ends.
	if err := queue.Start(context.WithoutCancel(ctx)); err != nil {
		_ = queue.Close(ctx)
		return nil, err
	}
	return queue, nil
}

func openAudit(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*audit.Log, error) {
	auditCfg := cfg.Audit
	if auditCfg.DataDir == "" {
		auditCfg.DataDir = cfg.DataPath()
	}
	signer, err := keys.LoadOrCreate(audit.KeyPath(auditCfg.DataDir))
	if err != nil {
		return nil, fmt.Errorf("open audit trail: %w", err)
	}
	return audit.Open(ctx, auditCfg, audit.Options{Signer: signer, Logger: logger.With("component", "audit")})
}
