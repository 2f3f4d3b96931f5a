package sqldb

import (
	"context"
	"database/sql"
	"log/slog"
	"net/url"
	"time"
)

const (
	// autoCheckpointPages is the write-ahead log size, in pages, at which a
	// committing writer checkpoints by itself. It is a safety net: the
	// background checkpointer normally keeps the log below it.
	autoCheckpointPages = 10000
	// checkpointInterval is how often the background checkpointer runs.
	checkpointInterval = 200 * time.Millisecond
)

// checkpointer runs PASSIVE checkpoints on a connection of its own, so that
// copying the write-ahead log into the database file uses another CPU
// instead of delaying the commit that crosses the auto-checkpoint size. A
// PASSIVE checkpoint copies what it can without waiting for readers or
// writers (SQLite documentation of sqlite3_wal_checkpoint_v2), and a later
// run copies the rest.
type checkpointer struct {
	db     *sql.DB
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

func startCheckpointer(path string, base url.Values, logger *slog.Logger) (*checkpointer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+base.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, log: logger.With("path", path), cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	ticker := time.NewTicker(checkpointInterval)
	defer ticker.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		// A failure is left to the next run and to the writers'
		// auto-checkpoint, because a missed checkpoint only lets the log
		// grow. It is logged once until a checkpoint succeeds again.
		_, err := c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			c.log.Warn("sqlite background checkpoint failed; retrying", "error", err)
			failing = true
		case err == nil && failing:
			c.log.Info("sqlite background checkpoint recovered")
			failing = false
		}
	}
}

func (c *checkpointer) stop() {
	c.cancel()
	<-c.done
	c.db.Close()
}
