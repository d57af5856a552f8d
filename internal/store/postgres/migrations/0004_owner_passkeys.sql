-- agentkeys store, schema version 4: the owner's passkeys, the one-time
-- links that register them (only their secret's hash), and the changes
-- that wait for a passkey's approval (store.Passkey, store.Enrollment,
-- store.Change). Times are Unix milliseconds.

CREATE TABLE owner_passkeys (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    credential_id BYTEA NOT NULL UNIQUE,
    public_key    BYTEA NOT NULL,
    credential    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    audit_seq     BIGINT NOT NULL
);

CREATE TABLE passkey_enrollments (
    token_hash BYTEA PRIMARY KEY,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE owner_changes (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    key_id     TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    nonce      BYTEA NOT NULL,
    state      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    detail     TEXT NOT NULL DEFAULT ''
);

CREATE INDEX owner_changes_created ON owner_changes (created_at, id);
