package sandbox

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

func ethCall(to common.Address, data []byte) ethereum.CallMsg {
	return ethereum.CallMsg{To: &to, Data: data}
}

// TestDemoStoryOverHTTP is the demo's story as a test: a swap-only key
// with a daily cap swaps, is refused a transfer, a swap to a stranger and
// a swap over the cap, and stops working once revoked.
func TestDemoStoryOverHTTP(t *testing.T) {
	e := start(t)
	info := e.sb.Info
	router, usdc, weth := common.HexToAddress(info.Router), common.HexToAddress(info.Tokens["USDC"]), common.HexToAddress(info.WETH)
	owner := common.HexToAddress(info.Owner)
	g := e.grant(map[string]any{"agent": "trader", "profile": "swap-only", "routers": []string{info.Router}, "daily_limit": []string{"0.1ETH", "100USDC"}, "ttl": "1h"})
	token, _ := g["token"].(string)
	if !strings.HasPrefix(token, "ak_") || g["address"] != info.Owner {
		t.Fatalf("grant = %v", g)
	}
	agent := e.agent(token)
	ctx := context.Background()

	var accounts []common.Address
	if err := agent.CallContext(ctx, &accounts, "eth_accounts"); err != nil || len(accounts) != 1 || accounts[0] != owner {
		t.Fatalf("eth_accounts = %v, %v", accounts, err)
	}
	var chainID hexutil.Uint64
	if err := agent.CallContext(ctx, &chainID, "eth_chainId"); err != nil || uint64(chainID) != info.ChainID {
		t.Fatalf("eth_chainId = %v, %v", chainID, err)
	}

	var hash common.Hash // of the last swap
	swap := func(value float64, to common.Address) error {
		data := calldata(t, "swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, to, big.NewInt(4_000_000_000))
		err := agent.CallContext(ctx, &hash, "eth_sendTransaction", txObj{From: &owner, To: &router, Value: wei(value), Data: data})
		if err == nil {
			if r := e.receipt(hash); r.Status != 1 {
				t.Fatalf("swap reverted: %+v", r)
			}
		}
		return err
	}
	before := e.tokenBalance(usdc, owner)
	if err := swap(0.05, owner); err != nil {
		t.Fatalf("swap: %v", err)
	}
	swapped := new(big.Int).Add(big.NewInt(5e16), e.maxFee(hash)) // value and worst-case fee
	if after := e.tokenBalance(usdc, owner); after.Cmp(before) <= 0 {
		t.Fatalf("USDC balance did not grow: %s -> %s", before, after)
	}

	transfer := calldata(t, "transfer(address,uint256)", stranger, big.NewInt(1_000_000))
	err := agent.CallContext(ctx, &hash, "eth_sendTransaction", txObj{To: &usdc, Data: transfer})
	wantRefused(t, err, 4001, "profile swap-only blocks token transfers")

	wantRefused(t, swap(0.01, stranger), 4001, "to must be $owner")
	wantRefused(t, swap(0.06, owner), 4001, "over the limit of 0.1 ETH per 24h")

	var perms map[string]any
	if err := agent.CallContext(ctx, &perms, "agentkeys_getPermissions"); err != nil {
		t.Fatal(err)
	}
	// Mined, but not yet settled by anyone: pending, fee at its worst.
	budget := perms["budget"].([]any)[0].(map[string]any)
	if left := new(big.Int).Sub(big.NewInt(1e17), swapped); budget["raw_spent"] != "0" || budget["raw_pending"] != swapped.String() || budget["raw_remaining"] != left.String() {
		t.Errorf("budget after one swap = %v, want %s pending, %s left", budget, swapped, left)
	}

	if code := e.admin("POST", "/v1/grants/"+g["key_id"].(string)+"/revoke", nil, nil); code != 200 {
		t.Fatalf("revoke: HTTP %d", code)
	}
	var bn hexutil.Uint64
	wantRefused(t, agent.CallContext(ctx, &bn, "eth_blockNumber"), 4100, "credential revoked")

	rep := e.verifyAudit()
	if !rep.OK() || rep.Records < 8 {
		t.Fatalf("audit: %s", rep)
	}
	_ = time.Second
}
