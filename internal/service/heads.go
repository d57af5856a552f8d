package service

import (
	"context"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/delegation"
)

// What a transaction's fill needs from the node besides the gas estimate
// (the latest base fee, the suggested tip, the account's nonce floor)
// changes once per block at most. While the daemon follows heads
// (FollowHeads, which serve and sandbox run; RefreshHead is one step of
// it), each is read once per head and shared by every request until the
// next head, so a request whose transaction gives its gas makes no node
// call before it is signed. Without a reading (no follower, or its last
// read failed) every fill reads the node.
//
// Staleness is bounded by the follower's interval: the base fee can rise
// by at most 12.5% a block, and a fill's fee cap is twice the base fee
// plus the tip, which covers several blocks of rises; a nonce floor read
// at the current head misses only what another wallet put in the node's
// pool since, which the watcher then finds replaced, as it would if the
// other wallet's transaction had arrived a moment after ours.

// DefaultHeadEvery is how often serve and sandbox look for a new head.
const DefaultHeadEvery = time.Second

type heads struct {
	mu      sync.Mutex
	at      common.Hash // the head the values below were read at
	known   bool        // at and the fees hold a reading
	baseFee *big.Int
	tip     *big.Int
	floors  map[common.Address]uint64 // nonce floors read at head at
}

// FollowHeads reads the node's head and tip now and then every interval
// until ctx ends, and serves fills from them meanwhile. A failed read is
// logged and leaves fills reading the node until a read succeeds.
func (s *Service) FollowHeads(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultHeadEvery
	}
	// Once nobody keeps the reading fresh, fills read the node again.
	defer s.forgetHead()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.RefreshHead(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Warn("follow heads", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RefreshHead reads the latest head and the suggested tip once, for fills
// to use until the next; a new head drops the nonce floors read at the
// old one. Whoever calls it keeps calling it (FollowHeads does).
func (s *Service) RefreshHead(ctx context.Context) error {
	hash, base, tip, err := s.readHead(ctx)
	if err != nil {
		s.forgetHead()
		return err
	}
	h := &s.heads
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.known || hash != h.at {
		h.at, h.floors = hash, map[common.Address]uint64{}
	}
	h.known, h.baseFee, h.tip = true, base, tip
	return nil
}

// readHead reads the latest head's hash and base fee (zero before London)
// and the suggested tip from the node.
func (s *Service) readHead(ctx context.Context) (hash common.Hash, base, tip *big.Int, err error) {
	head, err := s.cfg.Chain.HeaderByNumber(ctx, nil)
	if err != nil {
		return common.Hash{}, nil, nil, &UpstreamError{Op: "read latest block", Err: err}
	}
	if tip, err = s.cfg.Chain.SuggestGasTipCap(ctx); err != nil {
		return common.Hash{}, nil, nil, &UpstreamError{Op: "suggest tip", Err: err}
	}
	base = head.BaseFee
	if base == nil {
		base = new(big.Int)
	}
	return head.Hash(), base, tip, nil
}

func (s *Service) forgetHead() {
	s.heads.mu.Lock()
	s.heads.known = false
	s.heads.mu.Unlock()
}

// networkFees is the network's suggested tip and a fee cap of twice the
// latest base fee plus that tip: from the followed head, or read now.
func (s *Service) networkFees(ctx context.Context) (tip, feeCap *big.Int, err error) {
	h := &s.heads
	h.mu.Lock()
	if h.known {
		base, tip := h.baseFee, h.tip
		h.mu.Unlock()
		return new(big.Int).Set(tip), feeCapOf(base, tip), nil
	}
	h.mu.Unlock()
	_, base, tip, err := s.readHead(ctx)
	if err != nil {
		return nil, nil, err
	}
	return tip, feeCapOf(base, tip), nil
}

func feeCapOf(base, tip *big.Int) *big.Int {
	return new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
}

// nonceFloor is the account's next nonce as the node sees it (counting its
// pool): read once per followed head, or read now.
func (s *Service) nonceFloor(ctx context.Context, account common.Address) (uint64, error) {
	h := &s.heads
	h.mu.Lock()
	cached := h.known
	at := h.at
	if cached {
		if n, ok := h.floors[account]; ok {
			h.mu.Unlock()
			return n, nil
		}
	}
	h.mu.Unlock()
	n, err := delegation.NextNonce(ctx, s.cfg.Chain, account)
	if err != nil {
		return 0, &UpstreamError{Op: "read nonce", Err: err}
	}
	if cached {
		h.mu.Lock()
		// Kept only if the head did not move while the node answered.
		if h.known && h.at == at {
			h.floors[account] = max(h.floors[account], n)
		}
		h.mu.Unlock()
	}
	return n, nil
}
