package policy

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// Addresses of the realistic policies the benchmarks decide against.
const (
	benchV2Router = "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D"
	benchV3Router = "0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45"
	benchUSDC     = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
	benchWETH     = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
)

// BenchmarkEvaluate decides requests against realistic policies: the
// uniswap swapper of about ten rules (testdata/policies/
// valid_uniswap_swapper.yaml) and the same with 45 more allow rules on
// other contracts placed before the router's, so that 50 rules stand in
// front of the request.
func BenchmarkEvaluate(b *testing.B) {
	swapper := benchSwapper(b)
	fifty := benchFiftyRules(b)
	owner := common.HexToAddress(testOwner)
	router, v3 := common.HexToAddress(benchV2Router), common.HexToAddress(benchV3Router)
	token := common.HexToAddress(benchUSDC)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := State{Now: now, IssuedAt: now.Add(-time.Hour), Vars: Variables{Owner: owner},
		Spent: map[string]*big.Int{Native: big.NewInt(1e15)}, Requests: 3}
	swap := encodeCall(b, "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
		[]any{"100000000", "1", []any{benchUSDC, benchWETH}, owner.Hex(), "9999999999"})
	tx := func(to common.Address, data []byte) Request {
		return Request{Kind: KindTransaction, ChainID: 31337, SourceIP: mustIP("127.0.0.1"),
			Tx: &Tx{To: &to, Value: new(big.Int), Data: data}}
	}
	cases := []struct {
		name string
		p    *Policy
		req  Request
		want Verdict
	}{
		{"allow_swap", swapper, tx(router, swap), Allow},
		{"allow_swap_50_rules", fifty, tx(router, swap), Allow},
		{"allow_v3_multicall_5", swapper, tx(v3, benchMulticall(b, owner, 5)), Allow},
		{"allow_permit2_typed_data", swapper, benchPermit2(b), Allow},
		{"deny_transfer", swapper, tx(token, encodeCall(b, "transfer(address,uint256)", []any{router.Hex(), "1"})), Deny},
		{"deny_unknown_contract", swapper, tx(common.HexToAddress("0x9999999999999999999999999999999999999999"), []byte{1, 2, 3, 4}), Deny},
	}
	for _, c := range cases {
		if d := c.p.Evaluate(c.req, st); d.Verdict != c.want {
			b.Fatalf("%s: %s %q", c.name, d.Verdict, d.Reasons())
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.p.Evaluate(c.req, st)
			}
		})
	}
	// What the daemon pays for a swap it signs: the decision, then its
	// trace written out for the audit record.
	b.Run("allow_swap_traced", func(b *testing.B) {
		b.ReportAllocs()
		req := cases[0].req
		for b.Loop() {
			swapper.Evaluate(req, st).Trace()
		}
	})
}

func benchSwapper(b testing.TB) *Policy {
	src, err := os.ReadFile(filepath.Join("testdata", "policies", "valid_uniswap_swapper.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := Parse(src, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// benchFiftyRules is the swapper with 45 allow rules on other contracts
// in front of its own four: 49 allow rules and one deny rule.
func benchFiftyRules(b *testing.B) *Policy {
	src, err := os.ReadFile(filepath.Join("testdata", "policies", "valid_uniswap_swapper.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	doc, err := ParseDocument(src)
	if err != nil {
		b.Fatal(err)
	}
	var extra []RuleDoc
	for i := range 45 {
		extra = append(extra, RuleDoc{
			Contract: common.BigToAddress(big.NewInt(int64(0x10000 + i))).Hex(),
			Name:     fmt.Sprintf("venue-%d", i),
			Functions: []FunctionDoc{
				{Sig: "approve(address,uint256)", Where: []CondDoc{
					{Param: "spender", Ops: []OpDoc{{Op: "eq", Values: []string{benchV2Router}}}},
					{Param: "amount", Ops: []OpDoc{{Op: "lte", Values: []string{"1000000000"}}}}}},
				{Sig: "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)", Where: []CondDoc{
					{Param: "to", Ops: []OpDoc{{Op: "eq", Values: []string{"$owner"}}}}}},
			},
		})
	}
	doc.Allow = append(extra, doc.Allow...)
	p, err := Compile(doc, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if n := len(p.AllowRules()) + len(p.DenyRules()); n != 50 {
		b.Fatalf("%d rules, want 50", n)
	}
	return p
}

// benchMulticall is SwapRouter02's multicall(deadline, data) of n
// exactInputSingle swaps of 3 USDC each to the owner.
func benchMulticall(b *testing.B, owner common.Address, n int) []byte {
	inner := make([]any, n)
	for i := range inner {
		inner[i] = map[string]any{
			"sig": "exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96))",
			"args": []any{map[string]any{"tokenIn": benchUSDC, "tokenOut": benchWETH, "fee": "500", "recipient": owner.Hex(),
				"amountIn": "3000000", "amountOutMinimum": "1", "sqrtPriceLimitX96": "0"}},
		}
	}
	return encodeCall(b, "multicall(uint256,bytes[])", []any{"99999999999", inner})
}

// benchPermit2 is a Permit2 PermitSingle of 100 USDC to the V3 router.
func benchPermit2(b *testing.B) Request {
	const doc = `{
	  "types": {
	    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
	    "PermitDetails": [{"name": "token", "type": "address"}, {"name": "amount", "type": "uint160"}, {"name": "expiration", "type": "uint48"}, {"name": "nonce", "type": "uint48"}],
	    "PermitSingle": [{"name": "details", "type": "PermitDetails"}, {"name": "spender", "type": "address"}, {"name": "sigDeadline", "type": "uint256"}]
	  },
	  "primaryType": "PermitSingle",
	  "domain": {"name": "Permit2", "chainId": 31337, "verifyingContract": "0x000000000022D473030F116dDEE9F6B43aC78BA3"},
	  "message": {
	    "details": {"token": "` + benchUSDC + `", "amount": "100000000", "expiration": "1800000000", "nonce": "0"},
	    "spender": "` + benchV3Router + `",
	    "sigDeadline": "1800000000"
	  }
	}`
	var td apitypes.TypedData
	if err := json.Unmarshal([]byte(doc), &td); err != nil {
		b.Fatal(err)
	}
	return Request{Kind: KindTypedData, ChainID: 31337, SourceIP: mustIP("127.0.0.1"), TypedData: &td}
}
