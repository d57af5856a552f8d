package devchain_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/contracts/bindings"
	"github.com/agentkeys/agentkeys/internal/devchain"
)

// testTimeout bounds each test's chain work; it is a hang guard, not a
// performance assertion (the race detector makes the EVM slow).
const testTimeout = 2 * time.Minute

var (
	routerABI = bindings.NewDemoRouter()
	tokenABI  = bindings.NewDemoToken()
)

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func startChain(t testing.TB, cfg devchain.Config) *devchain.Chain {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	c, err := devchain.Start(testContext(t), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// user is an account that talks to the chain the way an outside client
// does: over the HTTP URL, signing its own transactions.
type user struct {
	t      testing.TB
	ctx    context.Context
	chain  *devchain.Chain
	client *ethclient.Client
	key    *ecdsa.PrivateKey
	addr   common.Address
}

func newKey(t testing.TB) (*ecdsa.PrivateKey, common.Address) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return key, crypto.PubkeyToAddress(key.PublicKey)
}

func newUser(t testing.TB, c *devchain.Chain, key *ecdsa.PrivateKey) *user {
	t.Helper()
	ctx := testContext(t)
	client, err := ethclient.DialContext(ctx, c.URL())
	if err != nil {
		t.Fatalf("dial %s: %v", c.URL(), err)
	}
	t.Cleanup(client.Close)
	return &user{t: t, ctx: ctx, chain: c, client: client, key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
}

// send signs a dynamic-fee transaction, sends it with eth_sendRawTransaction
// and polls eth_getTransactionReceipt. gas 0 means estimate, which fails
// (with the revert reason) for a call that would revert.
func (u *user) send(to common.Address, value *big.Int, data []byte, gas uint64) (*types.Receipt, error) {
	u.t.Helper()
	if value == nil {
		value = new(big.Int)
	}
	if gas == 0 {
		var err error
		gas, err = u.client.EstimateGas(u.ctx, ethereum.CallMsg{From: u.addr, To: &to, Value: value, Data: data})
		if err != nil {
			return nil, err
		}
	}
	tx := u.sign(&types.DynamicFeeTx{To: &to, Value: value, Data: data, Gas: gas})
	return u.sendTx(tx)
}

// sign fills in chain id, nonce and fees of a DynamicFeeTx or SetCodeTx.
func (u *user) sign(inner types.TxData) *types.Transaction {
	u.t.Helper()
	nonce, err := u.client.PendingNonceAt(u.ctx, u.addr)
	if err != nil {
		u.t.Fatal(err)
	}
	head, err := u.client.HeaderByNumber(u.ctx, nil)
	if err != nil {
		u.t.Fatal(err)
	}
	tip := big.NewInt(params.GWei)
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	switch tx := inner.(type) {
	case *types.DynamicFeeTx:
		tx.ChainID, tx.Nonce, tx.GasTipCap, tx.GasFeeCap = u.chain.ChainID(), nonce, tip, feeCap
	case *types.SetCodeTx:
		tx.ChainID = uint256From(u.t, u.chain.ChainID())
		tx.Nonce, tx.GasTipCap, tx.GasFeeCap = nonce, uint256From(u.t, tip), uint256From(u.t, feeCap)
	default:
		u.t.Fatalf("sign: unsupported %T", inner)
	}
	signed, err := types.SignNewTx(u.key, types.LatestSignerForChainID(u.chain.ChainID()), inner)
	if err != nil {
		u.t.Fatal(err)
	}
	return signed
}

func (u *user) sendTx(tx *types.Transaction) (*types.Receipt, error) {
	if err := u.client.SendTransaction(u.ctx, tx); err != nil {
		return nil, err
	}
	var r *types.Receipt
	for {
		var err error
		if r == nil {
			r, err = u.client.TransactionReceipt(u.ctx, tx.Hash())
			if err != nil && !errors.Is(err, ethereum.NotFound) {
				return nil, err
			}
		}
		if r != nil {
			// The receipt can be found a moment before its block is the
			// head whose state "latest" reads: wait for that too, so
			// balances read next include this transaction.
			head, err := u.client.HeaderByNumber(u.ctx, nil)
			if err != nil {
				return nil, err
			}
			if head.Number.Cmp(r.BlockNumber) >= 0 {
				return r, nil
			}
		}
		select {
		case <-u.ctx.Done():
			return nil, u.ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (u *user) mustSend(to common.Address, value *big.Int, data []byte) *types.Receipt {
	u.t.Helper()
	r, err := u.send(to, value, data, 0)
	if err != nil {
		u.t.Fatalf("send to %s: %v", to, err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		u.t.Fatalf("transaction %s to %s reverted", r.TxHash, to)
	}
	return r
}

func (u *user) ethBalance() *big.Int {
	u.t.Helper()
	b, err := u.client.BalanceAt(u.ctx, u.addr, nil)
	if err != nil {
		u.t.Fatal(err)
	}
	return b
}

func (u *user) tokenBalance(token common.Address) *big.Int {
	u.t.Helper()
	b, err := bind.Call(tokenABI.Instance(u.client, token), &bind.CallOpts{Context: u.ctx}, tokenABI.PackBalanceOf(u.addr), tokenABI.UnpackBalanceOf)
	if err != nil {
		u.t.Fatal(err)
	}
	return b
}

// balances reads the user's ether and demo token balances by symbol.
func (u *user) balances() map[string]*big.Int {
	u.t.Helper()
	out := map[string]*big.Int{"ETH": u.ethBalance()}
	for sym, tok := range u.chain.Tokens() {
		out[sym] = u.tokenBalance(tok.Address)
	}
	return out
}

func (u *user) deadline(after time.Duration) *big.Int {
	u.t.Helper()
	head, err := u.client.HeaderByNumber(u.ctx, nil)
	if err != nil {
		u.t.Fatal(err)
	}
	return new(big.Int).SetInt64(int64(head.Time) + int64(after/time.Second))
}

func (u *user) quote(exactOut bool, amount *big.Int, path []common.Address) []*big.Int {
	u.t.Helper()
	r := routerABI.Instance(u.client, u.chain.Router())
	opts := &bind.CallOpts{Context: u.ctx}
	var amounts []*big.Int
	var err error
	if exactOut {
		amounts, err = bind.Call(r, opts, routerABI.PackGetAmountsIn(amount, path), routerABI.UnpackGetAmountsIn)
	} else {
		amounts, err = bind.Call(r, opts, routerABI.PackGetAmountsOut(amount, path), routerABI.UnpackGetAmountsOut)
	}
	if err != nil {
		u.t.Fatalf("quote: %v", err)
	}
	return amounts
}

func (u *user) approveRouter(symbols ...string) {
	u.t.Helper()
	for _, s := range symbols {
		u.mustSend(u.chain.Tokens()[s].Address, nil, tokenABI.PackApprove(u.chain.Router(), abiMaxUint()))
	}
}

func abiMaxUint() *big.Int {
	return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
}

func units(whole int64, decimals uint8) *big.Int {
	return new(big.Int).Mul(big.NewInt(whole), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil))
}

func ether(whole int64) *big.Int { return units(whole, 18) }

func strs(m map[string]*big.Int) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v.String()
	}
	return out
}

func TestStart(t *testing.T) {
	tests := []struct {
		name        string
		chainID     uint64
		wantChainID int64
	}{
		{"default chain id", 0, devchain.DefaultChainID},
		{"custom chain id", 1338, 1338},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, addr := newKey(t)
			c := startChain(t, devchain.Config{ChainID: tt.chainID, Fund: []common.Address{addr}})
			u := newUser(t, c, key)

			if !strings.HasPrefix(c.URL(), "http://127.0.0.1:") || strings.HasSuffix(c.URL(), ":0") {
				t.Errorf("URL() = %q, want http://127.0.0.1:<bound port>", c.URL())
			}
			id, err := u.client.ChainID(u.ctx)
			if err != nil {
				t.Fatal(err)
			}
			netID, err := u.client.NetworkID(u.ctx)
			if err != nil {
				t.Fatal(err)
			}
			gotIDs := []int64{c.ChainID().Int64(), id.Int64(), netID.Int64()}
			if diff := cmp.Diff([]int64{tt.wantChainID, tt.wantChainID, tt.wantChainID}, gotIDs); diff != "" {
				t.Errorf("ChainID(), eth_chainId, net_version (-want +got):\n%s", diff)
			}

			// Every token answers its metadata on chain as Tokens() claims.
			for sym, tok := range c.Tokens() {
				inst := tokenABI.Instance(u.client, tok.Address)
				opts := &bind.CallOpts{Context: u.ctx}
				gotSym, err := bind.Call(inst, opts, tokenABI.PackSymbol(), tokenABI.UnpackSymbol)
				if err != nil {
					t.Fatalf("%s symbol(): %v", sym, err)
				}
				gotDec, err := bind.Call(inst, opts, tokenABI.PackDecimals(), tokenABI.UnpackDecimals)
				if err != nil {
					t.Fatalf("%s decimals(): %v", sym, err)
				}
				if gotSym != sym || gotDec != tok.Decimals {
					t.Errorf("token %s at %s: on chain %s with %d decimals, Tokens() says %s with %d", sym, tok.Address, gotSym, gotDec, tok.Symbol, tok.Decimals)
				}
			}
			if got := c.Tokens()["WETH"].Address; got != c.WETH() {
				t.Errorf("Tokens()[WETH] = %s, WETH() = %s", got, c.WETH())
			}
			r := routerABI.Instance(u.client, c.Router())
			routerWETH, err := bind.Call(r, &bind.CallOpts{Context: u.ctx}, routerABI.PackWETH(), routerABI.UnpackWETH)
			if err != nil {
				t.Fatal(err)
			}
			if routerWETH != c.WETH() {
				t.Errorf("router.WETH() = %s, want %s", routerWETH, c.WETH())
			}

			wantBalances := map[string]string{
				"ETH":  ether(devchain.DefaultFundEther).String(),
				"USDC": units(devchain.FundTokenUnits, 6).String(),
				"DAI":  units(devchain.FundTokenUnits, 18).String(),
				"WETH": "0",
			}
			if diff := cmp.Diff(wantBalances, strs(u.balances())); diff != "" {
				t.Errorf("funded balances (-want +got):\n%s", diff)
			}
		})
	}
}

// The seeded pools price 1 ETH at 3000 of each stablecoin; a 1-unit trade
// moves the price by ~0.1% and pays the 0.3% fee.
func TestSeededPrices(t *testing.T) {
	key, _ := newKey(t)
	c := startChain(t, devchain.Config{})
	u := newUser(t, c, key)
	tok := c.Tokens()
	tests := []struct {
		name     string
		in       *big.Int
		path     []common.Address
		min, max *big.Int
	}{
		{"1 ETH in USDC", ether(1), []common.Address{c.WETH(), tok["USDC"].Address}, units(2985, 6), units(2992, 6)},
		{"1 ETH in DAI", ether(1), []common.Address{c.WETH(), tok["DAI"].Address}, units(2985, 18), units(2992, 18)},
		{"3000 USDC in ETH", units(3000, 6), []common.Address{tok["USDC"].Address, c.WETH()}, units(995, 15), units(997, 15)},
		{"1000 USDC in DAI", units(1000, 6), []common.Address{tok["USDC"].Address, tok["DAI"].Address}, units(996, 18), units(997, 18)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			amounts := u.quote(false, tt.in, tt.path)
			out := amounts[len(amounts)-1]
			if out.Cmp(tt.min) < 0 || out.Cmp(tt.max) > 0 {
				t.Errorf("getAmountsOut = %s, want within [%s, %s]", out, tt.min, tt.max)
			}
		})
	}
}

// Each swap goes over HTTP like an agent's would, at exactly the quoted
// price (amountOutMin or amountInMax set to the quote), and must move the
// balances by exactly the quoted amounts plus gas.
func TestSwaps(t *testing.T) {
	key, addr := newKey(t)
	c := startChain(t, devchain.Config{Fund: []common.Address{addr}})
	u := newUser(t, c, key)
	u.approveRouter("USDC", "DAI")
	tok := c.Tokens()
	asset := func(sym string) common.Address { return tok[sym].Address }

	tests := []struct {
		name     string
		path     []string // "WETH" at an end means native ether
		exactOut bool
		amount   *big.Int // amountIn, or amountOut when exactOut
	}{
		{"ETH to USDC", []string{"WETH", "USDC"}, false, ether(1)},
		{"USDC to DAI", []string{"USDC", "DAI"}, false, units(1000, 6)},
		{"USDC to DAI via WETH", []string{"USDC", "WETH", "DAI"}, false, units(1000, 6)},
		{"USDC to ETH", []string{"USDC", "WETH"}, false, units(3000, 6)},
		{"DAI to ETH via USDC", []string{"DAI", "USDC", "WETH"}, false, units(500, 18)},
		{"DAI to exactly 500 USDC", []string{"DAI", "USDC"}, true, units(500, 6)},
		{"ETH to exactly 100 DAI", []string{"WETH", "DAI"}, true, units(100, 18)},
		{"USDC to exactly 0.1 ETH", []string{"USDC", "WETH"}, true, units(1, 17)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := make([]common.Address, len(tt.path))
			for i, s := range tt.path {
				path[i] = asset(s)
			}
			amounts := u.quote(tt.exactOut, tt.amount, path)
			in, out := amounts[0], amounts[len(amounts)-1]
			ethIn, ethOut := tt.path[0] == "WETH", tt.path[len(tt.path)-1] == "WETH"
			deadline := u.deadline(10 * time.Minute)

			var data []byte
			value := new(big.Int)
			switch {
			case ethIn && !tt.exactOut:
				data, value = routerABI.PackSwapExactETHForTokens(out, path, addr, deadline), in
			case ethIn && tt.exactOut:
				// Overpay: the router must refund the difference.
				data, value = routerABI.PackSwapETHForExactTokens(out, path, addr, deadline), new(big.Int).Add(in, ether(1))
			case ethOut && !tt.exactOut:
				data = routerABI.PackSwapExactTokensForETH(in, out, path, addr, deadline)
			case ethOut && tt.exactOut:
				data = routerABI.PackSwapTokensForExactETH(out, in, path, addr, deadline)
			case !tt.exactOut:
				data = routerABI.PackSwapExactTokensForTokens(in, out, path, addr, deadline)
			default:
				data = routerABI.PackSwapTokensForExactTokens(out, in, path, addr, deadline)
			}

			before := u.balances()
			r := u.mustSend(c.Router(), value, data)
			after := u.balances()

			inSym, outSym := tt.path[0], tt.path[len(tt.path)-1]
			if ethIn {
				inSym = "ETH"
			}
			if ethOut {
				outSym = "ETH"
			}
			want := map[string]*big.Int{"ETH": new(big.Int), "USDC": new(big.Int), "DAI": new(big.Int), "WETH": new(big.Int)}
			want[inSym].Sub(want[inSym], in)
			want[outSym].Add(want[outSym], out)
			want["ETH"].Sub(want["ETH"], new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice))
			got := make(map[string]*big.Int)
			for k := range after {
				got[k] = new(big.Int).Sub(after[k], before[k])
			}
			if diff := cmp.Diff(strs(want), strs(got)); diff != "" {
				t.Errorf("balance changes (-want +got):\n%s", diff)
			}
		})
	}
}

// A swap the router must refuse fails at estimation with the router's
// reason, and when forced on chain with a fixed gas limit it reverts and
// moves no tokens.
func TestSwapReverts(t *testing.T) {
	key, addr := newKey(t)
	c := startChain(t, devchain.Config{Fund: []common.Address{addr}})
	u := newUser(t, c, key)
	u.approveRouter("USDC", "DAI")
	tok := c.Tokens()
	usdc, dai := tok["USDC"].Address, tok["DAI"].Address
	ethUSDC := []common.Address{c.WETH(), usdc}
	_, stranger := newKey(t)

	tests := []struct {
		name  string
		value *big.Int
		data  func() []byte
		want  string
	}{
		{"amountOutMin above quote", ether(1), func() []byte {
			out := u.quote(false, ether(1), ethUSDC)[1]
			return routerABI.PackSwapExactETHForTokens(new(big.Int).Add(out, common.Big1), ethUSDC, addr, u.deadline(time.Minute))
		}, "DemoRouter: INSUFFICIENT_OUTPUT_AMOUNT"},
		{"tokens amountOutMin above quote", nil, func() []byte {
			p := []common.Address{usdc, dai}
			out := u.quote(false, units(100, 6), p)[1]
			return routerABI.PackSwapExactTokensForTokens(units(100, 6), new(big.Int).Add(out, common.Big1), p, addr, u.deadline(time.Minute))
		}, "DemoRouter: INSUFFICIENT_OUTPUT_AMOUNT"},
		{"amountInMax below quote", nil, func() []byte {
			p := []common.Address{usdc, dai}
			in := u.quote(true, units(100, 18), p)[0]
			return routerABI.PackSwapTokensForExactTokens(units(100, 18), new(big.Int).Sub(in, common.Big1), p, addr, u.deadline(time.Minute))
		}, "DemoRouter: EXCESSIVE_INPUT_AMOUNT"},
		{"expired deadline", ether(1), func() []byte {
			return routerABI.PackSwapExactETHForTokens(common.Big0, ethUSDC, addr, u.deadline(-time.Second))
		}, "DemoRouter: EXPIRED"},
		{"ETH swap not starting at WETH", ether(1), func() []byte {
			return routerABI.PackSwapExactETHForTokens(common.Big0, []common.Address{usdc, dai}, addr, u.deadline(time.Minute))
		}, "DemoRouter: INVALID_PATH"},
		{"path of one token", nil, func() []byte {
			return routerABI.PackSwapExactTokensForTokens(units(1, 6), common.Big0, []common.Address{usdc}, addr, u.deadline(time.Minute))
		}, "DemoRouter: INVALID_PATH"},
		{"pool that does not exist", nil, func() []byte {
			return routerABI.PackSwapExactTokensForTokens(units(1, 6), common.Big0, []common.Address{usdc, stranger}, addr, u.deadline(time.Minute))
		}, "DemoRouter: PAIR_NOT_FOUND"},
		{"more tokens than the balance", nil, func() []byte {
			return routerABI.PackSwapExactTokensForTokens(units(devchain.FundTokenUnits+1, 6), common.Big0, []common.Address{usdc, dai}, addr, u.deadline(time.Minute))
		}, "SafeTransfer: TRANSFER_FROM_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := u.send(c.Router(), tt.value, tt.data(), 0)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("estimate: got error %v, want one containing %q", err, tt.want)
			}

			before := u.balances()
			r, err := u.send(c.Router(), tt.value, tt.data(), 500_000)
			if err != nil {
				t.Fatalf("forced send: %v", err)
			}
			if r.Status != types.ReceiptStatusFailed {
				t.Fatalf("forced send: status %d, want failed", r.Status)
			}
			after := u.balances()
			for _, sym := range []string{"USDC", "DAI", "WETH"} {
				if before[sym].Cmp(after[sym]) != 0 {
					t.Errorf("%s balance moved from %s to %s in a reverted swap", sym, before[sym], after[sym])
				}
			}
		})
	}
}

// Adding liquidity to a seeded pool takes tokens at the pool's ratio and
// refunds surplus ether, and WETH9 wraps and unwraps one to one.
func TestLiquidityAndWETH(t *testing.T) {
	key, addr := newKey(t)
	c := startChain(t, devchain.Config{Fund: []common.Address{addr}})
	u := newUser(t, c, key)
	u.approveRouter("USDC")
	usdc := c.Tokens()["USDC"].Address
	router := routerABI.Instance(u.client, c.Router())
	opts := &bind.CallOpts{Context: u.ctx}

	reserves, err := bind.Call(router, opts, routerABI.PackGetReservesFor(usdc, c.WETH()), routerABI.UnpackGetReservesFor)
	if err != nil {
		t.Fatal(err)
	}
	tokenIn := units(3000, 6)
	ethIn, err := bind.Call(router, opts, routerABI.PackQuote(tokenIn, reserves.ReserveA, reserves.ReserveB), routerABI.UnpackQuote)
	if err != nil {
		t.Fatal(err)
	}
	pairAddr, err := bind.Call(router, opts, routerABI.PackGetPair(usdc, c.WETH()), routerABI.UnpackGetPair)
	if err != nil {
		t.Fatal(err)
	}
	pairABI := bindings.NewDemoPair()
	pair := pairABI.Instance(u.client, pairAddr)

	before := u.balances()
	r := u.mustSend(c.Router(), ether(2), routerABI.PackAddLiquidityETH(usdc, tokenIn, tokenIn, ethIn, addr, u.deadline(time.Minute)))
	after := u.balances()
	gas := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
	want := map[string]string{
		"ETH":  new(big.Int).Neg(new(big.Int).Add(ethIn, gas)).String(), // 2 ETH sent, the rest refunded
		"USDC": new(big.Int).Neg(tokenIn).String(),
		"DAI":  "0",
		"WETH": "0",
	}
	got := make(map[string]string)
	for k := range after {
		got[k] = new(big.Int).Sub(after[k], before[k]).String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("addLiquidityETH balance changes (-want +got):\n%s", diff)
	}
	shares, err := bind.Call(pair, opts, pairABI.PackBalanceOf(addr), pairABI.UnpackBalanceOf)
	if err != nil {
		t.Fatal(err)
	}
	if shares.Sign() <= 0 {
		t.Errorf("liquidity shares = %s, want > 0", shares)
	}

	wethABI := bindings.NewWETH9()
	u.mustSend(c.WETH(), ether(3), wethABI.PackDeposit())
	u.mustSend(c.WETH(), nil, wethABI.PackWithdraw(ether(1)))
	if got, want := u.tokenBalance(c.WETH()), ether(2); got.Cmp(want) != 0 {
		t.Errorf("WETH after depositing 3 and withdrawing 1: %s, want %s", got, want)
	}
}
