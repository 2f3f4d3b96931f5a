-- When each break-glass session began, so that every hub sharing the
-- database, and a hub after a restart, limits a session from its first
-- request. session is an opaque key the hub derives from the subject and
-- the credential; started_at is in Unix microseconds (UTC).
CREATE TABLE break_glass_sessions (
    tenant     TEXT    NOT NULL,
    session    TEXT    NOT NULL,
    started_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, session)
) WITHOUT ROWID;
CREATE INDEX break_glass_sessions_by_start ON break_glass_sessions (started_at);
