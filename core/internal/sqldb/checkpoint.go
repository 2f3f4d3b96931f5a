package sqldb

import (
	"context"
	"database/sql"
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
// PASSIVE checkpoint never waits for readers or writers; what it cannot copy
// now, a later run copies.
type checkpointer struct {
	db     *sql.DB
	cancel context.CancelFunc
	done   chan struct{}
}

func startCheckpointer(path string, base url.Values) (*checkpointer, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?"+base.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	ticker := time.NewTicker(checkpointInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			// Errors are left to the next run and to the writers'
			// auto-checkpoint: a missed checkpoint only lets the log grow.
			_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

func (c *checkpointer) stop() {
	c.cancel()
	<-c.done
	c.db.Close()
}
