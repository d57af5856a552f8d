-- agentkeys store, schema version 5: alert webhooks and their deliveries.
--
-- (Version 4 is another change's; gaps are allowed, see pending() in
-- sqlite.go. Nothing here depends on it.)
--
-- A hook's URL (which may carry a token) and its signing secret are sealed
-- under the master key (AES-256-GCM, the record ids "alert-url:<id>" and
-- "alert-secret:<id>" as associated data); url_shown is the URL cut to
-- scheme and host, for listings.
CREATE TABLE alert_hooks (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    url_shown     TEXT NOT NULL,
    sealed_url    BLOB NOT NULL,
    sealed_secret BLOB,                      -- NULL: deliveries are not signed
    min_severity  TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- The anomalies (by the seq of their audit record) already alerted: the
-- audit feed replays the whole log at every start, and an anomaly found
-- here is neither logged nor delivered again.
CREATE TABLE alerted_anomalies (
    seq INTEGER PRIMARY KEY
);

-- Anomalies already in the log when this version is applied were raised
-- before alerts existed: they are not news.
INSERT INTO alerted_anomalies (seq)
    SELECT seq FROM audit_records WHERE method = 'agentkeys_anomaly';

-- One message to one hook. anomaly_seq is the audit record of the anomaly,
-- NULL for a test delivery; one delivery per hook and anomaly.
CREATE TABLE alert_deliveries (
    id              TEXT PRIMARY KEY,
    hook_id         TEXT NOT NULL REFERENCES alert_hooks (id),
    anomaly_seq     INTEGER,
    body            BLOB NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_status     INTEGER NOT NULL,
    last_error      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE UNIQUE INDEX alert_deliveries_hook_anomaly ON alert_deliveries (hook_id, anomaly_seq) WHERE anomaly_seq IS NOT NULL;
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_attempt_at);
CREATE INDEX alert_deliveries_created ON alert_deliveries (created_at, id);
