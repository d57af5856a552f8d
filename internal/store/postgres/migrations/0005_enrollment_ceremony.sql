-- agentkeys store, schema version 5: a passkey registration ceremony,
-- once begun with its one-time link, is kept with the link
-- (store.Enrollment.Ceremony), so any replica can finish it.

ALTER TABLE passkey_enrollments ADD COLUMN ceremony BYTEA;
