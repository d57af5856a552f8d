package service_test

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
)

// auditedChain is the node as the service sees it, checking at every
// broadcast that the transaction already has its audit record and that no
// nonce of an account is broadcast under two different transactions.
type auditedChain struct {
	*ethclient.Client
	store store.Store

	mu         sync.Mutex
	sent       map[common.Address]map[uint64]common.Hash
	unaudited  []string
	reused     []string
	broadcasts int
}

func (c *auditedChain) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
	if err != nil {
		return err
	}
	recs, err := c.store.AuditRecords(ctx, 0, 100_000)
	if err != nil {
		return err
	}
	audited := false
	for _, r := range recs {
		if r.TxHash == tx.Hash().Hex() {
			audited = true
			break
		}
	}
	c.mu.Lock()
	c.broadcasts++
	if !audited {
		c.unaudited = append(c.unaudited, tx.Hash().Hex())
	}
	if c.sent[from] == nil {
		c.sent[from] = map[uint64]common.Hash{}
	}
	if prev, ok := c.sent[from][tx.Nonce()]; ok && prev != tx.Hash() {
		c.reused = append(c.reused, fmt.Sprintf("%s nonce %d: %s and %s", from.Hex(), tx.Nonce(), prev.Hex(), tx.Hash().Hex()))
	}
	c.sent[from][tx.Nonce()] = tx.Hash()
	c.mu.Unlock()
	return c.Client.SendTransaction(ctx, tx)
}

type pipelineEnv struct {
	svc   *service.Service
	chain *devchain.Chain
	node  *auditedChain
	owner common.Address
}

func startPipeline(t *testing.T) *pipelineEnv {
	t.Helper()
	return startPipelineAt(t, nil)
}

// startPipelineAt is startPipeline with the daemon and the chain reading
// now (nil: the wall clock).
func startPipelineAt(t *testing.T, now func() time.Time) *pipelineEnv {
	t.Helper()
	return startPipelineWith(t, now, service.Limits{})
}

// startPipelineWith is startPipelineAt with the service's abuse limits.
func startPipelineWith(t *testing.T, now func() time.Time, limits service.Limits) *pipelineEnv {
	t.Helper()
	ctx := context.Background()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	h, _, err := home.Init(ctx, t.TempDir(), home.InitOptions{Passphrase: []byte("pipeline test passphrase"), KDF: &kdf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	wallet, err := h.WalletKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := devchain.Start(ctx, devchain.Config{Fund: []common.Address{wallet.Address()}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	node := &auditedChain{Client: chain.Client(), store: h.Store, sent: map[common.Address]map[uint64]common.Hash{}}
	svc, err := service.New(service.Config{Store: h.Store, Chain: node, ChainID: chain.ChainID().Uint64(),
		Wallet: signer.NewWallet(wallet), WalletKeyID: h.Config.WalletKeyID, Delegate: chain.AgentKeyDelegate(), Vault: h.Master, Now: now, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return &pipelineEnv{svc: svc, chain: chain, node: node, owner: wallet.Address()}
}

// grant makes a key from a policy text and returns its session.
func (e *pipelineEnv) grant(t *testing.T, mode, text string) *service.Session {
	t.Helper()
	ctx := context.Background()
	doc, err := policy.ParseDocument([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Grant(ctx, service.GrantRequest{Agent: "bot", Mode: mode, Doc: doc})
	if err != nil {
		t.Fatalf("grant %s: %v", mode, err)
	}
	sess, err := e.svc.Authenticate(ctx, res.Token.Reveal(), service.RequestInfo{Method: "eth_chainId"})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// TestOwnerAndAgentsShareOnePipeline: while 32 agent transactions from
// the owner's account are in flight, the owner upgrades the account to
// EIP-7702, grants a 7702 key (registering and funding its session on
// chain), revokes it on chain, revokes every session and downgrades. Every
// transaction is mined, no nonce is broadcast twice, and each one had its
// audit record before it was broadcast.
func TestOwnerAndAgentsShareOnePipeline(t *testing.T) {
	e := startPipeline(t)
	ctx := context.Background()
	cid := e.chain.ChainID().Uint64()
	sink := common.HexToAddress("0x00000000000000000000000000000000005e11e5")
	payer := e.grant(t, "wallet", fmt.Sprintf(`name: payer
chains: [%d]
limits: [{asset: native, per_tx: 0.001, per_period: 1}]
allow:
  - contract: "%s"
    functions: [{sig: "receive"}]
`, cid, sink.Hex()))

	const agents = 32
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		hashes []common.Hash
		errs   []error
	)
	for i := range agents {
		wg.Go(func() {
			res, err := e.svc.Transaction(ctx, payer, service.RequestInfo{Method: "eth_sendTransaction", RequestID: fmt.Sprint(i)},
				service.TxArgs{To: &sink, Value: big.NewInt(int64(1000 + i))}, true)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			hashes = append(hashes, res.Hash)
		})
	}

	owner := func(what string, f func() error) {
		t.Helper()
		if err := f(); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	owner("upgrade", func() error { _, err := e.svc.Upgrade(ctx); return err })
	doc, err := policy.ParseDocument(fmt.Appendf(nil, `name: session
chains: [%d]
limits: [{asset: native, per_period: 0.01}]
allow: [{contract: "%s", functions: [{sig: "receive"}]}]
`, cid, sink.Hex()))
	if err != nil {
		t.Fatal(err)
	}
	var keyID string
	owner("grant a 7702 key", func() error {
		res, err := e.svc.Grant(ctx, service.GrantRequest{Agent: "session", Mode: store.Mode7702, Doc: doc})
		if err == nil {
			keyID = res.Grant.ID
		}
		return err
	})
	owner("revoke it on chain", func() error { _, err := e.svc.Revoke(ctx, keyID); return err })
	owner("revoke every session", func() error { _, err := e.svc.RevokeAll(ctx); return err })
	owner("downgrade", func() error { _, err := e.svc.Downgrade(ctx); return err })
	wg.Wait()

	for _, err := range errs {
		t.Errorf("agent transaction: %v", err)
	}
	if len(hashes) != agents {
		t.Fatalf("%d of %d agent transactions were sent", len(hashes), agents)
	}
	for _, h := range hashes {
		r, err := delegation.Wait(ctx, e.chain.Client(), h)
		if err != nil || r.Status != types.ReceiptStatusSuccessful {
			t.Errorf("agent transaction %s: receipt %+v, %v", h.Hex(), r, err)
		}
	}
	e.node.mu.Lock()
	defer e.node.mu.Unlock()
	for _, u := range e.node.unaudited {
		t.Errorf("broadcast before its audit record: %s", u)
	}
	for _, r := range e.node.reused {
		t.Errorf("nonce used twice: %s", r)
	}
	// 32 agent transactions, then upgrade, register, fund, revoke,
	// revoke all and downgrade: 38 from the owner. Upgrade and downgrade
	// each also use a nonce for their authorization, so the account ends
	// at 40 with exactly two nonces never used by a transaction.
	ownerNonces := e.node.sent[e.owner]
	if len(ownerNonces) != agents+6 {
		t.Errorf("the owner broadcast %d distinct nonces, want %d", len(ownerNonces), agents+6)
	}
	var authNonces []uint64
	for n := range uint64(agents + 8) {
		if _, ok := ownerNonces[n]; !ok {
			authNonces = append(authNonces, n)
		}
	}
	if len(authNonces) != 2 {
		t.Errorf("nonces without a transaction: %v; want only the two authorizations'", authNonces)
	}
	for n, h := range ownerNonces {
		rec, err := e.node.store.GetTx(ctx, h.Hex())
		if err != nil || rec.Nonce != n || rec.State == store.TxSigned {
			t.Errorf("transaction %s at nonce %d: record %+v, %v; want it recorded and past 'signed'", h.Hex(), n, rec, err)
		}
	}
	latest, err := e.chain.Client().NonceAt(ctx, e.owner, nil)
	if err != nil || latest != agents+8 {
		t.Errorf("the owner's nonce on chain = %d, %v; want %d (every transaction mined)", latest, err, agents+8)
	}
	if st, err := e.svc.Wallet(ctx); err != nil || st.Delegated {
		t.Errorf("after downgrade: %+v, %v", st, err)
	}
}
