package devchain

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/beacon/engine"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/miner"
)

// ErrClosed is returned by methods called after Close.
var ErrClosed = errors.New("devchain: chain is closed")

// startAutomine mines a block whenever the pool reports new executable
// transactions, so a client that sends a transaction and polls for its
// receipt sees it at once, as on Anvil or Hardhat.
//
// Two goroutines, because the pool delivers events synchronously from the
// same loop that Sync (called while sealing) waits on: a reader that always
// drains events and only raises a flag, and a miner that acts on the flag.
// Had the miner read the events itself, a full channel during sealing would
// deadlock the pool and the miner on each other.
func (c *Chain) startAutomine() {
	events := make(chan core.NewTxsEvent, 16)
	c.txSub = c.backend.TxPool().SubscribeTransactions(events, false)
	kick := make(chan struct{}, 1)
	kick <- struct{}{} // anything that arrived before the subscription

	c.workers.Add(2)
	go func() {
		defer c.workers.Done()
		for {
			select {
			case <-events:
				select {
				case kick <- struct{}{}:
				default: // a pass is already due and will see this transaction
				}
			case <-c.txSub.Err():
				return
			case <-c.stop:
				return
			}
		}
	}()
	go func() {
		defer c.workers.Done()
		for {
			select {
			case <-kick:
				c.sealMu.Lock()
				if !c.closed {
					c.sealPendingLocked()
				}
				c.sealMu.Unlock()
			case <-c.stop:
				return
			}
		}
	}()
}

// sealPendingLocked seals blocks until the pool has no executable
// transactions left, or a block comes out empty: what remains then cannot be
// included now (say, a fee cap below the base fee) and waits for the next
// arrival, as it would on a real chain. Callers hold sealMu.
func (c *Chain) sealPendingLocked() {
	pool := c.backend.TxPool()
	for {
		// Sync waits for the pool to promote what was just added and to
		// drop what the last block included, so Stats is current.
		if err := pool.Sync(); err != nil {
			return // pool shut down
		}
		if pending, _ := pool.Stats(); pending == 0 {
			return
		}
		if _, err := c.sealLocked(0); err != nil {
			return
		}
		head := c.backend.BlockChain().CurrentBlock()
		if b := c.backend.BlockChain().GetBlock(head.Hash(), head.Number.Uint64()); b == nil || len(b.Transactions()) == 0 {
			return
		}
	}
}

// sealLocked builds and imports one block on the head with what the pool
// holds. Its timestamp is the chain's clock, or head+after when after is
// set, and at least a second past the head. The block is at once head,
// safe and finalized: a dev chain has no reorgs to wait for. Callers hold
// sealMu.
func (c *Chain) sealLocked(after time.Duration) (common.Hash, error) {
	pool := c.backend.TxPool()
	if err := pool.Sync(); err != nil {
		return common.Hash{}, fmt.Errorf("devchain: sync pool: %w", err)
	}
	bc := c.backend.BlockChain()
	parent := bc.CurrentBlock()
	stamp := unixSeconds(c.now())
	if after > 0 {
		stamp = parent.Time + uint64(after/time.Second)
	}
	stamp = max(stamp, parent.Time+1)
	var random common.Hash
	rand.Read(random[:])
	payload, err := c.backend.Miner().BuildPayload(context.Background(), &miner.BuildPayloadArgs{
		Parent:      parent.Hash(),
		Timestamp:   stamp,
		Random:      random,
		Withdrawals: types.Withdrawals{},
		BeaconRoot:  &common.Hash{},
		Version:     engine.PayloadV3,
	}, false)
	if err != nil {
		return common.Hash{}, fmt.Errorf("devchain: build block: %w", err)
	}
	if payload.ResolveFull() == nil {
		return common.Hash{}, errors.New("devchain: block building stopped")
	}
	block, _, _, _ := payload.FullBlockAndReceipts()
	if _, err := bc.InsertBlockWithoutSetHead(context.Background(), block, false); err != nil {
		return common.Hash{}, fmt.Errorf("devchain: import block: %w", err)
	}
	if _, err := bc.SetCanonical(block); err != nil {
		return common.Hash{}, fmt.Errorf("devchain: set head: %w", err)
	}
	bc.SetSafe(block.Header())
	bc.SetFinalized(block.Header())
	return block.Hash(), nil
}

// unixSeconds is t as a block timestamp (never before 1970).
func unixSeconds(t time.Time) uint64 { return uint64(max(t.Unix(), 0)) }

// Commit seals a block now with whatever transactions are pending (possibly
// none) and returns its hash. With automine running, tests need it only to
// move the chain forward.
func (c *Chain) Commit() (common.Hash, error) {
	c.sealMu.Lock()
	defer c.sealMu.Unlock()
	if c.closed {
		return common.Hash{}, ErrClosed
	}
	return c.sealLocked(0)
}

// AdjustTime seals the pending transactions, then an empty block whose
// timestamp is d (whole seconds, at least one) after the head's. Later blocks
// keep counting from there, so deadlines, expiries and periods can be tested
// without waiting.
func (c *Chain) AdjustTime(d time.Duration) error {
	if d < 0 {
		return errors.New("devchain: cannot move time backwards")
	}
	c.sealMu.Lock()
	defer c.sealMu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.sealPendingLocked()
	if pending, _ := c.backend.TxPool().Stats(); pending != 0 {
		return errors.New("devchain: cannot adjust time while transactions are pending")
	}
	_, err := c.sealLocked(d)
	return err
}
