// Package service is the core of agentkeys: it grants keys and decides,
// records and signs every agent request. Transports (rpc, admin, cli, mcp)
// call it; it calls policy, store, audit and signer. Every invariant of
// DESIGN.md that spans packages is kept here: a decision, its budget
// reservation, its nonce and its audit record commit in one store
// transaction before any signature leaves.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/limit"
	"github.com/agentkeys/agentkeys/internal/lru"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Chain is what the service needs from an Ethereum node. *ethclient.Client
// implements it.
type Chain interface {
	ChainID(ctx context.Context) (*big.Int, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	NonceAt(ctx context.Context, account common.Address, block *big.Int) (uint64, error)
	EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	CodeAt(ctx context.Context, account common.Address, block *big.Int) ([]byte, error)
	TransactionReceipt(ctx context.Context, hash common.Hash) (*types.Receipt, error)
	TransactionByHash(ctx context.Context, hash common.Hash) (tx *types.Transaction, isPending bool, err error)
}

// Config assembles a Service.
type Config struct {
	Store   store.Store
	Chain   Chain
	ChainID uint64
	// Wallet is the owner's account: it signs in wallet mode, and every
	// owner transaction (delegation, session registration and funding,
	// on-chain revocation, deploying the delegate).
	Wallet      signer.Signer
	WalletKeyID string // the store key id of the wallet key
	// Owner-offline mode (docs/owner-offline.md): Wallet is a
	// signer.Watch of the owner's address, which this daemon cannot sign
	// for; Relayer is the daemon's own gas account, which submits the
	// grants the owner signed (and the owner's signed authorizations),
	// RelayerKeyID its store key; SignatureTTL is how long the owner has
	// to sign a grant and have it submitted (default
	// DefaultSignatureTTL).
	Relayer      signer.Signer
	RelayerKeyID string
	SignatureTTL time.Duration
	// 7702 mode: the AgentKeyDelegate deployment, the vault sealing
	// session keys, and the gas stipend (default DefaultGasStipend).
	Delegate   common.Address
	Vault      Vault
	GasStipend *big.Int
	Now        func() time.Time
	Log        *slog.Logger
	// BroadcastWait bounds how long a broadcast waits for a node that
	// takes a delegated account's transactions one at a time. Default
	// DefaultBroadcastWait.
	BroadcastWait time.Duration
	// AuditTimeout bounds a decision's store transaction, which runs
	// detached from the request's cancellation so a client that hangs up
	// cannot leave a signature unrecorded. Default 10s.
	AuditTimeout time.Duration
	// StuckAfter is how long a signed transaction may stay away from the
	// node before the watcher cancels it (default DefaultStuckAfter), by
	// Now's clock; SweepLimit bounds the transactions one Sweep looks at
	// (default DefaultSweepLimit).
	StuckAfter time.Duration
	SweepLimit int

	// ObserveDecision, if set, is told how long each decision's store
	// transaction took (evaluation, reservation, signing and audit), by
	// the wall clock: it measures, it decides nothing.
	ObserveDecision func(time.Duration)
	// ObserveDelivery, if set, is told the state each alert delivery
	// attempt left its delivery in (store.DeliveryDelivered, Pending for
	// a retry, Failed).
	ObserveDelivery func(state string)

	// AlertAttempts is how many times an alert delivery is tried before
	// it is failed (default DefaultAlertAttempts); AlertBackoff the wait
	// after its first failed attempt, doubled after each later one
	// (default DefaultAlertBackoff, by Now's clock); AlertHTTP the client
	// that posts to webhooks (default: DefaultAlertTimeout per request,
	// no redirects followed).
	AlertAttempts int
	AlertBackoff  time.Duration
	AlertHTTP     *http.Client

	// Limits are the abuse limits: failed credentials throttled per
	// source (always, defaults filled in), request rates overall and per
	// key (only when Limits.Rates is set).
	Limits Limits

	// PolicyCache is how many compiled policies the service keeps, the
	// most recently used (default DefaultPolicyCache). A key whose policy
	// was dropped has it compiled again at its next request.
	PolicyCache int

	// RecordDelegate, if set, keeps the address of an AgentKeyDelegate
	// that DeployDelegate deployed or adopted (serve writes it to the
	// home's config, so the next start uses it without --delegate).
	RecordDelegate func(chainID uint64, addr common.Address) error
}

// DefaultPolicyCache is how many compiled policies a service keeps by
// default: a policy is a few kilobytes compiled, so this bounds the cache
// to tens of megabytes however many keys the home holds.
const DefaultPolicyCache = 10_000

// Service grants keys and decides requests.
type Service struct {
	cfg      Config
	chainID  *big.Int
	policies *lru.Cache[string, *policy.Policy] // grant id → its compiled policy, the most recently used
	sessions sync.Map                           // session key id → *signer.Wallet
	tokenMu  sync.Mutex                         // serialises changes to the home's token list
	inflight inflight                           // the daemon's broadcasts under way, per account
	heads    heads                              // the followed head: fees and nonce floors (heads.go)
	calls    *countingChain

	// delegateAddr starts as cfg.Delegate and changes when DeployDelegate
	// deploys one; deployMu keeps two deployments from racing.
	delegateMu   sync.RWMutex
	delegateAddr common.Address
	deployMu     sync.Mutex

	// activateMu lets one Activate submit at a time, so one replica never
	// sends the same signed grant twice (the chain would refuse the second).
	activateMu sync.Mutex

	// staleMu lets one RevokeStale run at a time; staleAfter (under it)
	// is where the next one continues, nil to start from the oldest key.
	staleMu    sync.Mutex
	staleAfter *store.GrantCursor

	// sweepMu lets one Sweep or cancel follow transactions at a time;
	// led (under it) is whether this replica led at the last Sweep.
	sweepMu sync.Mutex
	led     bool

	// feed follows the audit log for anomaly detection, metrics and live
	// views; cfg.Store is wrapped so this process's appends wake it.
	feed *Feed

	// alertMu lets one DeliverDue or test delivery post at a time;
	// alertWake tells the dispatcher that deliveries were stored.
	alertMu   sync.Mutex
	alertWake chan struct{}

	// failures throttles and counts failed credentials; rates, if set,
	// limits requests overall and per key.
	failures *limit.Failures
	rates    *limit.Rates

	// rp is the owner's passkeys' relying party (passkeys.go).
	rp ownerRP
}

// New checks the configuration and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("service: no store")
	case cfg.Chain == nil:
		return nil, errors.New("service: no chain")
	case cfg.ChainID == 0:
		return nil, errors.New("service: chain id 0")
	case cfg.Wallet == nil:
		return nil, errors.New("service: no wallet signer")
	case cfg.Vault == nil:
		return nil, errors.New("service: no vault (the home's master key seals grants and session keys)")
	case !signer.HoldsKey(cfg.Wallet) && cfg.Relayer == nil:
		return nil, errors.New("service: the owner's key is not on this daemon, and it has no relayer to submit what the owner signs")
	}
	if cfg.SignatureTTL <= 0 {
		cfg.SignatureTTL = DefaultSignatureTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.BroadcastWait <= 0 {
		cfg.BroadcastWait = DefaultBroadcastWait
	}
	if cfg.AuditTimeout <= 0 {
		cfg.AuditTimeout = 10 * time.Second
	}
	if cfg.PolicyCache <= 0 {
		cfg.PolicyCache = DefaultPolicyCache
	}
	calls := &countingChain{Chain: cfg.Chain}
	cfg.Chain = calls
	feed := newFeed(cfg.Store, cfg.Log.Error)
	cfg.Store = notifying{Store: cfg.Store, feed: feed}
	s := &Service{cfg: cfg, chainID: new(big.Int).SetUint64(cfg.ChainID), delegateAddr: cfg.Delegate, feed: feed, calls: calls,
		policies:  lru.New[string, *policy.Policy](cfg.PolicyCache),
		alertWake: make(chan struct{}, 1), failures: limit.NewFailures(cfg.Limits.Failures, cfg.Now)}
	if cfg.Limits.Rates != nil {
		s.rates = limit.NewRates(*cfg.Limits.Rates, cfg.Now)
	}
	feed.Handle(s.alertAnomaly)
	// The detector reads every key's policy as it meets the key (all of
	// them on a replay): peekPolicy, so it does not push the policies of
	// the keys in use out of the cache.
	feed.Handle(newDetector(cfg.Store, s.peekPolicy, s.now, cfg.Log.Warn).handle)
	return s, nil
}

// Feed is the service's follower of the audit log. The daemon runs it;
// handlers and subscribers attach to it.
func (s *Service) Feed() *Feed { return s.feed }

// delegate is the AgentKeyDelegate deployment 7702 keys use, or the zero
// address.
func (s *Service) delegate() common.Address {
	s.delegateMu.RLock()
	defer s.delegateMu.RUnlock()
	return s.delegateAddr
}

// ChainID is the chain this service signs for.
func (s *Service) ChainID() uint64 { return s.cfg.ChainID }

// Address is the account agents act as in wallet mode.
func (s *Service) Address() common.Address { return s.cfg.Wallet.Address() }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// policyOf compiles the stored policy of a grant, once while it stays
// among the cfg.PolicyCache most recently used (a grant's policy never
// changes, so its id is its key).
func (s *Service) policyOf(g store.Grant) (*policy.Policy, error) {
	return s.policies.Get(g.ID, func() (*policy.Policy, error) { return compileStored(g) })
}

// compileStored compiles the stored policy of a grant.
func compileStored(g store.Grant) (*policy.Policy, error) {
	p, err := policy.Parse(g.Policy, policy.Options{})
	if err != nil {
		// A field error reaches transports as the one ParamError.
		return nil, paramError(fmt.Errorf("compile stored policy of %s: %w", g.ID, err))
	}
	return p, nil
}

// peekPolicy is policyOf for scans over many keys (RevokeStale): a policy
// not cached is compiled but not kept, so a scan does not push out the
// policies of the keys in use.
func (s *Service) peekPolicy(g store.Grant) (*policy.Policy, error) {
	if p, ok := s.policies.Peek(g.ID); ok {
		return p, nil
	}
	return compileStored(g)
}

// eachGrant calls fn with every grant f matches, in f's order, reading
// them grantBatch at a time so that memory stays bounded however many the
// store holds. f.Limit and f.After are its own. fn's error stops it.
func (s *Service) eachGrant(ctx context.Context, f store.GrantFilter, fn func(store.Grant) error) error {
	f.Limit, f.After = grantBatch, nil
	for {
		gs, err := s.cfg.Store.ListGrants(ctx, f)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if err := fn(g); err != nil {
				return err
			}
		}
		if len(gs) < grantBatch {
			return nil
		}
		c := gs[len(gs)-1].Cursor()
		f.After = &c
	}
}

// grantBatch is how many grants eachGrant reads at a time.
const grantBatch = 1000

// tokenDecimals reads an ERC-20 token's decimals() from the chain, for
// limits that do not state them.
func (s *Service) tokenDecimals(ctx context.Context) func(common.Address) (uint8, error) {
	return func(token common.Address) (uint8, error) {
		out, err := s.cfg.Chain.CallContract(ctx, ethereum.CallMsg{To: &token, Data: common.FromHex("0x313ce567")}, nil)
		var nodeAnswer rpc.Error
		if err != nil && !errors.As(err, &nodeAnswer) {
			// A transport error may carry the upstream URL, which can hold
			// an API key: log it, and say only what happened.
			s.cfg.Log.Error("read decimals()", "token", token.Hex(), "err", err)
			return 0, fmt.Errorf("could not read decimals() of %s: the node did not answer (see the daemon's log)", token.Hex())
		}
		if err != nil {
			return 0, fmt.Errorf("%s does not answer decimals() like an ERC-20 token (the call failed); give the address of a token contract on chain %d", token.Hex(), s.cfg.ChainID)
		}
		if len(out) != 32 || new(big.Int).SetBytes(out).Cmp(big.NewInt(77)) > 0 {
			return 0, fmt.Errorf("%s does not answer decimals() like an ERC-20 token; give the address of a token contract on chain %d", token.Hex(), s.cfg.ChainID)
		}
		return uint8(out[31]), nil
	}
}
