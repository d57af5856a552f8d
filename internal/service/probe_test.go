package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"

	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
)

// TestSimulate: an agent's simulation is judged as its transaction would
// be (a refusal is in the decision, not an error), runs as an eth_call
// (a read's return data, a revert's reason) and signs, reserves and
// broadcasts nothing; unlike an owner's probe it is the agent's request,
// audited under the key and counted in its usage.
func TestSimulate(t *testing.T) {
	e := startPipeline(t)
	ctx := context.Background()
	usdc := e.chain.Tokens()["USDC"].Address
	sess := e.grant(t, service.ModeWallet, fmt.Sprintf(`name: sim
chains: [%d]
limits:
  - {asset: native, per_tx: 1, per_period: 1}
  - {asset: %q, decimals: 6, per_period: 1000000000000}
allow:
  - {contract: %q, functions: [{sig: receive}]}
  - {contract: %q, functions: [{sig: "balanceOf(address)"}, {sig: "transfer(address,uint256)"}]}
`, e.chain.ChainID().Uint64(), usdc.Hex(), stranger.Hex(), usdc.Hex()))
	info := service.RequestInfo{Method: "simulate_transaction"}
	nonce, err := e.chain.Client().PendingNonceAt(ctx, e.owner)
	if err != nil {
		t.Fatal(err)
	}
	eth := func(milli int64) *big.Int { return new(big.Int).Mul(big.NewInt(milli), big.NewInt(1e15)) }

	sim, err := e.svc.Simulate(ctx, sess, info, service.TxArgs{To: &stranger, Value: eth(500)})
	if err != nil || !sim.Decision.Allowed() || sim.Error != "" || sim.CallError != "" {
		t.Fatalf("0.5 ETH to the allowed account: %+v, %v", sim, err)
	}
	rec := lastAudit(t, e.node.store)
	if rec.KeyID != sess.KeyID() || rec.Method != "simulate_transaction" || rec.Decision != "allow" || rec.TxHash != "" ||
		!strings.Contains(string(rec.Call), `"simulate":true`) {
		t.Errorf("audit record of a simulation: %+v %s", rec, rec.Call)
	}

	sim, err = e.svc.Simulate(ctx, sess, info, service.TxArgs{To: &stranger, Value: eth(1500)})
	if err != nil || sim.Decision.Allowed() || !strings.Contains(strings.Join(sim.Decision.Reasons(), ";"), "over the per-transaction limit") {
		t.Errorf("1.5 ETH: %+v, %v", sim, err)
	}

	call, err := policy.ParseSignature("balanceOf(address)")
	if err != nil {
		t.Fatal(err)
	}
	data, err := call.Calldata(e.owner)
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.chain.Client().CallContract(ctx, ethereum.CallMsg{From: e.owner, To: &usdc, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sim, err = e.svc.Simulate(ctx, sess, info, service.TxArgs{To: &usdc, Data: data})
	if err != nil || !sim.Decision.Allowed() || string(sim.Result) != string(want) || len(want) != 32 {
		t.Errorf("balanceOf: %+v, %v; want result %x", sim, err, want)
	}

	transfer, err := policy.ParseSignature("transfer(address,uint256)")
	if err != nil {
		t.Fatal(err)
	}
	balance := new(big.Int).SetBytes(want)
	data, err = transfer.Calldata(stranger, new(big.Int).Add(balance, big.NewInt(1)))
	if err != nil {
		t.Fatal(err)
	}
	sim, err = e.svc.Simulate(ctx, sess, info, service.TxArgs{To: &usdc, Data: data})
	if err != nil || !sim.Decision.Allowed() || sim.Error == "" || sim.CallError == "" {
		t.Errorf("a transfer of more than the balance: %+v, %v; want allowed by policy, failing on chain", sim, err)
	}
	if rec := lastAudit(t, e.node.store); rec.Decision != "error" {
		t.Errorf("a simulation that cannot be prepared is recorded as %q", rec.Decision)
	}

	if n, err := e.chain.Client().PendingNonceAt(ctx, e.owner); err != nil || n != nonce {
		t.Errorf("owner nonce after simulations: %d, %v; want %d", n, err, nonce)
	}
	if txs, err := e.svc.Txs(ctx, service.TxQuery{KeyID: sess.KeyID()}); err != nil || len(txs) != 0 {
		t.Errorf("simulations recorded transactions: %v, %v", txs, err)
	}
	perm, err := e.svc.Describe(ctx, sess.KeyID())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range perm.Budget {
		if b.RawSpent != "0" || b.Pending != "0" {
			t.Errorf("budget after simulations: %+v", b)
		}
	}
	if u, err := e.svc.Usage(ctx, sess.KeyID()); err != nil || u.Requests24h != 4 || u.Denied24h != 1 {
		t.Errorf("usage after 4 simulations, one refused: %+v, %v", u, err)
	}
	if e.node.broadcasts != 0 {
		t.Errorf("%d broadcasts", e.node.broadcasts)
	}
}

// TestProbeScheduleAndNetwork: a key whose policy has a schedule and
// allowed networks is probed outside its schedule and from outside its
// networks, both refused for that reason, while its allowed swap, judged
// from inside its networks in its hours, is allowed. Probe records name
// no key.
func TestProbeScheduleAndNetwork(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) // a Wednesday
	e := startPipelineAt(t, clk.Now)
	ctx := context.Background()
	router := e.chain.Router()
	sess := e.grant(t, service.ModeWallet, fmt.Sprintf(`name: office-hours
chains: [%d]
schedule: {timezone: UTC, days: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}
network: {allow_cidrs: ["10.1.0.0/16"]}
limits: [{asset: native, per_tx: 0.1, per_period: 0.3}]
allow:
  - contract: %q
    functions: [{sig: "swapExactETHForTokens(uint256,address[],address,uint256)", where: {to: "$owner"}}]
`, e.chain.ChainID().Uint64(), router.Hex()))

	rep, err := e.svc.ProbeKey(ctx, sess.KeyID(), service.RequestInfo{Method: service.MethodProbe}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]service.ProbeResult{}
	for _, r := range rep.Results {
		got[r.Attempt] = r
		if !r.Pass {
			t.Errorf("attempt %q: expected %s, got %s: %v", r.Attempt, r.Expect, r.Got, r.Reasons)
		}
	}
	for name, reason := range map[string]string{
		"swap outside the schedule":                                                                        "outside",
		"allowed swap from a network the key does not accept":                                              "198.51.100.7",
		"V2 swap from ETH paying the owner on " + router.Hex():                                             "",
		"spend split under the per-transaction cap past the period cap (4 swaps of 75000000000000001 wei)": "over the limit of 0.3 ETH",
	} {
		r, ok := got[name]
		if !ok {
			t.Errorf("no attempt %q in %v", name, rep.Results)
			continue
		}
		if !strings.Contains(strings.Join(r.Reasons, ";"), reason) {
			t.Errorf("attempt %q: reasons %v, want %q", name, r.Reasons, reason)
		}
	}
	if rep.Failed != 0 || len(rep.Skipped) != 0 {
		t.Errorf("failed %d, skipped %v", rep.Failed, rep.Skipped)
	}
	rec := lastAudit(t, e.node.store)
	var call struct {
		KeyID  string `json:"key_id"`
		Method string `json:"method"`
	}
	if err := json.Unmarshal(rec.Call, &call); err != nil || rec.Method != service.MethodProbe || rec.KeyID != "" || call.KeyID != sess.KeyID() || call.Method == "" {
		t.Errorf("probe record: %+v %s", rec, rec.Call)
	}
	if u, err := e.svc.Usage(ctx, sess.KeyID()); err != nil || u.Requests24h != 0 {
		t.Errorf("usage after a probe: %+v, %v", u, err)
	}

	// A revoked key refuses everything, the allowed swap too: it does not
	// hold what it names any more, and the probe says so.
	if _, err := e.svc.Revoke(ctx, sess.KeyID()); err != nil {
		t.Fatal(err)
	}
	rep, err = e.svc.ProbeKey(ctx, sess.KeyID(), service.RequestInfo{Method: service.MethodProbe}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Got != policy.Deny || !strings.HasPrefix(strings.Join(r.Reasons, ";"), "credential revoked at") {
			t.Errorf("attempt %q of a revoked key: %s %v", r.Attempt, r.Got, r.Reasons)
		}
	}
	if rep.Failed != 1 {
		t.Errorf("a revoked key's probe: %d failed, want the one allowed swap", rep.Failed)
	}

	if _, err := e.svc.ProbeKey(ctx, "nosuchkey", service.RequestInfo{}, nil); err == nil {
		t.Error("a probe of an unknown key succeeded")
	}
	if _, err := e.svc.Probe(ctx, sess.KeyID(), service.RequestInfo{}, []service.ProbeAttempt{{Name: "x", Expect: policy.Allow, Method: "eth_call"}}); err == nil ||
		!strings.Contains(err.Error(), "attempts[0]") {
		t.Errorf("an attempt of an unknown method: %v", err)
	}
}

// TestProbeAllowedSwaps: the battery's allowed swap on a router is one
// the policy allows there, from an asset it caps: a V2 swap from ETH, a
// V2 swap of the capped token, or a V3 exactInputSingle; each is allowed
// and paying the owner.
func TestProbeAllowedSwaps(t *testing.T) {
	e := startPipeline(t)
	ctx := context.Background()
	router, usdc := e.chain.Router(), e.chain.Tokens()["USDC"].Address
	head := fmt.Sprintf("name: swaps\nchains: [%d]\nlimits:\n  - {asset: native, per_period: 1}\n  - {asset: %q, decimals: 6, per_tx: 50, per_period: 100}\nallow:\n  - contract: %q\n    functions:\n",
		e.chain.ChainID().Uint64(), usdc.Hex(), router.Hex())
	for _, tt := range []struct {
		fn, want string
	}{
		{`{sig: "swapExactETHForTokens(uint256,address[],address,uint256)", where: {to: "$owner"}}`, "V2 swap from ETH paying the owner on "},
		{`{sig: "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)", where: {to: "$owner"}}`, "V2 swap of a capped token paying the owner on "},
		{`{sig: "exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 deadline,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96) params)", where: {params.recipient: "$owner"}}`,
			"V3 exactInputSingle paying the owner on "},
	} {
		sess := e.grant(t, service.ModeWallet, head+"      - "+tt.fn+"\n")
		rep, err := e.svc.ProbeKey(ctx, sess.KeyID(), service.RequestInfo{Method: service.MethodProbe}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var allowed []string
		for _, r := range rep.Results {
			if !r.Pass {
				t.Errorf("%s: attempt %q: expected %s, got %s: %v", tt.want, r.Attempt, r.Expect, r.Got, r.Reasons)
			}
			if r.Expect == policy.Allow {
				allowed = append(allowed, r.Attempt)
			}
		}
		if want := []string{tt.want + router.Hex()}; fmt.Sprint(allowed) != fmt.Sprint(want) {
			t.Errorf("allowed attempts %q, want %q", allowed, want)
		}
	}
}
