package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/service"
)

// probeJSON runs policy probe -o json and parses its report.
func probeJSON(t *testing.T, args ...string) (service.ProbeReport, string, int) {
	t.Helper()
	out, errOut, code := run(t, "", append([]string{"policy", "probe", "-o", "json"}, args...)...)
	var rep service.ProbeReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("probe %v: exit %d: %v\nstdout: %s\nstderr: %s", args, code, err, out, errOut)
	}
	return rep, errOut, code
}

// auditTail is the home's audit records of key (its own and the owner's
// acts on it) as audit tail -o json prints them.
func auditTail(t *testing.T, dir, key string) []recordJSON {
	t.Helper()
	out, errOut, code := run(t, "", "audit", "tail", "--home", dir, "--key", key, "-n", "1000", "-o", "json")
	if code != 0 {
		t.Fatalf("audit tail: exit %d: %s", code, errOut)
	}
	var recs []recordJSON
	for line := range strings.Lines(out) {
		var r recordJSON
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit tail line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestPolicyProbeKeyHolds probes a swap-only key and a key of the example
// swapper policy of a running sandbox: every forbidden attempt is refused
// and every allowed one allowed, so probe exits 0; and it is a dry run
// that is not the key's use: nothing is signed, no budget is spent, no
// nonce is taken, each attempt is audited as agentkeys_probe under no key,
// and the key's usage, rate and anomalies stay as they were even after
// three batteries of refusals under the swapper's policy, whose rate is
// 30 a minute and whose refusal bursts suspend the key.
func TestPolicyProbeKeyHolds(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	dir, sb := startSandboxAt(t, clk.Now)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	g := grantKey(t, dir, "--agent", "trader", "--profile", "swap-only", "--router", sb.Info.Router,
		"--daily-limit", "0.1ETH", "--daily-limit", "100USDC")
	sw := grantKey(t, dir, "--agent", "swapper", "--policy", "../../examples/swapper.yaml")
	ctx := context.Background()
	owner := common.HexToAddress(sb.Info.Owner)
	nonce, err := sb.Chain.Client().PendingNonceAt(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}

	out, errOut, code := run(t, "", "policy", "probe", "--home", dir, "--key", g.KeyID)
	if code != 0 {
		t.Fatalf("probe of a swap-only key: exit %d: %s\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"ok  token transfer to a stranger", "ok  V3 multicall paying a stranger", "ok  EIP-7702 authorization",
		"ok  V2 swap from ETH paying the owner on " + common.HexToAddress(sb.Info.Router).Hex(),
		"profile swap-only blocks token transfers", "the key held:",
		"skipped: swap outside the schedule: the policy has no schedule",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("probe output lacks %q:\n%s", want, out)
		}
	}

	var rep service.ProbeReport
	for range 3 {
		rep, errOut, code = probeJSON(t, "--home", dir, "--key", sw.KeyID)
		if code != 0 || rep.Failed != 0 {
			t.Fatalf("probe -o json of the swapper: exit %d, %d failed: %s\n%+v", code, rep.Failed, errOut, rep.Results)
		}
	}
	names := map[string]service.ProbeResult{}
	denied := 0
	for _, r := range rep.Results {
		names[r.Attempt] = r
		if r.Got == "deny" {
			denied++
		}
	}
	for _, want := range []string{"approve a stranger", "increaseAllowance to a stranger", "unlimited approve", "V2 swap paying a stranger",
		"V3 exactInputSingle paying a stranger", "sweepToken to a stranger", "unwrapWETH9 to a stranger", "EIP-2612 Permit to a stranger",
		"Permit2 PermitSingle to a stranger", "eth_sign", "contract creation", "native send to a stranger"} {
		if r, ok := names[want]; !ok || r.Got != "deny" || len(r.Reasons) == 0 {
			t.Errorf("attempt %q: %+v (present %v)", want, r, ok)
		}
	}
	var split *service.ProbeResult
	for _, r := range rep.Results {
		if strings.HasPrefix(r.Attempt, "spend split under the per-transaction cap past the period cap") {
			split = &r
		}
	}
	if split == nil || split.Got != "deny" || !strings.Contains(strings.Join(split.Reasons, ";"), "over the limit of 0.5 ETH per 24h") {
		t.Errorf("split spend: %+v", split)
	}

	// Nothing signed, spent or taken.
	for _, id := range []string{g.KeyID, sw.KeyID} {
		txs, err := sb.Service.Txs(ctx, service.TxQuery{KeyID: id})
		if err != nil || len(txs) != 0 {
			t.Errorf("probes recorded transactions: %v, %v", txs, err)
		}
		perm, err := sb.Service.Describe(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range perm.Budget {
			if b.RawSpent != "0" || b.Pending != "0" {
				t.Errorf("budget after probes: %+v", b)
			}
		}
	}
	if n, err := sb.Chain.Client().PendingNonceAt(ctx, owner); err != nil || n != nonce {
		t.Errorf("owner nonce after probes: %d, %v; want %d", n, err, nonce)
	}
	// Audited as probes, not as the key's use.
	recs := auditTail(t, dir, sw.KeyID)
	probes := 0
	for _, r := range recs {
		if r.Method == service.MethodProbe && r.KeyID == "" {
			probes++
		}
		if r.KeyID == sw.KeyID {
			t.Errorf("a probe left a record under the key: %+v", r)
		}
	}
	if probes != 3*len(rep.Results) {
		t.Errorf("%d probe records for 3 probes of %d attempts", probes, len(rep.Results))
	}
	if err := sb.Service.Feed().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	as, err := sb.Service.Anomalies(ctx, service.AnomalyQuery{KeyID: sw.KeyID})
	if err != nil || len(as) != 0 {
		t.Errorf("anomalies after %d probe refusals: %v, %v", 3*denied, as, err)
	}
	u, err := sb.Service.Usage(ctx, sw.KeyID)
	if err != nil || u.Requests24h != 0 || u.LastUsed != nil {
		t.Errorf("key usage after probes: %+v, %v", u, err)
	}
	// The key still has its whole rate: an agent request is allowed.
	agent := dialAgent(t, sb.Info.RPCURL, sw.Token)
	var perms map[string]any
	if err := agent.CallContext(ctx, &perms, service.MethodGetPermissions); err != nil {
		t.Errorf("the agent's first request after probes: %v", err)
	}
}

// TestPolicyProbeKeyTooWide: a full-access key does not hold, and probe
// exits non-zero naming the forbidden attempts it allowed.
func TestPolicyProbeKeyTooWide(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	dir, _ := startSandboxAt(t, clk.Now)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	id, _ := grantFullAccess(t, dir, "wide", "--daily-limit", "100USDC")

	out, errOut, code := run(t, "", "policy", "probe", "--home", dir, "--key", id)
	if code == 0 {
		t.Fatalf("probe of a full-access key exited 0:\n%s", out)
	}
	for _, want := range []string{"FAIL  token transfer to a stranger", "THE KEY DID NOT HOLD"} {
		if !strings.Contains(out, want) {
			t.Errorf("probe output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "token transfer to a stranger: expected deny, got allow") ||
		!strings.Contains(errOut, "native send to a stranger: expected deny, got allow") {
		t.Errorf("probe error does not name the attempts allowed: %s", errOut)
	}
	// Even a full-access key refuses what is always refused.
	if !strings.Contains(out, "ok    eth_sign ") {
		t.Errorf("eth_sign was not refused:\n%s", out)
	}
	rep, _, code := probeJSON(t, "--home", dir, "--key", id)
	if code == 0 || rep.Failed == 0 {
		t.Errorf("probe -o json of a full-access key: exit %d, %d failed", code, rep.Failed)
	}
}

// TestPolicyProbeSandbox probes a policy file in a fresh sandbox, for
// real: the example swapper holds, its allowed swap and approval are
// mined; a full-access policy does not hold.
func TestPolicyProbeSandbox(t *testing.T) {
	rep, errOut, code := probeJSON(t, "--policy", "../../examples/swapper.yaml")
	if code != 0 || rep.Failed != 0 {
		t.Fatalf("probe --policy swapper.yaml: exit %d, %d failed: %s\n%+v", code, rep.Failed, errOut, rep.Results)
	}
	allowed := 0
	for _, r := range rep.Results {
		if r.Expect == "allow" {
			allowed++
			if !strings.Contains(r.Rule, "signed, sent and mined 1 transaction") {
				t.Errorf("allowed attempt %q in the sandbox: %q", r.Attempt, r.Rule)
			}
		}
	}
	if allowed != 2 || rep.Policy != "uniswap-swapper" {
		t.Errorf("allowed attempts of the swapper: %d, policy %q; want a swap and an approve", allowed, rep.Policy)
	}

	// A schedule: the sandbox runs the battery within it, whatever the
	// date, and the swap outside it last, for real.
	sched := filepath.Join(t.TempDir(), "sched.yaml")
	if err := os.WriteFile(sched, []byte(`name: office-hours
chains: [31337]
valid_for: 30d
schedule: {timezone: UTC, days: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}
limits: [{asset: native, per_period: 1, period: 24h}]
allow:
  - contract: "0xc317d3c0B3666A6BF430ABBB834D151DA55C646B"
    functions: [{sig: "swapExactETHForTokens(uint256,address[],address,uint256)", where: {to: "$owner"}}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, errOut, code = probeJSON(t, "--policy", sched)
	if code != 0 || rep.Failed != 0 {
		t.Fatalf("probe --policy with a schedule: exit %d: %s\n%+v", code, errOut, rep)
	}
	ran := false
	for _, r := range rep.Results {
		if r.Attempt == "swap outside the schedule" {
			ran = r.Got == "deny" && strings.Contains(strings.Join(r.Reasons, ";"), "outside")
		}
	}
	if !ran {
		t.Errorf("the swap outside the schedule was not refused for it: %+v (skipped %v)", rep.Results, rep.Skipped)
	}

	wide := filepath.Join(t.TempDir(), "wide.yaml")
	if err := os.WriteFile(wide, []byte("name: wide\nchains: [31337]\nvalid_for: 1h\nlimits:\n  - asset: native\n    per_period: 1\n    period: 24h\nallow:\n  - contract: \"*\"\n    functions: [\"*\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "", "policy", "probe", "--policy", wide)
	if code == 0 || !strings.Contains(errOut, "native send to a stranger: expected deny, got allow") {
		t.Errorf("probe --policy of a too-wide policy: exit %d: %s\n%s", code, errOut, out)
	}
}

func TestPolicyProbeBadInput(t *testing.T) {
	dir, _ := startSandbox(t)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	id, _ := grantFullAccess(t, dir, "some")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "give exactly one of --key KEY_ID"},
		{[]string{"--key", id, "--policy", "x.yaml"}, "give exactly one of --key KEY_ID"},
		{[]string{"--key", "ak_nosuchkey"}, "no such key"},
		{[]string{"--key", id, "-o", "xml"}, "xml"},
		{[]string{"--policy", filepath.Join(dir, "missing.yaml")}, "read policy"},
		{[]string{"--key", id, "extra"}, "unknown command"},
	} {
		_, errOut, code := run(t, "", append([]string{"policy", "probe", "--home", dir}, tt.args...)...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("probe %v: exit %d, stderr %q; want %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestPolicyProbeAttempts: --attempts makes the owner's own attempts as
// the key; a wrong expectation fails the probe, and malformed attempts
// are refused naming the field.
func TestPolicyProbeAttempts(t *testing.T) {
	dir, sb := startSandbox(t)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	g := grantKey(t, dir, "--agent", "trader", "--profile", "swap-only", "--router", sb.Info.Router, "--daily-limit", "0.1ETH", "--daily-limit", "100USDC")
	usdc, router := sb.Info.Tokens["USDC"], sb.Info.Router
	// transfer(0x5757..., 1 USDC) and swapExactETHForTokens(0, [WETH, USDC], owner, 2^32)
	transfer := "0xa9059cbb" + "0000000000000000000000005757575757575757575757575757575757575757" + "00000000000000000000000000000000000000000000000000000000000f4240"
	swap := "0x7ff36ab5" + strings.Repeat("0", 64) + "0000000000000000000000000000000000000000000000000000000000000080" +
		"000000000000000000000000" + strings.ToLower(sb.Info.Owner[2:]) + "0000000000000000000000000000000000000000000000000000000100000000" +
		"0000000000000000000000000000000000000000000000000000000000000002" +
		"000000000000000000000000" + strings.ToLower(sb.Info.WETH[2:]) + "000000000000000000000000" + strings.ToLower(usdc[2:])
	write := func(body string) string {
		f := filepath.Join(t.TempDir(), "attempts.json")
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	good := write(`[
  {"name": "pay a supplier", "expect": "deny", "method": "eth_sendTransaction", "txs": [{"to": "` + usdc + `", "data": "` + transfer + `"}]},
  {"name": "buy USDC", "expect": "allow", "method": "eth_sendTransaction", "txs": [{"to": "` + router + `", "value": "0x2386f26fc10000", "data": "` + swap + `"}]},
  {"name": "sign a login", "expect": "deny", "method": "personal_sign", "message": "hello"}
]`)
	rep, errOut, code := probeJSON(t, "--home", dir, "--key", g.KeyID, "--attempts", good)
	if code != 0 || rep.Failed != 0 || len(rep.Results) != 3 || len(rep.Skipped) != 0 {
		t.Fatalf("own attempts: exit %d: %s\n%+v", code, errOut, rep)
	}
	if r := rep.Results[0]; !strings.Contains(strings.Join(r.Reasons, ";"), "profile swap-only blocks token transfers") {
		t.Errorf("transfer: %+v", r)
	}
	if r := rep.Results[1]; r.Got != "allow" || r.Rule == "" {
		t.Errorf("swap: %+v", r)
	}

	wrong := write(`[{"name": "pay a supplier", "expect": "allow", "method": "eth_sendTransaction", "txs": [{"to": "` + usdc + `", "data": "` + transfer + `"}]}]`)
	if _, errOut, code := run(t, "", "policy", "probe", "--home", dir, "--key", g.KeyID, "--attempts", wrong); code == 0 ||
		!strings.Contains(errOut, "pay a supplier: expected allow, got deny") {
		t.Errorf("a refused attempt expected allowed: exit %d: %s", code, errOut)
	}

	for _, tt := range []struct{ body, want string }{
		{`[]`, "the list is empty"},
		{`{"name": "x"}`, "expected a JSON list of attempts"},
		{`[{"name": "x", "expect": "allow", "method": "eth_sign", "colour": "red"}]`, `unknown field "colour"`},
		{`[{"name": "x", "expect": "maybe", "method": "eth_sign"}]`, `attempts[0]: expect: want "allow" or "deny"`},
		{`[{"name": "x", "expect": "deny", "method": "eth_call"}]`, "attempts[0]: method: want eth_sendTransaction"},
		{`[{"name": "x", "expect": "deny", "method": "eth_sendTransaction", "txs": [{"to": "` + usdc + `", "value": "lots"}]}]`, "attempts[0].txs[0]: value"},
		{`[{"name": "x", "expect": "deny", "method": "eth_sendTransaction"}]`, "attempts[0]: an eth_sendTransaction attempt holds 1 to 16 transactions"},
		{`[{"name": "x", "expect": "deny", "method": "eth_signTypedData_v4", "typed_data": {"a": 1}}]`, "attempts[0].typed_data: not an EIP-712 document"},
		{`[{"name": "x", "expect": "deny", "method": "eth_sign", "ip": "nowhere"}]`, "attempts[0].ip: expected an IP address"},
		{`[{"name": "", "expect": "deny", "method": "eth_sign"}]`, "attempts[0].name"},
	} {
		_, errOut, code := run(t, "", "policy", "probe", "--home", dir, "--key", g.KeyID, "--attempts", write(tt.body))
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("attempts %s: exit %d, stderr %q; want %q", tt.body, code, errOut, tt.want)
		}
	}
	if _, errOut, code := run(t, "", "policy", "probe", "--policy", "x.yaml", "--attempts", good); code == 0 || !strings.Contains(errOut, "--attempts goes with --key") {
		t.Errorf("--attempts with --policy: exit %d: %s", code, errOut)
	}
}
