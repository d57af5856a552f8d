-- agentkeys store, schema version 1.
--
-- Portable on purpose (PostgreSQL will run the same shapes): times are
-- INTEGER Unix milliseconds, amounts are exact decimal TEXT, binary values
-- are BLOBs, and every row Decide locks has its own primary key: the grant
-- row, the (chain_id, address) nonce row and the single audit_head row.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Private keys sealed with AES-256-GCM under the master key (record id =
-- keys.id). Never plaintext.
CREATE TABLE keys (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    address    TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE grants (
    id              TEXT PRIMARY KEY,
    agent           TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('wallet', '7702')),
    chains          TEXT NOT NULL,           -- JSON array of chain ids
    policy          BLOB,                    -- normalised policy document, opaque
    address         TEXT NOT NULL,
    signer_key_id   TEXT NOT NULL REFERENCES keys (id),
    credential_hash BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER,                 -- NULL while not revoked
    meta            TEXT NOT NULL            -- JSON object of strings
);

CREATE INDEX grants_created ON grants (created_at, id);

-- Budget reserved by Decide; a signed transaction stays spent.
CREATE TABLE reservations (
    id       INTEGER PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES grants (id),
    asset    TEXT NOT NULL,                  -- 'native' or lowercase 0x address
    amount   TEXT NOT NULL,                  -- exact decimal, 0 .. 2^256-1
    at       INTEGER NOT NULL
);

CREATE INDEX reservations_grant_asset_at ON reservations (grant_id, asset, at);

-- Next nonce to hand out per account and chain, shared by all grants.
CREATE TABLE nonces (
    chain_id INTEGER NOT NULL,
    address  TEXT NOT NULL,                  -- lowercase 0x address
    next     INTEGER NOT NULL,
    PRIMARY KEY (chain_id, address)
);

-- The audit log. key_id is deliberately not a foreign key: records of
-- unknown credentials are kept, and records outlive anything they name.
CREATE TABLE audit_records (
    seq        INTEGER PRIMARY KEY,
    time       INTEGER NOT NULL,
    key_id     TEXT NOT NULL,
    method     TEXT NOT NULL,
    call       BLOB,                         -- hashed verbatim: never re-encode
    decision   TEXT NOT NULL,
    reasons    TEXT NOT NULL,                -- JSON array of strings
    tx_hash    TEXT NOT NULL,
    caller_ip  TEXT NOT NULL,
    request_id TEXT NOT NULL,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL
);

CREATE INDEX audit_records_key_time ON audit_records (key_id, time);

-- The chain head, updated in the same transaction as each append, so that
-- records deleted from the end of audit_records are detectable.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));
