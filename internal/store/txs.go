package store

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Transaction states. A transaction is recorded 'signed' with its
// decision, becomes 'broadcast' once a node took it, and ends in one of
// the final states, which never change.
const (
	TxSigned    = "signed"    // signed and recorded; no node is known to hold it
	TxBroadcast = "broadcast" // a node took it (pending)
	TxIncluded  = "included"  // mined: Block and Status are set
	TxReplaced  = "replaced"  // another transaction was mined at its nonce
	TxCancelled = "cancelled" // our cancel (CancelledBy) was mined at its nonce
	TxDropped   = "dropped"   // its chain is gone (ResetChain)
)

// Transaction kinds.
const (
	TxKindAgent  = "agent"  // an agent's request, decided under its grant
	TxKindOwner  = "owner"  // the owner's own transaction (delegation, registration, revocation)
	TxKindCancel = "cancel" // a zero-value self-transfer taking a stuck transaction's nonce
)

// TxFinal reports whether state is final: it never changes again.
func TxFinal(state string) bool {
	switch state {
	case TxIncluded, TxReplaced, TxCancelled, TxDropped:
		return true
	}
	return false
}

func knownTxState(state string) bool {
	return state == TxSigned || state == TxBroadcast || TxFinal(state)
}

// TxRecord is a transaction the daemon signed, and what became of it.
type TxRecord struct {
	Hash    string `json:"hash"` // 0x + 64 hex digits (stored lowercase)
	ChainID uint64 `json:"chain_id"`
	Sender  string `json:"sender"` // 0x address (stored lowercase)
	Nonce   uint64 `json:"nonce"`
	GrantID string `json:"grant_id"` // the grant it was decided under; "" for owner transactions
	Kind    string `json:"kind"`     // TxKindAgent, TxKindOwner or TxKindCancel
	// Send is true when the daemon broadcasts it itself; false for an
	// eth_signTransaction result, which the agent must broadcast.
	Send    bool   `json:"send"`
	Cancels string `json:"cancels,omitempty"` // kind cancel: the hash of the transaction it cancels
	Raw     []byte `json:"-"`                 // the signed bytes (EIP-2718 encoding)
	State   string `json:"state"`
	Block   uint64 `json:"block,omitempty"`  // included: the block number
	Status  uint64 `json:"status,omitempty"` // included: the receipt status (1 success, 0 reverted)
	// ReplacedBy is the transaction mined at this nonce instead, when it
	// is one the store knows; CancelledBy the cancel sent for this one
	// (set when the cancel is recorded, before it is mined).
	ReplacedBy  string     `json:"replaced_by,omitempty"`
	CancelledBy string     `json:"cancelled_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	BroadcastAt *time.Time `json:"broadcast_at,omitempty"` // the last time a node took it
}

// Validate returns an error wrapping ErrInvalid unless r can be recorded:
// a hash, a chain id in the int64 range, a 0x sender, a nonce below
// 2^63-1, a known kind (with Cancels set exactly for cancels), raw bytes,
// state TxSigned and a creation time. GrantID is not checked here.
func (r TxRecord) Validate() error {
	switch {
	case !isHash(r.Hash):
		return fmt.Errorf("%w: transaction hash %q is not 0x followed by 64 hex digits", ErrInvalid, bounded(r.Hash))
	case r.ChainID == 0 || r.ChainID > math.MaxInt64:
		return fmt.Errorf("%w: transaction chain id %d out of range", ErrInvalid, r.ChainID)
	case !isAddress(r.Sender):
		return fmt.Errorf("%w: transaction sender %q is not a 0x address", ErrInvalid, bounded(r.Sender))
	case r.Nonce >= math.MaxInt64:
		return fmt.Errorf("%w: transaction nonce %d out of range", ErrInvalid, r.Nonce)
	case r.Kind != TxKindAgent && r.Kind != TxKindOwner && r.Kind != TxKindCancel:
		return fmt.Errorf("%w: transaction kind %q is not agent, owner or cancel", ErrInvalid, bounded(r.Kind))
	case (r.Kind == TxKindCancel) != (r.Cancels != ""):
		return fmt.Errorf("%w: a transaction names the one it cancels if and only if its kind is cancel", ErrInvalid)
	case r.Cancels != "" && !isHash(r.Cancels):
		return fmt.Errorf("%w: cancelled hash %q is not 0x followed by 64 hex digits", ErrInvalid, bounded(r.Cancels))
	case len(r.Raw) == 0:
		return fmt.Errorf("%w: transaction has no raw bytes", ErrInvalid)
	case r.State != TxSigned:
		return fmt.Errorf("%w: a transaction is recorded in state %q, not %q", ErrInvalid, TxSigned, bounded(r.State))
	case r.CreatedAt.IsZero():
		return fmt.Errorf("%w: transaction creation time is zero", ErrInvalid)
	}
	return nil
}

// TxUpdate is a change of a transaction's state (Store.UpdateTx).
type TxUpdate struct {
	State string    // the new state: TxBroadcast or a final state
	At    time.Time // when; becomes UpdatedAt (and BroadcastAt for TxBroadcast)
	// Block and Status describe the receipt of an included transaction
	// (Block > 0); they must be zero otherwise.
	Block, Status uint64
	// ReplacedBy (TxReplaced) is the transaction mined at the nonce, if
	// known; CancelledBy (TxCancelled) the cancel that was mined, which
	// must be the one recorded for it if one was.
	ReplacedBy, CancelledBy string
}

// Validate returns an error wrapping ErrInvalid unless u is a state
// change UpdateTx can apply to some transaction.
func (u TxUpdate) Validate() error {
	switch {
	case u.State == TxSigned || !knownTxState(u.State):
		return fmt.Errorf("%w: a transaction can move to broadcast, included, replaced, cancelled or dropped, not %q", ErrInvalid, bounded(u.State))
	case u.At.IsZero():
		return fmt.Errorf("%w: zero time", ErrInvalid)
	case u.State == TxIncluded && (u.Block == 0 || u.Block >= math.MaxInt64 || u.Status > 1):
		return fmt.Errorf("%w: an included transaction needs a block number > 0 and a receipt status of 0 or 1", ErrInvalid)
	case u.State != TxIncluded && (u.Block != 0 || u.Status != 0):
		return fmt.Errorf("%w: block and status are for included transactions only", ErrInvalid)
	case u.ReplacedBy != "" && (u.State != TxReplaced || !isHash(u.ReplacedBy)):
		return fmt.Errorf("%w: replaced_by needs state replaced and a transaction hash", ErrInvalid)
	case u.CancelledBy != "" && (u.State != TxCancelled || !isHash(u.CancelledBy)):
		return fmt.Errorf("%w: cancelled_by needs state cancelled and a transaction hash", ErrInvalid)
	}
	return nil
}

// TxFilter narrows ListTxs. The zero value lists every transaction.
type TxFilter struct {
	GrantID  string // only this grant's transactions (cancels of them included), if set
	State    string // only this state, if set
	Sender   string // only this sender (any case), if set
	ChainID  uint64 // only this chain, if set
	NonFinal bool   // only signed and broadcast transactions
	MinNonce uint64 // only nonces >= MinNonce
	Limit    int    // at most this many (the oldest); 0 means no limit
}

// Validate returns an error wrapping ErrInvalid for an unknown state, a
// state together with NonFinal, a malformed sender, a chain id or nonce
// beyond the int64 range, or a negative limit.
func (f TxFilter) Validate() error {
	switch {
	case f.State != "" && !knownTxState(f.State):
		return fmt.Errorf("%w: state %q is not one of signed, broadcast, included, replaced, cancelled, dropped", ErrInvalid, bounded(f.State))
	case f.State != "" && f.NonFinal:
		return fmt.Errorf("%w: give a state or ask for non-final transactions, not both", ErrInvalid)
	case f.Sender != "" && !isAddress(f.Sender):
		return fmt.Errorf("%w: sender %q is not a 0x address", ErrInvalid, bounded(f.Sender))
	case f.ChainID > math.MaxInt64 || f.MinNonce >= math.MaxInt64:
		return fmt.Errorf("%w: chain id or nonce out of range", ErrInvalid)
	case f.Limit < 0:
		return fmt.Errorf("%w: negative limit", ErrInvalid)
	}
	return nil
}

// NormalizeHash returns a transaction hash (0x + 64 hex digits, any case)
// in lowercase. Errors: ErrInvalid for anything else.
func NormalizeHash(h string) (string, error) {
	if !isHash(h) {
		return "", fmt.Errorf("%w: %q is not a transaction hash (0x followed by 64 hex digits)", ErrInvalid, bounded(h))
	}
	return strings.ToLower(h), nil
}

func isHash(s string) bool {
	if len(s) != 66 || (s[:2] != "0x" && s[:2] != "0X") {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// bounded cuts a value echoed in an error to 70 bytes.
func bounded(s string) string {
	if len(s) > 70 {
		return s[:70] + "…"
	}
	return s
}
