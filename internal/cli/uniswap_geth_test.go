package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/gethtest"
)

// uniswapArtifact is a contract of Uniswap V2's published build (npm
// @uniswap/v2-core 1.0.1, @uniswap/v2-periphery 1.1.0-beta.0, installed
// by clients/install.sh).
type uniswapArtifact struct {
	abi      abi.ABI
	bytecode []byte
}

func loadUniswap(t *testing.T, pkg, name string) uniswapArtifact {
	t.Helper()
	path := filepath.Join("..", "..", "clients", "node_modules", "@uniswap", pkg, "build", name+".json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: .ci/run installs it (bash clients/install.sh)", path)
		}
		t.Skipf("%s is missing: run bash clients/install.sh", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		ABI      json.RawMessage `json:"abi"`
		Bytecode string          `json:"bytecode"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	parsed, err := abi.JSON(bytes.NewReader(raw.ABI))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return uniswapArtifact{abi: parsed, bytecode: common.FromHex(raw.Bytecode)}
}

func (a uniswapArtifact) pack(t *testing.T, method string, args ...any) []byte {
	t.Helper()
	data, err := a.abi.Pack(method, args...)
	if err != nil {
		t.Fatalf("pack %s: %v", method, err)
	}
	return data
}

// deployFromDev creates the contract from geth's unlocked dev account.
func deployFromDev(t *testing.T, ctx context.Context, node *gethtest.Node, a uniswapArtifact, args ...any) common.Address {
	t.Helper()
	ctor, err := a.abi.Pack("", args...)
	if err != nil {
		t.Fatal(err)
	}
	var h common.Hash
	data := append(append([]byte{}, a.bytecode...), ctor...)
	if err := node.RPC().CallContext(ctx, &h, "eth_sendTransaction", map[string]any{"from": node.Dev, "data": hexutil.Bytes(data)}); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	r, err := node.Wait(ctx, h)
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, node.Log())
	}
	return r.ContractAddress
}

// TestUniswapV2OnGethDev: the real Uniswap V2 contracts, as published, on
// a real go-ethereum node; agentkeys serve in front of it; a swap-only key
// with an ETH cap and a token cap named by address (decimals read from the
// chain). The agent's swaps to the owner are mined, a swap paying a
// stranger is refused, and selling the token stops at its cap.
func TestUniswapV2OnGethDev(t *testing.T) {
	weth9 := loadUniswap(t, "v2-periphery", "WETH9")
	factoryArt := loadUniswap(t, "v2-core", "UniswapV2Factory")
	routerArt := loadUniswap(t, "v2-periphery", "UniswapV2Router02")
	erc20 := loadUniswap(t, "v2-core", "ERC20")
	node := gethtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	ether := func(v int64) *big.Int { return new(big.Int).Mul(big.NewInt(v), big.NewInt(1e18)) }
	weth := deployFromDev(t, ctx, node, weth9)
	factory := deployFromDev(t, ctx, node, factoryArt, node.Dev)
	router := deployFromDev(t, ctx, node, routerArt, factory, weth)
	token := deployFromDev(t, ctx, node, erc20, ether(1_000_000))
	head, err := node.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := new(big.Int).SetUint64(head.Time + 3600)
	devSend := func(what string, to common.Address, value *big.Int, data []byte) {
		t.Helper()
		h, err := node.SendFromDev(ctx, to, value, data)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if _, err := node.Wait(ctx, h); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	devSend("approve the router", token, new(big.Int), erc20.pack(t, "approve", router, ether(1_000_000)))
	devSend("seed the ETH pool", router, ether(100), routerArt.pack(t, "addLiquidityETH", token, ether(100_000), common.Big0, common.Big0, node.Dev, deadline))

	dir, cred, owner := testHome(t)
	node.Fund(t, ether(10), owner)
	s := runServe(t, dir, node.URL)
	out, errOut, code := s.cli(t, cred, dir, "key", "grant", "--agent", "trader", "--profile", "swap-only", "--router", router.Hex(),
		"--daily-limit", "1ETH", "--daily-limit", "100@"+token.Hex(), "-o", "json")
	var g admin.GrantView
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil || g.Token == "" {
		t.Fatalf("grant: exit %d, %s %s\nserve: %s", code, out, errOut, s.errOut.String())
	}
	agent, err := rpc.DialOptions(ctx, s.agentURL+"/rpc", rpc.WithHeader("Authorization", "Bearer "+g.Token))
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	balance := func() *big.Int {
		t.Helper()
		res, err := node.Client().CallContract(ctx, ethereum.CallMsg{To: &token, Data: erc20.pack(t, "balanceOf", owner)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return new(big.Int).SetBytes(res)
	}
	send := func(to common.Address, value *big.Int, data []byte) error {
		t.Helper()
		var h common.Hash
		if err := agent.CallContext(ctx, &h, "eth_sendTransaction", map[string]any{"to": to, "value": (*hexutil.Big)(value), "data": hexutil.Bytes(data)}); err != nil {
			return err
		}
		_, err := node.Wait(ctx, h)
		return err
	}
	refused := func(what string, err error, substr string) {
		t.Helper()
		var rerr rpc.Error
		if !errors.As(err, &rerr) || rerr.ErrorCode() != 4001 || !bytes.Contains([]byte(rerr.Error()), []byte(substr)) {
			t.Fatalf("%s: %v, want a 4001 refusal saying %q", what, err, substr)
		}
	}

	if err := send(router, big.NewInt(1e17), routerArt.pack(t, "swapExactETHForTokens", big.NewInt(1), []common.Address{weth, token}, owner, deadline)); err != nil {
		t.Fatalf("buy the token with 0.1 ETH: %v\nserve: %s", err, s.errOut.String())
	}
	bought := balance()
	if bought.Cmp(ether(90)) < 0 {
		t.Fatalf("0.1 ETH bought %s base units, want about 99.7 tokens", bought)
	}
	stranger := common.HexToAddress("0x00000000000000000000000000000000000beef2")
	refused("a swap paying a stranger", send(router, big.NewInt(1e16),
		routerArt.pack(t, "swapExactETHForTokens", big.NewInt(1), []common.Address{weth, token}, stranger, deadline)), "to must be $owner")

	forty := ether(40)
	if err := send(token, new(big.Int), erc20.pack(t, "approve", router, forty)); err != nil {
		t.Fatalf("approve 40: %v", err)
	}
	if err := send(router, new(big.Int), routerArt.pack(t, "swapExactTokensForETH", forty, big.NewInt(1), []common.Address{token, weth}, owner, deadline)); err != nil {
		t.Fatalf("sell 40: %v", err)
	}
	if got := balance(); new(big.Int).Sub(bought, got).Cmp(forty) != 0 {
		t.Fatalf("selling moved %s base units, want 40 tokens", new(big.Int).Sub(bought, got))
	}
	// 40 approved and 40 sold count 80 of the 100: 30 more is over.
	refused("approving 30 more", send(token, new(big.Int), erc20.pack(t, "approve", router, ether(30))), "over the limit of 100")
}
