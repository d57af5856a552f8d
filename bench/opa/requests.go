package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/policy"
)

// Addresses of the recorded requests.
var (
	owner    = common.HexToAddress("0x1111111111111111111111111111111111111111")
	stranger = common.HexToAddress("0x5555555555555555555555555555555555555555")
	v2Router = common.HexToAddress("0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D")
	router02 = common.HexToAddress("0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45")
	usdc     = common.HexToAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")
	weth     = common.HexToAddress("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
	unknown  = common.HexToAddress("0x9999999999999999999999999999999999999999")
)

// swapOnly is the key's policy: the swap-only profile on chain 1 for the
// two routers, with the caps swap_only.rego states in base units.
func swapOnly() (*policy.Policy, error) {
	six, eighteen := 6, 18
	doc, err := policy.ProfileDocument(policy.ProfileSwapOnly, policy.ProfileParams{
		Chains:  []uint64{1},
		Routers: []common.Address{v2Router, router02},
		Limits: []policy.LimitDoc{
			{Asset: policy.Native, PerTx: "0.05", PerPeriod: "0.5"},
			{Asset: usdc.Hex(), Symbol: "USDC", Decimals: &six, PerTx: "500", PerPeriod: "1000"},
			{Asset: weth.Hex(), Symbol: "WETH", Decimals: &eighteen, PerPeriod: "2"},
		},
	})
	if err != nil {
		return nil, err
	}
	return policy.Compile(doc, policy.Options{})
}

// recorded is one request as both engines see it: agentkeys gets the
// transaction as an agent sends it, OPA the same call decoded (input).
type recorded struct {
	what  string // what the generator made
	req   policy.Request
	st    policy.State
	input map[string]any
}

// signatures the generator calls, and the input builder decodes for OPA.
var signatures = map[string]*policy.Function{}

func function(sig string) *policy.Function {
	if fn := signatures[sig]; fn != nil {
		return fn
	}
	fn, err := policy.ParseSignature(sig)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", sig, err))
	}
	signatures[sig] = fn
	return fn
}

const (
	sigSwapV2      = "swapExactTokensForTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)"
	sigSwapETH     = "swapExactETHForTokens(uint256 amountOutMin,address[] path,address to,uint256 deadline)"
	sigSwap02      = "swapExactTokensForTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to)"
	sigExactInput1 = "exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96) params)"
	sigApprove     = "approve(address spender,uint256 amount)"
	sigTransfer    = "transfer(address to,uint256 amount)"
	sigTransferFr  = "transferFrom(address from,address to,uint256 amount)"
	sigAddLiq      = "addLiquidity(address tokenA,address tokenB,uint256 amountADesired,uint256 amountBDesired,uint256 amountAMin,uint256 amountBMin,address to,uint256 deadline)"
)

// decoders are the functions the caller decodes for OPA: every router
// function the profile names, and approve. Other selectors reach OPA
// with no arguments, which no rule allows.
var decoders = map[[4]byte]*policy.Function{}

func init() {
	for _, s := range []string{
		sigSwapV2, sigSwapETH, sigSwap02, sigExactInput1, sigApprove,
		"swapTokensForExactTokens(uint256 amountOut,uint256 amountInMax,address[] path,address to,uint256 deadline)",
		"swapTokensForExactETH(uint256 amountOut,uint256 amountInMax,address[] path,address to,uint256 deadline)",
		"swapExactTokensForETH(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)",
		"swapETHForExactTokens(uint256 amountOut,address[] path,address to,uint256 deadline)",
		"swapExactTokensForTokensSupportingFeeOnTransferTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)",
		"swapExactETHForTokensSupportingFeeOnTransferTokens(uint256 amountOutMin,address[] path,address to,uint256 deadline)",
		"swapExactTokensForETHSupportingFeeOnTransferTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)",
		"swapTokensForExactTokens(uint256 amountOut,uint256 amountInMax,address[] path,address to)",
		"exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 deadline,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96) params)",
		"exactInput((bytes path,address recipient,uint256 deadline,uint256 amountIn,uint256 amountOutMinimum) params)",
		"exactOutputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 deadline,uint256 amountOut,uint256 amountInMaximum,uint160 sqrtPriceLimitX96) params)",
		"exactOutput((bytes path,address recipient,uint256 deadline,uint256 amountOut,uint256 amountInMaximum) params)",
		"exactInput((bytes path,address recipient,uint256 amountIn,uint256 amountOutMinimum) params)",
		"exactOutputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 amountOut,uint256 amountInMaximum,uint160 sqrtPriceLimitX96) params)",
		"exactOutput((bytes path,address recipient,uint256 amountOut,uint256 amountInMaximum) params)",
		"unwrapWETH9(uint256 amountMinimum,address recipient)",
		"sweepToken(address token,uint256 amountMinimum,address recipient)",
		"refundETH()",
	} {
		fn := function(s)
		decoders[fn.Selector] = fn
	}
}

// generate makes n requests from a seeded generator: swaps within and
// over the caps, to the owner and to a stranger, approvals, transfers,
// other functions and targets, plain sends, other chains, broken
// calldata.
func generate(n int, seed uint64) []recorded {
	g := &gen{r: rand.New(rand.NewPCG(seed, 2026))}
	out := make([]recorded, n)
	for i := range out {
		out[i] = g.next()
	}
	return out
}

type gen struct{ r *rand.Rand }

// units is a random amount between lo and hi whole units of a token with
// the given decimals, at a granularity of a hundredth.
func (g *gen) units(lo, hi float64, decimals int) *big.Int {
	cents := int64(lo*100) + g.r.Int64N(int64((hi-lo)*100)+1)
	v := new(big.Int).Mul(big.NewInt(cents), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil))
	return v.Div(v, big.NewInt(100))
}

func (g *gen) recipient() common.Address {
	if g.r.IntN(7) == 0 {
		return stranger
	}
	return owner
}

func (g *gen) next() recorded {
	r := g.r
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := policy.State{Now: now, IssuedAt: now.Add(-time.Hour), Vars: policy.Variables{Owner: owner}, Spent: map[string]*big.Int{
		policy.Native:               g.units(0, 0.5, 18),
		strings.ToLower(usdc.Hex()): g.units(0, 900, 6),
		strings.ToLower(weth.Hex()): g.units(0, 1.5, 18),
	}}
	deadline := big.NewInt(1_800_000_000)
	var (
		what  string
		to    = v2Router
		value = new(big.Int)
		data  []byte
		chain = uint64(1)
	)
	call := func(sig string, args ...any) []byte {
		b, err := function(sig).Calldata(args...)
		if err != nil {
			panic(fmt.Sprintf("%s: %v", sig, err))
		}
		return b
	}
	swap := func() []byte {
		if r.IntN(4) == 0 {
			return call(sigSwapV2, g.units(0.01, 1.2, 18), big.NewInt(1), []common.Address{weth, usdc}, g.recipient(), deadline)
		}
		return call(sigSwapV2, g.units(1, 700, 6), big.NewInt(1), []common.Address{usdc, weth}, g.recipient(), deadline)
	}
	switch k := r.IntN(100); {
	case k < 40:
		what, data = "V2 swap", swap()
	case k < 48:
		what, value = "V2 swap of ETH", g.units(0.001, 0.08, 18)
		data = call(sigSwapETH, big.NewInt(1), []common.Address{weth, usdc}, g.recipient(), deadline)
	case k < 55:
		what, to = "SwapRouter02 V2 swap", router02
		data = call(sigSwap02, g.units(1, 700, 6), big.NewInt(1), []common.Address{usdc, weth}, g.recipient())
	case k < 62:
		what, to = "V3 exactInputSingle", router02
		params := struct {
			TokenIn           common.Address
			TokenOut          common.Address
			Fee               *big.Int
			Recipient         common.Address
			AmountIn          *big.Int
			AmountOutMinimum  *big.Int
			SqrtPriceLimitX96 *big.Int
		}{usdc, weth, big.NewInt(500), g.recipient(), g.units(1, 700, 6), big.NewInt(1), new(big.Int)}
		data = call(sigExactInput1, params)
	case k < 72:
		what, to = "approve", []common.Address{usdc, usdc, weth, unknown}[r.IntN(4)]
		spender := []common.Address{v2Router, router02, stranger}[r.IntN(3)]
		amount := g.units(0, 1500, 6)
		if r.IntN(5) == 0 {
			amount = new(big.Int)
		}
		data = call(sigApprove, spender, amount)
	case k < 80:
		what, to = "transfer", usdc
		if r.IntN(2) == 0 {
			data = call(sigTransfer, stranger, g.units(1, 100, 6))
		} else {
			data = call(sigTransferFr, owner, stranger, g.units(1, 100, 6))
		}
	case k < 85:
		what = "another function or target"
		data = call(sigAddLiq, usdc, weth, big.NewInt(1), big.NewInt(1), big.NewInt(0), big.NewInt(0), owner, deadline)
		if r.IntN(2) == 0 {
			what, to, data = "swap on an unknown contract", unknown, swap()
		}
	case k < 90:
		what, to, value = "plain ETH send", []common.Address{v2Router, stranger}[r.IntN(2)], g.units(0.001, 0.01, 18)
	case k < 94:
		what, chain, data = "V2 swap on another chain", 137, swap()
	case k < 97:
		what, data = "truncated calldata", swap()
		data = data[:4+r.IntN(len(data)-4)]
	default:
		what = "swap path of one token"
		data = call(sigSwapV2, g.units(1, 100, 6), big.NewInt(1), []common.Address{usdc}, owner, deadline)
	}
	req := policy.Request{Kind: policy.KindTransaction, Method: "eth_sendTransaction", ChainID: chain,
		Tx: &policy.Tx{To: &to, Value: value, Data: data}}
	return recorded{what: what, req: req, st: st, input: opaInput(req, st)}
}

// opaInput is the call decoded for OPA: what swap_only.rego reads.
func opaInput(req policy.Request, st policy.State) map[string]any {
	tx := req.Tx
	in := map[string]any{
		"chain_id": req.ChainID,
		"owner":    lowerHex(st.Vars.Owner),
		"to":       lowerHex(*tx.To),
		"value":    json.Number(tx.Value.String()),
		"selector": "",
		"args":     map[string]any{},
		"decoded":  len(tx.Data) == 0 || len(tx.Data) >= 4,
	}
	spent := map[string]any{}
	for asset, v := range st.Spent {
		spent[asset] = json.Number(v.String())
	}
	in["spent"] = spent
	if len(tx.Data) < 4 {
		return in
	}
	in["selector"] = "0x" + hex.EncodeToString(tx.Data[:4])
	fn := decoders[[4]byte(tx.Data[:4])]
	if fn == nil {
		return in
	}
	args, err := policy.DecodeArgs(fn, tx.Data)
	if err != nil {
		in["decoded"] = false
		return in
	}
	m := map[string]any{}
	for _, path := range args.Paths() {
		v, _ := args.Get(path)
		m[path] = jsonValue(v)
	}
	in["args"] = m
	return in
}

func lowerHex(a common.Address) string { return strings.ToLower(a.Hex()) }

// jsonValue is a decoded argument as OPA reads it.
func jsonValue(v any) any {
	switch x := v.(type) {
	case common.Address:
		return lowerHex(x)
	case *big.Int:
		return json.Number(x.String())
	case []byte:
		return "0x" + hex.EncodeToString(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	}
	return v
}
