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

-- Search values of the current versions. search_token holds token,
-- reference and string values; qualifier and value are, by kind: token
-- (system, code), reference (target type, target id), string (exact text,
-- normalized text). Texts use the "C" collation so that prefix ranges
-- compare bytes, as SQLite does. search_date holds date ranges as [lo, hi).
CREATE TABLE search_token (
    tenant    TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    param     TEXT   NOT NULL,
    qualifier TEXT   COLLATE "C" NOT NULL,
    value     TEXT   COLLATE "C" NOT NULL,
    type      TEXT   NOT NULL,
    PRIMARY KEY (tenant, seq, param, qualifier, value)
);
CREATE INDEX search_token_by_value ON search_token (tenant, type, param, value);

CREATE TABLE search_date (
    tenant TEXT   NOT NULL,
    seq    BIGINT NOT NULL,
    param  TEXT   NOT NULL,
    lo     BIGINT NOT NULL,
    hi     BIGINT NOT NULL,
    type   TEXT   NOT NULL,
    PRIMARY KEY (tenant, seq, param, lo, hi)
);
CREATE INDEX search_date_by_lo ON search_date (tenant, type, param, lo);

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
