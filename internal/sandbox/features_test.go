package sandbox

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestEachPolicyFeatureSendsAMinedSwap: for every policy feature, a policy
// that uses it lets an allowed swap through to the chain, mined with status
// 1, and still refuses what the feature refuses. Refusals alone are not
// enough: a policy with a network block once refused every allowed send
// as an internal error, because the first look before gas estimation
// evaluated the request without the caller's IP.
func TestEachPolicyFeatureSendsAMinedSwap(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	info := e.sb.Info
	owner, router, usdc, weth := common.HexToAddress(info.Owner), common.HexToAddress(info.Router), common.HexToAddress(info.Tokens["USDC"]), common.HexToAddress(info.WETH)
	swapTo := func(to common.Address) hexutil.Bytes {
		return calldata(t, "swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, to, big.NewInt(4_000_000_000))
	}
	swaps := fmt.Sprintf(`allow:
  - contract: "%s"
    functions:
      - sig: "swapExactETHForTokens(uint256,address[],address,uint256)"
        where: { to: "$owner" }`, router.Hex())
	limits := "limits: [{asset: native, per_tx: 0.05, per_period: 0.1}]"
	multicall := calldata(t, "multicall(bytes[])", [][]byte{swapTo(owner)})
	badMulticall := calldata(t, "multicall(bytes[])", [][]byte{swapTo(owner), swapTo(stranger)})

	tests := []struct {
		name    string
		lines   []string
		allowed txObj
		refused txObj  // zero To: the feature refuses something other than a send, checked in extra
		want    string // substring of the refusal of refused
		extra   func(t *testing.T, tok string)
	}{
		{
			name:    "limits",
			lines:   []string{limits, swaps},
			allowed: txObj{To: &router, Value: wei(0.05), Data: swapTo(owner)},
			refused: txObj{To: &router, Value: wei(0.06), Data: swapTo(owner)},
			want:    "over the per-transaction limit",
		},
		{
			name:    "schedule",
			lines:   []string{limits, swaps, `schedule: {timezone: UTC, days: [wed], hours: "09:00-11:00"}`},
			allowed: txObj{To: &router, Value: wei(0.01), Data: swapTo(owner)},
		},
		{
			name:    "rate",
			lines:   []string{limits, swaps, "rate: {max: 1, per: 1m}"},
			allowed: txObj{To: &router, Value: wei(0.01), Data: swapTo(owner)},
			refused: txObj{To: &router, Value: wei(0.01), Data: swapTo(owner)},
			want:    "rate limit",
		},
		{
			name:    "network",
			lines:   []string{limits, swaps, `network: {allow_cidrs: ["127.0.0.0/8"]}`},
			allowed: txObj{To: &router, Value: wei(0.01), Data: swapTo(owner)},
		},
		{
			name: "typed data",
			lines: []string{"limits: [{asset: native, per_tx: 0.05, per_period: 0.1}, {asset: \"" + usdc.Hex() + "\", decimals: 6, per_period: 100}]", swaps,
				fmt.Sprintf(`typed_data:
  allow:
    - domain: { name: Permit2, verifying_contract: "%s" }
      primary_type: PermitSingle
      where: { spender: "%s" }`, permit2.Hex(), router.Hex())},
			allowed: txObj{To: &router, Value: wei(0.01), Data: swapTo(owner)},
			extra: func(t *testing.T, tok string) {
				var sig hexutil.Bytes
				doc := permitSingle(info.ChainID, usdc, router, "1000000")
				wantResult(t, e.call(tok, "eth_signTypedData_v4", owner.Hex(), doc), &sig)
				if got := recoverTyped(t, doc, sig); got != owner {
					t.Errorf("permit signed by %s, want the owner", got.Hex())
				}
				wantError(t, e.call(tok, "eth_signTypedData_v4", owner.Hex(), permitSingle(info.ChainID, usdc, stranger, "1000000")), 4001, "spender must be")
			},
		},
		{
			name:    "messages",
			lines:   []string{limits, swaps, `messages: {allow: true, prefixes: ["agentkeys login:"]}`},
			allowed: txObj{To: &router, Value: wei(0.01), Data: swapTo(owner)},
			extra: func(t *testing.T, tok string) {
				var sig hexutil.Bytes
				wantResult(t, e.call(tok, "personal_sign", hexutil.Encode([]byte("agentkeys login: 42")), owner.Hex()), &sig)
				if len(sig) != 65 {
					t.Errorf("personal_sign returned %d bytes, want 65", len(sig))
				}
				wantError(t, e.call(tok, "personal_sign", hexutil.Encode([]byte("send all funds")), owner.Hex()), 4001, "")
			},
		},
		{
			name:    "multicall",
			lines:   []string{limits, swaps},
			allowed: txObj{To: &router, Value: wei(0.01), Data: multicall},
			refused: txObj{To: &router, Value: wei(0.01), Data: badMulticall},
			want:    "to must be $owner",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := e.grant(map[string]any{"agent": "bot", "policy": policyText(strings.ReplaceAll(tt.name, " ", "-"), tt.lines...)})
			tok := token(t, g)
			agent := e.agent(tok)
			before := e.tokenBalance(usdc, owner)
			var hash common.Hash
			if err := agent.CallContext(ctx, &hash, "eth_sendTransaction", tt.allowed); err != nil {
				t.Fatalf("allowed send: %v", err)
			}
			if r := e.receipt(hash); r.Status != 1 {
				t.Fatalf("allowed send mined with status %d", r.Status)
			}
			if after := e.tokenBalance(usdc, owner); after.Cmp(before) <= 0 {
				t.Fatalf("the owner's USDC did not grow: %s -> %s", before, after)
			}
			if tt.refused.To != nil {
				err := agent.CallContext(ctx, &hash, "eth_sendTransaction", tt.refused)
				wantRefused(t, err, 4001, tt.want)
			}
			if tt.extra != nil {
				tt.extra(t, tok)
			}
		})
	}
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}

// TestSwapperExampleAsWritten: examples/swapper.yaml, unedited, is a
// working policy on the sandbox: its swaps and approval are mined, and its
// deny rule, limits and network block hold.
func TestSwapperExampleAsWritten(t *testing.T) {
	text, err := os.ReadFile("../../examples/swapper.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := start(t)
	ctx := context.Background()
	info := e.sb.Info
	owner, router, usdc, weth := common.HexToAddress(info.Owner), common.HexToAddress(info.Router), common.HexToAddress(info.Tokens["USDC"]), common.HexToAddress(info.WETH)
	g := e.grant(map[string]any{"agent": "trader", "policy": string(text)})
	agent := e.agent(token(t, g))
	send := func(tx txObj) error {
		var hash common.Hash
		if err := agent.CallContext(ctx, &hash, "eth_sendTransaction", tx); err != nil {
			return err
		}
		if r := e.receipt(hash); r.Status != 1 {
			t.Fatalf("mined with status %d", r.Status)
		}
		return nil
	}
	hundred := big.NewInt(100_000_000)
	steps := []struct {
		name string
		tx   txObj
		want string // "" for mined
	}{
		{"buy USDC with ETH", txObj{To: &router, Value: wei(0.1), Data: calldata(t, "swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, owner, big.NewInt(4_000_000_000))}, ""},
		{"approve the router", txObj{To: &usdc, Data: calldata(t, "approve(address,uint256)", router, hundred)}, ""},
		{"sell USDC for WETH", txObj{To: &router, Data: calldata(t, "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)", hundred, big.NewInt(1), []common.Address{usdc, weth}, owner, big.NewInt(4_000_000_000))}, ""},
		{"ETH over the per-tx limit", txObj{To: &router, Value: wei(0.2), Data: calldata(t, "swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, owner, big.NewInt(4_000_000_000))}, "over the per-transaction limit"},
		{"transfer to a stranger", txObj{To: &usdc, Data: calldata(t, "transfer(address,uint256)", stranger, big.NewInt(1))}, "never moves tokens out directly"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := send(s.tx)
			if s.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantRefused(t, err, 4001, s.want)
		})
	}
}
