-- Resources, their versions, search index and blob references.
-- Times are Unix microseconds (UTC). seq numbers a resource store-wide and
-- ties its versions, index rows and blobs to it; every table also carries
-- the tenant, and every query filters on it.

CREATE TABLE resources (
    seq          INTEGER PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version_id   INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant, type, id)
);
CREATE INDEX resources_by_updated ON resources (tenant, type, last_updated);

-- body holds the resource as received, with id and meta set; NULL for a
-- deletion. blob_count counts its rows in resource_blobs.
CREATE TABLE resource_versions (
    tenant       TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    version_id   INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    body         BLOB,
    blob_count   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, seq, version_id)
);

-- One row per search value of the current version. qualifier and value
-- hold, by kind: token (system, code), reference (target type, target
-- id), string (exact text, normalized text). lo and hi bound a date value
-- as [lo, hi); they are 0 for other kinds.
CREATE TABLE search_index (
    tenant    TEXT    NOT NULL,
    type      TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    param     TEXT    NOT NULL,
    qualifier TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    lo        INTEGER NOT NULL,
    hi        INTEGER NOT NULL
);
CREATE INDEX search_by_value ON search_index (tenant, type, param, value);
CREATE INDEX search_by_date ON search_index (tenant, type, param, lo);
CREATE INDEX search_by_seq ON search_index (seq);

-- Content moved to the storage provider. body_offset is where the base64
-- string goes back into resource_versions.body, which keeps "" there.
CREATE TABLE resource_blobs (
    tenant      TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    version_id  INTEGER NOT NULL,
    ordinal     INTEGER NOT NULL,
    body_offset INTEGER NOT NULL,
    storage_key TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    PRIMARY KEY (tenant, seq, version_id, ordinal)
);
