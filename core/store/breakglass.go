package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// BreakGlassSessions records when break-glass sessions began. The policy
// limits how long a break-glass lasts from that start, so it lives in the
// database: a restarted hub, and every hub sharing the database, continue
// a session instead of starting it anew.
type BreakGlassSessions interface {
	// StartBreakGlass returns when the session of tenant began: its recorded
	// start when that lies less than window before now, and otherwise now,
	// which it records as the session's new start. session is an opaque key
	// the caller derives from the subject and the credential.
	StartBreakGlass(ctx context.Context, tenant, session string, now time.Time, window time.Duration) (time.Time, error)
}

func (s *sqlStore) StartBreakGlass(ctx context.Context, tenant, session string, now time.Time, window time.Duration) (time.Time, error) {
	if window <= 0 {
		return time.Time{}, fmt.Errorf("start break-glass: window %s is not positive", window)
	}
	nowUS := now.UTC().UnixMicro()
	expiredUS := nowUS - window.Microseconds()

	started, err := s.breakGlassStart(ctx, tenant, session)
	if err == nil && started > expiredUS {
		return sessionStart(started, now), nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("start break-glass: %w", err)
	}

	// The session is new or its start lies outside the window. The update
	// applies only to an expired start, so two hubs starting the same
	// session at once agree on the start the first one wrote.
	err = s.db.Write.QueryRowContext(ctx, s.q(`INSERT INTO break_glass_sessions (tenant, session, started_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant, session) DO UPDATE SET started_at = excluded.started_at
		WHERE break_glass_sessions.started_at <= ?
		RETURNING started_at`), tenant, session, nowUS, expiredUS).Scan(&started)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Another hub started the session after the read above.
		started, err = s.breakGlassStart(ctx, tenant, session)
	case err == nil:
		// Sessions that began a window ago or earlier are of no further use.
		if _, err := s.db.Write.ExecContext(ctx, s.q(`DELETE FROM break_glass_sessions WHERE started_at <= ?`), expiredUS); err != nil {
			s.log.WarnContext(ctx, "prune break-glass sessions failed", "error", err)
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("start break-glass: %w", err)
	}
	return sessionStart(started, now), nil
}

func (s *sqlStore) breakGlassStart(ctx context.Context, tenant, session string) (int64, error) {
	var started int64
	err := s.db.Read.QueryRowContext(ctx, s.q(`SELECT started_at FROM break_glass_sessions WHERE tenant = ? AND session = ?`),
		tenant, session).Scan(&started)
	return started, err
}

// sessionStart converts a stored start to a time. A start after now comes
// from a hub whose clock runs ahead, and is taken as now, so that the
// policy does not refuse the break-glass as starting in the future.
func sessionStart(startedUS int64, now time.Time) time.Time {
	started := time.UnixMicro(startedUS).UTC()
	if started.After(now) {
		return now
	}
	return started
}
