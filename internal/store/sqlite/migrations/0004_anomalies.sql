-- agentkeys store, schema version 4: anomalies and suspension.
--
-- A grant may be suspended (by an anomaly its policy suspends on, or by
-- the owner) until the owner resumes it: suspended_at is set meanwhile
-- and suspend_reason says why, for the owner.
ALTER TABLE grants ADD COLUMN suspended_at INTEGER;
ALTER TABLE grants ADD COLUMN suspend_reason TEXT NOT NULL DEFAULT '';

-- What the detector found in a key's audit records. records is the JSON
-- array of the audit seqs that raised it; trigger_seq is the last of
-- them. (key_id, kind, trigger_seq) is unique, so replaying the audit log
-- after a restart stores nothing twice. audit_seq is the anomaly's own
-- audit record. key_id is not a foreign key, as in audit_records.
CREATE TABLE anomalies (
    id          TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    at          INTEGER NOT NULL,
    summary     TEXT NOT NULL,
    records     TEXT NOT NULL,
    trigger_seq INTEGER NOT NULL,
    response    TEXT NOT NULL,
    audit_seq   INTEGER NOT NULL,
    UNIQUE (key_id, kind, trigger_seq)
);

CREATE INDEX anomalies_key_at ON anomalies (key_id, at);
CREATE INDEX anomalies_at ON anomalies (at);
