package service_test

import (
	"context"
	"errors"
	"math/big"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
	"github.com/agentkeys/agentkeys/internal/store/sqlite"
)

var stranger = common.HexToAddress("0x9999999999999999999999999999999999999999")

// node is the real dev chain's client, whose broadcasts can be made to
// fail as an unreachable node's do: the transaction never reaches it.
type node struct {
	*ethclient.Client
	mu        sync.Mutex
	failSends int
}

func (n *node) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	n.mu.Lock()
	fail := n.failSends > 0
	if fail {
		n.failSends--
	}
	n.mu.Unlock()
	if fail {
		return errors.New("dial tcp 127.0.0.1:8545: connect: connection refused")
	}
	return n.Client.SendTransaction(ctx, tx)
}

func (n *node) failNextSends(k int) {
	n.mu.Lock()
	n.failSends = k
	n.mu.Unlock()
}

type harness struct {
	t     *testing.T
	ctx   context.Context
	clock *clock.Fake
	chain *devchain.Chain
	node  *node
	// client is the service's client of the chain: node, unless
	// newHarnessOn was given another.
	client service.Chain
	store  *sqlite.Store
	dbPath string // the store's file
	wallet *secrets.PrivateKey
	svc    *service.Service
	sess   *service.Session
	keyID  string
}

const stuckAfter = 2 * time.Minute

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessOn(t, nil)
}

// newHarnessOn is newHarness with the service talking to the chain
// through client(chain) (the dev chain listens on a loopback port).
func newHarnessOn(t *testing.T, client func(*devchain.Chain) service.Chain) *harness {
	t.Helper()
	ctx := t.Context()
	key, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	cfg := devchain.Config{Fund: []common.Address{key.Address()}, Now: clk.Now}
	if client != nil {
		cfg.Listen = "127.0.0.1:0"
	}
	chain, err := devchain.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	dbPath := filepath.Join(t.TempDir(), "agentkeys.db")
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutKey(ctx, store.Key{ID: "wallet", Kind: store.KeyKindWallet, Address: key.Address().Hex(), Sealed: []byte("not used here"), CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ctx: ctx, clock: clk, chain: chain, node: &node{Client: chain.Client()}, store: st, dbPath: dbPath, wallet: key}
	h.client = h.node
	if client != nil {
		h.client = client(chain)
	}
	h.svc = h.newService()
	doc, err := h.svc.Document(ctx, service.GrantSpec{Agent: "bot", Profile: "full-access", DailyLimit: []string{"10ETH"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.Grant(ctx, service.GrantRequest{Agent: "bot", Doc: doc})
	if err != nil {
		t.Fatal(err)
	}
	h.keyID = res.Grant.ID
	if h.sess, err = h.svc.Authenticate(ctx, res.Token.Reveal(), h.info("eth_accounts")); err != nil {
		t.Fatal(err)
	}
	return h
}

// newService builds a daemon on the harness's store and node, as a
// restart would.
func (h *harness) newService() *service.Service {
	h.t.Helper()
	svc, err := service.New(service.Config{Store: h.store, Chain: h.client, ChainID: devchain.DefaultChainID, Wallet: signer.NewWallet(h.wallet), Vault: testVault,
		WalletKeyID: "wallet", Now: h.clock.Now, StuckAfter: stuckAfter})
	if err != nil {
		h.t.Fatal(err)
	}
	return svc
}

func (h *harness) info(method string) service.RequestInfo {
	return service.RequestInfo{Method: method, IP: netip.MustParseAddr("127.0.0.1"), RequestID: "test"}
}

// send asks for a small transfer; send=false is eth_signTransaction.
func (h *harness) send(send bool) (*service.TxResult, error) {
	h.t.Helper()
	method := "eth_signTransaction"
	if send {
		method = "eth_sendTransaction"
	}
	return h.svc.Transaction(h.ctx, h.sess, h.info(method), service.TxArgs{To: &stranger, Value: big.NewInt(1e12)}, send)
}

func (h *harness) sweep() service.SweepReport {
	h.t.Helper()
	rep, err := h.svc.Sweep(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	if rep.Errors != 0 {
		h.t.Fatalf("sweep had %d errors: %+v", rep.Errors, rep)
	}
	return rep
}

func (h *harness) tx(hash string) service.TxInfo {
	h.t.Helper()
	v, err := h.svc.Tx(h.ctx, hash)
	if err != nil {
		h.t.Fatalf("Tx(%s): %v", hash, err)
	}
	return v
}

// receipt waits for the dev chain to mine hash.
func (h *harness) receipt(hash string) *types.Receipt {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer cancel()
	for {
		r, err := h.chain.Client().TransactionReceipt(ctx, common.HexToHash(hash))
		if err == nil {
			return r
		}
		select {
		case <-ctx.Done():
			h.t.Fatalf("no receipt for %s: %v", hash, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (h *harness) auditRecords() []audit.Record {
	h.t.Helper()
	recs, err := h.store.AuditRecords(h.ctx, 0, 10000)
	if err != nil {
		h.t.Fatal(err)
	}
	return recs
}

// TestBroadcastFailureIsRebroadcast: a transaction the node never got
// (the broadcast failed) stays signed, is sent again by the next sweep
// from the stored bytes, and is then followed to included.
func TestBroadcastFailureIsRebroadcast(t *testing.T) {
	h := newHarness(t)
	h.node.failNextSends(1)
	var up *service.UpstreamError
	if _, err := h.send(true); !errors.As(err, &up) {
		t.Fatalf("send with the node down: %v, want an upstream error", err)
	}
	txs, err := h.svc.Txs(h.ctx, service.TxQuery{KeyID: h.keyID})
	if err != nil || len(txs) != 1 || txs[0].State != store.TxSigned || !txs[0].Send || txs[0].Kind != store.TxKindAgent {
		t.Fatalf("after a failed broadcast: %+v, %v; want one signed agent transaction to send", txs, err)
	}
	hash := txs[0].Hash
	if _, err := h.chain.Client().TransactionReceipt(h.ctx, common.HexToHash(hash)); err == nil {
		t.Fatal("the node has a transaction whose broadcast failed")
	}

	rep := h.sweep()
	if !slices.Equal(rep.Rebroadcast, []string{hash}) || len(rep.CancelSent) != 0 {
		t.Fatalf("sweep = %+v; want %s rebroadcast", rep, hash)
	}
	if got := h.tx(hash); got.State != store.TxBroadcast || got.BroadcastAt == nil {
		t.Fatalf("after rebroadcast: %+v", got)
	}
	r := h.receipt(hash)
	rep = h.sweep()
	if !slices.Equal(rep.Included, []string{hash}) {
		t.Fatalf("sweep after mining = %+v; want %s included", rep, hash)
	}
	got := h.tx(hash)
	if got.State != store.TxIncluded || got.Block != r.BlockNumber.Uint64() || got.Status == nil || *got.Status != 1 {
		t.Fatalf("included transaction = %+v; want block %d status 1", got, r.BlockNumber)
	}
	if rep := h.sweep(); rep.Checked != 0 {
		t.Fatalf("a final transaction is still followed: %+v", rep)
	}
}

// TestWatcherResumesAfterRestart: what one daemon signed, a new one on the
// same store follows: the watcher keeps nothing but the store.
func TestWatcherResumesAfterRestart(t *testing.T) {
	h := newHarness(t)
	h.node.failNextSends(1)
	if _, err := h.send(true); err == nil {
		t.Fatal("send with the node down succeeded")
	}
	txs, _ := h.svc.Txs(h.ctx, service.TxQuery{State: store.TxSigned})
	if len(txs) != 1 {
		t.Fatalf("signed transactions: %+v", txs)
	}
	restarted := h.newService()
	rep, err := restarted.Sweep(h.ctx)
	if err != nil || !slices.Equal(rep.Rebroadcast, []string{txs[0].Hash}) {
		t.Fatalf("restarted daemon's sweep = %+v, %v", rep, err)
	}
	h.receipt(txs[0].Hash)
	if rep, err := restarted.Sweep(h.ctx); err != nil || !slices.Equal(rep.Included, []string{txs[0].Hash}) {
		t.Fatalf("restarted daemon's second sweep = %+v, %v", rep, err)
	}
}

// TestSignedTransactionReplaced: an eth_signTransaction result whose nonce
// the owner used for another transaction (sent outside agentkeys) is
// replaced; it is never broadcast by the daemon.
func TestSignedTransactionReplaced(t *testing.T) {
	h := newHarness(t)
	res, err := h.send(false)
	if err != nil {
		t.Fatal(err)
	}
	hash := res.Hash.Hex()
	if rep := h.sweep(); len(rep.Rebroadcast)+len(rep.CancelSent)+len(rep.Seen) != 0 {
		t.Fatalf("sweep acted on a fresh eth_signTransaction result: %+v", rep)
	}
	if _, _, err := h.chain.Client().TransactionByHash(h.ctx, res.Hash); err == nil {
		t.Fatal("the daemon broadcast an eth_signTransaction result")
	}
	other, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(devchain.DefaultChainID), Nonce: res.Tx.Nonce(),
		GasTipCap: res.Tx.GasTipCap(), GasFeeCap: res.Tx.GasFeeCap(), Gas: 21000, To: &stranger, Value: big.NewInt(7)}),
		types.LatestSignerForChainID(big.NewInt(devchain.DefaultChainID)), h.wallet.ECDSA())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.chain.Client().SendTransaction(h.ctx, other); err != nil {
		t.Fatal(err)
	}
	h.receipt(other.Hash().Hex())
	rep := h.sweep()
	if !slices.Equal(rep.Replaced, []string{hash}) {
		t.Fatalf("sweep = %+v; want %s replaced", rep, hash)
	}
	if got := h.tx(hash); got.State != store.TxReplaced || got.ReplacedBy != "" {
		t.Fatalf("replaced transaction = %+v", got)
	}
}

// TestStuckTransactionCancelled: an eth_signTransaction result never
// broadcast is left alone until stuck-after has passed on the injected
// clock, then cancelled at its nonce by a self-transfer with higher fees,
// audited before it is broadcast; the original is cancelled once the
// cancel is mined.
func TestStuckTransactionCancelled(t *testing.T) {
	h := newHarness(t)
	res, err := h.send(false)
	if err != nil {
		t.Fatal(err)
	}
	hash := res.Hash.Hex()
	h.clock.Advance(stuckAfter - time.Second)
	if rep := h.sweep(); len(rep.CancelSent) != 0 {
		t.Fatalf("cancelled before stuck-after: %+v", rep)
	}
	h.clock.Advance(time.Second)
	// The cancel's own broadcast fails: its audit record and its record
	// exist anyway, and the watcher sends it again.
	h.node.failNextSends(1)
	rep := h.sweep()
	if !slices.Equal(rep.CancelSent, []string{hash}) {
		t.Fatalf("sweep = %+v; want a cancel for %s", rep, hash)
	}
	orig := h.tx(hash)
	if orig.State != store.TxSigned || orig.CancelledBy == "" {
		t.Fatalf("original after the cancel was sent = %+v", orig)
	}
	c := h.tx(orig.CancelledBy)
	if c.Kind != store.TxKindCancel || c.Cancels != hash || c.State != store.TxSigned || c.Nonce != orig.Nonce || c.From != orig.From ||
		c.To != orig.From || c.Value != "0" {
		t.Fatalf("cancel = %+v; want a signed zero-value self-transfer at nonce %d", c, orig.Nonce)
	}
	bumped := func(newV, oldV string) bool {
		n, _ := new(big.Int).SetString(newV, 10)
		o, _ := new(big.Int).SetString(oldV, 10)
		return new(big.Int).Mul(n, big.NewInt(10)).Cmp(new(big.Int).Mul(o, big.NewInt(11))) >= 0
	}
	if !bumped(c.MaxTip, orig.MaxTip) || !bumped(c.MaxFee, orig.MaxFee) {
		t.Fatalf("cancel fees tip %s cap %s are not 10%% above the original's %s and %s", c.MaxTip, c.MaxFee, orig.MaxTip, orig.MaxFee)
	}
	var found bool
	for _, r := range h.auditRecords() {
		if r.Method == service.MethodTxCancelled && r.TxHash == c.Hash && strings.Contains(string(r.Call), hash) &&
			strings.Contains(string(r.Call), h.keyID) && strings.Contains(string(r.Call), `"nonce":0`) {
			found = true
		}
	}
	if !found {
		t.Fatal("no agentkeys_txCancelled audit record naming the original, the key and the nonce")
	}

	rep = h.sweep()
	if !slices.Equal(rep.Rebroadcast, []string{c.Hash}) {
		t.Fatalf("sweep = %+v; want the cancel %s sent again", rep, c.Hash)
	}
	if r := h.receipt(c.Hash); r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("cancel receipt status %d", r.Status)
	}
	rep = h.sweep()
	if !slices.Equal(rep.Cancelled, []string{hash}) || !slices.Equal(rep.Included, []string{c.Hash}) {
		t.Fatalf("sweep = %+v; want %s cancelled and %s included", rep, hash, c.Hash)
	}
	if got := h.tx(hash); got.State != store.TxCancelled || got.CancelledBy != c.Hash {
		t.Fatalf("original = %+v", got)
	}
	// The next transaction takes the next nonce and is mined.
	next, err := h.send(true)
	if err != nil {
		t.Fatal(err)
	}
	if next.Tx.Nonce() != orig.Nonce+1 || h.receipt(next.Hash.Hex()).Status != 1 {
		t.Fatalf("next transaction: nonce %d", next.Tx.Nonce())
	}
}

// TestCancelTxByHand: the owner cancels a pending transaction; requests
// that cannot be honoured say why.
func TestCancelTxByHand(t *testing.T) {
	h := newHarness(t)
	res, err := h.send(false)
	if err != nil {
		t.Fatal(err)
	}
	hash := res.Hash.Hex()
	c, err := h.svc.CancelTx(h.ctx, strings.ToUpper(hash[2:3])+hash[3:])
	var pe *service.ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("CancelTx of a malformed hash: %v", err)
	}
	if c, err = h.svc.CancelTx(h.ctx, hash); err != nil {
		t.Fatal(err)
	}
	if c.Kind != store.TxKindCancel || c.Cancels != hash || c.State != store.TxBroadcast {
		t.Fatalf("cancel = %+v", c)
	}
	if _, err := h.svc.CancelTx(h.ctx, hash); !errors.As(err, &pe) || !strings.Contains(pe.Msg, "already being cancelled") {
		t.Fatalf("second CancelTx: %v", err)
	}
	if _, err := h.svc.CancelTx(h.ctx, c.Hash); !errors.As(err, &pe) || !strings.Contains(pe.Msg, "itself a cancel") {
		t.Fatalf("CancelTx of a cancel: %v", err)
	}
	h.receipt(c.Hash)
	if rep := h.sweep(); !slices.Equal(rep.Cancelled, []string{hash}) {
		t.Fatalf("sweep = %+v", rep)
	}
	if _, err := h.svc.CancelTx(h.ctx, hash); !errors.As(err, &pe) || !strings.Contains(pe.Msg, "already cancelled") {
		t.Fatalf("CancelTx of a cancelled transaction: %v", err)
	}
	if _, err := h.svc.CancelTx(h.ctx, "0x"+strings.Repeat("00", 32)); !errors.Is(err, service.ErrNoTx) {
		t.Fatalf("CancelTx of an unknown hash: %v", err)
	}
}

// TestSweepIsBounded: one sweep looks at no more than its limit, oldest
// first; the next sweeps reach the rest.
func TestSweepIsBounded(t *testing.T) {
	h := newHarness(t)
	svc, err := service.New(service.Config{Store: h.store, Chain: h.client, ChainID: devchain.DefaultChainID, Wallet: signer.NewWallet(h.wallet), Vault: testVault,
		WalletKeyID: "wallet", Now: h.clock.Now, SweepLimit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for range 3 {
		res, err := h.send(false)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, res.Hash.Hex())
	}
	h.clock.Advance(time.Hour)
	rep, err := svc.Sweep(h.ctx)
	if err != nil || rep.Checked != 2 || !slices.Equal(rep.CancelSent, hashes[:2]) {
		t.Fatalf("first sweep = %+v, %v; want the two oldest cancelled", rep, err)
	}
}

// TestReconcile: on the node the store's transactions were mined on,
// Reconcile passes and sends again what the node lost; on a fresh chain
// with the same id (a reset node) it refuses with an error saying what
// to do.
func TestReconcile(t *testing.T) {
	h := newHarness(t)
	for range 3 {
		res, err := h.send(true)
		if err != nil {
			t.Fatal(err)
		}
		h.receipt(res.Hash.Hex())
	}
	h.sweep()
	h.node.failNextSends(1)
	if _, err := h.send(true); err == nil {
		t.Fatal("send with the node down succeeded")
	}
	restarted := h.newService()
	if err := restarted.Reconcile(h.ctx); err != nil {
		t.Fatalf("Reconcile on the same node: %v", err)
	}
	lost, _ := h.svc.Txs(h.ctx, service.TxQuery{State: store.TxBroadcast})
	if len(lost) != 1 {
		t.Fatalf("after Reconcile: %+v; want the lost transaction broadcast again", lost)
	}

	fresh, err := devchain.Start(h.ctx, devchain.Config{Fund: []common.Address{h.wallet.Address()}, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	svc, err := service.New(service.Config{Store: h.store, Chain: fresh.Client(), ChainID: devchain.DefaultChainID, Wallet: signer.NewWallet(h.wallet), Vault: testVault,
		WalletKeyID: "wallet", Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	err = svc.Reconcile(h.ctx)
	var reset *service.ChainResetError
	if !errors.As(err, &reset) || reset.NodeNonce != 0 || reset.StoreNext != 4 || reset.Sender != h.wallet.Address().Hex() {
		t.Fatalf("Reconcile on a reset chain: %v; want a ChainResetError for %s at node nonce 0", err, h.wallet.Address().Hex())
	}
	if msg := err.Error(); !strings.Contains(msg, "Point --rpc-upstream at the node this home used") || !strings.Contains(msg, reset.Tx) {
		t.Fatalf("error does not say what to do: %s", msg)
	}
}

// testVault is a master key for services built without a home: what
// seals their grants and session keys.
var testVault = func() *secrets.MasterKey {
	p, err := secrets.NewKDFParams()
	if err != nil {
		panic(err)
	}
	p.N = 1 << 4
	k, err := secrets.DeriveKey([]byte("test vault"), p)
	if err != nil {
		panic(err)
	}
	return k
}()
