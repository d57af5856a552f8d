-- agentkeys store, schema version 7: a grant may wait for its owner
-- before it acts (store.Grant.Pending): 'approval' for a passkey's
-- approval, 'signature' for the owner's signature of an on-chain grant.
-- '' is a grant that may act; every grant stored before is one.

ALTER TABLE grants ADD COLUMN pending TEXT NOT NULL DEFAULT '';
