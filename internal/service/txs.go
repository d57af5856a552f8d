package service

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/store"
)

// TxInfo is a transaction the daemon signed, as the owner sees it: its
// record and what its bytes say.
type TxInfo struct {
	Hash        string     `json:"hash"`
	State       string     `json:"state"`
	Kind        string     `json:"kind"`
	KeyID       string     `json:"key_id,omitempty"` // the grant it was decided under
	ChainID     uint64     `json:"chain_id"`
	From        string     `json:"from"`
	Nonce       uint64     `json:"nonce"`
	To          string     `json:"to,omitempty"`
	Value       string     `json:"value"` // wei, decimal
	Gas         uint64     `json:"gas"`
	MaxFee      string     `json:"max_fee_per_gas"`          // wei, decimal
	MaxTip      string     `json:"max_priority_fee_per_gas"` // wei, decimal
	Send        bool       `json:"send"`                     // false: an eth_signTransaction result the agent broadcasts
	Block       uint64     `json:"block,omitempty"`
	Status      *uint64    `json:"status,omitempty"` // receipt status once included: 1 success, 0 reverted
	Cancels     string     `json:"cancels,omitempty"`
	ReplacedBy  string     `json:"replaced_by,omitempty"`
	CancelledBy string     `json:"cancelled_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	BroadcastAt *time.Time `json:"broadcast_at,omitempty"`
}

func txInfo(r store.TxRecord) TxInfo {
	v := TxInfo{Hash: r.Hash, State: r.State, Kind: r.Kind, KeyID: r.GrantID, ChainID: r.ChainID, From: common.HexToAddress(r.Sender).Hex(),
		Nonce: r.Nonce, Send: r.Send, Block: r.Block, Cancels: r.Cancels, ReplacedBy: r.ReplacedBy, CancelledBy: r.CancelledBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, BroadcastAt: r.BroadcastAt, Value: "0", MaxFee: "0", MaxTip: "0"}
	if r.State == store.TxIncluded {
		st := r.Status
		v.Status = &st
	}
	tx := new(types.Transaction)
	if tx.UnmarshalBinary(r.Raw) == nil {
		if tx.To() != nil {
			v.To = tx.To().Hex()
		}
		v.Value, v.Gas = bigString(tx.Value()), tx.Gas()
		v.MaxFee, v.MaxTip = bigString(tx.GasFeeCap()), bigString(tx.GasTipCap())
	}
	return v
}

func bigString(v *big.Int) string {
	if v == nil {
		return "0"
	}
	return v.String()
}

// TxQuery narrows Txs.
type TxQuery struct {
	KeyID string // only this key's transactions (and cancels of them)
	State string // only this state
}

// Txs lists the transactions of this chain matching q, oldest first.
// Errors: *ParamError for an unknown state.
func (s *Service) Txs(ctx context.Context, q TxQuery) ([]TxInfo, error) {
	if q.State != "" && !validTxState(q.State) {
		return nil, &ParamError{Field: "state", Msg: fmt.Sprintf("expected one of signed, broadcast, included, replaced, cancelled, dropped, got %s", bound.Quote(q.State))}
	}
	rs, err := s.cfg.Store.ListTxs(ctx, store.TxFilter{ChainID: s.cfg.ChainID, GrantID: q.KeyID, State: q.State})
	if err != nil {
		return nil, err
	}
	out := make([]TxInfo, len(rs))
	for i, r := range rs {
		out[i] = txInfo(r)
	}
	return out, nil
}

func validTxState(st string) bool {
	return st == store.TxSigned || st == store.TxBroadcast || store.TxFinal(st)
}

// Tx returns one transaction. Errors: *ParamError for a malformed hash,
// ErrNoTx.
func (s *Service) Tx(ctx context.Context, hash string) (TxInfo, error) {
	r, err := s.getTx(ctx, hash)
	if err != nil {
		return TxInfo{}, err
	}
	return txInfo(r), nil
}

func (s *Service) getTx(ctx context.Context, hash string) (store.TxRecord, error) {
	if _, err := store.NormalizeHash(hash); err != nil {
		return store.TxRecord{}, &ParamError{Field: "hash", Msg: fmt.Sprintf("expected a transaction hash (0x followed by 64 hex digits), got %s", bound.Quote(hash))}
	}
	r, err := s.cfg.Store.GetTx(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.TxRecord{}, ErrNoTx
	}
	return r, err
}

// CancelTx cancels a transaction not yet final by hand: a zero-value
// self-transfer at its nonce with higher fees, audited as
// agentkeys_txCancelled before it is broadcast. It returns the cancel.
// Errors: *ParamError for a malformed hash or a transaction that cannot
// be cancelled (final, a cancel itself, already being cancelled, or its
// nonce already used on chain), ErrNoTx.
func (s *Service) CancelTx(ctx context.Context, hash string) (TxInfo, error) {
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	t, err := s.getTx(ctx, hash)
	if err != nil {
		return TxInfo{}, err
	}
	switch {
	case store.TxFinal(t.State):
		return TxInfo{}, &ParamError{Field: "hash", Msg: fmt.Sprintf("transaction %s is already %s; there is nothing to cancel", t.Hash, t.State)}
	case t.Kind == store.TxKindCancel:
		return TxInfo{}, &ParamError{Field: "hash", Msg: fmt.Sprintf("transaction %s is itself a cancel (of %s)", t.Hash, t.Cancels)}
	case t.CancelledBy != "":
		return TxInfo{}, &ParamError{Field: "hash", Msg: fmt.Sprintf("transaction %s is already being cancelled by %s", t.Hash, t.CancelledBy)}
	}
	mined, err := s.cfg.Chain.NonceAt(ctx, common.HexToAddress(t.Sender), nil)
	if err != nil {
		return TxInfo{}, &UpstreamError{Op: "read nonce", Err: err}
	}
	if mined > t.Nonce {
		return TxInfo{}, &ParamError{Field: "hash", Msg: fmt.Sprintf("nonce %d of %s is already used on chain; the watcher will record what took it", t.Nonce, t.Sender)}
	}
	c, err := s.cancel(ctx, t, "the owner", "cancelled by the owner (agentkeys tx cancel)")
	if err != nil {
		return TxInfo{}, err
	}
	return txInfo(c), nil
}
