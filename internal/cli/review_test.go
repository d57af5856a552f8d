package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/service"
)

// TestReview: the review of a week names what each key did (requests,
// refusals, source IPs and user agents, spend against its cap), groups
// refusals by reason, verifies the audit log, lists keys expiring soon
// and recommends revoking the key that was never used, with the command;
// --apply asks first and revokes only on yes.
func TestReview(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	dir, sb := startSandboxAt(t, clk.Now)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	busy, token := grantFullAccess(t, dir, "busy", "--ttl", "30d")
	idle, _ := grantFullAccess(t, dir, "idle", "--ttl", "5d")
	clk.Advance(3 * 24 * time.Hour)

	ctx := context.Background()
	agent, err := gethrpc.DialOptions(ctx, sb.Info.RPCURL, gethrpc.WithHeader("Authorization", "Bearer "+token), gethrpc.WithHeader("User-Agent", "trading-bot/3"))
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	to := common.HexToAddress("0x9999999999999999999999999999999999999999")
	var raw hexutil.Bytes
	if err := agent.CallContext(ctx, &raw, "eth_signTransaction", map[string]any{"to": to, "value": "0x1000"}); err != nil {
		t.Fatal(err)
	}
	// Five refusals in a row: a refusal burst (the default threshold),
	// which this key's policy only alerts on.
	for i := 0; i < 5; i++ {
		if err := agent.CallContext(ctx, &raw, "eth_signTransaction", map[string]any{"to": to, "value": "0x1bc16d674ec80000"}); err == nil {
			t.Fatal("a 2 ETH transfer under a 1 ETH daily limit was signed")
		}
	}
	// The owner suspends a third key by hand.
	odd, _ := grantFullAccess(t, dir, "odd", "--ttl", "30d")
	if _, errOut, code := run(t, "", "key", "suspend", "--home", dir, odd, "--reason", "looked odd"); code != 0 {
		t.Fatalf("key suspend: %s", errOut)
	}

	out, errOut, code := run(t, "", "review", "--home", dir, "--since", "7d", "--unused-for", "2d", "-o", "json")
	if code != 0 {
		t.Fatalf("review: %s", errOut)
	}
	var rv service.Review
	if err := json.Unmarshal([]byte(out), &rv); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !rv.Audit.OK() || rv.Head.Seq == 0 || rv.Audit.Records != int(rv.Head.Seq) {
		t.Errorf("audit verification in the review: %+v head %+v", rv.Audit, rv.Head)
	}
	keys := map[string]service.ReviewKey{}
	for _, k := range rv.Keys {
		keys[k.ID] = k
	}
	b := keys[busy]
	if b.Requests != 6 || b.Refused != 5 || b.Anomalies != 1 || len(b.IPs) != 1 || b.IPs[0] != (service.Seen{Value: "127.0.0.1", Count: 6}) ||
		len(b.Agents) != 1 || b.Agents[0] != (service.Seen{Value: "trading-bot/3", Count: 6}) || b.LastUsed == nil {
		t.Errorf("the busy key in the review: %+v", b)
	}
	if len(b.Budget) == 0 || b.Budget[0].Symbol != "ETH" || b.Budget[0].PerPeriod != "1" {
		t.Errorf("the busy key's spend against its cap: %+v", b.Budget)
	}
	if i := keys[idle]; i.Requests != 0 || i.LastUsed != nil || i.Status != service.StatusActive {
		t.Errorf("the idle key in the review: %+v", i)
	}
	if len(rv.Refusals) == 0 || rv.Refusals[0].Class != service.RefusedBudget || rv.Refusals[0].Count != 5 || rv.Refusals[0].Example == "" {
		t.Errorf("refusals by reason: %+v", rv.Refusals)
	}
	if len(rv.Anomalies) != 1 || rv.Anomalies[0].KeyID != busy || rv.Anomalies[0].Kind != service.AnomalyRefusalBurst {
		t.Errorf("anomalies: %+v; want the busy key's refusal burst", rv.Anomalies)
	}
	recommended := map[string]string{}
	for _, r := range rv.Recommend {
		recommended[r.KeyID] = r.Why
		if r.Command != "agentkeys key revoke "+r.KeyID {
			t.Errorf("recommendation for %s: command %q", r.KeyID, r.Command)
		}
	}
	if len(recommended) != 2 || !strings.Contains(recommended[idle], "never used") ||
		!strings.Contains(recommended[odd], "suspended: looked odd") || !strings.Contains(recommended[odd], "agentkeys key resume "+odd) {
		t.Errorf("recommendations: %+v; want the idle key and the suspended one", rv.Recommend)
	}
	if len(rv.Expiring) != 1 || rv.Expiring[0] != idle { // 2 days left of 5; the busy key has 27
		t.Errorf("expiring within 7d: %v; want the idle key", rv.Expiring)
	}

	// The Markdown review says the same for people.
	out, errOut, code = run(t, "", "review", "--home", dir, "--unused-for", "2d")
	if code != 0 {
		t.Fatalf("review: %s", errOut)
	}
	for _, want := range []string{"# agentkeys review: 2026-11-21 10:00 UTC to 2026-11-28 10:00 UTC", "Verified: ",
		"| " + busy + " | busy | active |", "127.0.0.1 (6)", "trading-bot/3 (6)", "| budget | 5 | spends 2 ETH", "| refusal\\_burst | ",
		"## Recommended: revoke", "`agentkeys key revoke " + idle + "`", "agentkeys review --apply"} {
		if !strings.Contains(out, want) {
			t.Errorf("the Markdown review lacks %q:\n%s", want, out)
		}
	}

	// --apply asks; "n" revokes nothing, "y" revokes the recommended key.
	if _, errOut, code := run(t, "n\n", "review", "--home", dir, "--unused-for", "2d", "--apply"); code == 0 || !strings.Contains(errOut, "nothing revoked") {
		t.Errorf("review --apply answered n: exit %d, %s", code, errOut)
	}
	if out, _, _ := run(t, "", "key", "list", "--home", dir, "--status", "revoked"); strings.Contains(out, idle) {
		t.Fatal("review --apply answered n revoked a key")
	}
	out, errOut, code = run(t, "y\n", "review", "--home", dir, "--unused-for", "2d", "--apply")
	if code != 0 || !strings.Contains(out, "revoked "+idle+" (agent idle): never used") || !strings.Contains(out, "revoked "+odd+" (agent odd): suspended") {
		t.Fatalf("review --apply answered y: exit %d, %s %s", code, out, errOut)
	}
	if out, _, _ := run(t, "", "key", "list", "--home", dir, "--status", "revoked"); !strings.Contains(out, idle) || !strings.Contains(out, odd) || strings.Contains(out, busy) {
		t.Errorf("after review --apply, revoked keys: %s", out)
	}
	if out, _, _ := run(t, "", "review", "--home", dir, "--unused-for", "2d", "--apply", "--yes"); !strings.Contains(out, "Nothing to revoke.") {
		t.Errorf("a second review --apply --yes: %s", out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--since", "forever"}, `since: expected a positive duration like 7d or 24h, got "forever"`},
		{[]string{"--unused-for", "-1d"}, `unused_for: expected a positive duration`},
		{[]string{"--yes"}, `--yes only goes with --apply`},
		{[]string{"-o", "yaml"}, `markdown`},
	} {
		_, errOut, code := run(t, "", append([]string{"review", "--home", dir}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("review %v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
}
