-- agentkeys store, schema version 3: each grant carries the home's master
-- key's seal of what it allows (store.GrantSealID). NULL for grants made
-- before; the daemon seals those once (service.SealGrants).

ALTER TABLE grants ADD COLUMN seal BYTEA;
