package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sync"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
)

// This file holds what every backend's DecideTx and ledger do the same way
// whatever their SQL: the rules on arguments and the small conversions,
// so that SQLite and PostgreSQL cannot drift apart on them.

// TxGuard serialises the calls of a DecideTx and fails them once its
// callback has returned. The zero value is ready.
type TxGuard struct {
	mu   sync.Mutex
	done bool
}

// Enter begins a call: ErrTxDone after End, else the caller holds the
// guard until Leave.
func (g *TxGuard) Enter() error {
	g.mu.Lock()
	if g.done {
		g.mu.Unlock()
		return ErrTxDone
	}
	return nil
}

// Leave ends a call Enter began.
func (g *TxGuard) Leave() { g.mu.Unlock() }

// End fails every later call, waiting for one under way.
func (g *TxGuard) End() {
	g.mu.Lock()
	g.done = true
	g.mu.Unlock()
}

// ReserveAssets checks the arguments of DecideTx.Reserve (fee false) or
// ReserveTx and returns the spends' assets, normalised.
func ReserveAssets(at time.Time, spends []Spend, withTx bool) ([]string, error) {
	if at.IsZero() {
		return nil, fmt.Errorf("%w: zero time", ErrInvalid)
	}
	assets := make([]string, len(spends))
	for i, s := range spends {
		if s.Fee && !withTx {
			return nil, fmt.Errorf("%w: a fee is reserved with its transaction (ReserveTx)", ErrInvalid)
		}
		if err := s.Validate(); err != nil {
			return nil, err
		}
		assets[i], _ = NormalizeAsset(s.Asset)
	}
	return assets, nil
}

// NonceArgs checks the arguments of DecideTx.NextNonce and returns the
// address normalised.
func NonceArgs(chainID uint64, address string, floor uint64) (string, error) {
	addr, err := NormalizeAddress(address)
	if err != nil {
		return "", err
	}
	if chainID == 0 || chainID > math.MaxInt64 || floor >= math.MaxInt64 {
		return "", fmt.Errorf("%w: chain id or floor out of range", ErrInvalid)
	}
	return addr, nil
}

// NextNonceFrom is the nonce NextNonce hands out given the stored next one
// and the floor (max of the two).
func NextNonceFrom(next int64, floor uint64) (int64, error) {
	n := max(next, int64(floor))
	if n == math.MaxInt64 {
		return 0, fmt.Errorf("%w: nonce space exhausted", ErrInvalid)
	}
	return n, nil
}

// DecisionRecord applies DecideTx.AppendAudit's rule on KeyID to r, for a
// decision on grantID (owner false) or an Owner transaction.
func DecisionRecord(r audit.Record, grantID string, owner bool) (audit.Record, error) {
	if owner {
		return r, nil
	}
	if r.KeyID == "" {
		r.KeyID = grantID
	}
	if r.KeyID != grantID {
		return audit.Record{}, fmt.Errorf("%w: record names key %q inside a decision on grant %q", ErrInvalid, r.KeyID, grantID)
	}
	return r, nil
}

// DecisionTx checks a transaction recorded inside a decision on grantID
// (DecideTx.RecordTx).
func DecisionTx(r TxRecord, grantID string) error {
	if err := r.Validate(); err != nil {
		return err
	}
	switch {
	case r.Kind == TxKindCancel:
		return fmt.Errorf("%w: cancels are recorded with Store.RecordTx", ErrInvalid)
	case r.GrantID != grantID && !(r.GrantID == "" && r.Kind == TxKindOwner):
		return fmt.Errorf("%w: transaction names key %q inside a decision on grant %q", ErrInvalid, r.GrantID, grantID)
	}
	return nil
}

// ParseAmount reads a stored amount (exact decimal text).
func ParseAmount(s string) (*big.Int, error) {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, errors.New("stored amount is not a decimal integer")
	}
	return v, nil
}

// AddReleased adds one reservation of amount to out, which is ordered by
// grant and asset: to its last entry if that is the same grant and asset.
func AddReleased(out []ReleasedSpend, grantID, asset string, amount *big.Int) []ReleasedSpend {
	if n := len(out); n == 0 || out[n-1].GrantID != grantID || out[n-1].Asset != asset {
		out = append(out, ReleasedSpend{GrantID: grantID, Asset: asset, Amount: new(big.Int)})
	}
	last := &out[len(out)-1]
	last.Amount.Add(last.Amount, amount)
	last.Reservations++
	return out
}

// EncodeReasons is the stored form of an audit record's reasons (a JSON
// array, "[]" for none).
func EncodeReasons(reasons []string) (string, error) {
	if reasons == nil {
		return "[]", nil
	}
	b, err := json.Marshal(reasons)
	return string(b), err
}

// DecodeReasons reads the stored reasons back. A column that no longer
// parses is returned as one reason (so Verify reports the record as
// edited), not dropped.
func DecodeReasons(stored string) []string {
	if stored == "[]" { // most records: no reason, and no parse
		return nil
	}
	var out []string
	if json.Unmarshal([]byte(stored), &out) != nil || len(out) == 0 {
		out = nil
		if stored != "[]" && stored != "null" {
			out = []string{stored}
		}
	}
	return out
}

// EncodeGrantJSON is the stored form of a grant's chains and meta (JSON,
// "[]" and "{}" for none).
func EncodeGrantJSON(g Grant) (chains, meta string, err error) {
	chains, meta = "[]", "{}"
	if g.Chains != nil {
		b, err := json.Marshal(g.Chains)
		if err != nil {
			return "", "", err
		}
		chains = string(b)
	}
	if g.Meta != nil {
		b, err := json.Marshal(g.Meta)
		if err != nil {
			return "", "", err
		}
		meta = string(b)
	}
	return chains, meta, nil
}

// DecodeGrantJSON reads a grant's stored chains and meta into g (nil for
// none).
func DecodeGrantJSON(g *Grant, chains, meta string) error {
	if err := json.Unmarshal([]byte(chains), &g.Chains); err != nil {
		return fmt.Errorf("grant %q chains: %w", g.ID, err)
	}
	if len(g.Chains) == 0 {
		g.Chains = nil
	}
	if err := json.Unmarshal([]byte(meta), &g.Meta); err != nil {
		return fmt.Errorf("grant %q meta: %w", g.ID, err)
	}
	if len(g.Meta) == 0 {
		g.Meta = nil
	}
	return nil
}

// SettleDelta is what settling one reservation changes in the running
// totals: the reservation counted amount in state (pending or spent;
// "released" counted nothing) and now counts settled as spent.
func SettleDelta(state string, amount, settled *big.Int) (dSpent, dPending *big.Int) {
	dSpent, dPending = new(big.Int).Set(settled), new(big.Int)
	switch state {
	case "spent":
		dSpent.Sub(dSpent, amount)
	case "pending":
		dPending.Neg(amount)
	}
	return dSpent, dPending
}

// ActivatedMeta is what ActivateGrant changes in g, checked the same way
// in every backend: ok is false when g is not pending for pending or is
// revoked (nothing changes then); otherwise meta is g's Meta with m merged
// in (a value "" deletes its key), encoded as the meta column stores it.
func ActivatedMeta(g Grant, pending string, m map[string]string) (meta string, ok bool, err error) {
	if g.RevokedAt != nil || g.Pending != pending {
		return "", false, nil
	}
	merged := make(map[string]string, len(g.Meta)+len(m))
	for k, v := range g.Meta {
		merged[k] = v
	}
	for k, v := range m {
		if v == "" {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	g.Meta = merged
	_, meta, err = EncodeGrantJSON(g)
	return meta, err == nil, err
}

// ValidateSeals checks SealGrants' argument: no empty seal.
func ValidateSeals(seals map[string][]byte) error {
	for id, seal := range seals {
		if len(seal) == 0 {
			return fmt.Errorf("%w: empty seal for grant %s", ErrInvalid, bounded(id))
		}
	}
	return nil
}
