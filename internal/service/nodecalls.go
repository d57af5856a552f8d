package service

import (
	"context"
	"math/big"
	"sync/atomic"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// countingChain counts the calls the service makes to its node, so the
// bench can show node round trips per request (NodeCalls).
type countingChain struct {
	Chain
	n atomic.Int64
}

// NodeCalls is how many calls the service has made to its node so far
// (agents' read methods, which the transports forward, not included).
func (s *Service) NodeCalls() int64 { return s.calls.n.Load() }

func (c *countingChain) ChainID(ctx context.Context) (*big.Int, error) {
	c.n.Add(1)
	return c.Chain.ChainID(ctx)
}

func (c *countingChain) PendingNonceAt(ctx context.Context, account common.Address) (uint64, error) {
	c.n.Add(1)
	return c.Chain.PendingNonceAt(ctx, account)
}

func (c *countingChain) NonceAt(ctx context.Context, account common.Address, block *big.Int) (uint64, error) {
	c.n.Add(1)
	return c.Chain.NonceAt(ctx, account, block)
}

func (c *countingChain) EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error) {
	c.n.Add(1)
	return c.Chain.EstimateGas(ctx, msg)
}

func (c *countingChain) SuggestGasTipCap(ctx context.Context) (*big.Int, error) {
	c.n.Add(1)
	return c.Chain.SuggestGasTipCap(ctx)
}

func (c *countingChain) HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error) {
	c.n.Add(1)
	return c.Chain.HeaderByNumber(ctx, number)
}

func (c *countingChain) CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error) {
	c.n.Add(1)
	return c.Chain.CallContract(ctx, msg, block)
}

func (c *countingChain) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	c.n.Add(1)
	return c.Chain.SendTransaction(ctx, tx)
}

func (c *countingChain) CodeAt(ctx context.Context, account common.Address, block *big.Int) ([]byte, error) {
	c.n.Add(1)
	return c.Chain.CodeAt(ctx, account, block)
}

func (c *countingChain) TransactionReceipt(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	c.n.Add(1)
	return c.Chain.TransactionReceipt(ctx, hash)
}

func (c *countingChain) TransactionByHash(ctx context.Context, hash common.Hash) (*types.Transaction, bool, error) {
	c.n.Add(1)
	return c.Chain.TransactionByHash(ctx, hash)
}
