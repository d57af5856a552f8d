// Package daemon wires one running agentkeys daemon from an opened home
// and an Ethereum node: the wallet's signer, the service over the home's
// store, the HTTP server, the transaction watcher, the audit feed and the
// alert dispatcher, with one Close. It is the only place where store,
// signer, chain and service meet; the serve command (package cli) and
// package sandbox use it, so neither needs the store or the signer itself.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/mcp"
	"github.com/agentkeys/agentkeys/internal/metrics"
	"github.com/agentkeys/agentkeys/internal/rpc"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/server"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/upstream"
)

// Config starts a daemon. Home and UpstreamURL are required.
type Config struct {
	// Home is the opened home; the caller holds its lock and closes it
	// after the daemon.
	Home *home.Home
	// UpstreamURL is the node's JSON-RPC: agents' reads are proxied to it
	// and, unless Chain is set, the service talks to it. It may carry a
	// provider's API key, so errors name only its scheme and host.
	UpstreamURL string
	// Chain, if set, is the service's client of the node instead of one
	// dialled at UpstreamURL (the sandbox passes its in-process client).
	Chain service.Chain
	// Timeouts bound every call to the node at UpstreamURL, per kind
	// (zero fields take upstream's defaults). Start fails within the dial
	// and read deadlines when the node does not answer.
	Timeouts upstream.Timeouts
	// Delegate returns the AgentKeyDelegate deployment to use on the
	// node's chain, or the zero address for none; nil means none.
	Delegate func(chainID uint64) (common.Address, error)
	// RecordDelegate keeps a delegate that the owner deploys through the
	// daemon in the home's config, so the next start finds it.
	RecordDelegate bool
	// Prepare, if set, runs after the service is built and before the
	// store is reconciled with the node (the sandbox resets its chain-bound
	// state and saves its demo tokens there).
	Prepare func(ctx context.Context, svc *service.Service) error

	Listen, AdminListen string // see server.Config
	TrustedProxies      []netip.Prefix
	TLSCert, TLSKey     string
	InsecureAdmin       bool   // see server.Config
	OwnerURL            string // see server.Config
	// StuckAfter is passed to the service (default
	// service.DefaultStuckAfter).
	StuckAfter time.Duration
	// WatchEvery is how often the transaction watcher sweeps; zero runs
	// no watcher, for tests that call Service.Sweep themselves.
	WatchEvery time.Duration
	// HeadEvery is how often the service reads the node's head and tip
	// (Service.FollowHeads), which fills then share; zero follows none,
	// and every fill reads the node.
	HeadEvery time.Duration
	// FeedPoll is how often the audit feed looks for records of other
	// processes sharing the store (default service.DefaultFeedPoll).
	FeedPoll time.Duration
	// DispatchEvery is how often the alert dispatcher looks for webhook
	// deliveries due (retries); new ones wake it at once. Zero runs no
	// dispatcher, for tests that call Service.DeliverDue themselves.
	DispatchEvery time.Duration
	// AlertAttempts and AlertBackoff are passed to the service (defaults
	// service.DefaultAlertAttempts and service.DefaultAlertBackoff).
	AlertAttempts int
	AlertBackoff  time.Duration
	// Limits are the abuse limits (service.Limits); their aggregate audit
	// records are written every failure window and at Close.
	Limits service.Limits
	// MaxConns and MaxHeaderBytes are passed to the server (defaults
	// server.DefaultMaxConns and server.DefaultMaxHeaderBytes).
	MaxConns, MaxHeaderBytes int
	Now                      func() time.Time
	Log                      *slog.Logger
}

// Daemon is a running service behind its HTTP server.
type Daemon struct {
	Service  *service.Service
	server   *server.Server
	upstream *upstream.Node
	delegate common.Address
	// stop ends the watcher, the audit feed and the alert dispatcher;
	// done counts them out.
	stop context.CancelFunc
	done sync.WaitGroup
}

// Start dials the node, builds the service, reconciles the store with the
// node (refusing a node that lost what the home saw mined), starts the
// server and the watcher. On error everything it started is stopped.
func Start(ctx context.Context, cfg Config) (_ *Daemon, err error) {
	if cfg.Home == nil {
		return nil, errors.New("daemon: no home")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	h := cfg.Home
	// The owner's account: its key, or without it (owner-offline mode)
	// its address, with the relayer that submits what the owner signs.
	var wallet, relayer signer.Signer
	if h.Config.OwnerOffline {
		key, err := h.RelayerKey(ctx)
		if err != nil {
			return nil, err
		}
		wallet, relayer = signer.NewWatch(common.HexToAddress(h.Config.WalletAddress)), signer.NewWallet(key)
	} else {
		key, err := h.WalletKey(ctx)
		if err != nil {
			return nil, err
		}
		wallet = signer.NewWallet(key)
	}
	shown := secrets.RedactURL(cfg.UpstreamURL)
	// Every call to the node has its deadline (upstream.Node), and
	// dialling ends when ctx does: serve stops at SIGTERM even while a
	// node holds its WebSocket handshake.
	if d.upstream, err = upstream.Dial(ctx, cfg.UpstreamURL, cfg.Timeouts); err != nil {
		return nil, fmt.Errorf("connect to %s: %s", shown, secrets.RedactURLs(err.Error()))
	}
	chain := cfg.Chain
	if chain == nil {
		chain = d.upstream
	}
	id, err := chain.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("read chain id from %s: %s", shown, secrets.RedactURLs(err.Error()))
	}
	chainID := id.Uint64()
	if cfg.Delegate != nil {
		if d.delegate, err = cfg.Delegate(chainID); err != nil {
			return nil, err
		}
	}
	m := metrics.New(func(method string) bool { return rpc.Supported(method) || mcp.Supported(method) }, cfg.Log.Error)
	var record func(uint64, common.Address) error
	if cfg.RecordDelegate {
		record = func(id uint64, addr common.Address) error { return h.SetDelegate(id, addr.Hex()) }
	}
	d.Service, err = service.New(service.Config{Store: h.Store, Chain: chain, ChainID: chainID, Wallet: wallet,
		WalletKeyID: h.Config.WalletKeyID, Relayer: relayer, RelayerKeyID: h.Config.RelayerKeyID, Now: cfg.Now, Log: cfg.Log, Delegate: d.delegate, Vault: h.Master,
		RecordDelegate: record, StuckAfter: cfg.StuckAfter, ObserveDecision: m.ObserveDecision, ObserveDelivery: m.ObserveDelivery,
		AlertAttempts: cfg.AlertAttempts, AlertBackoff: cfg.AlertBackoff, Limits: cfg.Limits})
	if err != nil {
		return nil, err
	}
	m.Attach(d.Service)
	// A home made before grants were sealed has its grants sealed once.
	if n, err := d.Service.SealGrants(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		cfg.Log.Info("sealed the grants made before grants were sealed", "grants", n)
	}
	if cfg.Prepare != nil {
		if err := cfg.Prepare(ctx, d.Service); err != nil {
			return nil, err
		}
	}
	// Refuse a node that lost what this home saw mined; rebroadcast or
	// cancel what it no longer holds.
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = d.Service.Reconcile(rctx)
	cancel()
	if err != nil {
		return nil, err
	}
	d.server, err = server.Start(server.Config{Listen: cfg.Listen, AdminListen: cfg.AdminListen, Service: d.Service,
		Upstream: d.upstream, VerifyAdmin: h.VerifyAdmin, Now: cfg.Now, Log: cfg.Log, TrustedProxies: cfg.TrustedProxies,
		TLSCert: cfg.TLSCert, TLSKey: cfg.TLSKey, InsecureAdmin: cfg.InsecureAdmin, Metrics: m,
		MaxConns: cfg.MaxConns, MaxHeaderBytes: cfg.MaxHeaderBytes, OwnerURL: cfg.OwnerURL})
	if err != nil {
		return nil, err
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.stop = stop
	// The feed follows the audit log (anomalies, metrics, live views)
	// from its start, so what it builds is rebuilt at every start.
	d.done.Add(1)
	go func() {
		defer d.done.Done()
		d.Service.Feed().Run(bg, cfg.FeedPoll)
	}()
	// Fees and nonce floors for fills come from the followed head.
	if cfg.HeadEvery > 0 {
		d.done.Add(1)
		go func() {
			defer d.done.Done()
			d.Service.FollowHeads(bg, cfg.HeadEvery)
		}()
	}
	// The watcher follows every signed transaction to its fate until
	// Close; it resumes from the store at the next start.
	if cfg.WatchEvery > 0 {
		d.done.Add(1)
		go func() {
			defer d.done.Done()
			d.Service.Watch(bg, cfg.WatchEvery)
		}()
	}
	// Failed credentials and requests over the limits are audited in
	// aggregate, a record per source or key and window.
	d.done.Add(1)
	go func() {
		defer d.done.Done()
		d.Service.FlushLimitsEvery(bg, d.Service.LimitWindow())
	}()
	// The dispatcher posts the alerts the feed stores, apart from it, so
	// a slow webhook holds up nothing else.
	if cfg.DispatchEvery > 0 {
		d.done.Add(1)
		go func() {
			defer d.done.Done()
			d.Service.Dispatch(bg, cfg.DispatchEvery)
		}()
	}
	return d, nil
}

// URL is the agents' base URL (its /rpc).
func (d *Daemon) URL() string { return d.server.URL() }

// AdminURL is the admin API's base URL (its /v1/).
func (d *Daemon) AdminURL() string { return d.server.AdminURL() }

// Delegate is the AgentKeyDelegate the daemon started with, or the zero
// address.
func (d *Daemon) Delegate() common.Address { return d.delegate }

// Close stops the watcher, the feed and the alert dispatcher, then the
// server (waiting for requests in flight), then closes the connection to
// the node. The home stays open.
func (d *Daemon) Close() error {
	if d.stop != nil {
		d.stop()
		d.done.Wait()
	}
	var err error
	if d.server != nil {
		err = d.server.Close()
	}
	if d.Service != nil {
		// What the last requests added to the limits' counts.
		_ = d.Service.FlushLimits(context.Background(), true)
	}
	if d.upstream != nil {
		d.upstream.Close()
	}
	return err
}

// Logger writes JSON log lines at info level to w. Every string and error
// in them loses the path and query of any URL it quotes: the upstream
// node's URL may carry a provider's API key, and go-ethereum's and
// net/http's errors repeat it.
func Logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: redactAttr}))
}

func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Resolve(); v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(service.PublicText(v.String()))
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			a.Value = slog.StringValue(service.PublicError(err))
		}
	}
	return a
}
