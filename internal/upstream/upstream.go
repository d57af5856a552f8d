// Package upstream is the daemon's client of the Ethereum node. Every call
// it makes carries a deadline of its kind (a read, a gas estimation, a
// broadcast), and dialling is bounded and ends as soon as its context is
// cancelled, so a node that refuses, hangs, dribbles or answers garbage
// costs a request at most its deadline and never blocks a shutdown.
//
// It is the one place where node deadlines are applied: package daemon
// dials it and hands it to the service (as service.Chain), to the agents'
// read pass-through (rpc.Upstream) and to the MCP tools (mcp.Upstream).
// It imports only package secrets. Its errors never quote the node's URL
// beyond its scheme and host.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/secrets"
)

// Kind is what a call does, which sets its deadline.
type Kind int

const (
	// Read is every call that only reads the chain (balances, eth_call,
	// receipts, nonces, fees, blocks).
	Read Kind = iota
	// Estimate is eth_estimateGas, which executes the call.
	Estimate
	// Broadcast is eth_sendRawTransaction.
	Broadcast
)

func (k Kind) String() string {
	switch k {
	case Estimate:
		return "estimate"
	case Broadcast:
		return "broadcast"
	}
	return "read"
}

// Default deadlines, per kind.
const (
	DefaultDial      = 10 * time.Second
	DefaultRead      = 10 * time.Second
	DefaultEstimate  = 15 * time.Second
	DefaultBroadcast = 15 * time.Second
)

// Timeouts bounds the node's calls. A zero field takes its default.
type Timeouts struct {
	// Dial bounds connecting to the node (for ws:// and wss://, the
	// WebSocket handshake).
	Dial      time.Duration
	Read      time.Duration
	Estimate  time.Duration
	Broadcast time.Duration
}

// WithDefaults is t with every zero field set to its default.
func (t Timeouts) WithDefaults() Timeouts {
	for _, f := range []struct {
		v *time.Duration
		d time.Duration
	}{{&t.Dial, DefaultDial}, {&t.Read, DefaultRead}, {&t.Estimate, DefaultEstimate}, {&t.Broadcast, DefaultBroadcast}} {
		if *f.v <= 0 {
			*f.v = f.d
		}
	}
	return t
}

// For is the deadline of a call of kind k.
func (t Timeouts) For(k Kind) time.Duration {
	t = t.WithDefaults()
	switch k {
	case Estimate:
		return t.Estimate
	case Broadcast:
		return t.Broadcast
	}
	return t.Read
}

// KindOf is the kind of a JSON-RPC method passed through to the node.
func KindOf(method string) Kind {
	switch method {
	case "eth_estimateGas":
		return Estimate
	case "eth_sendRawTransaction", "eth_sendTransaction":
		return Broadcast
	}
	return Read
}

// TimeoutError is a call the node did not answer within its deadline. It
// matches context.DeadlineExceeded (errors.Is).
type TimeoutError struct {
	Op    string        // the JSON-RPC method, or "connect"
	After time.Duration // the deadline it had
}

func (e *TimeoutError) Error() string {
	if e.Op == "connect" {
		return fmt.Sprintf("the node did not answer the connection within %s", e.After)
	}
	return fmt.Sprintf("the node did not answer %s within %s", e.Op, e.After)
}

func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// Node is a client of one node with per-kind deadlines. It implements the
// service's Chain and the transports' Upstream; it is safe for concurrent
// use.
type Node struct {
	rpc *gethrpc.Client
	eth *ethclient.Client
	t   Timeouts
}

// New wraps an already connected client.
func New(c *gethrpc.Client, t Timeouts) *Node {
	return &Node{rpc: c, eth: ethclient.NewClient(c), t: t.WithDefaults()}
}

// Dial connects to the node at url (http, https, ws, wss) within
// t.Dial. It returns as soon as ctx is cancelled, whatever the node does:
// go-ethereum's WebSocket handshake watches only its deadline, so the
// handshake runs aside and is closed when it finally ends. Its errors do
// not quote url.
func Dial(ctx context.Context, url string, t Timeouts) (*Node, error) {
	t = t.WithDefaults()
	dctx, cancel := context.WithTimeout(ctx, t.Dial)
	type result struct {
		c   *gethrpc.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer cancel()
		c, err := gethrpc.DialContext(dctx, url)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			// The handshake's connection carries the deadline too, and
			// may see it pass before the context does.
			var ne net.Error
			if ctx.Err() == nil && (errors.Is(dctx.Err(), context.DeadlineExceeded) || errors.As(r.err, &ne) && ne.Timeout()) {
				return nil, &TimeoutError{Op: "connect", After: t.Dial}
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("connect: %w", ctx.Err())
			}
			return nil, quiet(r.err)
		}
		return New(r.c, t), nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, fmt.Errorf("connect: %w", ctx.Err())
	}
}

// Close closes the connection.
func (n *Node) Close() { n.rpc.Close() }

// Timeouts are the node's deadlines, defaults filled in.
func (n *Node) Timeouts() Timeouts { return n.t }

// call runs fn under the deadline of kind k and turns running out of it
// (not the caller's own deadline or cancellation) into a TimeoutError.
func (n *Node) call(ctx context.Context, k Kind, op string, fn func(context.Context) error) error {
	after := n.t.For(k)
	cctx, cancel := context.WithTimeout(ctx, after)
	defer cancel()
	err := fn(cctx)
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		return &TimeoutError{Op: op, After: after}
	}
	return quiet(err)
}

// quiet is err without the node's URL: net/http's errors quote it
// (Post "https://host/v3/KEY": ...), and its path, query or user
// information may be a provider's API key.
func quiet(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: secrets.RedactURL(ue.URL), Err: ue.Err}
	}
	return err
}

// CallContext passes a JSON-RPC call to the node, under the deadline of
// its method's kind (KindOf).
func (n *Node) CallContext(ctx context.Context, result any, method string, args ...any) error {
	return n.call(ctx, KindOf(method), method, func(ctx context.Context) error {
		return n.rpc.CallContext(ctx, result, method, args...)
	})
}

// value runs fn under a deadline of kind k and returns its result.
func value[T any](n *Node, ctx context.Context, k Kind, op string, fn func(context.Context) (T, error)) (T, error) {
	var v T
	err := n.call(ctx, k, op, func(ctx context.Context) error {
		var err error
		v, err = fn(ctx)
		return err
	})
	return v, err
}

// ChainID reads eth_chainId.
func (n *Node) ChainID(ctx context.Context) (*big.Int, error) {
	return value(n, ctx, Read, "eth_chainId", n.eth.ChainID)
}

// PendingNonceAt reads the account's nonce counting the node's pool.
func (n *Node) PendingNonceAt(ctx context.Context, account common.Address) (uint64, error) {
	return value(n, ctx, Read, "eth_getTransactionCount", func(ctx context.Context) (uint64, error) { return n.eth.PendingNonceAt(ctx, account) })
}

// NonceAt reads the account's nonce at a block (nil: the latest).
func (n *Node) NonceAt(ctx context.Context, account common.Address, block *big.Int) (uint64, error) {
	return value(n, ctx, Read, "eth_getTransactionCount", func(ctx context.Context) (uint64, error) { return n.eth.NonceAt(ctx, account, block) })
}

// EstimateGas runs eth_estimateGas under the estimation deadline.
func (n *Node) EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error) {
	return value(n, ctx, Estimate, "eth_estimateGas", func(ctx context.Context) (uint64, error) { return n.eth.EstimateGas(ctx, msg) })
}

// SuggestGasTipCap reads eth_maxPriorityFeePerGas.
func (n *Node) SuggestGasTipCap(ctx context.Context) (*big.Int, error) {
	return value(n, ctx, Read, "eth_maxPriorityFeePerGas", n.eth.SuggestGasTipCap)
}

// HeaderByNumber reads a block's header (nil: the latest).
func (n *Node) HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error) {
	return value(n, ctx, Read, "eth_getBlockByNumber", func(ctx context.Context) (*types.Header, error) { return n.eth.HeaderByNumber(ctx, number) })
}

// CallContract runs eth_call.
func (n *Node) CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error) {
	return value(n, ctx, Read, "eth_call", func(ctx context.Context) ([]byte, error) { return n.eth.CallContract(ctx, msg, block) })
}

// SendTransaction broadcasts tx under the broadcast deadline. A timeout
// does not say the node lacks the transaction: the caller leaves it to the
// transaction lifecycle, which looks it up, sends it again or cancels it.
func (n *Node) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	return n.call(ctx, Broadcast, "eth_sendRawTransaction", func(ctx context.Context) error { return n.eth.SendTransaction(ctx, tx) })
}

// CodeAt reads an account's code.
func (n *Node) CodeAt(ctx context.Context, account common.Address, block *big.Int) ([]byte, error) {
	return value(n, ctx, Read, "eth_getCode", func(ctx context.Context) ([]byte, error) { return n.eth.CodeAt(ctx, account, block) })
}

// TransactionReceipt reads a receipt (ethereum.NotFound if none).
func (n *Node) TransactionReceipt(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	return value(n, ctx, Read, "eth_getTransactionReceipt", func(ctx context.Context) (*types.Receipt, error) { return n.eth.TransactionReceipt(ctx, hash) })
}

// TransactionByHash looks a transaction up (ethereum.NotFound if the node
// does not hold it).
func (n *Node) TransactionByHash(ctx context.Context, hash common.Hash) (*types.Transaction, bool, error) {
	var pending bool
	tx, err := value(n, ctx, Read, "eth_getTransactionByHash", func(ctx context.Context) (*types.Transaction, error) {
		tx, p, err := n.eth.TransactionByHash(ctx, hash)
		pending = p
		return tx, err
	})
	return tx, pending, err
}
