-- agentkeys store, schema version 2: every transaction the daemon signs,
-- followed to its fate (see store.TxRecord).
--
-- state moves 'signed' -> 'broadcast' -> one final state: 'included'
-- (block_number, receipt_status), 'replaced' (another transaction took the
-- nonce; replaced_by when it is known), 'cancelled' (our cancel took it;
-- cancelled_by) or 'dropped' (the chain is gone: Store.ResetChain). A final
-- state never changes.

CREATE TABLE transactions (
    hash           TEXT PRIMARY KEY,            -- lowercase 0x, 64 hex digits
    chain_id       INTEGER NOT NULL,
    sender         TEXT NOT NULL,               -- lowercase 0x address
    nonce          INTEGER NOT NULL,
    grant_id       TEXT NOT NULL,               -- '' for owner transactions; not a foreign key
    kind           TEXT NOT NULL CHECK (kind IN ('agent', 'owner', 'cancel')),
    send           INTEGER NOT NULL,            -- 1 if the daemon broadcasts it (not an eth_signTransaction result)
    cancels        TEXT NOT NULL,               -- kind 'cancel': the hash it cancels; else ''
    raw            BLOB NOT NULL,               -- the signed bytes
    state          TEXT NOT NULL CHECK (state IN ('signed', 'broadcast', 'included', 'replaced', 'cancelled', 'dropped')),
    block_number   INTEGER,                     -- 'included' only
    receipt_status INTEGER,                     -- 'included' only: 1 success, 0 reverted
    replaced_by    TEXT NOT NULL,
    cancelled_by   TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    broadcast_at   INTEGER                      -- last time the node took it, NULL before
);

-- The watcher: transactions not yet final, oldest first.
CREATE INDEX transactions_open ON transactions (created_at, hash) WHERE state IN ('signed', 'broadcast');
-- Listing a key's transactions, by state.
CREATE INDEX transactions_grant_state ON transactions (grant_id, state, created_at);
-- An account's transactions by nonce (replacements, restarts).
CREATE INDEX transactions_sender_nonce ON transactions (chain_id, sender, nonce);
