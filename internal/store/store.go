// Package store defines what agentkeys keeps durably — sealed keys, grants
// (and their suspension), budget reservations, nonce counters, the audit
// log, the anomalies found in it and a few settings —
// as one small interface, Store, with the types it speaks.
//
// Implementations live in subpackages (store/sqlite, store/postgres)
// and must all pass the conformance suite in store/storetest. Only the
// service core and the implementations import this package; transports
// (rpc, admin, web, mcp, cli) go through the core.
//
// # Contract common to every method
//
//   - The first argument is a context; a cancelled context makes the call
//     fail (usually wrapping the context's error), and a failed write has no
//     effect. Callers that must record something even when the request is
//     abandoned (audit of a signature) pass context.WithoutCancel plus their
//     own timeout.
//   - Times are stored with millisecond precision and returned in UTC.
//     Comparisons (Spent, Requests, GrantFilter.ActiveAt) use the same
//     truncated values.
//   - Errors wrap the sentinels in errors.go where one applies; anything else
//     is an infrastructure failure (disk, lock timeout) that callers must
//     treat as "refuse the request".
//   - Returned values are copies; mutating them never changes stored data.
//
// # Serialisation (the heart of the design)
//
// Decide runs a callback in ONE transaction that is serialised with every
// other Decide on the same grant, with every other use of the same (chain,
// address) nonce counter, and with every audit append. SQLite gets this from
// BEGIN IMMEDIATE (one writer at a time); PostgreSQL (store/postgres) from
// row locks: the grant row (SELECT … FOR NO KEY UPDATE at the start of
// Decide), the nonce row (INSERT … ON CONFLICT DO NOTHING, then SELECT …
// FOR UPDATE) and the single audit_head row. Callbacks should take them in
// that order (budget, then nonce, then AppendAudit last) so PostgreSQL
// never deadlocks.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
)

// Store is the durable state of one agentkeys deployment. Implementations
// are safe for concurrent use by many goroutines and, where the backend
// allows it, by several processes sharing one database.
type Store interface {
	// PutKey stores a new sealed key. Errors: ErrConflict if k.ID exists,
	// ErrInvalid if k.Validate fails.
	PutKey(ctx context.Context, k Key) error
	// GetKey returns the key with id. Errors: ErrNotFound.
	GetKey(ctx context.Context, id string) (Key, error)
	// ListKeys returns all keys ordered by CreatedAt, then ID. No sentinel
	// errors.
	ListKeys(ctx context.Context) ([]Key, error)

	// CreateGrant stores a new grant. Errors: ErrConflict if g.ID exists,
	// ErrInvalid if g.Validate fails or g.SignerKeyID names no stored key.
	CreateGrant(ctx context.Context, g Grant) error
	// GetGrant returns the grant with id, revoked and expired ones included.
	// Errors: ErrNotFound.
	GetGrant(ctx context.Context, id string) (Grant, error)
	// ListGrants returns the grants matching f ordered by CreatedAt, then
	// ID (both descending with f.Newest), at most f.Limit of them if set,
	// starting after f.After if set: keyset pagination, so a page costs
	// the same however deep into the listing it is. Errors: ErrInvalid if
	// f fails Validate.
	ListGrants(ctx context.Context, f GrantFilter) ([]Grant, error)
	// RevokeGrant marks the grant revoked at `at`. Revoking a revoked grant
	// succeeds and keeps the first revocation time. Errors: ErrNotFound,
	// ErrInvalid for a zero time.
	RevokeGrant(ctx context.Context, id string, at time.Time) error
	// RevokeGrantFor is RevokeGrant with a reason, stored in the grant's
	// Meta under MetaRevokedReason, and its audit record a, appended in
	// the same transaction. It returns false, storing and appending
	// nothing, if the grant was already revoked. Errors: ErrNotFound,
	// ErrInvalid for a zero time, an empty reason or a record that fails
	// Validate.
	RevokeGrantFor(ctx context.Context, id string, at time.Time, reason string, a audit.Record) (bool, error)
	// SuspendGrant suspends the grant id (see Grant.SuspendedAt) and
	// appends s.Audit in the same transaction. It returns false, storing
	// and appending nothing, if the grant is already suspended. A revoked
	// or expired grant can be suspended (it changes nothing it may do).
	// Errors: ErrNotFound, ErrInvalid if s fails Validate.
	SuspendGrant(ctx context.Context, id string, s Suspension) (bool, error)
	// ResumeGrant lifts the grant's suspension and appends a in the same
	// transaction. It returns false, changing and appending nothing, if
	// the grant is not suspended. Errors: ErrNotFound, ErrInvalid if a
	// fails Validate.
	ResumeGrant(ctx context.Context, id string, a audit.Record) (bool, error)
	// ActivateGrant lets a grant pending for a.Pending (PendingApproval,
	// PendingSignature) act: it clears Grant.Pending, stores a.Seal,
	// merges a.Meta into the grant's Meta (a value "" deletes its key)
	// and appends a.Audit, all in one transaction. It returns false,
	// changing and appending nothing, if the grant is not pending for that
	// reason (already active, or waiting for something else) or is
	// revoked. Errors: ErrNotFound, ErrInvalid if a fails Validate.
	ActivateGrant(ctx context.Context, id string, a Activation) (bool, error)
	// SealGrants stores seals[id] as the seal of each grant id that has
	// none yet, and returns how many it sealed (a home's grants made
	// before grants were sealed). Errors: ErrNotFound for an id not
	// stored, ErrInvalid for an empty seal.
	SealGrants(ctx context.Context, seals map[string][]byte) (int, error)
	// RevokeAll revokes every grant not yet revoked (expired ones too) and
	// returns how many it revoked. Errors: ErrInvalid for a zero time.
	RevokeAll(ctx context.Context, at time.Time) (int, error)

	// AppendAudit appends r to the audit log outside any Decide (for
	// requests with no grant: unknown credentials, read methods, admin
	// actions). It assigns Seq, PrevHash and Hash (audit.Chain) and moves
	// the head in the same transaction, and returns the stored record.
	// Incoming Seq/PrevHash/Hash are ignored. Errors: ErrInvalid if
	// r.Validate fails.
	AppendAudit(ctx context.Context, r audit.Record) (audit.Record, error)
	// AuditRecords returns up to limit records with Seq > afterSeq in
	// ascending Seq (an empty slice past the end). Errors: ErrInvalid if
	// limit < 1 or afterSeq < 0.
	AuditRecords(ctx context.Context, afterSeq int64, limit int) ([]audit.Record, error)
	// AuditHead returns the newest record's Seq and Hash, kept apart from
	// the records; audit.GenesisHead() for an empty log. To verify, read the
	// head first, then records up to head.Seq (appends may continue
	// meanwhile). No sentinel errors.
	AuditHead(ctx context.Context) (audit.Head, error)
	// KeyUsage summarises the audit records of the grant keyID (KeyID ==
	// keyID; owner actions on it are not its use): its newest record, and
	// how many records, and how many of them denied, have time >= since.
	// A key with no records, or none stored, has the zero KeyUsage.
	// Errors: ErrInvalid for an empty keyID.
	KeyUsage(ctx context.Context, keyID string, since time.Time) (KeyUsage, error)

	// RecordAnomaly stores req.Anomaly and appends req.Audit in one
	// transaction, setting the stored anomaly's AuditSeq; with
	// req.Suspend it also suspends the anomaly's key as SuspendGrant does
	// (appending req.Suspend.Audit only if the key was not suspended
	// already). It is idempotent per (KeyID, Kind, Trigger): an anomaly
	// already stored for them is returned as stored with false, and
	// nothing is stored, appended or suspended, so replaying the audit log
	// raises nothing twice. Otherwise it returns the stored anomaly and
	// true. Errors: ErrInvalid if the anomaly, the record or the
	// suspension fails Validate; ErrConflict if req.Anomaly.ID is stored
	// for another (key, kind, trigger); ErrNotFound if a suspension names
	// no stored grant. Then nothing is stored.
	RecordAnomaly(ctx context.Context, req AnomalyRequest) (Anomaly, bool, error)
	// ListAnomalies returns the anomalies matching f, newest first (At,
	// then AuditSeq, descending). Errors: ErrInvalid for a negative
	// limit.
	ListAnomalies(ctx context.Context, f AnomalyFilter) ([]Anomaly, error)

	// Decide runs fn in one transaction on the grant with id grantID (see
	// the package doc for what it is serialised with). If fn returns nil the
	// transaction commits; if fn returns an error or panics, everything it
	// did — reservations, nonces, audit records — is rolled back and the
	// error is returned wrapped (the panic re-raised). A failed commit
	// returns an error and nothing is stored; the caller must then not
	// release any signature made inside fn. Decide does not refuse revoked
	// or expired grants: fn sees them through DecideTx.Grant and decides
	// (and audits) itself. fn must use only tx, never the Store (that may
	// deadlock), must not keep tx after returning, and should do no network
	// I/O. Errors: ErrNotFound (fn is not called), or fn's error.
	Decide(ctx context.Context, grantID string, fn func(ctx context.Context, tx DecideTx) error) error

	// Owner runs fn in one transaction for a transaction the owner's
	// account sends that charges no grant's budget (wallet upgrade and
	// downgrade, on-chain revocation, deploying the delegate): its nonce and
	// its audit record commit together, or not at all. It is serialised like
	// Decide (with every use of the same nonce counter and every audit
	// append), and has Decide's contract otherwise: fn must use only tx,
	// must not keep it, and should do no network I/O. Errors: fn's error.
	Owner(ctx context.Context, fn func(ctx context.Context, tx OwnerTx) error) error
	// ResetChain forgets what the store holds about a chain that is gone
	// for good (the sandbox's in-process chain, which ends with its
	// process), so that what is signed next fits the chain replacing it. In
	// one transaction it deletes every nonce counter of req.ChainID; deletes
	// the budget reservations of every grant whose Chains include
	// req.ChainID, and their running totals, since they were charged for
	// transactions that can no longer land (reservations do not record
	// their chain, so a grant on several chains loses all of them: use it
	// only where a home serves one chain); revokes at req.At every 7702 grant on that chain not yet
	// revoked, storing req.RevokeReason in its Meta under MetaRevokedReason,
	// because its session key was registered only on the old chain; marks
	// every transaction of the chain not yet final TxDropped (at req.At);
	// and appends req.Audit(result) to the audit log. Wallet-mode grants stay
	// active. It returns what it did. Errors: ErrInvalid for a chain id of 0
	// or beyond the int64 range, a zero time, an empty reason, a nil Audit
	// or a record that fails Validate; then nothing is changed.
	ResetChain(ctx context.Context, req ChainResetRequest) (ChainReset, error)

	// RecordTx records a transaction signed outside a grant's decision —
	// the cancel of a stuck transaction, which reuses that transaction's
	// nonce instead of taking one — together with its audit record a, in
	// one transaction, and returns the stored audit record (see
	// AppendAudit). For a cancel (r.Kind TxKindCancel) it also sets the
	// cancelled transaction's CancelledBy. Errors: ErrInvalid if r or a
	// fails Validate; ErrConflict if r.Hash is already recorded, or the
	// cancelled transaction is final or already has a cancel; ErrNotFound
	// if the cancelled transaction is not recorded; ErrInvalid if it is on
	// another chain, sender or nonce. Then nothing is stored.
	RecordTx(ctx context.Context, r TxRecord, a audit.Record) (audit.Record, error)
	// UpdateTx moves the transaction hash (any case) to u.State and
	// returns it as stored. Allowed: signed → broadcast or any final
	// state; broadcast → broadcast (again, after a rebroadcast: only
	// BroadcastAt and UpdatedAt change) or any final state. Errors:
	// ErrInvalid if u fails Validate, or if u.CancelledBy differs from the
	// cancel recorded for the transaction; ErrNotFound for an unknown
	// hash; ErrConflict if the transaction is final: a final state never
	// changes.
	UpdateTx(ctx context.Context, hash string, u TxUpdate) (TxRecord, error)
	// GetTx returns the transaction with hash (any case). Errors:
	// ErrInvalid for a malformed hash, ErrNotFound.
	GetTx(ctx context.Context, hash string) (TxRecord, error)
	// ListTxs returns the transactions matching f, oldest first
	// (CreatedAt, then nonce, then hash), at most f.Limit of them if set.
	// Errors: ErrInvalid if f fails Validate.
	ListTxs(ctx context.Context, f TxFilter) ([]TxRecord, error)
	// CountTxs returns how many transactions of chainID are in each
	// lifecycle state (states with none are absent). Errors: ErrInvalid for
	// a chain id of 0 or beyond the int64 range.
	CountTxs(ctx context.Context, chainID uint64) (map[string]int, error)
	// Nonces returns the nonce counters of chainID ordered by address.
	// Errors: ErrInvalid for a chain id of 0 or beyond the int64 range.
	Nonces(ctx context.Context, chainID uint64) ([]NonceCounter, error)
	// SettleTx records that the transaction txHash landed: its
	// reservations become spent, and its Fee reservation (if it made one)
	// takes the amount actualFee (gas used × effective gas price) in place
	// of the worst case, the running totals following. Reservations
	// released earlier are charged again, since the transaction did land
	// after all. Settling again (with the same fee) changes nothing; a
	// transaction that reserved nothing settles as a no-op. Errors:
	// ErrInvalid for a malformed hash or a fee that is nil, negative or
	// beyond 2^256-1.
	SettleTx(ctx context.Context, txHash string, actualFee *big.Int) error
	// ReleaseTx releases, at req.At, every pending reservation of the
	// transaction req.Hash, because it provably cannot land (another
	// transaction of the account was mined at its nonce): they stop
	// counting in Spent and the running totals drop by them. In the same
	// transaction it appends req.Audit(result), so there is no release
	// without its record. Releasing a transaction with nothing pending
	// (already released, or never reserved) returns an empty result and
	// appends nothing. Errors: ErrInvalid for a malformed hash, a zero
	// time, a nil Audit or a record that fails Validate; ErrConflict if the
	// transaction was settled (it landed: its spend stays). On error
	// nothing is changed.
	ReleaseTx(ctx context.Context, req TxRelease) (TxReleased, error)

	// PutAlertHook stores a new webhook. Errors: ErrConflict if h.ID
	// exists, ErrInvalid if h.Validate fails.
	PutAlertHook(ctx context.Context, h AlertHook) error
	// GetAlertHook returns the hook with id. Errors: ErrNotFound.
	GetAlertHook(ctx context.Context, id string) (AlertHook, error)
	// ListAlertHooks returns every hook ordered by CreatedAt, then ID. No
	// sentinel errors.
	ListAlertHooks(ctx context.Context) ([]AlertHook, error)
	// DeleteAlertHook removes the hook with id and its deliveries.
	// Errors: ErrNotFound.
	DeleteAlertHook(ctx context.Context, id string) error
	// RecordAlert records, in one transaction, that the anomaly whose
	// audit record is anomalySeq has been alerted, and stores its
	// deliveries (each with that AnomalySeq). It is idempotent: if the
	// anomaly was recorded before it stores nothing and returns false,
	// and a delivery for a (hook, anomaly) pair that exists is never
	// stored twice. Errors: ErrInvalid if anomalySeq < 1, a delivery fails
	// Validate or names another anomaly; ErrNotFound if a delivery names
	// no stored hook. Then nothing is stored.
	RecordAlert(ctx context.Context, anomalySeq int64, ds []AlertDelivery) (bool, error)
	// AddAlertDelivery stores a test delivery (AnomalySeq 0). Errors:
	// ErrInvalid if d fails Validate or has an AnomalySeq; ErrNotFound if
	// its hook is not stored; ErrConflict if d.ID exists.
	AddAlertDelivery(ctx context.Context, d AlertDelivery) error
	// DueAlertDeliveries returns up to limit pending deliveries with
	// NextAttemptAt <= at, the earliest due first (then by creation and
	// id). Errors: ErrInvalid if limit < 1.
	DueAlertDeliveries(ctx context.Context, at time.Time, limit int) ([]AlertDelivery, error)
	// UpdateAlertDelivery records an attempt on the pending delivery id:
	// it counts the attempt, stores a's state, status and error, and
	// returns the delivery as stored. Errors: ErrInvalid if a fails
	// Validate; ErrNotFound; ErrConflict if the delivery is no longer
	// pending (delivered and failed are final).
	UpdateAlertDelivery(ctx context.Context, id string, a AlertAttempt) (AlertDelivery, error)
	// ListAlertDeliveries returns the deliveries matching f, newest first
	// (CreatedAt, then ID, descending). Errors: ErrInvalid if f fails
	// Validate.
	ListAlertDeliveries(ctx context.Context, f AlertDeliveryFilter) ([]AlertDelivery, error)

	// AddPasskey stores the owner's passkey p and appends its
	// registration record a in one transaction, setting p.AuditSeq to
	// a's Seq, and returns p as stored. Errors: ErrInvalid if p or a fails
	// Validate; ErrConflict if p.ID or p.CredentialID is stored already.
	// Then nothing is stored.
	AddPasskey(ctx context.Context, p Passkey, a audit.Record) (Passkey, error)
	// ListPasskeys returns the owner's passkeys ordered by CreatedAt, then
	// ID. No sentinel errors.
	ListPasskeys(ctx context.Context) ([]Passkey, error)
	// RemovePasskey deletes the passkey id and appends a in one
	// transaction. Errors: ErrNotFound; ErrInvalid if a fails Validate.
	RemovePasskey(ctx context.Context, id string, a audit.Record) error
	// PutEnrollment stores a one-time passkey registration link (its
	// secret's hash). Errors: ErrInvalid if e fails Validate; ErrConflict
	// if the hash is stored already.
	PutEnrollment(ctx context.Context, e Enrollment) error
	// CheckEnrollment returns the enrollment with tokenHash if it is
	// unused and not expired at `at`. Errors: ErrNotFound otherwise.
	CheckEnrollment(ctx context.Context, tokenHash []byte, at time.Time) (Enrollment, error)
	// BeginEnrollment stores ceremony as the registration ceremony of the
	// enrollment with tokenHash (replacing one begun before), if it is
	// unused and not expired at `at`. Errors: ErrNotFound otherwise;
	// ErrInvalid for an empty ceremony.
	BeginEnrollment(ctx context.Context, tokenHash, ceremony []byte, at time.Time) error
	// UseEnrollment marks the enrollment with tokenHash used at `at`, so
	// it registers one passkey at most, even under concurrent use.
	// Errors: ErrNotFound if there is none unused and unexpired at `at`.
	UseEnrollment(ctx context.Context, tokenHash []byte, at time.Time) error
	// CreateChange stores a change waiting for the owner (State
	// ChangePending) and appends a in one transaction. Errors: ErrInvalid
	// if c or a fails Validate or c is not pending; ErrConflict if c.ID
	// exists. Then nothing is stored.
	CreateChange(ctx context.Context, c Change, a audit.Record) error
	// GetChange returns the change with id. Errors: ErrNotFound.
	GetChange(ctx context.Context, id string) (Change, error)
	// ListChanges returns the changes matching f, newest first
	// (CreatedAt, then ID, descending). Errors: ErrInvalid for an unknown
	// state or a negative limit.
	ListChanges(ctx context.Context, f ChangeFilter) ([]Change, error)
	// SettleChange moves the change id from ChangePending to s.To at s.At
	// with s.Detail, appending s.Audit if set, in one transaction. It
	// returns false, changing and appending nothing, if the change is not
	// pending, so at most one settlement of a change ever succeeds.
	// Errors: ErrNotFound; ErrInvalid if s fails Validate.
	SettleChange(ctx context.Context, id string, s ChangeSettlement) (bool, error)

	// GetMeta returns the setting stored under key. Errors: ErrNotFound.
	GetMeta(ctx context.Context, key string) (string, error)
	// SetMeta stores value under key, replacing any previous value.
	// Errors: ErrInvalid for an empty key.
	SetMeta(ctx context.Context, key, value string) error

	// Close releases the store. Calls after Close fail. Close is not safe to
	// call concurrently with other methods.
	Close() error
}

// Bulk loads many grants or audit records at once, each call in one
// transaction: `agentkeys bench seed` fills a store with them for scale
// tests. Both stores implement it and the conformance suite checks it; it
// is apart from Store because nothing that serves requests needs it.
type Bulk interface {
	// CreateGrants is CreateGrant for every grant of gs, in one
	// transaction: all are stored, or none. Errors: ErrInvalid as
	// CreateGrant; ErrConflict if an id is stored already or given twice.
	CreateGrants(ctx context.Context, gs []Grant) error
	// AppendAudits is AppendAudit for every record of rs, in order, in one
	// transaction: all are appended, each chained after the one before
	// (audit.Chain), and the head moved to the last, or none is. It
	// returns the new head. Errors: ErrInvalid if a record fails Validate;
	// then nothing is appended.
	AppendAudits(ctx context.Context, rs []audit.Record) (audit.Head, error)
}

// DecideTx is the view of the store inside Decide. Its methods fail with
// ErrTxDone once fn has returned. Calls from several goroutines are
// serialised, but there is nothing to gain from making them.
type DecideTx interface {
	// Grant returns the grant as read inside the transaction, so a
	// revocation committed before Decide began is visible.
	Grant() Grant
	// Spent returns what this grant has charged against asset since
	// periodStart: the sums of its reservations of asset with time >=
	// periodStart that are not released, split into Spent (landed, or
	// reserved without a transaction) and Pending (transactions that may
	// still land). asset is "native", "fees" or a 0x address (any case).
	//
	// Pass the start of the budget period exactly (policy.PeriodStart): the
	// store keeps one running total per grant and asset for the newest
	// periodStart asked about, updated by every reservation, settlement and
	// release, so Spent is one row read however many reservations the grant
	// made. The first call with a newer periodStart builds the total from
	// the reservations since then (in a new period, usually none); a call
	// with an older periodStart is answered from the reservations and
	// changes nothing. Errors: ErrInvalid for a malformed asset.
	Spent(ctx context.Context, asset string, periodStart time.Time) (Charged, error)
	// Requests returns the number of audit records of this grant (KeyID ==
	// grant id) with time >= since, including any appended earlier in this
	// transaction, counting no further than atMost: a rate limit needs
	// to know only whether its maximum is reached, so the count costs the
	// same however many requests the key made. Errors: ErrInvalid if
	// atMost < 1.
	Requests(ctx context.Context, since time.Time, atMost int) (int, error)
	// Reserve records spends against this grant at time at that are spent
	// at once and for good, because nothing follows them to a fate: a
	// typed-data permit, or value the owner sent. Errors: ErrInvalid if a
	// spend fails Spend.Validate or is a Fee, or at is zero.
	Reserve(ctx context.Context, at time.Time, spends []Spend) error
	// ReserveTx records spends against this grant at time at for the
	// transaction txHash (0x and 64 hex digits, any case). They are
	// pending — counted by Spent, as Pending — until Store.SettleTx
	// (the transaction landed) or Store.ReleaseTx (it provably cannot
	// land). At most one spend per asset should be a Fee: the
	// transaction's worst-case fee, which SettleTx replaces by the actual
	// one. Errors: ErrInvalid if a spend fails Spend.Validate, at is zero
	// or txHash is malformed; ErrConflict if another grant reserved for
	// txHash.
	ReserveTx(ctx context.Context, at time.Time, txHash string, spends []Spend) error
	// NextNonce allocates the next nonce of address on chainID: it returns
	// n = max(stored next, floor) and stores n+1, so no two callers ever get
	// the same n. floor is the node's pending nonce, letting the counter
	// catch up with transactions sent outside agentkeys. The counter is
	// shared by all grants acting as address. Errors: ErrInvalid for a
	// malformed address, or chainID or floor beyond the int64 range.
	NextNonce(ctx context.Context, chainID uint64, address string, floor uint64) (uint64, error)
	// RecordTx records a transaction signed inside this decision (state
	// TxSigned), so that it commits with the decision, its reservation,
	// its nonce and its audit record, or not at all. r.GrantID must be
	// this grant's id, or empty for an owner transaction (kind
	// TxKindOwner). Errors: ErrInvalid if r fails Validate, is a cancel
	// (Store.RecordTx records those) or names another grant; ErrConflict
	// if r.Hash is already recorded.
	RecordTx(ctx context.Context, r TxRecord) error
	// AppendAudit is Store.AppendAudit inside the transaction: the record
	// commits with the reservations and nonces, or not at all. An empty
	// KeyID is set to the grant's id. Errors: ErrInvalid if r.Validate
	// fails or r.KeyID names another grant.
	AppendAudit(ctx context.Context, r audit.Record) (audit.Record, error)
}

// OwnerTx is the view of the store inside Owner. Its methods fail with
// ErrTxDone once fn has returned.
type OwnerTx interface {
	// NextNonce is DecideTx.NextNonce.
	NextNonce(ctx context.Context, chainID uint64, address string, floor uint64) (uint64, error)
	// AppendAudit is Store.AppendAudit inside the transaction. KeyID names
	// the grant the owner acted on, if any; it is kept as given. Errors:
	// ErrInvalid if r.Validate fails.
	AppendAudit(ctx context.Context, r audit.Record) (audit.Record, error)
	// RecordTx is DecideTx.RecordTx for an owner transaction (Kind
	// TxKindOwner; GrantID empty in Owner, the decision's grant in Decide).
	RecordTx(ctx context.Context, r TxRecord) error
}

// There is deliberately no ReleaseNonce: once a transaction is signed, its
// bytes may reach a node (the agent may broadcast an eth_signTransaction
// result, or a broadcast may succeed after timing out), so no code can know
// that a nonce is unused. Handing it out again could put two different
// signed transactions under one nonce. A nonce left unused leaves a gap the
// owner closes by sending a (self-)transaction with it.

// TxRelease asks Store.ReleaseTx to release a transaction's reservations.
type TxRelease struct {
	Hash string    // the transaction, 0x and 64 hex digits (any case)
	At   time.Time // when it was found unable to land
	// Audit builds the record of the release from what was released; it
	// is appended in the same transaction, and only if something was.
	Audit func(TxReleased) audit.Record
}

// TxReleased is what Store.ReleaseTx released. Released is ordered by
// asset and empty, not nil, when nothing was pending.
type TxReleased struct {
	Hash     string // lowercase
	GrantID  string // the grant that reserved for the transaction; "" if none
	Released []ReleasedSpend
}

// Charged is what a grant has charged against one asset's budget in a
// period. Both amounts are non-nil.
type Charged struct {
	Spent   *big.Int // landed transactions and spends without one
	Pending *big.Int // transactions signed that may still land
}

// KeyUsage is what the audit log says of one key's use (Store.KeyUsage).
type KeyUsage struct {
	LastUsed      time.Time // time of the key's newest audit record; zero if it has none
	LastIP        string    // that record's caller IP ("" if it has none)
	LastUserAgent string    // that record's user agent ("" if it has none)
	LastDecision  string    // that record's decision
	Requests      int       // records at or after since
	Denied        int       // of those, the ones denied
}

// Total is what counts against a cap: spent and pending.
func (c Charged) Total() *big.Int { return new(big.Int).Add(c.Spent, c.Pending) }

// MetaRevokedReason is the Grant.Meta key under which ResetChain says why
// it revoked a grant.
const MetaRevokedReason = "revoked_reason"

// ChainResetRequest asks Store.ResetChain to forget a chain.
type ChainResetRequest struct {
	ChainID      uint64
	At           time.Time // when the 7702 grants are revoked
	RevokeReason string    // stored with each revoked grant, for the agent and the owner
	// Audit builds the record of the reset from what was reset; it is
	// appended in the same transaction, so there is no reset without it.
	Audit func(ChainReset) audit.Record
}

// ChainReset is what Store.ResetChain removed. Lists are ordered (nonces by
// address, released reservations by grant then asset, revoked grants by
// creation then id) and empty, not nil, when nothing was removed.
type ChainReset struct {
	ChainID  uint64
	Nonces   []NonceCounter  // the counters deleted
	Released []ReleasedSpend // the reservations deleted, summed per grant and asset
	Revoked  []string        // ids of the 7702 grants revoked
	Dropped  []string        // hashes of the transactions marked dropped, oldest first
}

// NonceCounter is a stored nonce counter: the next nonce of an address.
type NonceCounter struct {
	Address string // lowercase 0x address
	Next    uint64
}

// ReleasedSpend sums the reservations of one grant and asset that
// ResetChain deleted or ReleaseTx released.
type ReleasedSpend struct {
	GrantID      string
	Asset        string // AssetNative, AssetFees or a lowercase 0x token address
	Amount       *big.Int
	Reservations int // how many reservations made up Amount
}

// Grant modes.
const (
	ModeWallet = "wallet" // the daemon signs with a wallet key it holds
	Mode7702   = "7702"   // the daemon signs as a session key limited on chain
)

// Key kinds in use; the store accepts any non-empty kind.
const (
	KeyKindWallet  = "wallet"  // a funded EOA the daemon signs with
	KeyKindSession = "session" // an EIP-7702 session key registered on chain
	KeyKindOwner   = "owner"   // the owner EOA (delegation and registration)
	KeyKindRelayer = "relayer" // the daemon's gas account when the owner's key is elsewhere (owner-offline mode)
)

// AssetNative names the chain's native currency in Spend and Spent.
const AssetNative = "native"

// AssetFees names the budget of transaction fees, kept apart from
// AssetNative when a policy sets a limit for fees.
const AssetFees = "fees"

// Grant is a credential's permission to act for an account under a policy.
type Grant struct {
	ID             string          `json:"id"`               // the credential id (ak_<id>_…)
	Agent          string          `json:"agent"`            // who it was granted to, for people
	Mode           string          `json:"mode"`             // ModeWallet or Mode7702
	Chains         []uint64        `json:"chains,omitempty"` // chain ids it may act on; policy repeats them
	Policy         json.RawMessage `json:"policy"`           // normalised policy document; opaque here
	Address        string          `json:"address"`          // the account the agent acts as (0x…)
	SignerKeyID    string          `json:"signer_key_id"`    // Key that signs: wallet or session key
	CredentialHash []byte          `json:"-"`                // secrets.HashSecret of the credential
	CreatedAt      time.Time       `json:"created_at"`
	ExpiresAt      time.Time       `json:"expires_at"`
	RevokedAt      *time.Time      `json:"revoked_at,omitempty"`
	// SuspendedAt is set while the grant is suspended (by an anomaly or
	// the owner), SuspendReason says why; a suspended grant acts again
	// once resumed (Store.ResumeGrant).
	SuspendedAt   *time.Time        `json:"suspended_at,omitempty"`
	SuspendReason string            `json:"suspend_reason,omitempty"`
	Meta          map[string]string `json:"meta,omitempty"` // free-form labels
	// Pending, when set, is what the grant waits for before it may act
	// (PendingApproval, PendingSignature); Store.ActivateGrant clears it.
	// A pending grant is refused like a suspended one.
	Pending string `json:"pending,omitempty"`
	// Seal is the home's master key's seal of what the grant allows
	// (GrantSealID): a database writer without the master key cannot
	// make a grant, or widen or activate one, that the daemon accepts.
	Seal []byte `json:"-"`
}

// Activation is what ActivateGrant changes: the grant stops waiting for
// Pending, takes Seal (sealing it as active) and Meta, and Audit is
// appended.
type Activation struct {
	Pending string
	Seal    []byte
	Meta    map[string]string
	Audit   audit.Record
}

// Validate returns an error wrapping ErrInvalid unless a names a known
// pending reason, carries a seal, and its audit record is valid.
func (a Activation) Validate() error {
	switch {
	case a.Pending != PendingApproval && a.Pending != PendingSignature:
		return fmt.Errorf("%w: pending %q is not %q or %q", ErrInvalid, bounded(a.Pending), PendingApproval, PendingSignature)
	case len(a.Seal) == 0:
		return fmt.Errorf("%w: an activation needs the grant's new seal", ErrInvalid)
	}
	if err := a.Audit.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// GrantSealID is the record id under which a grant's seal is made
// (secrets.MasterKey.Seal of nothing): it names the grant and a SHA-256
// digest of every field that says what the grant allows, so the seal
// opens only for exactly this grant as it was sealed. The fields are the
// id, agent, mode, chains, policy, account, signer key, credential hash,
// creation and expiry (milliseconds) and what it waits for; not the
// revocation, suspension or meta, which the owner's narrowing actions
// and the store's own bookkeeping change.
func GrantSealID(g Grant) string {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	chains := make([]byte, 0, 8*len(g.Chains))
	for _, c := range g.Chains {
		chains = binary.BigEndian.AppendUint64(chains, c)
	}
	field([]byte("agentkeys/grant-seal/v1"))
	for _, s := range []string{g.ID, g.Agent, g.Mode, strings.ToLower(g.Address), g.SignerKeyID, g.Pending} {
		field([]byte(s))
	}
	field(chains)
	field(g.Policy)
	field(g.CredentialHash)
	field(binary.BigEndian.AppendUint64(nil, uint64(g.CreatedAt.UnixMilli())))
	field(binary.BigEndian.AppendUint64(nil, uint64(g.ExpiresAt.UnixMilli())))
	return "grant/" + g.ID + "/" + hex.EncodeToString(h.Sum(nil))
}

// What a pending grant waits for (Grant.Pending).
const (
	// PendingApproval: the owner's passkey approval of the grant.
	PendingApproval = "approval"
	// PendingSignature: the owner's signature of the grant, which the
	// chain checks (7702 mode without the owner's key on the daemon).
	PendingSignature = "signature"
)

// Active reports whether g may act at time at: not revoked and not expired.
func (g Grant) Active(at time.Time) bool {
	return g.RevokedAt == nil && at.Before(g.ExpiresAt)
}

// A grant's statuses at a time (Grant.Status, GrantFilter.Status).
const (
	StatusActive    = "active"
	StatusSuspended = "suspended" // not revoked or expired, but suspended
	StatusExpired   = "expired"   // not revoked, past its expiry
	StatusRevoked   = "revoked"
	// Not revoked or expired, waiting for the owner (Grant.Pending).
	StatusPendingApproval  = "pending_approval"
	StatusPendingSignature = "pending_signature"
)

// Status is g's status at time at: revoked if it was revoked (whenever),
// else expired if at is not before its expiry, else pending if it waits
// for the owner, else suspended if it is suspended, else active.
// GrantFilter.Status selects by the same rule.
func (g Grant) Status(at time.Time) string {
	switch {
	case g.RevokedAt != nil:
		return StatusRevoked
	case !at.Before(g.ExpiresAt):
		return StatusExpired
	case g.Pending == PendingApproval:
		return StatusPendingApproval
	case g.Pending == PendingSignature:
		return StatusPendingSignature
	case g.SuspendedAt != nil:
		return StatusSuspended
	}
	return StatusActive
}

// Cursor is g's position in the order of ListGrants, for GrantFilter.After.
func (g Grant) Cursor() GrantCursor { return GrantCursor{CreatedAt: g.CreatedAt, ID: g.ID} }

// Clone returns a copy of g that shares no memory with it.
func (g Grant) Clone() Grant {
	g.Chains = append([]uint64(nil), g.Chains...)
	if len(g.Chains) == 0 {
		g.Chains = nil
	}
	if g.Policy != nil {
		g.Policy = append(json.RawMessage(nil), g.Policy...)
	}
	g.CredentialHash = append([]byte(nil), g.CredentialHash...)
	if g.Seal != nil {
		g.Seal = append([]byte(nil), g.Seal...)
	}
	if g.RevokedAt != nil {
		t := *g.RevokedAt
		g.RevokedAt = &t
	}
	if g.SuspendedAt != nil {
		t := *g.SuspendedAt
		g.SuspendedAt = &t
	}
	if g.Meta != nil {
		m := make(map[string]string, len(g.Meta))
		for k, v := range g.Meta {
			m[k] = v
		}
		g.Meta = m
	}
	return g
}

// GrantFilter narrows ListGrants. The zero value lists every grant.
type GrantFilter struct {
	Agent    string    // only grants to this agent, if set
	ActiveAt time.Time // only grants not revoked and expiring after this, if set
	// Status, if set, keeps only the grants whose Status at StatusAt is
	// this one (StatusActive, StatusSuspended, StatusExpired or
	// StatusRevoked); StatusAt must then be set.
	Status   string
	StatusAt time.Time
	// Newest lists newest first: CreatedAt, then ID, descending.
	Newest bool
	// After, if set, starts the listing after this position in its order
	// (the Cursor of the last grant of the previous page), whether or not
	// a grant is still there.
	After *GrantCursor
	Limit int // at most this many, if > 0
}

// GrantCursor is a position in the order of ListGrants.
type GrantCursor struct {
	CreatedAt time.Time // compared at millisecond precision, as stored
	ID        string
}

// MaxGrantCursorID bounds GrantCursor.ID: no grant id is longer.
const MaxGrantCursorID = 256

// Validate returns an error wrapping ErrInvalid for an unknown status, a
// status without its time, a negative limit, or a cursor with no time or
// an id that is empty or over MaxGrantCursorID bytes.
func (f GrantFilter) Validate() error {
	switch f.Status {
	case "", StatusActive, StatusSuspended, StatusExpired, StatusRevoked, StatusPendingApproval, StatusPendingSignature:
	default:
		return fmt.Errorf("%w: grant status %q is not active, suspended, expired, revoked, pending_approval or pending_signature", ErrInvalid, bounded(f.Status))
	}
	switch {
	case f.Status != "" && f.StatusAt.IsZero():
		return fmt.Errorf("%w: grant status %s needs the time it holds at", ErrInvalid, f.Status)
	case f.Limit < 0:
		return fmt.Errorf("%w: negative limit", ErrInvalid)
	case f.After != nil && (f.After.CreatedAt.IsZero() || f.After.ID == "" || len(f.After.ID) > MaxGrantCursorID):
		return fmt.Errorf("%w: grant cursor needs a time and an id of 1 to %d bytes", ErrInvalid, MaxGrantCursorID)
	}
	return nil
}

// Key is a private key sealed under the master key (secrets.MasterKey.Seal
// with the key id as record id). The store never sees plaintext.
type Key struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`    // KeyKindWallet, KeyKindSession, …
	Address   string    `json:"address"` // 0x… address of the key
	Sealed    []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Spend is an amount of one asset, in its smallest unit (wei, token base
// units). Amounts are stored exactly, up to 2^256-1.
type Spend struct {
	Asset  string   // AssetNative, AssetFees or a 0x token address (any case; stored lowercase)
	Amount *big.Int // 0 <= Amount < 2^256
	// Fee marks a transaction's worst-case fee (DecideTx.ReserveTx only),
	// which Store.SettleTx replaces by the actual fee.
	Fee bool
}
