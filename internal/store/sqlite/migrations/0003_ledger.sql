-- agentkeys store, schema version 3: the budget ledger.
--
-- (Version 2 is another change's; numbers are allowed to have gaps, see
-- pending() in sqlite.go.)
--
-- A reservation now says what it was made for and where it stands:
--   tx_hash  the transaction it was reserved for ('' for typed-data
--            permits and other signatures, which are spent at once);
--   fee      1 for the transaction's worst-case fee (gas limit × max fee
--            per gas), which settlement replaces by the actual fee;
--   state    'pending' while the transaction may still land, 'spent' once
--            it landed (or for reservations without a transaction),
--            'released' once it provably cannot land.
-- Existing reservations were charged for good, so they are 'spent'.
ALTER TABLE reservations ADD COLUMN tx_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE reservations ADD COLUMN fee INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reservations ADD COLUMN state TEXT NOT NULL DEFAULT 'spent';
ALTER TABLE reservations ADD COLUMN released_at INTEGER;

CREATE INDEX reservations_tx_hash ON reservations (tx_hash);

-- Running totals: for each grant and asset, the sums of its reservations
-- with at >= period_start that are not released, split into spent and
-- pending (exact decimal TEXT). period_start is the start of the budget
-- period the service last asked about; every reservation, settlement and
-- release updates the row in the same transaction, so reading what a key
-- has used is one row read however many reservations it made. A row is
-- (re)built from the reservations when a new period is first asked about.
CREATE TABLE ledger_totals (
    grant_id     TEXT NOT NULL REFERENCES grants (id),
    asset        TEXT NOT NULL,              -- 'native', 'fees' or lowercase 0x address
    period_start INTEGER NOT NULL,
    spent        TEXT NOT NULL,
    pending      TEXT NOT NULL,
    PRIMARY KEY (grant_id, asset)
);
