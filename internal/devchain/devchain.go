// Package devchain runs a throwaway Ethereum chain inside the process: the
// chain behind `agentkeys sandbox` and `agentkeys demo`, and the real EVM
// that tests use instead of a mocked node. It starts go-ethereum's execution
// client (as ethclient/simulated does) with the Prague and Osaka forks
// active, serves JSON-RPC over HTTP and WebSocket, mines a block as soon as
// a transaction arrives, and deploys demo contracts:
// WETH9, two ERC-20 tokens (USDC with 6 decimals, DAI with 18) and a
// Uniswap-V2-compatible router with seeded pools at 1 ETH = 3000 USDC =
// 3000 DAI, and AgentKeyDelegate at its deterministic address. SendAs lets
// any account act on the chain as a wallet outside agentkeys would.
//
// Only the sandbox and demo commands and tests may import it; the daemon
// talks to any chain, this one included, through its JSON-RPC URL.
//
// Everything lives in memory and is gone after Close. The deployer key is
// fixed and public, so the demo contracts have the same addresses on every
// start; never send anything of value from a real network to them.
//
// Blocks are stamped with Config.Now, the same clock the daemon in front of
// the chain reads, so expiries and periods agree on and off chain whatever
// today's date is. Timestamps must rise by at least a second per block, and
// a block is mined per transaction, so a busy chain runs a little ahead of
// its clock: take swap deadlines and similar from the latest block's time.
package devchain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/eth/tracers"
	_ "github.com/ethereum/go-ethereum/eth/tracers/native" // callTracer, prestateTracer
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/event"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

// DefaultChainID is the chain id used when Config.ChainID is zero: the id
// Hardhat and Anvil use, so wallets and tools treat the chain as local.
const DefaultChainID = 31337

// FundTokenUnits is how many whole tokens of each demo ERC-20 every funded
// address receives.
const FundTokenUnits = 10_000

// DefaultFundEther is the ether each funded address receives when
// Config.FundETH is nil.
const DefaultFundEther = 1000

// rpcModules are the namespaces served over HTTP and WebSocket. admin and
// personal are left out: nothing in the sandbox should manage the node or
// hold keys in it.
var rpcModules = []string{"eth", "net", "web3", "txpool", "debug"}

// Config says how to start a chain. The zero value is a chain without a
// network endpoint, reachable only through Chain.Client.
type Config struct {
	// Listen is the host:port for JSON-RPC over HTTP, with WebSocket on the
	// same port. Port 0 picks a free port; Chain.URL reports the one bound.
	// An empty host (":8545") listens on all interfaces. Empty Listen serves
	// no network endpoint.
	Listen string

	// VirtualHosts are the host names accepted in the Host header of HTTP
	// requests, go-ethereum's defence against DNS rebinding; requests by IP
	// address are always accepted. Nil means {"localhost"}; "*" accepts any.
	VirtualHosts []string

	// ChainID is the EIP-155 chain id; zero means DefaultChainID.
	ChainID uint64

	// Fund lists addresses that start with FundETH ether and FundTokenUnits
	// of every demo token.
	Fund []common.Address

	// FundETH is the ether, in wei, for each address in Fund; nil means
	// DefaultFundEther ether.
	FundETH *big.Int

	// Now is the clock that stamps blocks (genesis included); nil means
	// time.Now. Give the chain the clock the daemon uses.
	Now func() time.Time

	// WithoutDelegate leaves AgentKeyDelegate out, as on a real chain
	// where nobody has deployed it yet.
	WithoutDelegate bool
}

// Token describes a token deployed on the chain.
type Token struct {
	Symbol   string
	Name     string
	Address  common.Address
	Decimals uint8
}

// Units converts whole tokens to base units (10^Decimals each).
func (t Token) Units(whole int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(whole), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Decimals)), nil))
}

// Chain is a running in-process chain. Its methods are safe for concurrent
// use. It must be closed with Close.
type Chain struct {
	stack   *node.Node
	backend *eth.Ethereum
	now     func() time.Time
	client  *ethclient.Client
	chainID *big.Int
	url     string
	wsURL   string

	deployerKey *ecdsa.PrivateKey
	deployer    common.Address
	fundETH     *big.Int
	weth        common.Address
	router      common.Address
	delegate    common.Address
	tokens      map[string]Token

	// deployMu serialises transactions from the deployer account, whose
	// nonces Start and Fund assign.
	deployMu sync.Mutex

	// sealMu serialises block production: automine, Commit and AdjustTime
	// must never build on the same head at the same time.
	sealMu sync.Mutex
	closed bool // guarded by sealMu

	server    *rpcServer // nil without Config.Listen
	txSub     event.Subscription
	stop      chan struct{}
	workers   sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// deployerKeyBytes derives the deployer's key from a fixed string so the
// demo contracts land at the same addresses on every start. The key is
// public: it guards nothing but sandbox funds.
var deployerKeyBytes = crypto.Keccak256([]byte("agentkeys devchain deployer"))

// deployerBalance pays for deployments and the ETH side of the pools.
var deployerBalance = ether(1_000_000)

func ether(whole int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(whole), big.NewInt(params.Ether))
}

// Start launches a chain, deploys and seeds the demo contracts, funds
// cfg.Fund and starts mining on demand. ctx bounds only the start-up; the
// chain runs until Close.
func Start(ctx context.Context, cfg Config) (_ *Chain, err error) {
	chainID := cfg.ChainID
	if chainID == 0 {
		chainID = DefaultChainID
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	fundETH := cfg.FundETH
	if fundETH == nil {
		fundETH = ether(DefaultFundEther)
	}
	if fundETH.Sign() < 0 {
		return nil, errors.New("devchain: negative FundETH")
	}
	key, err := crypto.ToECDSA(deployerKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("devchain: deployer key: %w", err)
	}
	deployer := crypto.PubkeyToAddress(key.PublicKey)

	alloc := core.SystemContractAllocs() // Prague's block processing calls them
	alloc[deployer] = types.Account{Balance: deployerBalance}
	for _, a := range cfg.Fund {
		if a == deployer {
			return nil, fmt.Errorf("devchain: cannot fund the deployer %s", a)
		}
		alloc[a] = types.Account{Balance: new(big.Int).Set(fundETH)}
	}

	var ln net.Listener
	if cfg.Listen != "" {
		// Listening before anything else starts turns a busy port into a
		// plain error, and port 0 into a known one.
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("devchain: %w", err)
		}
		defer func() {
			if err != nil {
				ln.Close()
			}
		}()
	}

	nodeConf := node.DefaultConfig
	nodeConf.DataDir = "" // in memory
	nodeConf.P2P = p2p.Config{NoDiscovery: true, MaxPeers: 0}
	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("devchain: create node: %w", err)
	}
	defer func() {
		if err != nil {
			stack.Close()
		}
	}()

	// As simulated.NewBackend does, minus what it hides: the transaction
	// pool (for automine), the APIs (to serve them ourselves) and start-up
	// errors, which it turns into panics.
	ethConf := ethconfig.Defaults
	ethConf.NetworkId = chainID
	ethConf.Genesis = &core.Genesis{
		Config:    chainConfig(chainID),
		GasLimit:  ethconfig.Defaults.Miner.GasCeil,
		Timestamp: unixSeconds(now()),
		Alloc:     alloc,
	}
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.TxPool.NoLocals = true
	ethConf.LogNoHistory = true // no background log indexer; logs are searched directly
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		return nil, fmt.Errorf("devchain: create execution client: %w", err)
	}
	extraAPIs := []rpc.API{{
		Namespace: "eth",
		Service:   filters.NewFilterAPI(filters.NewFilterSystem(backend.APIBackend, filters.Config{})),
	}}
	extraAPIs = append(extraAPIs, tracers.APIs(backend.APIBackend)...) // debug_trace*, for reverts
	stack.RegisterAPIs(extraAPIs)
	if err := stack.Start(); err != nil {
		return nil, fmt.Errorf("devchain: start node: %w", err)
	}

	c := &Chain{
		stack:       stack,
		backend:     backend,
		now:         now,
		client:      ethclient.NewClient(stack.Attach()),
		chainID:     new(big.Int).SetUint64(chainID),
		deployerKey: key,
		deployer:    deployer,
		fundETH:     new(big.Int).Set(fundETH),
		stop:        make(chan struct{}),
	}
	defer func() {
		if err != nil {
			c.client.Close()
		}
	}()

	if err := c.deployDemo(ctx, cfg.Fund, !cfg.WithoutDelegate); err != nil {
		return nil, fmt.Errorf("devchain: deploy demo contracts: %w", err)
	}
	if ln != nil {
		vhosts := cfg.VirtualHosts
		if vhosts == nil {
			vhosts = []string{"localhost"}
		}
		apis := append(backend.APIs(), extraAPIs...)
		apis = append(apis, rpc.API{Namespace: "web3", Service: web3API{}})
		if c.server, err = serveRPC(ln, apis, vhosts); err != nil {
			return nil, fmt.Errorf("devchain: serve JSON-RPC: %w", err)
		}
		c.url = localURL("http", ln.Addr())
		c.wsURL = localURL("ws", ln.Addr())
	}
	c.startAutomine()
	return c, nil
}

// chainConfig is the simulated backend's all-forks dev config with the chain
// id replaced and Bogota removed: Bogota is an unfinished future fork with
// experimental gas rules, and the sandbox should price and behave like
// mainnet does today (Prague with EIP-7702, then Osaka).
func chainConfig(chainID uint64) *params.ChainConfig {
	conf := *params.AllDevChainProtocolChanges
	conf.ChainID = new(big.Int).SetUint64(chainID)
	conf.BogotaTime = nil
	return &conf
}

// localURL is the URL a client on this machine dials to reach addr: an
// unspecified address (0.0.0.0, ::) becomes loopback.
func localURL(scheme string, addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// URL is the HTTP JSON-RPC endpoint, e.g. "http://127.0.0.1:43117", or ""
// when Config.Listen was empty.
func (c *Chain) URL() string { return c.url }

// WSURL is the WebSocket JSON-RPC endpoint on the same port as URL, or "".
func (c *Chain) WSURL() string { return c.wsURL }

// ChainID returns the chain id.
func (c *Chain) ChainID() *big.Int { return new(big.Int).Set(c.chainID) }

// Client returns an in-process client of the chain. It is closed by Close.
func (c *Chain) Client() *ethclient.Client { return c.client }

// Deployer is the account that deployed the demo contracts and owns the
// demo tokens (only it may mint).
func (c *Chain) Deployer() common.Address { return c.deployer }

// WETH is the address of the WETH9 contract.
func (c *Chain) WETH() common.Address { return c.weth }

// Router is the address of the Uniswap-V2-compatible router, which is also
// its own factory.
func (c *Chain) Router() common.Address { return c.router }

// Tokens returns the demo tokens by symbol: "USDC", "DAI" and "WETH".
func (c *Chain) Tokens() map[string]Token { return maps.Clone(c.tokens) }

// Close stops mining and the node. Further calls return the first result.
func (c *Chain) Close() error {
	c.closeOnce.Do(func() {
		c.sealMu.Lock()
		c.closed = true
		c.sealMu.Unlock()
		close(c.stop)
		if c.txSub != nil {
			c.txSub.Unsubscribe()
		}
		c.workers.Wait()
		var serverErr error
		if c.server != nil {
			serverErr = c.server.close()
		}
		c.client.Close()
		c.closeErr = errors.Join(serverErr, c.stack.Close())
	})
	return c.closeErr
}
