package store

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/healthhub/healthhub/core/internal/sqldb"
)

// Config selects and tunes the store's database. The zero value is a
// SQLite database at ./data/hub.db.
type Config struct {
	// Driver is "sqlite" or "postgres". Default "sqlite".
	Driver string `json:"driver,omitempty"`
	// DataDir is the hub's data directory; the SQLite database is
	// DataDir/hub.db unless Path is set. Default "./data".
	DataDir string `json:"data_dir,omitempty"`
	// Path is the SQLite database file. Default DataDir/hub.db.
	Path string `json:"path,omitempty"`
	// URL is the PostgreSQL connection URL, such as
	// "postgres://hub@db.internal:5432/hub?sslmode=verify-full". Required
	// for the postgres driver.
	URL string `json:"url,omitempty"`
	// Synchronous is the durability of a commit: "full" (synced to disk
	// before the call returns), "normal" or "off". On SQLite in WAL mode,
	// a "normal" commit survives a crash of the hub, but the last commits
	// may be lost on power loss. With "off" a power loss may also corrupt
	// the database. On PostgreSQL "full" is synchronous_commit=on and the
	// others are synchronous_commit=off. Default "normal".
	Synchronous string `json:"synchronous,omitempty"`
	// PoolSize is the maximum number of database connections: readers on
	// SQLite (writes always use one connection), all connections on
	// PostgreSQL. Default 4 on SQLite, 10 on PostgreSQL.
	PoolSize int `json:"pool_size,omitempty"`
	// BusyTimeoutMS is the time, in milliseconds, that a SQLite write
	// waits for another process's write lock. Default 10000.
	BusyTimeoutMS int `json:"busy_timeout_ms,omitempty"`
	// DefaultCount is the search and history page size when the request
	// sets no _count. Default 50.
	DefaultCount int `json:"default_count,omitempty"`
	// MaxCount caps _count. Default 1000.
	MaxCount int `json:"max_count,omitempty"`
	// BlobThresholdBytes is the length of base64 text from which an
	// attachment's data moves to the storage provider. Binary.data always
	// moves. Ignored without a storage provider. Default 65536.
	BlobThresholdBytes int `json:"blob_threshold_bytes,omitempty"`
}

// settings is Config with defaults applied.
type settings struct {
	db            sqldb.Options
	defaultCount  int
	maxCount      int
	blobThreshold int
}

func (c Config) settings() (settings, error) {
	s := settings{
		defaultCount:  orDefault(c.DefaultCount, 50),
		maxCount:      orDefault(c.MaxCount, 1000),
		blobThreshold: orDefault(c.BlobThresholdBytes, 64<<10),
	}
	if s.defaultCount > s.maxCount {
		return s, fmt.Errorf("store config: default_count %d exceeds max_count %d", s.defaultCount, s.maxCount)
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
		AppName:     "healthhub-store",
	}
	if s.db.Synchronous == "" {
		s.db.Synchronous = sqldb.SyncNormal
	}
	switch driver {
	case sqldb.SQLite:
		s.db.Path = DatabasePath(c.DataDir, c.Path)
		s.db.PoolSize = orDefault(c.PoolSize, 4)
	case sqldb.Postgres:
		s.db.PoolSize = orDefault(c.PoolSize, 10)
	default:
		return s, fmt.Errorf("store config: unknown driver %q: use \"sqlite\" or \"postgres\"", c.Driver)
	}
	return s, nil
}

// DefaultDataDir is the data directory when a configuration sets none.
const DefaultDataDir = "./data"

// DatabaseFile is the SQLite database's name inside the data directory.
const DatabaseFile = "hub.db"

// DatabasePath returns the SQLite database file: path when set, otherwise
// DatabaseFile in dataDir (DefaultDataDir when empty).
func DatabasePath(dataDir, path string) string {
	if path != "" {
		return path
	}
	if dataDir == "" {
		dataDir = DefaultDataDir
	}
	return filepath.Join(dataDir, DatabaseFile)
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
