package sandbox

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/contracts/bindings"
	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/devchain"
)

// TestMode7702OverHTTP runs the 7702 story through the daemon: the owner
// delegates, a session key is registered and funded, single calls and an
// atomic batch go through execute, refusals stay refusals, and revocation
// reaches the chain.
func TestMode7702OverHTTP(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	info := e.sb.Info
	owner, router, usdc, weth := common.HexToAddress(info.Owner), common.HexToAddress(info.Router), common.HexToAddress(info.Tokens["USDC"]), common.HexToAddress(info.WETH)
	spec := map[string]any{"agent": "trader", "mode": "7702", "profile": "swap-only", "routers": []string{info.Router}, "daily_limit": []string{"0.1ETH", "100USDC"}}

	var out map[string]any
	if code := e.admin("POST", "/v1/grants", spec, &out); code != http.StatusBadRequest || !strings.Contains(out["error"].(string), "wallet upgrade") {
		t.Fatalf("7702 grant before the upgrade: HTTP %d %v", code, out)
	}
	var st map[string]any
	if code := e.admin("POST", "/v1/wallet/upgrade", nil, &st); code != 200 || st["delegated"] != true || st["is_agentkeys"] != true {
		t.Fatalf("upgrade: HTTP %d %v", code, st)
	}

	g := e.grant(spec)
	session := common.HexToAddress(g["session"].(string))
	enf, _ := g["enforcement"].(map[string]any)
	if g["mode"] != "7702" || session == (common.Address{}) || enf == nil || len(enf["on_chain"].([]any)) == 0 {
		t.Fatalf("grant = %v", g)
	}
	if bal, _ := e.sb.Chain.Client().BalanceAt(ctx, session, nil); bal.Cmp(big.NewInt(5e15)) != 0 {
		t.Fatalf("session stipend = %s", bal)
	}
	agent := e.agent(g["token"].(string))

	before := e.tokenBalance(usdc, owner)
	swap := calldata(t, "swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, owner, big.NewInt(4_000_000_000))
	var hash common.Hash
	if err := agent.CallContext(ctx, &hash, "eth_sendTransaction", txObj{To: &router, Value: wei(0.02), Data: swap}); err != nil {
		t.Fatalf("swap: %v", err)
	}
	rcpt := e.receipt(hash)
	tx, _, _ := e.sb.Chain.Client().TransactionByHash(ctx, hash)
	if rcpt.Status != 1 || tx == nil || *tx.To() != owner {
		t.Fatalf("swap receipt %+v", rcpt)
	}
	if got := e.tokenBalance(usdc, owner); got.Cmp(before) <= 0 {
		t.Fatalf("owner's USDC did not grow: %s -> %s", before, got)
	}

	// An atomic batch: approve the router, then swap 10 USDC for ETH.
	ten := big.NewInt(10_000_000)
	approve := calldata(t, "approve(address,uint256)", router, ten)
	sell := calldata(t, "swapExactTokensForETH(uint256,uint256,address[],address,uint256)", ten, big.NewInt(1), []common.Address{usdc, weth}, owner, big.NewInt(4_000_000_000))
	calls := []map[string]any{{"to": usdc, "data": hexutil.Bytes(approve)}, {"to": router, "data": hexutil.Bytes(sell)}}
	var sent struct {
		ID common.Hash `json:"id"`
	}
	usdcBefore := e.tokenBalance(usdc, owner)
	if err := agent.CallContext(ctx, &sent, "wallet_sendCalls", map[string]any{"version": "2.0.0", "chainId": hexutil.Uint64(info.ChainID), "from": owner, "atomicRequired": true, "calls": calls}); err != nil {
		t.Fatalf("wallet_sendCalls: %v", err)
	}
	e.receipt(sent.ID)
	var status struct {
		Status int `json:"status"`
	}
	if err := agent.CallContext(ctx, &status, "wallet_getCallsStatus", sent.ID); err != nil || status.Status != 200 {
		t.Fatalf("wallet_getCallsStatus = %+v, %v", status, err)
	}
	if got := e.tokenBalance(usdc, owner); new(big.Int).Sub(usdcBefore, got).Cmp(ten) != 0 {
		t.Fatalf("the batch moved %s USDC, want 10", new(big.Int).Sub(usdcBefore, got))
	}

	// One bad call refuses the whole batch, before anything is signed.
	bad := calldata(t, "transfer(address,uint256)", stranger, big.NewInt(1))
	err := agent.CallContext(ctx, &sent, "wallet_sendCalls", map[string]any{"calls": []map[string]any{calls[0], {"to": usdc, "data": hexutil.Bytes(bad)}}})
	wantRefused(t, err, 4001, "call 2: transfer(address,uint256)")

	var perms struct {
		Mode   string `json:"mode"`
		Budget []struct {
			Asset, Spent, Pending string
		} `json:"budget"`
	}
	if err := agent.CallContext(ctx, &perms, "agentkeys_getPermissions"); err != nil {
		t.Fatal(err)
	}
	// The stipend's funding and the swap are pending until the watcher
	// sees them mined; the swap's gas (paid from the stipend) is not
	// charged again.
	if perms.Mode != "7702" || perms.Budget[0].Spent != "0" || perms.Budget[0].Pending != "0.025" {
		t.Fatalf("permissions = %+v (want 0.005 ETH stipend and 0.02 ETH swap pending)", perms)
	}
	if _, err := e.sb.Service.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := agent.CallContext(ctx, &perms, "agentkeys_getPermissions"); err != nil {
		t.Fatal(err)
	}
	if perms.Budget[0].Spent != "0.025" || perms.Budget[0].Pending != "0" {
		t.Fatalf("permissions after a sweep = %+v (want the stipend and the swap spent)", perms)
	}

	// Revocation reaches the chain.
	if code := e.admin("POST", "/v1/grants/"+g["key_id"].(string)+"/revoke", nil, nil); code != 200 {
		t.Fatalf("revoke: HTTP %d", code)
	}
	d := bindings.NewAgentKeyDelegate()
	res, err := e.sb.Chain.Client().CallContract(ctx, ethereum.CallMsg{To: &owner, Data: d.PackSessionInfo(session)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	info7702, err := d.UnpackSessionInfo(res)
	if err != nil || info7702.Active {
		t.Fatalf("session still active on chain after revoke: %+v %v", info7702, err)
	}

	// revoke --all bumps the delegate's epoch.
	e.grant(spec)
	var n map[string]int
	if code := e.admin("POST", "/v1/revoke-all", nil, &n); code != 200 || n["revoked"] != 1 {
		t.Fatalf("revoke-all: HTTP %d %v", code, n)
	}
	res, _ = e.sb.Chain.Client().CallContract(ctx, ethereum.CallMsg{To: &owner, Data: d.PackEpoch()}, nil)
	if epoch, err := d.UnpackEpoch(res); err != nil || epoch != 1 {
		t.Fatalf("epoch after revoke-all = %d, %v", epoch, err)
	}

	if code := e.admin("POST", "/v1/wallet/downgrade", nil, &st); code != 200 || st["delegated"] != false {
		t.Fatalf("downgrade: HTTP %d %v", code, st)
	}
	if code, _ := e.sb.Chain.Client().CodeAt(ctx, owner, nil); len(code) != 0 {
		t.Fatalf("owner still has code after downgrade: %x", code)
	}
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}

// TestChainAnswersAreAnswers: when the chain refuses a call the daemon
// allowed (here, the owner revoked the session on chain behind the
// daemon's back), the agent gets a 4001 naming the delegate's reason and
// the audit log records a refusal, not an internal error. A revert of the
// called contract itself reaches the agent as a node reports it (code 3,
// its revert data) in both modes.
func TestChainAnswersAreAnswers(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	info := e.sb.Info
	owner, router, usdc, weth := common.HexToAddress(info.Owner), common.HexToAddress(info.Router), common.HexToAddress(info.Tokens["USDC"]), common.HexToAddress(info.WETH)
	if code := e.admin("POST", "/v1/wallet/upgrade", nil, nil); code != 200 {
		t.Fatalf("upgrade: HTTP %d", code)
	}
	greedy := calldata(t, "swapExactETHForTokens(uint256,address[],address,uint256)", new(big.Int).Lsh(big.NewInt(1), 200), []common.Address{weth, usdc}, owner, big.NewInt(4_000_000_000))
	swap := calldata(t, "swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, owner, big.NewInt(4_000_000_000))
	for _, mode := range []string{"wallet", "7702"} {
		t.Run("target reverts/"+mode, func(t *testing.T) {
			g := e.grant(map[string]any{"agent": "trader", "mode": mode, "profile": "swap-only", "routers": []string{info.Router}, "daily_limit": []string{"0.1ETH"}})
			var hash common.Hash
			err := e.agent(g["token"].(string)).CallContext(ctx, &hash, "eth_sendTransaction", txObj{To: &router, Value: wei(0.01), Data: greedy})
			code, _, msg := rpcCode(err)
			if code != 3 || msg != "execution reverted: DemoRouter: INSUFFICIENT_OUTPUT_AMOUNT" {
				t.Fatalf("got code %d %q, want 3 with the router's reason", code, msg)
			}
			var de gethrpc.DataError
			if !errors.As(err, &de) {
				t.Fatalf("no revert data in %v", err)
			}
			reason, uerr := abi.UnpackRevert(common.FromHex(fmt.Sprint(de.ErrorData())))
			if uerr != nil || reason != "DemoRouter: INSUFFICIENT_OUTPUT_AMOUNT" {
				t.Fatalf("revert data %v decodes to %q, %v", de.ErrorData(), reason, uerr)
			}
		})
	}

	g := e.grant(map[string]any{"agent": "trader", "mode": "7702", "profile": "swap-only", "routers": []string{info.Router}, "daily_limit": []string{"0.1ETH"}})
	agent := e.agent(g["token"].(string))
	var hash common.Hash
	if err := agent.CallContext(ctx, &hash, "eth_sendTransaction", txObj{To: &router, Value: wei(0.01), Data: swap}); err != nil {
		t.Fatalf("swap before the chain revokes: %v", err)
	}
	e.receipt(hash)

	// The owner revokes every session on chain directly, so only the
	// chain knows.
	ownerKey, err := e.sb.Home.WalletKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := e.sb.Chain.SendAs(ctx, ownerKey, devchain.Tx{To: &owner, Data: bindings.NewAgentKeyDelegate().PackRevokeAll()}); err != nil || r.Status != 1 {
		t.Fatalf("revokeAll on chain: %v %+v", err, r)
	}
	err = agent.CallContext(ctx, &hash, "eth_sendTransaction", txObj{To: &router, Value: wei(0.01), Data: swap})
	wantRefused(t, err, 4001, "refused on chain by AgentKeyDelegate: Revoked()")
	recs := e.auditRecords()
	last := recs[len(recs)-1]
	if last.Decision != audit.DecisionDeny || len(last.Reasons) != 1 || last.Reasons[0] != "refused on chain by AgentKeyDelegate: Revoked()" {
		t.Fatalf("audit record of the chain's refusal: %s %q", last.Decision, last.Reasons)
	}
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}
