package devchain

import (
	"errors"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
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
		c.beacon.Commit()
		head := c.backend.BlockChain().CurrentBlock()
		if b := c.backend.BlockChain().GetBlock(head.Hash(), head.Number.Uint64()); b == nil || len(b.Transactions()) == 0 {
			return
		}
	}
}

// Commit seals a block now with whatever transactions are pending (possibly
// none) and returns its hash. With automine running, tests need it only to
// move the chain forward.
func (c *Chain) Commit() (common.Hash, error) {
	c.sealMu.Lock()
	defer c.sealMu.Unlock()
	if c.closed {
		return common.Hash{}, ErrClosed
	}
	if err := c.backend.TxPool().Sync(); err != nil {
		return common.Hash{}, err
	}
	return c.beacon.Commit(), nil
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
	if err := c.backend.TxPool().Sync(); err != nil {
		return err
	}
	return c.beacon.AdjustTime(d)
}
