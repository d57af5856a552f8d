// Package delegation knows the owner account's EIP-7702 delegation to the
// AgentKeyDelegate contract: where an account is delegated, how the
// contract is deployed (the call, its deterministic address), and how to
// wait for a transaction. It signs nothing: the service core signs every
// transaction through its one pipeline (signer.Signer), and the dev chain
// signs for the accounts that act outside agentkeys in the sandbox and in
// tests.
package delegation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/contracts"
)

// Chain is what delegation needs from a node.
type Chain interface {
	CodeAt(ctx context.Context, account common.Address, block *big.Int) ([]byte, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	NonceAt(ctx context.Context, account common.Address, block *big.Int) (uint64, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	TransactionReceipt(ctx context.Context, hash common.Hash) (*types.Receipt, error)
}

var designator = []byte{0xef, 0x01, 0x00}

// Status is where an account's code points.
type Status struct {
	Account     common.Address `json:"account"`
	ChainID     uint64         `json:"chain_id"`
	Delegated   bool           `json:"delegated"`
	Delegate    common.Address `json:"delegate"`     // when Delegated
	IsAgentKeys bool           `json:"is_agentkeys"` // the delegate runs AgentKeyDelegate's code
	HasCode     bool           `json:"has_code"`     // the account has code that is not a delegation
}

// Read reports the delegation of account.
func Read(ctx context.Context, c Chain, chainID uint64, account common.Address) (Status, error) {
	st := Status{Account: account, ChainID: chainID}
	code, err := c.CodeAt(ctx, account, nil)
	if err != nil {
		return st, fmt.Errorf("read code of %s: %w", account.Hex(), err)
	}
	switch {
	case len(code) == 23 && bytes.HasPrefix(code, designator):
		st.Delegated, st.Delegate = true, common.BytesToAddress(code[3:])
		dcode, err := c.CodeAt(ctx, st.Delegate, nil)
		if err != nil {
			return st, fmt.Errorf("read code of %s: %w", st.Delegate.Hex(), err)
		}
		st.IsAgentKeys = bytes.Equal(dcode, contracts.MustLoad("AgentKeyDelegate").DeployedBytecode)
	case len(code) > 0:
		st.HasCode = true
	}
	return st, nil
}

// Wait polls for a receipt.
func Wait(ctx context.Context, c Chain, hash common.Hash) (*types.Receipt, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		r, err := c.TransactionReceipt(ctx, hash)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ethereum.NotFound) && !IndexingInProgress(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %s: %w", hash.Hex(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// IndexingInProgress reports a go-ethereum node's answer to a receipt
// lookup while it is still indexing transactions (after a start, or on a
// fresh chain): not an error, only "not yet".
func IndexingInProgress(err error) bool {
	return err != nil && strings.Contains(err.Error(), "transaction indexing is in progress")
}

// NextNonce is the larger of the node's pending and latest nonces: the
// pending view can briefly miss an EIP-7702 authorization's nonce bump.
func NextNonce(ctx context.Context, c Chain, account common.Address) (uint64, error) {
	pending, err := c.PendingNonceAt(ctx, account)
	if err != nil {
		return 0, err
	}
	latest, err := c.NonceAt(ctx, account, nil)
	if err != nil {
		return 0, err
	}
	return max(pending, latest), nil
}
