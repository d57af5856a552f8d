-- agentkeys PostgreSQL store, schema version 1: the shapes of the SQLite
-- store at its schema version 6 (see internal/store/sqlite/migrations),
-- so both backends mean the same by every column. Times are BIGINT Unix
-- milliseconds, amounts exact decimal TEXT (summed in Go), binary values
-- BYTEA. Every row a write locks has its own primary key: the grant row
-- (Decide's first lock), the (chain_id, address) nonce row and the single
-- audit_head row (every append's last lock).

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
    sealed     BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE grants (
    id              TEXT PRIMARY KEY,
    agent           TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('wallet', '7702')),
    chains          TEXT NOT NULL,           -- JSON array of chain ids
    policy          BYTEA,                   -- normalised policy document, opaque
    address         TEXT NOT NULL,
    signer_key_id   TEXT NOT NULL REFERENCES keys (id),
    credential_hash BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    revoked_at      BIGINT,                  -- NULL while not revoked
    meta            TEXT NOT NULL,           -- JSON object of strings
    suspended_at    BIGINT,                  -- NULL while not suspended
    suspend_reason  TEXT NOT NULL DEFAULT ''
);

CREATE INDEX grants_created ON grants (created_at, id);

-- Budget reserved by Decide (see the SQLite migrations 0001 and 0003):
-- tx_hash is the transaction it was reserved for ('' if none), fee marks
-- its worst-case fee, state is 'pending', 'spent' or 'released'.
CREATE TABLE reservations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grant_id    TEXT NOT NULL REFERENCES grants (id),
    asset       TEXT NOT NULL,               -- 'native', 'fees' or lowercase 0x address
    amount      TEXT NOT NULL,               -- exact decimal, 0 .. 2^256-1
    at          BIGINT NOT NULL,
    tx_hash     TEXT NOT NULL DEFAULT '',
    fee         BOOLEAN NOT NULL DEFAULT FALSE,
    state       TEXT NOT NULL DEFAULT 'spent' CHECK (state IN ('pending', 'spent', 'released')),
    released_at BIGINT
);

CREATE INDEX reservations_grant_asset_at ON reservations (grant_id, asset, at);
CREATE INDEX reservations_tx_hash ON reservations (tx_hash);

-- Running totals per grant and asset for the newest period asked about.
CREATE TABLE ledger_totals (
    grant_id     TEXT NOT NULL REFERENCES grants (id),
    asset        TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    spent        TEXT NOT NULL,
    pending      TEXT NOT NULL,
    PRIMARY KEY (grant_id, asset)
);

-- Next nonce to hand out per account and chain, shared by all grants and
-- all replicas.
CREATE TABLE nonces (
    chain_id BIGINT NOT NULL,
    address  TEXT NOT NULL,                  -- lowercase 0x address
    next     BIGINT NOT NULL,
    PRIMARY KEY (chain_id, address)
);

-- The audit log. key_id is deliberately not a foreign key.
CREATE TABLE audit_records (
    seq        BIGINT PRIMARY KEY,
    time       BIGINT NOT NULL,
    key_id     TEXT NOT NULL,
    method     TEXT NOT NULL,
    call       BYTEA,                        -- hashed verbatim: never re-encode
    decision   TEXT NOT NULL,
    reasons    TEXT NOT NULL,                -- JSON array of strings
    tx_hash    TEXT NOT NULL,
    caller_ip  TEXT NOT NULL,
    request_id TEXT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    prev_hash  BYTEA NOT NULL,
    hash       BYTEA NOT NULL
);

CREATE INDEX audit_records_key_time ON audit_records (key_id, time);

-- The chain head, moved in the same transaction as each append and locked
-- by it (SELECT ... FOR UPDATE), so appends from every replica form one
-- chain, and records deleted from the end are detectable.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- Every transaction the daemon signs, followed to its fate (store.TxRecord).
CREATE TABLE transactions (
    hash           TEXT PRIMARY KEY,
    chain_id       BIGINT NOT NULL,
    sender         TEXT NOT NULL,
    nonce          BIGINT NOT NULL,
    grant_id       TEXT NOT NULL,               -- '' for owner transactions; not a foreign key
    kind           TEXT NOT NULL CHECK (kind IN ('agent', 'owner', 'cancel')),
    send           BOOLEAN NOT NULL,
    cancels        TEXT NOT NULL,
    raw            BYTEA NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('signed', 'broadcast', 'included', 'replaced', 'cancelled', 'dropped')),
    block_number   BIGINT,
    receipt_status BIGINT,
    replaced_by    TEXT NOT NULL,
    cancelled_by   TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    broadcast_at   BIGINT
);

CREATE INDEX transactions_open ON transactions (created_at, hash) WHERE state IN ('signed', 'broadcast');
CREATE INDEX transactions_grant_state ON transactions (grant_id, state, created_at);
CREATE INDEX transactions_sender_nonce ON transactions (chain_id, sender, nonce);

-- Anomalies found in the audit log; (key_id, kind, trigger_seq) is unique.
CREATE TABLE anomalies (
    id          TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    at          BIGINT NOT NULL,
    summary     TEXT NOT NULL,
    records     TEXT NOT NULL,
    trigger_seq BIGINT NOT NULL,
    response    TEXT NOT NULL,
    audit_seq   BIGINT NOT NULL,
    UNIQUE (key_id, kind, trigger_seq)
);

CREATE INDEX anomalies_key_at ON anomalies (key_id, at);
CREATE INDEX anomalies_at ON anomalies (at);

-- Alert webhooks (URL and secret sealed) and their deliveries.
CREATE TABLE alert_hooks (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    url_shown     TEXT NOT NULL,
    sealed_url    BYTEA NOT NULL,
    sealed_secret BYTEA,
    min_severity  TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE alerted_anomalies (
    seq BIGINT PRIMARY KEY
);

CREATE TABLE alert_deliveries (
    id              TEXT PRIMARY KEY,
    hook_id         TEXT NOT NULL REFERENCES alert_hooks (id),
    anomaly_seq     BIGINT,
    body            BYTEA NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status     INTEGER NOT NULL,
    last_error      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE UNIQUE INDEX alert_deliveries_hook_anomaly ON alert_deliveries (hook_id, anomaly_seq) WHERE anomaly_seq IS NOT NULL;
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_attempt_at);
CREATE INDEX alert_deliveries_created ON alert_deliveries (created_at, id);
