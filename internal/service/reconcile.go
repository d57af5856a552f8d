package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/store"
)

// ChainResetError says that the node does not hold transactions the store
// saw mined: the chain was reset, or the node serves another chain with
// the same id. Signing on would hand out nonces the chain has not reached.
type ChainResetError struct {
	ChainID   uint64
	Sender    string // the account whose history is missing
	NodeNonce uint64 // the node's mined nonce of Sender
	StoreNext uint64 // the store's next nonce of Sender
	Tx        string // a transaction recorded as included at a nonce >= NodeNonce
	TxNonce   uint64
	Block     uint64
}

func (e *ChainResetError) Error() string {
	return fmt.Sprintf("the node does not hold what this home saw mined on chain %d: transaction %s (nonce %d of %s) was included in block %d, "+
		"but the node's nonce for that account is %d (this home has handed out nonces up to %d). The node was reset or serves another chain "+
		"with the same id. Point --rpc-upstream at the node this home used; to start over on this chain, use a new home (agentkeys init --home DIR). "+
		"A sandbox home resets its chain-bound state itself when it starts",
		e.ChainID, e.Tx, e.TxNonce, e.Sender, e.Block, e.NodeNonce, e.StoreNext-1)
}

// Reconcile compares the store with the node when the daemon starts. For
// each account with a nonce counter on this chain it checks that the node
// still holds what the store recorded as mined, and fails with a
// *ChainResetError if transactions the store saw included at nonces the
// node has not reached are all unknown to it. Then it sweeps once, so
// transactions the node lost are broadcast again or cancelled.
func (s *Service) Reconcile(ctx context.Context) error {
	counters, err := s.cfg.Store.Nonces(ctx, s.cfg.ChainID)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	for _, c := range counters {
		if err := s.reconcileAccount(ctx, c); err != nil {
			return err
		}
	}
	if _, err := s.Sweep(ctx); err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	return nil
}

// reconcileProbe bounds the transactions looked up per account.
const reconcileProbe = 16

func (s *Service) reconcileAccount(ctx context.Context, c store.NonceCounter) error {
	mined, err := s.cfg.Chain.NonceAt(ctx, common.HexToAddress(c.Address), nil)
	if err != nil {
		return fmt.Errorf("reconcile: read nonce of %s: %w", c.Address, err)
	}
	if mined >= c.Next {
		return nil
	}
	lost, err := s.cfg.Store.ListTxs(ctx, store.TxFilter{ChainID: s.cfg.ChainID, Sender: c.Address, MinNonce: mined, State: store.TxIncluded, Limit: 1})
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	if len(lost) == 0 {
		return nil // nonces handed out but never mined: the watcher's work
	}
	// A reorg puts its transactions back in the pool: if the node knows any
	// of the store's transactions at these nonces, this is not a reset.
	recent, err := s.cfg.Store.ListTxs(ctx, store.TxFilter{ChainID: s.cfg.ChainID, Sender: c.Address, MinNonce: mined, Limit: reconcileProbe})
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	for _, t := range recent {
		_, _, err := s.cfg.Chain.TransactionByHash(ctx, common.HexToHash(t.Hash))
		if err == nil {
			return nil
		}
		if !errors.Is(err, ethereum.NotFound) {
			return fmt.Errorf("reconcile: look up %s: %w", t.Hash, err)
		}
	}
	t := lost[0]
	return &ChainResetError{ChainID: s.cfg.ChainID, Sender: common.HexToAddress(c.Address).Hex(), NodeNonce: mined, StoreNext: c.Next,
		Tx: t.Hash, TxNonce: t.Nonce, Block: t.Block}
}
