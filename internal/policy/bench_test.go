package policy

import (
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// BenchmarkEvaluate decides requests against a realistic policy of about
// ten rules (testdata/policies/valid_uniswap_swapper.yaml).
func BenchmarkEvaluate(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "policies", "valid_uniswap_swapper.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := Parse(src, Options{})
	if err != nil {
		b.Fatal(err)
	}
	owner := common.HexToAddress(testOwner)
	router := common.HexToAddress("0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D")
	usdc := "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
	weth := "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
	token := common.HexToAddress(usdc)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := State{Now: now, IssuedAt: now.Add(-time.Hour), Vars: Variables{Owner: owner},
		Spent: map[string]*big.Int{Native: big.NewInt(1e15)}, Requests: 3}
	cases := []struct {
		name string
		to   common.Address
		data []byte
		want Verdict
	}{
		{"allow_swap", router, encodeCall(b, "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
			[]any{"100000000", "1", []any{usdc, weth}, owner.Hex(), "9999999999"}), Allow},
		{"deny_transfer", token, encodeCall(b, "transfer(address,uint256)", []any{router.Hex(), "1"}), Deny},
		{"deny_unknown_contract", common.HexToAddress("0x9999999999999999999999999999999999999999"), []byte{1, 2, 3, 4}, Deny},
	}
	for _, c := range cases {
		req := Request{Kind: KindTransaction, ChainID: 31337, SourceIP: mustIP("127.0.0.1"),
			Tx: &Tx{To: &c.to, Value: new(big.Int), Data: c.data}}
		if d := p.Evaluate(req, st); d.Verdict != c.want {
			b.Fatalf("%s: %s %q", c.name, d.Verdict, d.Reasons)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Evaluate(req, st)
			}
		})
	}
}
