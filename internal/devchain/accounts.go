package devchain

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/holiman/uint256"

	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/secrets"
)

// AgentKeyDelegate is the EIP-7702 delegate contract the chain deployed at
// start, at the address the deterministic deployment proxy gives it on
// every chain (delegation.DeterministicAddress); the zero address with
// Config.WithoutDelegate.
func (c *Chain) AgentKeyDelegate() common.Address { return c.delegate }

// Tx is a transaction an account outside agentkeys sends with SendAs.
type Tx struct {
	To    *common.Address // nil creates a contract
	Value *big.Int
	Data  []byte
	Gas   uint64 // 0: estimated
	// Auths makes it a type-0x04 (EIP-7702) transaction.
	Auths []types.SetCodeAuthorization
}

// SendAs signs tx with key and sends it, as a wallet outside agentkeys
// would: the owner acting by hand, a thief holding a stolen session key, a
// test's actor. It waits for the receipt; a revert is an error returned
// with its receipt. The daemon never uses it: its transactions go through
// its own pipeline.
func (c *Chain) SendAs(ctx context.Context, key *secrets.PrivateKey, tx Tx) (*types.Receipt, error) {
	from := key.Address()
	value := tx.Value
	if value == nil {
		value = new(big.Int)
	}
	nonce, err := delegation.NextNonce(ctx, c.client, from)
	if err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	head, err := c.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, err
	}
	tip, err := c.client.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, err
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	gas := tx.Gas
	if gas == 0 {
		est, err := c.client.EstimateGas(ctx, ethereum.CallMsg{From: from, To: tx.To, Value: value, Data: tx.Data, AuthorizationList: tx.Auths, GasFeeCap: feeCap, GasTipCap: tip})
		if err != nil {
			return nil, fmt.Errorf("estimate gas: %w", err)
		}
		gas = est + est/5
	}
	var unsigned *types.Transaction
	if tx.Auths != nil {
		if tx.To == nil {
			return nil, errors.New("an EIP-7702 transaction needs a recipient")
		}
		unsigned = types.NewTx(&types.SetCodeTx{ChainID: uint256.MustFromBig(c.chainID), Nonce: nonce, GasTipCap: uint256.MustFromBig(tip),
			GasFeeCap: uint256.MustFromBig(feeCap), Gas: gas, To: *tx.To, Value: uint256.MustFromBig(value), Data: tx.Data, AuthList: tx.Auths})
	} else {
		unsigned = types.NewTx(&types.DynamicFeeTx{ChainID: c.chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: tx.To, Value: value, Data: tx.Data})
	}
	signed, err := types.SignTx(unsigned, types.LatestSignerForChainID(c.chainID), key.ECDSA())
	if err != nil {
		return nil, err
	}
	if err := c.client.SendTransaction(ctx, signed); err != nil {
		return nil, err
	}
	rcpt, err := delegation.Wait(ctx, c.client, signed.Hash())
	if err != nil {
		return nil, err
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return rcpt, fmt.Errorf("transaction %s reverted", signed.Hash().Hex())
	}
	return rcpt, nil
}

// DelegateAs points key's account at code (the zero address removes the
// delegation) with a type-0x04 transaction the account sends itself.
func (c *Chain) DelegateAs(ctx context.Context, key *secrets.PrivateKey, code common.Address) (*types.Receipt, error) {
	nonce, err := delegation.NextNonce(ctx, c.client, key.Address())
	if err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	// The sender's nonce is bumped before authorizations are processed, so
	// a self-sponsored authorization carries nonce+1.
	auth, err := types.SignSetCode(key.ECDSA(), types.SetCodeAuthorization{ChainID: *uint256.MustFromBig(c.chainID), Address: code, Nonce: nonce + 1})
	if err != nil {
		return nil, fmt.Errorf("sign authorization: %w", err)
	}
	self := key.Address()
	return c.SendAs(ctx, key, Tx{To: &self, Auths: []types.SetCodeAuthorization{auth}})
}
