// Package sandbox runs the whole system on one machine: an embedded Prague
// dev chain with demo tokens and a DEX, and the agentkeys daemon in front
// of it, acting for a funded owner. The sandbox and demo commands and the
// end-to-end tests use it.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/atomicfile"
	"github.com/agentkeys/agentkeys/internal/daemon"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
)

// InfoFile is written into the home so other commands and programs find
// the sandbox.
const InfoFile = "sandbox.json"

// AdminTokenFile holds the sandbox's admin credential (mode 0600), so the
// CLI on the same machine can administer it. Only sandboxes write it: a
// production home shows its admin credential once and keeps only a hash.
const AdminTokenFile = "admin.token"

// Config starts a sandbox.
type Config struct {
	Home       string // created and initialised if it holds no home
	Passphrase []byte // unlocks (or initialises) the home
	Listen     string // daemon address; default 127.0.0.1:0
	NodeListen string // dev chain JSON-RPC address; default 127.0.0.1:0
	ChainID    uint64 // default devchain.DefaultChainID
	Now        func() time.Time
	Log        *slog.Logger
	// KDF overrides the passphrase KDF for a new home (tests use a cheap
	// one); nil means the production default.
	KDF *secrets.KDFParams
	// WatchEvery is how often the transaction watcher sweeps
	// (service.Service.Watch); zero runs no watcher, for tests that call
	// Service.Sweep themselves. The sandbox command uses
	// service.DefaultWatchEvery.
	WatchEvery time.Duration
	// Store, if set, is a PostgreSQL URL for a new home's store
	// (home.InitOptions.Store); an existing home uses the store its
	// config names.
	Store string
	// HeadEvery is how often the daemon reads the chain's head and tip
	// for fills (daemon.Config.HeadEvery); zero reads the node per fill.
	// The sandbox command uses service.DefaultHeadEvery.
	HeadEvery time.Duration
	// DispatchEvery is how often the alert dispatcher looks for webhook
	// retries due (service.Service.Dispatch); zero runs no dispatcher.
	// The sandbox command uses service.DefaultDispatchEvery.
	DispatchEvery time.Duration
	// OwnerAddress, if set, makes a new home without the owner's key
	// (home.InitOptions.OwnerAddress, docs/owner-offline.md): the chain
	// funds this address and the home's relayer, and the owner, holding
	// its key elsewhere, delegates its account and signs each 7702 grant.
	OwnerAddress common.Address
}

// Info describes a running sandbox; it is what sandbox.json holds.
type Info struct {
	RPCURL   string            `json:"rpc_url"`   // agents' JSON-RPC endpoint (/rpc)
	NodeURL  string            `json:"node_url"`  // the dev chain's own JSON-RPC
	AdminURL string            `json:"admin_url"` // the admin API base URL
	ChainID  uint64            `json:"chain_id"`
	Owner    string            `json:"owner"` // the account agents act as
	Tokens   map[string]string `json:"tokens"`
	Decimals map[string]uint8  `json:"decimals"`
	Router   string            `json:"router"`
	WETH     string            `json:"weth"`
	Delegate string            `json:"delegate"` // the AgentKeyDelegate deployment (EIP-7702)
	Home     string            `json:"home"`
}

// Sandbox is a running chain and daemon.
type Sandbox struct {
	Info       Info
	Chain      *devchain.Chain
	Service    *service.Service
	Home       *home.Home
	AdminToken string

	daemon *daemon.Daemon
	lock   *home.Lock // held from Start to Close: one daemon per home
}

// Start brings up the chain and the daemon and writes sandbox.json. It
// fails at once, touching nothing, if another sandbox or serve holds the
// home (home.ErrInUse).
//
// The chain lives in memory and every start is a new one, so a home opened
// again resets its chain-bound state (Service.ResetChain, audited): nonce
// counters, budget reserved for the old chain's transactions, and 7702
// keys, whose sessions were registered only there. Keeping the chain's
// state in the home instead was considered and not done: it would need an
// on-disk database under the simulated backend, kept compatible across
// go-ethereum upgrades and consistent with the store after a crash, while a
// sandbox is play money whose users expect a fresh chain with known
// balances and pool prices at every start.
func Start(ctx context.Context, cfg Config) (_ *Sandbox, err error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.NodeListen == "" {
		cfg.NodeListen = "127.0.0.1:0"
	}
	if cfg.ChainID == 0 {
		cfg.ChainID = devchain.DefaultChainID
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	sb := &Sandbox{}
	defer func() {
		if err != nil {
			sb.Close()
		}
	}()
	if sb.lock, err = lockHome(cfg); err != nil {
		return nil, err
	}
	var created bool
	if sb.Home, sb.AdminToken, created, err = openOrInit(ctx, cfg); err != nil {
		return nil, err
	}
	owner := common.HexToAddress(sb.Home.Config.WalletAddress)
	fund := []common.Address{owner}
	if sb.Home.Config.OwnerOffline {
		fund = append(fund, common.HexToAddress(sb.Home.Config.RelayerAddress))
	}
	if sb.Chain, err = devchain.Start(ctx, devchain.Config{Listen: cfg.NodeListen, ChainID: cfg.ChainID, Fund: fund, Now: cfg.Now}); err != nil {
		return nil, fmt.Errorf("start dev chain: %w", err)
	}
	var tokens []service.Token
	info := Info{NodeURL: sb.Chain.URL(), ChainID: cfg.ChainID, Owner: owner.Hex(), Tokens: map[string]string{},
		Decimals: map[string]uint8{}, Router: sb.Chain.Router().Hex(), WETH: sb.Chain.WETH().Hex(), Home: cfg.Home}
	for sym, t := range sb.Chain.Tokens() {
		tokens = append(tokens, service.Token{Symbol: sym, Address: t.Address, Decimals: t.Decimals})
		info.Tokens[sym], info.Decimals[sym] = t.Address.Hex(), t.Decimals
	}
	delegate := sb.Chain.AgentKeyDelegate()
	info.Delegate = delegate.Hex()
	prepare := func(ctx context.Context, svc *service.Service) error {
		if !created {
			if _, err := svc.ResetChain(ctx, "agentkeys sandbox started a new in-process chain"); err != nil {
				return err
			}
		}
		// The demo tokens join the home's token list, so caps like 100USDC
		// and agentkeys token list work as for tokens an owner added.
		return svc.SaveTokens(ctx, tokens)
	}
	sb.daemon, err = daemon.Start(ctx, daemon.Config{Home: sb.Home, UpstreamURL: sb.Chain.URL(), Chain: sb.Chain.Client(),
		Delegate: func(uint64) (common.Address, error) { return delegate, nil }, Prepare: prepare,
		Listen: cfg.Listen, WatchEvery: cfg.WatchEvery, HeadEvery: cfg.HeadEvery, DispatchEvery: cfg.DispatchEvery, Now: cfg.Now, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	sb.Service = sb.daemon.Service
	info.RPCURL, info.AdminURL = sb.daemon.URL()+"/rpc", sb.daemon.AdminURL()
	sb.Info = info
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := atomicfile.Write(filepath.Join(cfg.Home, InfoFile), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return sb, nil
}

// InitHome creates a sandbox home in cfg.Home, as Start does on first use
// (its admin credential saved for the CLI), and returns it open, with
// nothing running: `agentkeys bench seed` fills it before a sandbox
// starts on it. Errors: cfg.Home holds a home already.
func InitHome(ctx context.Context, cfg Config) (*home.Home, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ChainID == 0 {
		cfg.ChainID = devchain.DefaultChainID
	}
	if err := home.CanInit(cfg.Home); err != nil {
		return nil, err
	}
	lock, err := lockHome(cfg)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	h, _, _, err := openOrInit(ctx, cfg)
	return h, err
}

// lockHome creates the home's directory if needed and locks it, so that a
// second sandbox or serve on it fails at once.
func lockHome(cfg Config) (*home.Lock, error) {
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return nil, err
	}
	return home.Acquire(cfg.Home, "agentkeys sandbox", cfg.Now())
}

// openOrInit opens the home, initialising it (and saving the admin
// credential for the CLI) on first use, which it reports as created.
func openOrInit(ctx context.Context, cfg Config) (_ *home.Home, token string, created bool, _ error) {
	h, err := home.Open(ctx, cfg.Home, cfg.Passphrase)
	if errors.Is(err, home.ErrNotInitialized) {
		h, cred, err := home.Init(ctx, cfg.Home, home.InitOptions{Passphrase: cfg.Passphrase, KDF: cfg.KDF, Clock: cfg.Now, ChainID: cfg.ChainID, Store: cfg.Store,
			OwnerAddress: cfg.OwnerAddress})
		if err != nil {
			return nil, "", false, err
		}
		token := cred.Reveal()
		if err := atomicfile.Write(filepath.Join(cfg.Home, AdminTokenFile), []byte(token+"\n"), 0o600); err != nil {
			h.Close()
			return nil, "", false, err
		}
		return h, token, true, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	b, err := os.ReadFile(filepath.Join(cfg.Home, AdminTokenFile))
	if err != nil {
		h.Close()
		return nil, "", false, fmt.Errorf("%s has a home that is not a sandbox's (no %s); use agentkeys serve for it, or another --home", cfg.Home, AdminTokenFile)
	}
	return h, strings.TrimSpace(string(b)), false, nil
}

// Close stops the daemon and the chain, removes sandbox.json, closes the
// home and releases its lock.
func (sb *Sandbox) Close() error {
	var errs []error
	if sb.daemon != nil {
		errs = append(errs, sb.daemon.Close())
	}
	if sb.Chain != nil {
		errs = append(errs, sb.Chain.Close())
	}
	if sb.lock != nil {
		// Only the holder of the lock may remove it: otherwise it is the
		// running sandbox's.
		if err := os.Remove(filepath.Join(sb.lock.Dir(), InfoFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if sb.Home != nil {
		errs = append(errs, sb.Home.Close())
	}
	errs = append(errs, sb.lock.Release())
	return errors.Join(errs...)
}

// ThrowawayKDF derives a passphrase key cheaply (scrypt N=2^12), for homes
// that are removed when their run ends (demo, bench); a home that is kept
// uses the production default.
func ThrowawayKDF() (*secrets.KDFParams, error) {
	p, err := secrets.NewKDFParams()
	if err != nil {
		return nil, err
	}
	p.N = 1 << 12
	return &p, nil
}
