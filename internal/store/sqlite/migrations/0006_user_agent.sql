-- agentkeys store, schema version 6: the caller's user agent in each audit
-- record (covered by the record's hash from layout version 2 on, see
-- audit.Canonical). Records written before it keep an empty user agent and
-- their version 1 hashes.
--
-- (Versions 4 and 5 are other changes'; numbers may have gaps, see
-- pending() in sqlite.go.)

ALTER TABLE audit_records ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
