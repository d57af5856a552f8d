-- agentkeys store, schema version 9: the owner's passkeys, the one-time
-- links that register them (only their secret's hash), and the changes
-- that wait for a passkey's approval (store.Passkey, store.Enrollment,
-- store.Change). Times are Unix milliseconds.

CREATE TABLE owner_passkeys (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    credential_id BLOB NOT NULL UNIQUE,
    public_key    BLOB NOT NULL,
    credential    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    audit_seq     INTEGER NOT NULL
);

CREATE TABLE passkey_enrollments (
    token_hash BLOB PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE owner_changes (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    key_id     TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    state      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_at INTEGER,
    detail     TEXT NOT NULL DEFAULT ''
);

CREATE INDEX owner_changes_created ON owner_changes (created_at, id);
