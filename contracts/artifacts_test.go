package contracts_test

import (
	"encoding/hex"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/contracts"
	"github.com/agentkeys/agentkeys/contracts/bindings"
)

// The selectors are those of the deployed Uniswap V2 Router02, Factory, Pair
// and WETH9, written out rather than derived, so a renamed parameter type or
// a changed signature in src/ fails here instead of silently diverging from
// what agents and policies expect.
func TestUniswapV2Interface(t *testing.T) {
	type fn struct {
		sig      string
		selector string
		payable  bool
	}
	tests := []struct {
		contract string
		fns      []fn
	}{
		{"DemoRouter", []fn{
			{"WETH()", "ad5c4648", false},
			{"factory()", "c45a0155", false},
			{"quote(uint256,uint256,uint256)", "ad615dec", false},
			{"getAmountOut(uint256,uint256,uint256)", "054d50d4", false},
			{"getAmountIn(uint256,uint256,uint256)", "85f8c259", false},
			{"getAmountsOut(uint256,address[])", "d06ca61f", false},
			{"getAmountsIn(uint256,address[])", "1f00ca74", false},
			{"addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256)", "e8e33700", false},
			{"addLiquidityETH(address,uint256,uint256,uint256,address,uint256)", "f305d719", true},
			{"swapExactTokensForTokens(uint256,uint256,address[],address,uint256)", "38ed1739", false},
			{"swapTokensForExactTokens(uint256,uint256,address[],address,uint256)", "8803dbee", false},
			{"swapExactETHForTokens(uint256,address[],address,uint256)", "7ff36ab5", true},
			{"swapTokensForExactETH(uint256,uint256,address[],address,uint256)", "4a25d94a", false},
			{"swapExactTokensForETH(uint256,uint256,address[],address,uint256)", "18cbafe5", false},
			{"swapETHForExactTokens(uint256,address[],address,uint256)", "fb3bdb41", true},
			// The router doubles as the factory.
			{"getPair(address,address)", "e6a43905", false},
			{"createPair(address,address)", "c9c65396", false},
			{"allPairs(uint256)", "1e3dd18b", false},
			{"allPairsLength()", "574f2ba3", false},
		}},
		{"DemoPair", []fn{
			{"getReserves()", "0902f1ac", false},
			{"token0()", "0dfe1681", false},
			{"token1()", "d21220a7", false},
			{"factory()", "c45a0155", false},
		}},
		{"WETH9", []fn{
			{"deposit()", "d0e30db0", true},
			{"withdraw(uint256)", "2e1a7d4d", false},
			{"transfer(address,uint256)", "a9059cbb", false},
			{"transferFrom(address,address,uint256)", "23b872dd", false},
			{"approve(address,uint256)", "095ea7b3", false},
			{"balanceOf(address)", "70a08231", false},
			{"totalSupply()", "18160ddd", false},
		}},
		{"DemoToken", []fn{
			{"transfer(address,uint256)", "a9059cbb", false},
			{"transferFrom(address,address,uint256)", "23b872dd", false},
			{"approve(address,uint256)", "095ea7b3", false},
			{"allowance(address,address)", "dd62ed3e", false},
			{"balanceOf(address)", "70a08231", false},
			{"decimals()", "313ce567", false},
			{"mint(address,uint256)", "40c10f19", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.contract, func(t *testing.T) {
			a, err := contracts.Load(tt.contract)
			if err != nil {
				t.Fatal(err)
			}
			got := make(map[string]fn)
			for _, m := range a.ABI.Methods {
				got[m.Sig] = fn{m.Sig, hex.EncodeToString(m.ID), m.IsPayable()}
			}
			for _, want := range tt.fns {
				if diff := cmp.Diff(want, got[want.sig], cmp.AllowUnexported(fn{})); diff != "" {
					t.Errorf("%s (-want +got):\n%s", want.sig, diff)
				}
			}
		})
	}
}

func TestArtifactsMatchBindings(t *testing.T) {
	metas := map[string]*bind.MetaData{
		"AgentKeyDelegate": &bindings.AgentKeyDelegateMetaData,
		"DemoPair":         &bindings.DemoPairMetaData,
		"DemoRouter":       &bindings.DemoRouterMetaData,
		"DemoToken":        &bindings.DemoTokenMetaData,
		"WETH9":            &bindings.WETH9MetaData,
	}
	if diff := cmp.Diff([]string{"AgentKeyDelegate", "DemoPair", "DemoRouter", "DemoToken", "WETH9"}, contracts.Names()); diff != "" {
		t.Errorf("contracts.Names() (-want +got):\n%s", diff)
	}
	for name, meta := range metas {
		t.Run(name, func(t *testing.T) {
			a := contracts.MustLoad(name)
			if got, want := hexutil.Encode(a.Bytecode), meta.Bin; got != want {
				t.Errorf("artifact bytecode differs from binding (lengths %d, %d): rerun contracts/build.sh", len(got), len(want))
			}
			// EIP-170: larger runtime code cannot be deployed.
			if n := len(a.DeployedBytecode); n == 0 || n > 24576 {
				t.Errorf("runtime code is %d bytes, want 1..24576", n)
			}
		})
	}
}

func TestLoadUnknown(t *testing.T) {
	if _, err := contracts.Load("NoSuchContract"); err == nil {
		t.Fatal("Load(NoSuchContract) succeeded, want error")
	}
}

func TestDeployDataAppendsConstructorArgs(t *testing.T) {
	a := contracts.MustLoad("DemoToken")
	data, err := a.DeployData("Demo", "DMO", uint8(6))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) <= len(a.Bytecode) || hexutil.Encode(data[:len(a.Bytecode)]) != hexutil.Encode(a.Bytecode) {
		t.Fatalf("DeployData does not start with the creation code")
	}
	if _, err := a.DeployData("too", "few"); err == nil {
		t.Fatal("DeployData with missing arguments succeeded, want error")
	}
}
