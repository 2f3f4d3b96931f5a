package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// StmtCache keeps statements of fixed text prepared on a pool, so that a
// statement run in every transaction is parsed once. Statements are
// prepared up front with Prepare, while no transaction holds a connection:
// preparing on SQLite's single write connection during a transaction would
// wait for the transaction's own connection.
type StmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// NewStmtCache returns an empty cache for db.
func NewStmtCache(db *sql.DB) *StmtCache {
	return &StmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// Prepare prepares queries and keeps them.
func (c *StmtCache) Prepare(ctx context.Context, queries ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range queries {
		if _, ok := c.m[q]; ok {
			continue
		}
		stmt, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		c.m[q] = stmt
	}
	return nil
}

// InTx returns the statement for query bound to tx. database/sql reuses the
// preparation when tx runs on a connection that prepared it, which is
// always the case for SQLite's single write connection. A query that was
// not prepared up front is prepared in tx, for this transaction only.
func (c *StmtCache) InTx(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	stmt, ok := c.m[query]
	c.mu.Unlock()
	if !ok {
		return tx.PrepareContext(ctx, query)
	}
	return tx.StmtContext(ctx, stmt), nil
}

// Close closes every cached statement.
func (c *StmtCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for q, stmt := range c.m {
		if err := stmt.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.m, q)
	}
	return first
}
