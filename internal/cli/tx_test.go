package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/service"
)

// TestTxCommands: tx list, show and cancel against a running sandbox: an
// eth_signTransaction result is listed as signed, cancelled by hand, and
// shown cancelled once the watcher has seen the cancel mined.
func TestTxCommands(t *testing.T) {
	dir, sb := startSandbox(t)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	g := grantKey(t, dir, "--agent", "bot", "--profile", "full-access", "--daily-limit", "1ETH")
	keyID, token := g.KeyID, g.Token
	ctx := context.Background()
	agent := dialAgent(t, sb.Info.RPCURL, token)
	to := common.HexToAddress("0x9999999999999999999999999999999999999999")
	var raw hexutil.Bytes
	if err := agent.CallContext(ctx, &raw, "eth_signTransaction", map[string]any{"to": to, "value": "0x1000"}); err != nil {
		t.Fatal(err)
	}
	signed := new(types.Transaction)
	if err := signed.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	hash := signed.Hash().Hex()

	out, errOut, code := run(t, "", "tx", "list", "--home", dir, "--key", keyID, "-o", "json")
	var txs []service.TxInfo
	if code != 0 || json.Unmarshal([]byte(out), &txs) != nil || len(txs) != 1 || txs[0].Hash != hash || txs[0].State != "signed" || txs[0].Value != "4096" {
		t.Fatalf("tx list -o json (exit %d): %s %s", code, out, errOut)
	}
	out, _, code = run(t, "", "tx", "list", "--home", dir, "--state", "included")
	if code != 0 || strings.Contains(out, hash) || !strings.HasPrefix(out, "HASH") {
		t.Fatalf("tx list --state included (exit %d):\n%s", code, out)
	}
	out, _, code = run(t, "", "tx", "show", hash, "--home", dir)
	if code != 0 || !strings.Contains(out, "state:        signed") || !strings.Contains(out, "must broadcast it before stuck-after") {
		t.Fatalf("tx show (exit %d):\n%s", code, out)
	}

	out, errOut, code = run(t, "", "tx", "cancel", hash, "--home", dir, "-o", "json")
	var c service.TxInfo
	if code != 0 || json.Unmarshal([]byte(out), &c) != nil || c.Kind != "cancel" || c.Cancels != hash || c.Nonce != signed.Nonce() {
		t.Fatalf("tx cancel (exit %d): %s %s", code, out, errOut)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		if _, err := sb.Chain.Client().TransactionReceipt(waitCtx, common.HexToHash(c.Hash)); err == nil {
			break
		}
		select {
		case <-waitCtx.Done():
			t.Fatal("the cancel was not mined")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := sb.Service.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "", "tx", "show", hash, "--home", dir)
	if code != 0 || !strings.Contains(out, "state:        cancelled") || !strings.Contains(out, "cancelled_by: "+c.Hash) {
		t.Fatalf("tx show after the cancel (exit %d):\n%s", code, out)
	}

	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"tx", "list", "--state", "mined"}, `state: expected one of signed, broadcast, included, replaced, cancelled, dropped, got "mined"`},
		{[]string{"tx", "show", "0x12"}, "hash: expected a transaction hash"},
		{[]string{"tx", "show", "0x" + strings.Repeat("ab", 32)}, "no such transaction"},
		{[]string{"tx", "cancel", hash}, "is already cancelled; there is nothing to cancel"},
		{[]string{"tx", "list", "-o", "yaml"}, "--output: expected one of"},
	} {
		_, errOut, code := run(t, "", append(tt.args, "--home", dir)...)
		if code == 0 || !strings.Contains(errOut, tt.wantErr) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tt.args, code, errOut, tt.wantErr)
		}
	}
}

// TestServeRefusesAResetNode: serve restarted on the node it used starts
// (and records what was mined); pointed at a fresh chain with the same id,
// it refuses to start and says what to do.
func TestServeRefusesAResetNode(t *testing.T) {
	dir, cred, owner := testHome(t)
	chain, err := devchain.Start(context.Background(), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	s := runServe(t, dir, chain.URL())
	out, errOut, code := s.cli(t, cred, dir, "key", "grant", "--agent", "bot", "--profile", "full-access", "--daily-limit", "1ETH", "-o", "json")
	var g struct {
		Token string `json:"token"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil {
		t.Fatalf("grant (exit %d): %s %s", code, out, errOut)
	}
	agent, err := gethrpc.DialOptions(context.Background(), s.agentURL+"/rpc", gethrpc.WithHeader("Authorization", "Bearer "+g.Token))
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	var hash common.Hash
	if err := agent.CallContext(context.Background(), &hash, "eth_sendTransaction", map[string]any{"to": common.HexToAddress("0x99"), "value": "0x1"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := chain.Client().TransactionReceipt(context.Background(), hash); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no receipt")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	runServe(t, dir, chain.URL()).stop() // its start records the transaction as included

	fresh, err := devchain.Start(context.Background(), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	_, errOut, code = run(t, "", "serve", "--home", dir, "--rpc-upstream", fresh.URL(), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errOut, "does not hold what this home saw mined") || !strings.Contains(errOut, "was included in block") ||
		!strings.Contains(errOut, "Point --rpc-upstream at the node this home used") {
		t.Fatalf("serve on a reset node: exit %d: %s", code, errOut)
	}
}
