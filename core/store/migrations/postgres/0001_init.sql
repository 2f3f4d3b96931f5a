-- Resources, their versions, search index and blob references.
-- Times are Unix microseconds (UTC). seq numbers a resource store-wide and
-- ties its versions, index rows and blobs to it; every table also carries
-- the tenant, and every query filters on it.

CREATE SEQUENCE resource_seq;

CREATE TABLE resources (
    seq          BIGINT  PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version_id   BIGINT  NOT NULL,
    last_updated BIGINT  NOT NULL,
    deleted      BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (tenant, type, id)
);
CREATE INDEX resources_by_updated ON resources (tenant, type, last_updated);

-- body holds the resource as received, with id and meta set; NULL for a
-- deletion. blob_count counts its rows in resource_blobs.
CREATE TABLE resource_versions (
    tenant       TEXT    NOT NULL,
    seq          BIGINT  NOT NULL,
    version_id   BIGINT  NOT NULL,
    last_updated BIGINT  NOT NULL,
    deleted      BOOLEAN NOT NULL DEFAULT FALSE,
    body         BYTEA,
    blob_count   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, seq, version_id)
);

-- One row per search value of the current version. qualifier and value
-- hold, by kind: token (system, code), reference (target type, target
-- id), string (exact text, normalized text). lo and hi bound a date value
-- as [lo, hi); they are 0 for other kinds. Texts use the "C" collation so that
-- prefix ranges compare bytes, as SQLite does.
CREATE TABLE search_index (
    tenant    TEXT   NOT NULL,
    type      TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    param     TEXT   NOT NULL,
    qualifier TEXT   COLLATE "C" NOT NULL,
    value     TEXT   COLLATE "C" NOT NULL,
    lo        BIGINT NOT NULL,
    hi        BIGINT NOT NULL
);
CREATE INDEX search_by_value ON search_index (tenant, type, param, value);
CREATE INDEX search_by_date ON search_index (tenant, type, param, lo);
CREATE INDEX search_by_seq ON search_index (seq);

-- Content moved to the storage provider. body_offset is where the base64
-- string goes back into resource_versions.body, which keeps "" there.
CREATE TABLE resource_blobs (
    tenant      TEXT    NOT NULL,
    seq         BIGINT  NOT NULL,
    version_id  BIGINT  NOT NULL,
    ordinal     INTEGER NOT NULL,
    body_offset BIGINT  NOT NULL,
    storage_key TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    size        BIGINT  NOT NULL,
    PRIMARY KEY (tenant, seq, version_id, ordinal)
);
