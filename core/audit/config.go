package audit

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/healthhub/healthhub/core/internal/sqldb"
)

// Config selects and tunes the audit trail's database. The zero value is
// SQLite at ./data/audit.db with synchronous=FULL.
type Config struct {
	// Driver is "sqlite" or "postgres". Default "sqlite".
	Driver string `json:"driver,omitempty"`
	// DataDir is the hub's data directory. The SQLite database is
	// DataDir/audit.db unless Path is set. Default "./data".
	DataDir string `json:"data_dir,omitempty"`
	// Path is the SQLite database file. Default DataDir/audit.db.
	Path string `json:"path,omitempty"`
	// URL is the PostgreSQL connection URL. Required for the postgres
	// driver.
	URL string `json:"url,omitempty"`
	// Synchronous is the durability of a commit: "full" (synced to disk
	// before Append returns), "normal" or "off", with the meanings of the
	// store's setting. Default "full": an acknowledged audit event
	// survives power loss.
	Synchronous string `json:"synchronous,omitempty"`
	// PoolSize is the maximum number of connections for queries and
	// verification. Appends use one connection on SQLite. Default 2 on
	// SQLite, 4 on PostgreSQL.
	PoolSize int `json:"pool_size,omitempty"`
	// BusyTimeoutMS is the time, in milliseconds, that a SQLite commit
	// waits for another writer's lock. Default 10000.
	BusyTimeoutMS int `json:"busy_timeout_ms,omitempty"`
	// GroupCommitWindowUS is the time, in microseconds, that the writer
	// waits for more events after the first of a batch. With 0 it commits
	// at once the events that queued during the previous commit, which
	// already groups events under load. Default 0.
	GroupCommitWindowUS int `json:"group_commit_window_us,omitempty"`
	// MaxBatch is the maximum number of events in one commit. Default 1000.
	MaxBatch int `json:"max_batch,omitempty"`
	// CheckpointEvery signs a checkpoint after this many events of a
	// tenant. Default 1000.
	CheckpointEvery int `json:"checkpoint_every,omitempty"`
	// CheckpointIntervalS signs a checkpoint when the tenant's last one
	// is older than this many seconds and new events arrived. Default 60.
	CheckpointIntervalS int `json:"checkpoint_interval_s,omitempty"`
}

type settings struct {
	db                 sqldb.Options
	window             time.Duration
	maxBatch           int
	checkpointEvery    int64
	checkpointInterval time.Duration
}

func (c Config) settings() (settings, error) {
	s := settings{
		window:             time.Duration(c.GroupCommitWindowUS) * time.Microsecond,
		maxBatch:           orDefault(c.MaxBatch, 1000),
		checkpointEvery:    int64(orDefault(c.CheckpointEvery, 1000)),
		checkpointInterval: time.Duration(orDefault(c.CheckpointIntervalS, 60)) * time.Second,
	}
	if c.GroupCommitWindowUS < 0 {
		return s, fmt.Errorf("audit config: group_commit_window_us is %d: use 0 or more", c.GroupCommitWindowUS)
	}
	driver := sqldb.Dialect(c.Driver)
	if driver == "" {
		driver = sqldb.SQLite
	}
	s.db = sqldb.Options{
		Dialect:     driver,
		URL:         c.URL,
		Synchronous: c.Synchronous,
		BusyTimeout: time.Duration(orDefault(c.BusyTimeoutMS, 10000)) * time.Millisecond,
		AppName:     "healthhub-audit",
	}
	if s.db.Synchronous == "" {
		s.db.Synchronous = sqldb.SyncFull
	}
	switch driver {
	case sqldb.SQLite:
		s.db.Path = DatabasePath(c.DataDir, c.Path)
		s.db.PoolSize = orDefault(c.PoolSize, 2)
	case sqldb.Postgres:
		s.db.PoolSize = orDefault(c.PoolSize, 4)
	default:
		return s, fmt.Errorf("audit config: unknown driver %q: use \"sqlite\" or \"postgres\"", c.Driver)
	}
	return s, nil
}

// KeyFile is the name of the audit signing key in the data directory.
const KeyFile = "audit-ed25519.pem"

// KeyPath returns the audit signing key's path in dataDir (./data when
// empty).
func KeyPath(dataDir string) string {
	if dataDir == "" {
		dataDir = "./data"
	}
	return filepath.Join(dataDir, KeyFile)
}

// DatabaseFile is the audit trail's SQLite file in the data directory. It is
// apart from the store's file because SQLite serializes the commits to one
// file, which made every audited write wait for two commits in turn.
const DatabaseFile = "audit.db"

// DatabasePath returns the SQLite database file: path when set, otherwise
// DatabaseFile in dataDir (./data when empty).
func DatabasePath(dataDir, path string) string {
	if path != "" {
		return path
	}
	if dataDir == "" {
		dataDir = "./data"
	}
	return filepath.Join(dataDir, DatabaseFile)
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
