// Package delegation manages the owner account's EIP-7702 delegation to
// the AgentKeyDelegate contract: deploying the contract, signing the
// authorization (never for chain id 0) and sending the type-0x04
// transaction, and reading where an account is delegated. The service core
// and the wallet commands use it.
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
	"github.com/holiman/uint256"

	"github.com/agentkeys/agentkeys/contracts"
	"github.com/agentkeys/agentkeys/internal/secrets"
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

// Deploy deploys AgentKeyDelegate from key and waits for it.
func Deploy(ctx context.Context, c Chain, chainID uint64, key *secrets.PrivateKey) (common.Address, error) {
	data, err := contracts.MustLoad("AgentKeyDelegate").DeployData()
	if err != nil {
		return common.Address{}, err
	}
	rcpt, err := send(ctx, c, chainID, key, nil, data, nil)
	if err != nil {
		return common.Address{}, fmt.Errorf("deploy AgentKeyDelegate: %w", err)
	}
	return rcpt.ContractAddress, nil
}

// Delegate points the owner's account at delegate (the zero address
// removes the delegation) with a type-0x04 transaction the owner sends
// itself, and waits for it.
func Delegate(ctx context.Context, c Chain, chainID uint64, owner *secrets.PrivateKey, delegate common.Address) (*types.Receipt, error) {
	if chainID == 0 {
		return nil, errors.New("refusing to sign an EIP-7702 authorization for chain id 0: it would be valid on every chain")
	}
	nonce, err := NextNonce(ctx, c, owner.Address())
	if err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	// The sender's nonce is bumped before authorizations are processed, so
	// a self-sponsored authorization carries nonce+1.
	auth, err := types.SignSetCode(owner.ECDSA(), types.SetCodeAuthorization{
		ChainID: *uint256.NewInt(chainID), Address: delegate, Nonce: nonce + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("sign authorization: %w", err)
	}
	to := owner.Address()
	return send(ctx, c, chainID, owner, &to, nil, []types.SetCodeAuthorization{auth})
}

// Send signs and sends a transaction from key and waits for its receipt;
// a reverted transaction is an error.
func Send(ctx context.Context, c Chain, chainID uint64, key *secrets.PrivateKey, to common.Address, value *big.Int, data []byte) (*types.Receipt, error) {
	return sendValue(ctx, c, chainID, key, &to, data, nil, value)
}

func send(ctx context.Context, c Chain, chainID uint64, key *secrets.PrivateKey, to *common.Address, data []byte, auths []types.SetCodeAuthorization) (*types.Receipt, error) {
	return sendValue(ctx, c, chainID, key, to, data, auths, nil)
}

func sendValue(ctx context.Context, c Chain, chainID uint64, key *secrets.PrivateKey, to *common.Address, data []byte, auths []types.SetCodeAuthorization, value *big.Int) (*types.Receipt, error) {
	nonce, err := NextNonce(ctx, c, key.Address())
	if err != nil {
		return nil, err
	}
	signed, err := signTx(ctx, c, chainID, key, nonce, to, data, auths, value)
	if err != nil {
		return nil, err
	}
	return SendAndWait(ctx, c, signed)
}

// SendAndWait broadcasts a signed transaction and waits for its receipt; a
// reverted transaction is an error.
func SendAndWait(ctx context.Context, c Chain, signed *types.Transaction) (*types.Receipt, error) {
	if err := c.SendTransaction(ctx, signed); err != nil {
		return nil, err
	}
	rcpt, err := Wait(ctx, c, signed.Hash())
	if err != nil {
		return nil, err
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return rcpt, fmt.Errorf("transaction %s reverted", signed.Hash().Hex())
	}
	return rcpt, nil
}

// signTx fills fees and gas from the node and signs, without sending.
func signTx(ctx context.Context, c Chain, chainID uint64, key *secrets.PrivateKey, nonce uint64, to *common.Address, data []byte, auths []types.SetCodeAuthorization, value *big.Int) (*types.Transaction, error) {
	from := key.Address()
	if value == nil {
		value = new(big.Int)
	}
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, err
	}
	if head.BaseFee == nil {
		return nil, errors.New("the node's latest block has no base fee: the chain is before London (EIP-1559), which agentkeys does not support")
	}
	tip, err := c.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, err
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	gas, err := c.EstimateGas(ctx, ethereum.CallMsg{From: from, To: to, Value: value, Data: data, AuthorizationList: auths, GasFeeCap: feeCap, GasTipCap: tip})
	if err != nil {
		return nil, fmt.Errorf("estimate gas: %w", err)
	}
	gas += gas / 5
	cid := new(big.Int).SetUint64(chainID)
	var tx *types.Transaction
	if auths != nil {
		tx = types.NewTx(&types.SetCodeTx{ChainID: uint256.MustFromBig(cid), Nonce: nonce, GasTipCap: uint256.MustFromBig(tip), GasFeeCap: uint256.MustFromBig(feeCap),
			Gas: gas, To: *to, Value: uint256.MustFromBig(value), Data: data, AuthList: auths})
	} else {
		tx = types.NewTx(&types.DynamicFeeTx{ChainID: cid, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: to, Value: value, Data: data})
	}
	return types.SignTx(tx, types.LatestSignerForChainID(cid), key.ECDSA())
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
