package cli

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/secrets"
)

// startSandbox runs a sandbox in a fresh home for the key commands to
// administer.
func startSandbox(t *testing.T) (string, *sandbox.Sandbox) {
	t.Helper()
	return startSandboxAt(t, nil)
}

// startSandboxAt starts a sandbox whose daemon and chain read now (nil:
// the wall clock).
func startSandboxAt(t *testing.T, now func() time.Time) (string, *sandbox.Sandbox) {
	t.Helper()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Config{Home: dir, Passphrase: []byte("key command test passphrase"), KDF: &kdf, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return dir, sb
}

// dialAgent connects to a daemon's /rpc as the agent holding token.
func dialAgent(t *testing.T, url, token string) *gethrpc.Client {
	t.Helper()
	agent, err := gethrpc.DialOptions(context.Background(), url, gethrpc.WithHeader("Authorization", "Bearer "+token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Close)
	return agent
}

func TestKeyCommands(t *testing.T) {
	dir, sb := startSandbox(t)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	out, errOut, code := run(t, "", "key", "grant", "--home", dir, "--agent", "trader", "--profile", "swap-only",
		"--daily-limit", "0.5ETH", "--daily-limit", "250USDC", "--ttl", "2h", "-o", "json")
	if code != 0 {
		t.Fatalf("grant: exit %d: %s", code, errOut)
	}
	var g struct {
		KeyID                           string `json:"key_id"`
		Token, Address, Status, Profile string
		ExpiresAt                       time.Time `json:"expires_at"`
		Limits                          []struct {
			Symbol    string `json:"symbol"`
			PerPeriod string `json:"per_period"`
			RawPeriod string `json:"raw_per_period"`
		}
	}
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatalf("grant output: %v\n%s", err, out)
	}
	if !strings.HasPrefix(g.Token, "ak_"+g.KeyID+"_") || g.Address != sb.Info.Owner || g.Status != "active" || g.Profile != "swap-only" {
		t.Fatalf("grant = %+v", g)
	}
	if d := time.Until(g.ExpiresAt); d < time.Hour || d > 3*time.Hour {
		t.Errorf("expires_at %s is not about 2h away", g.ExpiresAt)
	}
	echo := map[string][2]string{}
	for _, l := range g.Limits {
		echo[l.Symbol] = [2]string{l.PerPeriod, l.RawPeriod}
	}
	if echo["ETH"] != [2]string{"0.5", "500000000000000000"} || echo["USDC"] != [2]string{"250", "250000000"} {
		t.Errorf("limits echoed as %v", echo)
	}

	text, _, code := run(t, "", "key", "grant", "--home", dir, "--agent", "second", "--profile", "read-only")
	if code != 0 || !strings.Contains(text, "token:      ak_") || !strings.Contains(text, "will not be shown again") {
		t.Fatalf("text grant (exit %d):\n%s", code, text)
	}

	out, _, code = run(t, "", "key", "list", "--home", dir, "-o", "json")
	var list struct {
		Keys       []map[string]any `json:"keys"`
		NextCursor *string          `json:"next_cursor"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Keys) != 2 || list.NextCursor != nil {
		t.Fatalf("list (exit %d): %s", code, out)
	}
	if strings.Contains(out, "ak_") {
		t.Errorf("key list shows a token:\n%s", out)
	}
	out, _, code = run(t, "", "key", "show", "--home", dir, g.KeyID)
	if code != 0 || !strings.Contains(out, "status:     active") || strings.Contains(out, g.Token) {
		t.Fatalf("show (exit %d):\n%s", code, out)
	}
	for _, want := range []string{"budget:     0 ETH spent, 0 pending, 0.5 left of 0.5 per 24h", "budget:     0 USDC spent, 0 pending, 250 left of 250 per 24h"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out, _, code = run(t, "", "key", "revoke", "--home", dir, g.KeyID)
	if code != 0 || !strings.Contains(out, "revoked "+g.KeyID) {
		t.Fatalf("revoke (exit %d): %s", code, out)
	}
	out, _, code = run(t, "", "key", "revoke", "--home", dir, "--all", "-o", "json")
	if code != 0 || !strings.Contains(out, `"revoked": 1`) {
		t.Fatalf("revoke --all (exit %d): %s", code, out)
	}
	out, _, _ = run(t, "", "key", "list", "--home", dir)
	if strings.Count(out, "revoked") != 2 {
		t.Errorf("after revoking everything:\n%s", out)
	}
}

func TestKeyCommandErrors(t *testing.T) {
	dir, _ := startSandbox(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no agent", []string{"key", "grant", "--profile", "read-only"}, "--agent is required"},
		{"bad amount", []string{"key", "grant", "--agent", "a", "--profile", "full-access", "--daily-limit", "5GOLD"}, `daily_limit[0]: unknown unit "GOLD"`},
		{"bad agent name", []string{"key", "grant", "--agent", "a b", "--profile", "read-only"}, "agent: expected"},
		{"unknown profile", []string{"key", "grant", "--agent", "a", "--profile", "god-mode"}, `unknown profile "god-mode"`},
		{"bad ttl", []string{"key", "grant", "--agent", "a", "--profile", "read-only", "--ttl", "forever"}, "ttl: expected a positive duration"},
		{"unknown key", []string{"key", "show", "nope"}, "no such key"},
		{"revoke needs one", []string{"key", "revoke"}, "give one KEY_ID, or --all"},
		{"bad policy", []string{"key", "grant", "--agent", "a", "--policy", "../../examples/swap-to-owner.json"}, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, "", append(tt.args, "--home", dir)...)
			if code == 0 || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want failure containing %q", code, errOut, tt.wantErr)
			}
		})
	}
	t.Run("wrong admin token", func(t *testing.T) {
		t.Setenv("AGENTKEYS_ADMIN_TOKEN", "akadm_aaaaaaaaaaaa_"+strings.Repeat("0", 64))
		_, errOut, code := run(t, "", "key", "list", "--home", dir)
		if code == 0 || !strings.Contains(errOut, "admin credential missing or not valid") || strings.Contains(errOut, strings.Repeat("0", 64)) {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestWalletCommands(t *testing.T) {
	dir, sb := startSandbox(t)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"wallet", "status"}, "status:   a plain account (not delegated)"},
		{[]string{"wallet", "upgrade"}, "status:   delegated to AgentKeyDelegate " + sb.Info.Delegate},
		{[]string{"wallet", "status"}, "delegated to AgentKeyDelegate"},
		{[]string{"wallet", "downgrade"}, "status:   a plain account (not delegated)"},
	}
	for _, s := range steps {
		out, errOut, code := run(t, "", append(s.args, "--home", dir)...)
		if code != 0 || !strings.Contains(out, s.want) || !strings.Contains(out, "chain:    31337") {
			t.Fatalf("%v: exit %d %s\n%s", s.args, code, errOut, out)
		}
	}
	out, _, code := run(t, "", "wallet", "status", "--home", dir, "-o", "json")
	if code != 0 || !strings.Contains(out, `"delegated": false`) {
		t.Fatalf("json status: %s", out)
	}
}

// grantFullAccess grants agent a full-access key with a 1 ETH daily limit
// through the CLI and returns its id and token.
func grantFullAccess(t *testing.T, dir, agent string, extra ...string) (id, token string) {
	t.Helper()
	g := grantKey(t, dir, append([]string{"--agent", agent, "--profile", "full-access", "--daily-limit", "1ETH"}, extra...)...)
	return g.KeyID, g.Token
}

// TestKeyListUsage: key list shows when and from where each key was last
// used (or never) and its requests and refusals in 24h, and filters on
// status and idleness; key show has the same usage lines.
func TestKeyListUsage(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	dir, sb := startSandboxAt(t, clk.Now)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	busy, token := grantFullAccess(t, dir, "busy")
	idle, _ := grantFullAccess(t, dir, "idle")
	gone, _ := grantFullAccess(t, dir, "gone")
	if _, errOut, code := run(t, "", "key", "revoke", "--home", dir, gone); code != 0 {
		t.Fatalf("revoke: %s", errOut)
	}

	ctx := context.Background()
	agent := dialAgent(t, sb.Info.RPCURL, token)
	to := common.HexToAddress("0x9999999999999999999999999999999999999999")
	var raw hexutil.Bytes
	if err := agent.CallContext(ctx, &raw, "eth_signTransaction", map[string]any{"to": to, "value": "0x1000"}); err != nil {
		t.Fatal(err)
	}
	if err := agent.CallContext(ctx, &raw, "eth_signTransaction", map[string]any{"to": to, "value": "0x1bc16d674ec80000"}); err == nil {
		t.Fatal("a 2 ETH transfer under a 1 ETH daily limit was signed")
	}

	// rows lists the keys and returns their rows by id, and the line
	// that gives the next page, if any.
	var more string
	rows := func(args ...string) map[string]string {
		t.Helper()
		out, errOut, code := run(t, "", append([]string{"key", "list", "--home", dir}, args...)...)
		if code != 0 {
			t.Fatalf("key list %v: exit %d: %s", args, code, errOut)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if !strings.Contains(lines[0], "LAST USED") || !strings.Contains(lines[0], "REQ/DENY 24H") {
			t.Fatalf("key list header: %q", lines[0])
		}
		more = ""
		if last := lines[len(lines)-1]; strings.HasPrefix(last, "more keys: ") {
			more, lines = last, lines[:len(lines)-1]
		}
		got := map[string]string{}
		for _, l := range lines[1:] {
			got[strings.Fields(l)[0]] = l
		}
		return got
	}
	all := rows()
	if len(all) != 3 {
		t.Fatalf("key list: %v", all)
	}
	if l := all[busy]; !strings.Contains(l, " from 127.0.0.1 ") || !strings.HasSuffix(l, " 2/1") {
		t.Errorf("the used key's row: %q; want last used from 127.0.0.1 and 2/1", l)
	}
	if l := all[idle]; !strings.Contains(l, " never ") || !strings.HasSuffix(l, " 0/0") {
		t.Errorf("the idle key's row: %q; want never and 0/0", l)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--status", "active"}, []string{busy, idle}},
		{[]string{"--status", "revoked"}, []string{gone}},
		{[]string{"--unused-for", "1h"}, []string{}}, // granted and used just now
		// Two hours on, every key has been idle an hour (a never-used key
		// counts from its grant); none has been for three.
		{[]string{"advance 2h"}, nil},
		{[]string{"--unused-for", "1h"}, []string{busy, idle, gone}},
		{[]string{"--unused-for", "3h"}, []string{}},
		{[]string{"--status", "active", "--unused-for", "1h"}, []string{busy, idle}},
	} {
		if c.args[0] == "advance 2h" {
			clk.Advance(2 * time.Hour)
			continue
		}
		got := rows(c.args...)
		if len(got) != len(c.want) {
			t.Errorf("key list %v: %v; want %v", c.args, got, c.want)
		}
		for _, id := range c.want {
			if _, ok := got[id]; !ok {
				t.Errorf("key list %v lacks %s: %v", c.args, id, got)
			}
		}
	}

	if more != "" {
		t.Errorf("a full listing gives a next page: %q", more)
	}

	// Pages: --limit keys at a time, the last line giving the next page's
	// command; the keys were granted in this order on a stopped clock, so
	// they are listed by id.
	ordered := []string{busy, idle, gone}
	slices.Sort(ordered)
	var paged []string
	args := []string{"--limit", "2", "--unused-for", "1h"}
	for pages := 0; pages < 3; pages++ {
		got := rows(args...)
		if len(got) > 2 {
			t.Fatalf("key list %v: %d rows", args, len(got))
		}
		for _, id := range ordered {
			if _, ok := got[id]; ok {
				paged = append(paged, id)
			}
		}
		if more == "" {
			break
		}
		m := regexp.MustCompile(`^more keys: the next page is agentkeys key list --unused-for 1h --limit 2 --cursor (\S+)$`).FindStringSubmatch(more)
		if m == nil {
			t.Fatalf("the next page's line: %q", more)
		}
		args = []string{"--limit", "2", "--unused-for", "1h", "--cursor", m[1]}
	}
	if !slices.Equal(paged, ordered) {
		t.Errorf("paged %v, want %v", paged, ordered)
	}
	var list struct {
		Keys       []map[string]any `json:"keys"`
		NextCursor *string          `json:"next_cursor"`
	}
	out, _, code := run(t, "", "key", "list", "--home", dir, "--limit", "1", "--newest", "-o", "json")
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Keys) != 1 || list.Keys[0]["key_id"] != ordered[2] ||
		list.NextCursor == nil || *list.NextCursor == "" {
		t.Errorf("key list --limit 1 --newest -o json (exit %d): %s", code, out)
	}

	out, _, code = run(t, "", "key", "show", "--home", dir, busy)
	if code != 0 || !strings.Contains(out, "requests:   2 in the last 24h, 1 denied\n") ||
		!regexp.MustCompile(`(?m)^last_used:  \S+ from 127\.0\.0\.1 using "Go-http-client/1\.1" \(deny\)$`).MatchString(out) {
		t.Errorf("show (exit %d) lacks the usage lines:\n%s", code, out)
	}
	out, _, code = run(t, "", "key", "show", "--home", dir, idle)
	if code != 0 || !strings.Contains(out, "last_used:  never\nrequests:   0 in the last 24h, 0 denied\n") {
		t.Errorf("show of the idle key (exit %d):\n%s", code, out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--status", "live"}, `--status: expected active, pending_approval, pending_signature, suspended, expired, revoked, got "live"`},
		{[]string{"--unused-for", "ages"}, `--unused-for: expected a positive duration like 24h or 7d, got "ages"`},
		{[]string{"--unused-for", "0h"}, `--unused-for: expected a positive duration`},
		{[]string{"--limit", "0"}, `--limit: expected a number from 1 to 1000, got 0`},
		{[]string{"--limit", "1001"}, `--limit: expected a number from 1 to 1000, got 1001`},
		{[]string{"--cursor", "nope"}, `--cursor: expected the next_cursor of an earlier page, got "nope"`},
	} {
		_, errOut, code := run(t, "", append([]string{"key", "list", "--home", dir}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("key list %v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
}
