// Package sqldb opens the hub's SQL database for the store and the audit
// trail: SQLite through modernc.org/sqlite (pure Go, WAL mode) or PostgreSQL
// through pgx. It hides the few dialect differences the two packages meet
// (placeholders, row locks, sequences, constraint errors) and runs embedded,
// versioned schema migrations.
package sqldb
