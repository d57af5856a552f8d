package devchain_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/agentkeys/agentkeys/internal/devchain"
)

func uint256From(t testing.TB, v *big.Int) *uint256.Int {
	t.Helper()
	u, overflow := uint256.FromBig(v)
	if overflow {
		t.Fatalf("%s does not fit in 256 bits", v)
	}
	return u
}

// Clients that send a raw transaction and poll for its receipt, several at
// once, all get receipts without anyone calling Commit.
func TestAutomine(t *testing.T) {
	const senders, perSender = 4, 5
	var keys []*ecdsa.PrivateKey
	var fund []common.Address
	for range senders {
		key, addr := newKey(t)
		keys, fund = append(keys, key), append(fund, addr)
	}
	c := startChain(t, devchain.Config{Fund: fund})
	var users []*user
	for _, k := range keys {
		users = append(users, newUser(t, c, k))
	}
	_, sink := newKey(t)

	var wg sync.WaitGroup
	errs := make(chan error, senders*perSender)
	for _, u := range users {
		wg.Go(func() {
			for range perSender {
				r, err := u.send(sink, big.NewInt(1), nil, 21_000)
				if err != nil {
					errs <- err
					return
				}
				if r.Status != types.ReceiptStatusSuccessful {
					errs <- errors.New("transfer reverted")
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := users[0].client.BalanceAt(users[0].ctx, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(senders * perSender); got.Int64() != want {
		t.Errorf("sink balance = %s wei, want %d", got, want)
	}
}

// EIP-7702: a SetCode transaction (type 0x04) installs the delegation
// designator 0xef0100||target as the authority's code, whether a sponsor or
// the authority itself sends it, and delegating to the zero address clears it.
func TestSetCodeTransaction(t *testing.T) {
	sponsorKey, sponsor := newKey(t)
	selfKey, self := newKey(t)
	c := startChain(t, devchain.Config{Fund: []common.Address{sponsor, self}})
	target := c.Router() // any contract will do as a delegate
	sponsorUser, selfUser := newUser(t, c, sponsorKey), newUser(t, c, selfKey)
	authorityKey, authority := newKey(t) // never holds ether
	_, bystander := newKey(t)

	tests := []struct {
		name      string
		sender    *user
		signer    *ecdsa.PrivateKey
		authority common.Address
		delegate  common.Address
		wantCode  []byte
	}{
		{"sponsored", sponsorUser, authorityKey, authority, target, types.AddressToDelegation(target)},
		{"self-sponsored", selfUser, selfKey, self, target, types.AddressToDelegation(target)},
		{"sponsored clear", sponsorUser, authorityKey, authority, common.Address{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.sender
			authNonce, err := u.client.PendingNonceAt(u.ctx, tt.authority)
			if err != nil {
				t.Fatal(err)
			}
			if tt.authority == u.addr {
				authNonce++ // the transaction itself uses the current nonce first
			}
			auth, err := types.SignSetCode(tt.signer, types.SetCodeAuthorization{
				ChainID: *uint256From(t, c.ChainID()),
				Address: tt.delegate,
				Nonce:   authNonce,
			})
			if err != nil {
				t.Fatal(err)
			}
			tx := u.sign(&types.SetCodeTx{
				// Not the authority: a call to it would run the delegate's
				// code, and the router refuses plain ether.
				To:       bystander,
				Value:    new(uint256.Int),
				Gas:      100_000,
				AuthList: []types.SetCodeAuthorization{auth},
			})
			if tx.Type() != types.SetCodeTxType {
				t.Fatalf("tx type %d, want %d", tx.Type(), types.SetCodeTxType)
			}
			r, err := u.sendTx(tx)
			if err != nil {
				t.Fatalf("send SetCode tx: %v", err)
			}
			if r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("SetCode tx reverted")
			}
			code, err := u.client.CodeAt(u.ctx, tt.authority, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(hexutil.Encode(tt.wantCode), hexutil.Encode(code)); diff != "" {
				t.Errorf("code of %s (-want +got):\n%s", tt.authority, diff)
			}
		})
	}
}

func TestAdjustTime(t *testing.T) {
	key, addr := newKey(t)
	c := startChain(t, devchain.Config{Fund: []common.Address{addr}})
	u := newUser(t, c, key)
	ethUSDC := []common.Address{c.WETH(), c.Tokens()["USDC"].Address}

	before, err := u.client.HeaderByNumber(u.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := u.deadline(10 * time.Minute)
	if _, err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := c.AdjustTime(time.Hour); err != nil {
		t.Fatal(err)
	}
	after, err := u.client.HeaderByNumber(u.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Number.Uint64() - before.Number.Uint64(); got != 2 {
		t.Errorf("Commit and AdjustTime added %d blocks, want 2", got)
	}
	if got := after.Time - before.Time; got < 3600 {
		t.Errorf("head time moved by %ds, want at least 3600", got)
	}
	_, err = u.send(c.Router(), ether(1), routerABI.PackSwapExactETHForTokens(common.Big0, ethUSDC, addr, deadline), 0)
	if err == nil || !strings.Contains(err.Error(), "DemoRouter: EXPIRED") {
		t.Errorf("swap with a deadline passed by time travel: got %v, want EXPIRED", err)
	}
	if err := c.AdjustTime(-time.Second); err == nil {
		t.Error("AdjustTime(-1s) succeeded, want error")
	}
}

func TestFundAfterStart(t *testing.T) {
	c := startChain(t, devchain.Config{FundETH: ether(5)})
	key, addr := newKey(t)
	if err := c.Fund(testContext(t), addr); err != nil {
		t.Fatal(err)
	}
	u := newUser(t, c, key)
	want := map[string]string{
		"ETH":  ether(5).String(),
		"USDC": units(devchain.FundTokenUnits, 6).String(),
		"DAI":  units(devchain.FundTokenUnits, 18).String(),
		"WETH": "0",
	}
	if diff := cmp.Diff(want, strs(u.balances())); diff != "" {
		t.Errorf("balances after Fund (-want +got):\n%s", diff)
	}
}

func TestStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name string
		cfg  devchain.Config
	}{
		{"port in use", devchain.Config{Listen: busy.Addr().String()}},
		{"listen without port", devchain.Config{Listen: "127.0.0.1"}},
		{"bad port", devchain.Config{Listen: "127.0.0.1:99999"}},
		{"negative FundETH", devchain.Config{FundETH: big.NewInt(-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := devchain.Start(testContext(t), tt.cfg)
			if err == nil {
				c.Close()
				t.Fatal("Start succeeded, want error")
			}
		})
	}
}

func TestInProcessOnly(t *testing.T) {
	c, err := devchain.Start(testContext(t), devchain.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.URL() != "" || c.WSURL() != "" {
		t.Errorf("URL() = %q, WSURL() = %q, want both empty without Listen", c.URL(), c.WSURL())
	}
	id, err := c.Client().ChainID(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if id.Int64() != devchain.DefaultChainID {
		t.Errorf("chain id %s, want %d", id, devchain.DefaultChainID)
	}
}

func TestWebSocket(t *testing.T) {
	c := startChain(t, devchain.Config{})
	ctx := testContext(t)
	client, err := ethclient.DialContext(ctx, c.WSURL())
	if err != nil {
		t.Fatalf("dial %s: %v", c.WSURL(), err)
	}
	defer client.Close()
	heads := make(chan *types.Header, 1)
	sub, err := client.SubscribeNewHead(ctx, heads)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if _, err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-heads:
		if h.Number.Sign() <= 0 {
			t.Errorf("new head number %s", h.Number)
		}
	case err := <-sub.Err():
		t.Fatal(err)
	case <-ctx.Done():
		t.Fatal("no new head over WebSocket")
	}
}

// Close stops everything Start began: the endpoint, the mining goroutines
// and the node's own goroutines.
func TestClose(t *testing.T) {
	// One chain first, so goroutines that go-ethereum starts once per
	// process are not mistaken for leaks.
	warm, err := devchain.Start(testContext(t), devchain.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	baseline := settledGoroutines(t, -1)

	key, addr := newKey(t)
	c, err := devchain.Start(testContext(t), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{addr}})
	if err != nil {
		t.Fatal(err)
	}
	u := newUser(t, c, key)
	_, sink := newKey(t)
	if _, err := u.send(sink, big.NewInt(1), nil, 21_000); err != nil {
		t.Fatal(err)
	}
	u.client.Close()

	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Commit(); !errors.Is(err, devchain.ErrClosed) {
		t.Errorf("Commit after Close: %v, want ErrClosed", err)
	}
	if err := c.AdjustTime(time.Second); !errors.Is(err, devchain.ErrClosed) {
		t.Errorf("AdjustTime after Close: %v, want ErrClosed", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if late, err := ethclient.DialContext(ctx, c.URL()); err == nil {
		if _, err := late.ChainID(ctx); err == nil {
			t.Errorf("%s still answers after Close", c.URL())
		}
		late.Close()
	}
	if n := settledGoroutines(t, baseline); n > baseline {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Close, %d before Start:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// settledGoroutines waits (briefly) for exiting goroutines to finish and
// returns the count, returning early once it is at most target.
func settledGoroutines(t *testing.T, target int) int {
	t.Helper()
	n := runtime.NumGoroutine()
	for range 100 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m <= target || (target < 0 && m == n) {
			return m
		}
		n = m
	}
	return n
}

// What the HTTP endpoint serves and refuses, as a raw client sees it.
func TestRPCSurface(t *testing.T) {
	c := startChain(t, devchain.Config{})
	tests := []struct {
		name       string
		host       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{"chain id", "", `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}`, 200, `"result":"0x7a69"`},
		{"client version", "", `{"jsonrpc":"2.0","id":1,"method":"web3_clientVersion","params":[]}`, 200, `"result":"agentkeys-devchain"`},
		{"txpool", "", `{"jsonrpc":"2.0","id":1,"method":"txpool_status","params":[]}`, 200, `"result":{"pending":"0x0","queued":"0x0"}`},
		{"admin refused", "", `{"jsonrpc":"2.0","id":1,"method":"admin_nodeInfo","params":[]}`, 200, `"code":-32601`},
		{"localhost by name", "localhost", `{"jsonrpc":"2.0","id":1,"method":"net_version","params":[]}`, 200, `"result":"31337"`},
		{"unknown host name", "rebind.example", `{"jsonrpc":"2.0","id":1,"method":"net_version","params":[]}`, 403, "invalid host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(testContext(t), http.MethodPost, c.URL(), strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("got %d %s, want %d with %s", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// Contract addresses depend only on the deployer's nonces, not on Config,
// so documentation and policies can name them.
func TestDeterministicAddresses(t *testing.T) {
	_, a := newKey(t)
	_, b := newKey(t)
	addrs := func(c *devchain.Chain) map[string]common.Address {
		out := map[string]common.Address{"router": c.Router(), "deployer": c.Deployer()}
		for sym, tok := range c.Tokens() {
			out[sym] = tok.Address
		}
		return out
	}
	first := addrs(startChain(t, devchain.Config{Fund: []common.Address{a}}))
	second := addrs(startChain(t, devchain.Config{ChainID: 1338, Fund: []common.Address{a, b}}))
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("addresses differ between starts (-first +second):\n%s", diff)
	}
}

// BenchmarkTransferRoundTrip measures what an agent waits for: sign, send
// over HTTP, automine, receipt.
func BenchmarkTransferRoundTrip(b *testing.B) {
	key, addr := newKey(b)
	c := startChain(b, devchain.Config{Fund: []common.Address{addr}})
	u := newUser(b, c, key)
	_, sink := newKey(b)
	for b.Loop() {
		if _, err := u.send(sink, big.NewInt(1), nil, 21_000); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBlocksFollowTheInjectedClock: blocks are stamped by Config.Now,
// whether it is years behind or ahead of the wall clock, so a daemon
// sharing that clock agrees with the chain on expiries (the bug behind a
// 7702 grant that expired on chain the day after its test was written).
func TestBlocksFollowTheInjectedClock(t *testing.T) {
	for _, start := range []time.Time{
		time.Date(2020, 2, 29, 12, 0, 0, 0, time.UTC),
		time.Date(2041, 6, 5, 8, 30, 0, 0, time.UTC),
	} {
		t.Run(start.Format("2006"), func(t *testing.T) {
			var mu sync.Mutex
			now := start
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			key, addr := newKey(t)
			c := startChain(t, devchain.Config{Fund: []common.Address{addr}, Now: clock})
			genesis, err := c.Client().HeaderByNumber(testContext(t), common.Big0)
			if err != nil {
				t.Fatal(err)
			}
			if genesis.Time != uint64(start.Unix()) {
				t.Errorf("genesis time %d, want the clock's %d", genesis.Time, start.Unix())
			}
			mu.Lock()
			now = now.Add(48 * time.Hour)
			mu.Unlock()
			u := newUser(t, c, key)
			_, sink := newKey(t)
			r, err := u.send(sink, big.NewInt(1), nil, 21_000)
			if err != nil {
				t.Fatal(err)
			}
			head, err := c.Client().HeaderByNumber(testContext(t), r.BlockNumber)
			if err != nil {
				t.Fatal(err)
			}
			// The deployments before the send each took a block a second
			// apart; the send's block is at the advanced clock.
			if want := uint64(clock().Unix()); head.Time != want {
				t.Errorf("block %d stamped %s, want the clock's %s", r.BlockNumber, time.Unix(int64(head.Time), 0).UTC(), clock())
			}
		})
	}
}
