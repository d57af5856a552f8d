package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/service"
)

// An agent probing its key in a sandbox: its refusal burst suspends the
// key before the tenth attempt; the owner sees the anomaly and the
// reason from the command line, resumes the key, and can suspend it by
// hand.
func TestAnomalyAndSuspendCommands(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	dir, sb := startSandboxAt(t, clk.Now)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	pol := filepath.Join(t.TempDir(), "probed.yaml")
	if err := os.WriteFile(pol, []byte("name: probed\nchains: [31337]\nanomalies:\n  refusal_burst: {on_anomaly: suspend, count: 4, within: 5m}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := grantKey(t, dir, "--agent", "probe", "--policy", pol)
	keyID, token := g.KeyID, g.Token
	ctx := context.Background()
	agent := dialAgent(t, sb.Info.RPCURL, token)
	suspendedAt := 0
	for i := 1; i <= 9 && suspendedAt == 0; i++ {
		clk.Advance(5 * time.Second)
		var sig string
		err := agent.CallContext(ctx, &sig, "personal_sign", "0x68656c6c6f", sb.Info.Owner)
		var rpcErr gethrpc.Error
		if !errors.As(err, &rpcErr) {
			t.Fatalf("attempt %d: %v, want a JSON-RPC error", i, err)
		}
		if rpcErr.ErrorCode() == 4100 {
			if rpcErr.Error() != service.CredentialSuspended {
				t.Errorf("the agent is told %q", rpcErr.Error())
			}
			suspendedAt = i
		}
	}
	if suspendedAt != 5 {
		t.Fatalf("suspended at attempt %d, want 5 (after four refusals)", suspendedAt)
	}

	out, errOut, code := run(t, "", "anomaly", "list", "--home", dir, "--key", keyID, "--since", "1h", "-o", "json")
	var as []service.AnomalyEvent
	if code != 0 || json.Unmarshal([]byte(out), &as) != nil || len(as) != 1 || as[0].Kind != service.AnomalyRefusalBurst || as[0].Response != "suspend" {
		t.Fatalf("anomaly list (exit %d): %s %s", code, out, errOut)
	}
	out, _, code = run(t, "", "anomaly", "list", "--home", dir)
	if code != 0 || !strings.Contains(out, "refusal_burst") || !strings.Contains(out, "critical") || !strings.Contains(out, "4 refusals within 5m") {
		t.Errorf("anomaly list text (exit %d):\n%s", code, out)
	}
	out, _, code = run(t, "", "key", "show", "--home", dir, keyID)
	for _, want := range []string{"status:     suspended", "suspended:  ", "anomaly refusal_burst: 4 refusals within 5m", "key resume " + keyID, "anomaly:    2026-11-25T"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("key show lacks %q:\n%s", want, out)
		}
	}
	if out, _, _ = run(t, "", "key", "list", "--home", dir, "--status", "suspended"); !strings.Contains(out, keyID) {
		t.Errorf("key list --status suspended:\n%s", out)
	}

	out, errOut, code = run(t, "", "key", "resume", "--home", dir, keyID)
	if code != 0 || !strings.Contains(out, "is active") {
		t.Fatalf("resume (exit %d): %s %s", code, out, errOut)
	}
	var sig string
	if err := agent.CallContext(ctx, &sig, "eth_chainId"); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	out, errOut, code = run(t, "", "key", "suspend", "--home", dir, keyID, "--reason", "rotating it")
	if code != 0 || !strings.Contains(out, "suspended "+keyID) || !strings.Contains(out, "rotating it") {
		t.Fatalf("suspend (exit %d): %s %s", code, out, errOut)
	}
	if err := agent.CallContext(ctx, &sig, "eth_chainId"); err == nil || err.Error() != service.CredentialSuspended {
		t.Errorf("after the owner's suspension: %v", err)
	}

	// A key whose policy only alerts: the daemon's own feed finds its
	// burst (nothing here syncs it), and the key keeps working.
	calm := grantKey(t, dir, "--agent", "calm", "--profile", "read-only")
	calmAgent := dialAgent(t, sb.Info.RPCURL, calm.Token)
	for i := 0; i < 5; i++ {
		if err := calmAgent.CallContext(ctx, &sig, "personal_sign", "0x68656c6c6f", sb.Info.Owner); err == nil {
			t.Fatal("read-only signed a message")
		}
	}
	var found []service.AnomalyEvent
	for deadline := time.Now().Add(20 * time.Second); len(found) == 0; {
		out, errOut, code := run(t, "", "anomaly", "list", "--home", dir, "--key", calm.KeyID, "-o", "json")
		if code != 0 || json.Unmarshal([]byte(out), &found) != nil {
			t.Fatalf("anomaly list (exit %d): %s %s", code, out, errOut)
		}
		if len(found) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the daemon's feed raised no anomaly for the calm key's burst")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if len(found) != 1 || found[0].Kind != service.AnomalyRefusalBurst || found[0].Response != "alert" {
		t.Errorf("calm key's anomalies: %+v", found)
	}
	if err := calmAgent.CallContext(ctx, &sig, "eth_chainId"); err != nil {
		t.Errorf("an alert suspended the key: %v", err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"anomaly", "list", "--since", "soon"}, `--since: expected a positive duration like 24h or 7d, got "soon"`},
		{[]string{"anomaly", "list", "--limit", "-1"}, "--limit: expected a number from 1 to 10000"},
		{[]string{"anomaly", "list", "--key", "ak_nope"}, "no such key"},
		{[]string{"key", "resume", "ak_nope"}, "no such key"},
	} {
		_, errOut, code := run(t, "", append(c.args, "--home", dir)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
}
