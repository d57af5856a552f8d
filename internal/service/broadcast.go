package service

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/bound"
)

// DefaultBroadcastWait bounds how long a broadcast waits for the node to
// take a transaction it refuses only for now (see broadcast).
const DefaultBroadcastWait = time.Minute

// notYet are go-ethereum's refusals of a transaction that it will take
// once the sender's earlier transactions are mined: an account with an
// EIP-7702 delegation (or a pending authorization) may have only one
// transaction in the pool, in nonce order.
var notYet = []string{
	"in-flight transaction limit reached for delegated accounts",
	"gapped-nonce tx from delegated accounts",
	"authority already reserved",
}

func refusedForNow(err error) bool {
	for _, s := range notYet {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

// inflight orders the daemon's own broadcasts per account: a nonce is
// held from the moment the store hands it to a transaction the daemon
// will broadcast (inside the store transaction, so holds are taken in
// nonce order) until that broadcast has returned. eth_signTransaction
// results are not held: the agent broadcasts them, or the watcher cancels
// them.
type inflight struct {
	mu   sync.Mutex
	held map[common.Address]map[uint64]bool
	// released is closed (and replaced) whenever a hold ends, waking
	// the broadcasts that wait for an earlier one.
	released chan struct{}
}

// hold marks nonce of from as about to be broadcast; release undoes it.
func (f *inflight) hold(from common.Address, nonce uint64) (release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held == nil {
		f.held = map[common.Address]map[uint64]bool{}
	}
	if f.held[from] == nil {
		f.held[from] = map[uint64]bool{}
	}
	f.held[from][nonce] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			delete(f.held[from], nonce)
			if len(f.held[from]) == 0 {
				delete(f.held, from)
			}
			if f.released != nil {
				close(f.released)
				f.released = nil
			}
		})
	}
}

// earlier reports whether a broadcast of from below nonce is under way,
// and if so returns a channel closed when a hold ends.
func (f *inflight) earlier(from common.Address, nonce uint64) (bool, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n := range f.held[from] {
		if n < nonce {
			if f.released == nil {
				f.released = make(chan struct{})
			}
			return true, f.released
		}
	}
	return false, nil
}

// broadcast sends a signed, recorded transaction to the node, in its
// account's nonce order. Transactions of one account get consecutive
// store nonces but their requests race each other; a node holding later
// nonces of an account in its queue refuses an EIP-7702 authorization of
// that account, and a delegated account may have only one transaction in
// the pool. So a transaction waits while the daemon is still broadcasting
// an earlier one of its account, and a refusal for now is retried as
// earlier ones are mined. Both waits end after Config.BroadcastWait; then
// the node decides (what it never got is the watcher's to rebroadcast or
// cancel).
func (s *Service) broadcast(ctx context.Context, tx *types.Transaction) error {
	from, err := types.Sender(types.LatestSignerForChainID(s.chainID), tx)
	if err != nil {
		return err
	}
	deadline := time.NewTimer(s.cfg.BroadcastWait)
	defer deadline.Stop()
	late := false
	for {
		// A wait for an earlier broadcast ends when one ends; a refusal
		// for now is retried shortly (the node has no event to wait for).
		var retry <-chan time.Time
		waiting, released := s.inflight.earlier(from, tx.Nonce())
		if late || !waiting {
			err := s.cfg.Chain.SendTransaction(ctx, tx)
			if err == nil || !refusedForNow(err) || late {
				return err
			}
			retry = time.After(10 * time.Millisecond)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			late = true
		case <-released: // nil unless waiting
		case <-retry: // nil if waiting
		}
	}
}

// sendRecorded broadcasts a transaction whose decision, signature and
// record are committed, and marks it broadcast. sent is called as soon as
// the node has answered (it ends the nonce's hold, so the account's next
// transaction can go while this one is being marked). If the node does
// not take it, it stays 'signed' (the watcher broadcasts it again, or
// cancels it once stuck), the failure is audited, and the node's words
// are returned.
func (s *Service) sendRecorded(ctx context.Context, tx *types.Transaction, detail map[string]any, sent func()) error {
	err := s.broadcast(ctx, tx)
	sent()
	if err != nil {
		s.cfg.Log.Error("broadcast", "tx", tx.Hash().Hex(), "err", err)
		up := &UpstreamError{Op: "send transaction", Err: err}
		// The log keeps the cause; the append-only audit log keeps what an
		// agent may read of it, never a provider's words about its URL.
		audited := map[string]any{"tx_hash": tx.Hash().Hex(), "error": up.Public()}
		if errors.Is(err, context.DeadlineExceeded) {
			// A missed deadline is agentkeys' own finding (which call, how
			// long it waited), worth keeping for the owner; URLs cut.
			audited["cause"] = bound.Text(PublicText(err.Error()), 200)
		}
		for k, v := range detail {
			audited[k] = v
		}
		s.adminAudit(ctx, "agentkeys_broadcastFailed", audited)
		return up
	}
	s.markBroadcast(ctx, tx.Hash())
	return nil
}
