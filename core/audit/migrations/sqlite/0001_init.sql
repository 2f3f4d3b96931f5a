-- The audit trail: one hash chain of events per tenant, the head of each
-- chain, and signed checkpoints. Times are Unix microseconds (UTC). No
-- payload is stored: payload_sha256 is the hash of what was sent.

CREATE TABLE audit_events (
    tenant           TEXT    NOT NULL,
    seq              INTEGER NOT NULL,
    event_id         TEXT    NOT NULL,
    time             INTEGER NOT NULL,
    request_id       TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    action           TEXT    NOT NULL,
    resource_type    TEXT    NOT NULL,
    resource_id      TEXT    NOT NULL,
    patient          TEXT    NOT NULL,
    purpose_of_use   TEXT    NOT NULL,
    decision_id      TEXT    NOT NULL,
    decision         TEXT    NOT NULL,
    reasons          TEXT    NOT NULL, -- JSON array of strings
    obligations      TEXT    NOT NULL, -- JSON array of {"rule", "fields"}
    level            TEXT    NOT NULL, -- "standard" or "high"
    review           INTEGER NOT NULL, -- flagged for review after the fact
    provider         TEXT    NOT NULL,
    provider_version TEXT    NOT NULL,
    outcome          TEXT    NOT NULL,
    model_id         TEXT    NOT NULL,
    payload_sha256   TEXT    NOT NULL,
    prev_hash        TEXT    NOT NULL,
    hash             TEXT    NOT NULL,
    PRIMARY KEY (tenant, seq)
);
CREATE UNIQUE INDEX audit_events_by_id ON audit_events (event_id);
CREATE INDEX audit_events_by_time ON audit_events (tenant, time);
CREATE INDEX audit_events_by_patient ON audit_events (tenant, patient, time);
CREATE INDEX audit_events_by_subject ON audit_events (tenant, subject, time);
CREATE INDEX audit_events_for_review ON audit_events (tenant, time) WHERE review;

-- The last event of each chain. Writers lock this row, so concurrent
-- writers (also in other processes) extend one chain per tenant.
CREATE TABLE audit_heads (
    tenant          TEXT    PRIMARY KEY,
    seq             INTEGER NOT NULL,
    hash            TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    checkpoint_seq  INTEGER NOT NULL,
    checkpoint_time INTEGER NOT NULL
);

-- Ed25519 signatures over (tenant, seq, hash, time) of a chain position.
CREATE TABLE audit_checkpoints (
    tenant    TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    hash      TEXT    NOT NULL,
    time      INTEGER NOT NULL,
    key_id    TEXT    NOT NULL,
    signature TEXT    NOT NULL,
    PRIMARY KEY (tenant, seq)
);
