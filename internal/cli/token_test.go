package cli

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/policy"
)

// chainServed is `agentkeys serve` running in-process against a dev chain
// that is not a sandbox: the home's token list starts empty, so every token
// a test names is found through the chain.
type chainServed struct {
	*served
	dir   string
	chain *devchain.Chain
	owner common.Address
}

// serveOnDevchain initialises a home, starts a dev chain funding its
// wallet, and serves the home against the chain. The CLI's admin commands
// find the daemon through AGENTKEYS_ADMIN_URL and AGENTKEYS_ADMIN_TOKEN.
func serveOnDevchain(t *testing.T) *chainServed {
	t.Helper()
	dir, adminCred, owner := testHome(t)
	chain, err := devchain.Start(context.Background(), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", adminCred.Reveal())
	s := &chainServed{dir: dir, chain: chain, owner: owner}
	s.start(t)
	return s
}

// start runs serve on s's home and chain until s.stop.
func (s *chainServed) start(t *testing.T) {
	t.Helper()
	s.served = runServe(t, s.dir, s.chain.URL())
	t.Setenv("AGENTKEYS_ADMIN_URL", s.adminURL)
}

func (s *served) agent(t *testing.T, token string) *gethrpc.Client {
	t.Helper()
	c, err := gethrpc.DialOptions(context.Background(), s.agentURL+"/rpc", gethrpc.WithHeader("Authorization", "Bearer "+token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func (s *chainServed) receipt(t *testing.T, hash common.Hash) *types.Receipt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		r, err := s.chain.Client().TransactionReceipt(ctx, hash)
		if err == nil {
			// Receipts are indexed a moment before their block is the head.
			var head *types.Header
			if head, err = s.chain.Client().HeaderByNumber(ctx, nil); err == nil && head.Number.Cmp(r.BlockNumber) >= 0 {
				return r
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no receipt for %s: %v", hash.Hex(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *chainServed) balance(t *testing.T, token common.Address) *big.Int {
	t.Helper()
	out, err := s.chain.Client().CallContract(context.Background(), ethereum.CallMsg{To: &token, Data: pack(t, "balanceOf(address)", s.owner)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(out)
}

func pack(t *testing.T, sig string, args ...any) hexutil.Bytes {
	t.Helper()
	fn, err := policy.ParseSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	data, err := fn.Calldata(args...)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type grantJSON struct {
	KeyID  string `json:"key_id"`
	Token  string `json:"token"`
	Limits []struct {
		Asset     string `json:"asset"`
		Symbol    string `json:"symbol"`
		PerPeriod string `json:"per_period"`
		RawPeriod string `json:"raw_per_period"`
	} `json:"limits"`
}

func grantKey(t *testing.T, dir string, args ...string) grantJSON {
	t.Helper()
	out, errOut, code := run(t, "", append([]string{"key", "grant", "--home", dir, "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("key grant %v: exit %d: %s", args, code, errOut)
	}
	var g grantJSON
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatalf("grant output: %v\n%s", err, out)
	}
	return g
}

// TestTokenCapOnAnyChain grants a swap-only key under serve, on a chain
// whose tokens the home does not list, with --daily-limit 100@0xUSDC: the
// daemon reads decimals and symbol from the token, and the agent sells
// USDC up to the cap and is refused beyond it.
func TestTokenCapOnAnyChain(t *testing.T) {
	s := serveOnDevchain(t)
	usdc, weth, router := s.chain.Tokens()["USDC"].Address, s.chain.WETH(), s.chain.Router()

	out, _, code := run(t, "", "token", "list", "--home", s.dir, "-o", "json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("a served home starts with no tokens; token list (exit %d): %s", code, out)
	}
	g := grantKey(t, s.dir, "--agent", "seller", "--profile", "swap-only", "--router", router.Hex(), "--daily-limit", "100@"+usdc.Hex())
	var capped bool
	for _, l := range g.Limits {
		capped = capped || l.Asset == strings.ToLower(usdc.Hex()) && l.Symbol == "USDC" && l.PerPeriod == "100" && l.RawPeriod == "100000000"
	}
	if !capped {
		t.Fatalf("limits echoed as %+v, want 100 USDC (100000000 base units) on %s", g.Limits, usdc.Hex())
	}

	agent := s.agent(t, g.Token)
	ctx := context.Background()
	head, err := s.chain.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := new(big.Int).SetUint64(head.Time + 3600)
	send := func(to common.Address, data hexutil.Bytes) error {
		var hash common.Hash
		err := agent.CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{"from": s.owner, "to": to, "data": data})
		if err == nil {
			if r := s.receipt(t, hash); r.Status != 1 {
				t.Fatalf("transaction to %s reverted", to.Hex())
			}
		}
		return err
	}
	usdcUnits := func(n int64) *big.Int { return big.NewInt(n * 1_000_000) }
	sell := func(n int64) error {
		return send(router, pack(t, "swapExactTokensForETH(uint256,uint256,address[],address,uint256)", usdcUnits(n), big.NewInt(1), []common.Address{usdc, weth}, s.owner, deadline))
	}

	// approve counts toward the cap like the swaps: 50 + 40 + 10 = 100.
	if err := send(usdc, pack(t, "approve(address,uint256)", router, usdcUnits(50))); err != nil {
		t.Fatalf("approve 50 USDC to the router: %v", err)
	}
	before := s.balance(t, usdc)
	if err := sell(40); err != nil {
		t.Fatalf("sell 40 USDC: %v", err)
	}
	if got := new(big.Int).Sub(before, s.balance(t, usdc)); got.Cmp(usdcUnits(40)) != 0 {
		t.Fatalf("selling 40 USDC moved %s base units", got)
	}
	err = sell(20)
	var rpcErr gethrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.ErrorCode() != 4001 {
		t.Fatalf("selling 20 USDC over the cap: %v, want a 4001 refusal", err)
	}
	var de gethrpc.DataError
	if !errors.As(err, &de) || !strings.Contains(strings.ToLower(err.Error()+" "+jsonText(de.ErrorData())), "over the limit of 100 usdc") {
		t.Fatalf("refusal does not name the USDC cap: %v %v", err, de)
	}
	if err := sell(10); err != nil {
		t.Fatalf("sell the last 10 USDC of the cap: %v", err)
	}
	if err := sell(1); err == nil {
		t.Fatal("a sale past a spent cap was signed")
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestTokenCommands adds, lists and removes tokens of a served home, uses
// their symbols in caps, and finds the list again after a restart.
func TestTokenCommands(t *testing.T) {
	s := serveOnDevchain(t)
	usdc, dai := s.chain.Tokens()["USDC"].Address, s.chain.Tokens()["DAI"].Address
	tokenJSON := func(args ...string) (map[string]any, string) {
		t.Helper()
		out, errOut, code := run(t, "", append(append([]string{"token"}, args...), "--home", s.dir, "-o", "json")...)
		if code != 0 {
			return nil, errOut
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("token %v: %v\n%s", args, err, out)
		}
		return v, ""
	}
	list := func() []map[string]any {
		t.Helper()
		out, errOut, code := run(t, "", "token", "list", "--home", s.dir, "-o", "json")
		var vs []map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &vs) != nil {
			t.Fatalf("token list (exit %d): %s %s", code, out, errOut)
		}
		return vs
	}

	added, errOut := tokenJSON("add", usdc.Hex())
	want := map[string]any{"symbol": "USDC", "address": usdc.Hex(), "decimals": float64(6), "chain_id": float64(31337)}
	if d := cmp.Diff(want, added); d != "" {
		t.Fatalf("token add USDC (%s) (-want +got):\n%s", errOut, d)
	}
	if added, errOut = tokenJSON("add", strings.ToLower(dai.Hex()), "--symbol", "xDAI"); added == nil || added["symbol"] != "xDAI" || added["decimals"] != float64(18) {
		t.Fatalf("token add DAI as xDAI: %v %s", added, errOut)
	}
	text, _, code := run(t, "", "token", "list", "--home", s.dir)
	if code != 0 || !strings.Contains(text, "USDC    "+usdc.Hex()+"  6") {
		t.Errorf("token list text (exit %d):\n%s", code, text)
	}

	// The list survives a restart of the daemon.
	s.stop()
	s.start(t)
	got := list()
	if len(got) != 2 || got[0]["symbol"] != "USDC" || got[1]["symbol"] != "xDAI" || got[1]["address"] != dai.Hex() {
		t.Fatalf("after a restart the list is %v", got)
	}

	g := grantKey(t, s.dir, "--agent", "a", "--profile", "full-access", "--daily-limit", "100usdc", "--daily-limit", "2.5xDAI", "--daily-limit", "0.01ETH")
	echo := map[string]string{}
	for _, l := range g.Limits {
		echo[l.Symbol] = l.RawPeriod
	}
	if d := cmp.Diff(map[string]string{"USDC": "100000000", "xDAI": "2500000000000000000", "ETH": "10000000000000000"}, echo); d != "" {
		t.Errorf("caps by symbol (-want +got):\n%s", d)
	}
	// policy explain resolves caps the same way, through the daemon.
	out, errOut, code := run(t, "", "policy", "explain", "--home", s.dir, "--profile", "swap-only", "--router", s.chain.Router().Hex(), "--owner", s.owner.Hex(),
		"--daily-limit", "100USDC", "--token-limit", "7@"+dai.Hex(), "--tx", `{"to":"`+usdc.Hex()+`","data":"`+pack(t, "approve(address,uint256)", s.chain.Router(), big.NewInt(101_000_000)).String()+`"}`)
	if code != 0 || !strings.Contains(out, "decision: deny") || !strings.Contains(out, "over the limit of 100 USDC") {
		t.Errorf("policy explain with token caps (exit %d): %s %s", code, out, errOut)
	}

	errs := []struct {
		args []string
		want string
	}{
		{[]string{"add", s.owner.Hex()}, "does not answer decimals() like an ERC-20 token"},
		{[]string{"add", "0x1234"}, "token address: expected an address"},
		{[]string{"add", usdc.Hex(), "--symbol", "xDAI"}, "symbol: xDAI already names " + dai.Hex()},
		{[]string{"add", usdc.Hex(), "--symbol", "ETH"}, "symbol: ETH is reserved"},
		{[]string{"add", usdc.Hex(), "--symbol", "two words"}, "symbol: expected 1 to 16 letters"},
		{[]string{"remove", "GOLD"}, "no such token"},
	}
	for _, e := range errs {
		if v, errOut := tokenJSON(e.args...); v != nil || !strings.Contains(errOut, e.want) {
			t.Errorf("token %v: %v, stderr %q; want an error containing %q", e.args, v, errOut, e.want)
		}
	}

	if removed, errOut := tokenJSON("remove", "usdc"); removed == nil || removed["address"] != usdc.Hex() {
		t.Fatalf("token remove usdc: %v %s", removed, errOut)
	}
	if removed, errOut := tokenJSON("remove", dai.Hex()); removed == nil || removed["symbol"] != "xDAI" {
		t.Fatalf("token remove by address: %v %s", removed, errOut)
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("after removing both: %v", got)
	}
	_, errOut, code = run(t, "", "key", "grant", "--home", s.dir, "--agent", "b", "--profile", "full-access", "--daily-limit", "100USDC")
	if code == 0 || !strings.Contains(errOut, `daily_limit[0]: unknown unit "USDC"`) || !strings.Contains(errOut, "agentkeys token add") {
		t.Errorf("a removed symbol: exit %d, %s", code, errOut)
	}
}

// TestDailyLimitUnits checks what units mean in caps, and how bad caps
// are refused, under serve.
func TestDailyLimitUnits(t *testing.T) {
	s := serveOnDevchain(t)
	usdc := s.chain.Tokens()["USDC"].Address

	g := grantKey(t, s.dir, "--agent", "u", "--profile", "full-access", "--daily-limit", "1000units@"+usdc.Hex(), "--daily-limit", "21000wei")
	echo := map[string][2]string{}
	for _, l := range g.Limits {
		echo[l.Symbol] = [2]string{l.PerPeriod, l.RawPeriod}
	}
	if d := cmp.Diff(map[string][2]string{"USDC": {"0.001", "1000"}, "ETH": {"0.000000000000021", "21000"}}, echo); d != "" {
		t.Errorf("units are base units of the named asset (-want +got):\n%s", d)
	}

	bad := []struct {
		cap, want string
	}{
		{"1000units", `daily_limit[0]: "1000units": units are base units of a named asset; write 1000units@0xTOKEN`},
		{"100@" + s.owner.Hex(), "daily_limit[0]: \"100@" + s.owner.Hex() + "\": " + s.owner.Hex() + " does not answer decimals() like an ERC-20 token"},
		{"100@" + s.chain.Router().Hex(), "daily_limit[0]: \"100@" + s.chain.Router().Hex() + "\": " + s.chain.Router().Hex() + " does not answer decimals() like an ERC-20 token (the call failed)"},
		{"100@0x1234", "after @ expected a token address"},
		{"0.0000001@" + usdc.Hex(), "more than 6 decimal places"},
		{"1.5units@" + usdc.Hex(), "whole number of base units"},
		{"100GOLD", `unknown unit "GOLD"`},
		{"100USD@" + usdc.Hex(), `got unit "USD"`},
	}
	for _, b := range bad {
		t.Run(b.cap, func(t *testing.T) {
			_, errOut, code := run(t, "", "key", "grant", "--home", s.dir, "--agent", "x", "--profile", "swap-only", "--router", s.chain.Router().Hex(), "--daily-limit", b.cap)
			if code == 0 || !strings.Contains(errOut, b.want) {
				t.Errorf("exit %d, stderr %q; want failure containing %q", code, errOut, b.want)
			}
		})
	}
	// A node that does not answer is not mistaken for a token that is not
	// an ERC-20, and its URL is not echoed.
	s.chain.Close()
	_, errOut, code := run(t, "", "token", "add", "--home", s.dir, usdc.Hex())
	if code == 0 || !strings.Contains(errOut, "could not read decimals() of "+usdc.Hex()+": the node did not answer") || strings.Contains(errOut, s.chain.URL()) {
		t.Errorf("token add with the node down: exit %d, %s", code, errOut)
	}
	// policy explain refuses a bare units cap in the same words.
	_, errOut, code = run(t, "", "policy", "explain", "--profile", "full-access", "--owner", owner, "--daily-limit", "1000units", "--tx", "{}")
	if code == 0 || !strings.Contains(errOut, "--daily-limit: \"1000units\": units are base units of a named asset") {
		t.Errorf("explain 1000units: exit %d, %s", code, errOut)
	}
}

// TestSandboxTokenList: a sandbox's demo tokens are in its home's token
// list.
func TestSandboxTokenList(t *testing.T) {
	dir, sb := startSandbox(t)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	out, errOut, code := run(t, "", "token", "list", "--home", dir, "-o", "json")
	var vs []struct {
		Symbol, Address string
		Decimals        uint8
	}
	if code != 0 || json.Unmarshal([]byte(out), &vs) != nil {
		t.Fatalf("token list (exit %d): %s %s", code, out, errOut)
	}
	got := map[string]string{}
	for _, v := range vs {
		got[v.Symbol] = v.Address
		if v.Decimals != sb.Info.Decimals[v.Symbol] {
			t.Errorf("%s has %d decimals in the list, %d in the sandbox", v.Symbol, v.Decimals, sb.Info.Decimals[v.Symbol])
		}
	}
	if d := cmp.Diff(sb.Info.Tokens, got); d != "" {
		t.Errorf("token list vs sandbox tokens (-want +got):\n%s", d)
	}
}
