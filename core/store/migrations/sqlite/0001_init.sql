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

-- Search values of the current versions. search_token holds token,
-- reference and string values; qualifier and value are, by kind: token
-- (system, code), reference (target type, target id), string (exact text,
-- normalized text). search_date holds date ranges as [lo, hi).
CREATE TABLE search_token (
    tenant    TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    param     TEXT    NOT NULL,
    qualifier TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    type      TEXT    NOT NULL,
    PRIMARY KEY (tenant, seq, param, qualifier, value)
) WITHOUT ROWID;
CREATE INDEX search_token_by_value ON search_token (tenant, type, param, value);

CREATE TABLE search_date (
    tenant TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    param  TEXT    NOT NULL,
    lo     INTEGER NOT NULL,
    hi     INTEGER NOT NULL,
    type   TEXT    NOT NULL,
    PRIMARY KEY (tenant, seq, param, lo, hi)
) WITHOUT ROWID;
CREATE INDEX search_date_by_lo ON search_date (tenant, type, param, lo);

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
