// Package client is a small typed Go client for the agents' JSON-RPC
// endpoint of an agentkeys daemon (POST /rpc).
//
// An agent holds one bearer credential (ak_...) and the endpoint's URL;
// the daemon decides every request against the key's policy, signs what
// is allowed with the owner's account and refuses the rest. The client
// adds nothing to that decision: it sends the standard Ethereum methods
// (eth_sendTransaction, eth_signTransaction, eth_signTypedData_v4,
// personal_sign) and agentkeys_getPermissions with the credential in the
// Authorization header, and turns the daemon's error answers into *Error,
// whose Code says what happened (CodeRefused with the policy's Reasons,
// CodeCredential, CodeUnsupported, CodeInvalidParams).
//
// Reads (balances, receipts, eth_call) go through the same endpoint: Eth
// returns a go-ethereum ethclient on the client's connection.
//
// In short:
//
//	c, err := client.FromEnv(ctx) // $AGENTKEYS_RPC_URL, $AGENTKEYS_TOKEN
//	if err != nil { ... }
//	defer c.Close()
//	p, err := c.Permissions(ctx) // p.May, p.MayNot, p.Budget
//	receipt, err := c.Transact(ctx, client.Tx{To: &router, Value: wei, Data: calldata})
//	var e *client.Error
//	if errors.As(err, &e) && e.Refused() {
//		// e.Reasons says why, in words; adapt rather than retry.
//	}
//
// This package is public API: it imports no internal package of agentkeys,
// and programs outside this module may use it.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

// The environment variables an agent reads its endpoint and credential
// from; agentkeys key grant --deliver env-file:PATH writes them.
const (
	EnvToken  = "AGENTKEYS_TOKEN"
	EnvRPCURL = "AGENTKEYS_RPC_URL"
)

// Client talks to one daemon as one key. It is safe for concurrent use.
type Client struct {
	rpc *rpc.Client
	eth *ethclient.Client

	mu      sync.Mutex
	address common.Address // the account the key acts as, once read
}

// Dial connects to the daemon's /rpc at url with the key's credential.
// Extra options (an HTTP client, more headers) are passed to go-ethereum's
// rpc.DialOptions. The connection is made lazily for HTTP: a wrong URL or
// credential shows on the first call.
func Dial(ctx context.Context, url, token string, opts ...rpc.ClientOption) (*Client, error) {
	if url == "" {
		return nil, errors.New("agentkeys client: no endpoint URL (the daemon's /rpc, like http://127.0.0.1:8545/rpc)")
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("agentkeys client: no credential (the ak_... token the key was granted with)")
	}
	opts = append([]rpc.ClientOption{rpc.WithHeader("Authorization", "Bearer "+token)}, opts...)
	c, err := rpc.DialOptions(ctx, url, opts...)
	if err != nil {
		// The URL may carry credentials of its own; say only what failed.
		return nil, fmt.Errorf("agentkeys client: dial the endpoint: %w", err)
	}
	return &Client{rpc: c, eth: ethclient.NewClient(c)}, nil
}

// FromEnv dials the endpoint in $AGENTKEYS_RPC_URL with the credential
// in $AGENTKEYS_TOKEN.
func FromEnv(ctx context.Context, opts ...rpc.ClientOption) (*Client, error) {
	url, token := os.Getenv(EnvRPCURL), os.Getenv(EnvToken)
	if url == "" || token == "" {
		return nil, fmt.Errorf("agentkeys client: set %s and %s (agentkeys key grant --deliver env-file:PATH writes both)", EnvRPCURL, EnvToken)
	}
	return Dial(ctx, url, token, opts...)
}

// Close closes the connection.
func (c *Client) Close() { c.rpc.Close() }

// Eth is a go-ethereum client on the same connection and credential, for
// reads the daemon passes to its node (balances, eth_call, receipts,
// logs). Its signing methods go through the daemon's policy like any
// other request.
func (c *Client) Eth() *ethclient.Client { return c.eth }

// RPC is the underlying JSON-RPC connection, for methods this package
// does not wrap. Its errors are go-ethereum's; pass them to AsError.
func (c *Client) RPC() *rpc.Client { return c.rpc }

// ChainID is the chain the key signs for (eth_chainId).
func (c *Client) ChainID(ctx context.Context) (uint64, error) {
	var id hexutil.Uint64
	if err := c.call(ctx, &id, "eth_chainId"); err != nil {
		return 0, err
	}
	return uint64(id), nil
}

// Address is the account the key acts as (eth_accounts): the owner's
// account, in either mode of the grant.
func (c *Client) Address(ctx context.Context) (common.Address, error) {
	c.mu.Lock()
	a := c.address
	c.mu.Unlock()
	if a != (common.Address{}) {
		return a, nil
	}
	var accts []common.Address
	if err := c.call(ctx, &accts, "eth_accounts"); err != nil {
		return common.Address{}, err
	}
	if len(accts) != 1 {
		return common.Address{}, fmt.Errorf("agentkeys client: eth_accounts answered %d accounts, expected 1", len(accts))
	}
	c.mu.Lock()
	c.address = accts[0]
	c.mu.Unlock()
	return accts[0], nil
}

// Tx is a transaction for the daemon to decide, sign and (for
// SendTransaction) broadcast. To, Value and Data are what the policy
// judges; leave the rest empty and the daemon fills them (gas, fees and a
// nonce from its store).
type Tx struct {
	To    *common.Address
	Value *big.Int
	Data  []byte

	Gas                  *uint64
	MaxFeePerGas         *big.Int
	MaxPriorityFeePerGas *big.Int
}

// MarshalJSON writes the transaction object of eth_sendTransaction.
func (t Tx) MarshalJSON() ([]byte, error) {
	type obj struct {
		To                   *common.Address `json:"to,omitempty"`
		Value                *hexutil.Big    `json:"value,omitempty"`
		Data                 hexutil.Bytes   `json:"data,omitempty"`
		Gas                  *hexutil.Uint64 `json:"gas,omitempty"`
		MaxFeePerGas         *hexutil.Big    `json:"maxFeePerGas,omitempty"`
		MaxPriorityFeePerGas *hexutil.Big    `json:"maxPriorityFeePerGas,omitempty"`
	}
	return json.Marshal(obj{To: t.To, Value: (*hexutil.Big)(t.Value), Data: t.Data, Gas: (*hexutil.Uint64)(t.Gas),
		MaxFeePerGas: (*hexutil.Big)(t.MaxFeePerGas), MaxPriorityFeePerGas: (*hexutil.Big)(t.MaxPriorityFeePerGas)})
}

// SendTransaction asks the daemon to sign and broadcast tx
// (eth_sendTransaction) and returns its hash. A refusal is an *Error with
// Code CodeRefused and the reasons.
func (c *Client) SendTransaction(ctx context.Context, tx Tx) (common.Hash, error) {
	var h common.Hash
	err := c.call(ctx, &h, "eth_sendTransaction", tx)
	return h, err
}

// Transact sends tx and waits for its receipt. A transaction that was
// mined but reverted returns its receipt and an error saying so.
func (c *Client) Transact(ctx context.Context, tx Tx) (*types.Receipt, error) {
	h, err := c.SendTransaction(ctx, tx)
	if err != nil {
		return nil, err
	}
	return c.WaitMined(ctx, h)
}

// WaitMined polls for the receipt of hash until it is mined or ctx ends.
func (c *Client) WaitMined(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		r, err := c.eth.TransactionReceipt(ctx, hash)
		switch {
		case err == nil && r.Status != types.ReceiptStatusSuccessful:
			return r, fmt.Errorf("agentkeys client: transaction %s reverted in block %s", hash.Hex(), r.BlockNumber)
		case err == nil:
			return r, nil
		case !errors.Is(err, ethereum.NotFound):
			return nil, fmt.Errorf("agentkeys client: receipt of %s: %w", hash.Hex(), AsError(err))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("agentkeys client: waiting for %s: %w", hash.Hex(), ctx.Err())
		case <-tick.C:
		}
	}
}

// SignTransaction asks the daemon to sign tx without broadcasting it
// (eth_signTransaction). The policy and budget treat it as sent: a signed
// transaction can land.
func (c *Client) SignTransaction(ctx context.Context, tx Tx) (*types.Transaction, error) {
	var raw hexutil.Bytes
	if err := c.call(ctx, &raw, "eth_signTransaction", tx); err != nil {
		return nil, err
	}
	out := new(types.Transaction)
	if err := out.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("agentkeys client: the signed transaction does not decode: %w", err)
	}
	return out, nil
}

// SignTypedData asks for an EIP-712 signature (eth_signTypedData_v4).
// typedData is anything that marshals to the EIP-712 JSON object
// ({types, primaryType, domain, message}): go-ethereum's
// apitypes.TypedData, a map, or json.RawMessage. The policy's typed_data
// rules decide; without one that allows it, the answer is a refusal.
func (c *Client) SignTypedData(ctx context.Context, typedData any) ([]byte, error) {
	from, err := c.Address(ctx)
	if err != nil {
		return nil, err
	}
	var sig hexutil.Bytes
	err = c.call(ctx, &sig, "eth_signTypedData_v4", from, typedData)
	return sig, err
}

// PersonalSign asks for an EIP-191 signature of message (personal_sign),
// which the policy's messages rule decides.
func (c *Client) PersonalSign(ctx context.Context, message []byte) ([]byte, error) {
	from, err := c.Address(ctx)
	if err != nil {
		return nil, err
	}
	var sig hexutil.Bytes
	err = c.call(ctx, &sig, "personal_sign", hexutil.Bytes(message), from)
	return sig, err
}

// Permissions is what the key may do and what is left of its budget
// (agentkeys_getPermissions).
func (c *Client) Permissions(ctx context.Context) (*Permissions, error) {
	var p Permissions
	if err := c.call(ctx, &p, "agentkeys_getPermissions"); err != nil {
		return nil, err
	}
	return &p, nil
}

func (c *Client) call(ctx context.Context, out any, method string, params ...any) error {
	if err := c.rpc.CallContext(ctx, out, method, params...); err != nil {
		return AsError(err)
	}
	return nil
}
