package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

// TestMCPBridge: `agentkeys mcp` serves the daemon's tools over stdio to
// the go-sdk's client: the daemon found from the home, the credential
// from $AGENTKEYS_TOKEN or --token-file; an allowed deposit goes
// through, a transfer to a stranger is a tool error with the policy's
// reason, and both are decided and audited by the daemon.
func TestMCPBridge(t *testing.T) {
	dir, sb := startSandbox(t)
	doc := "name: weth-deposits\nchains: [31337]\nlimits: [{asset: native, per_period: 1, period: 24h}, {asset: fees, per_period: 1, period: 24h}]\n" +
		"allow: [{contract: \"" + sb.Info.WETH + "\", functions: [receive]}]\n"
	g, err := sb.Service.GrantFrom(context.Background(), service.GrantSpec{Agent: "claude", Policy: doc, TTL: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AGENTKEYS_RPC_URL", "")
	t.Setenv("AGENTKEYS_TOKEN", "")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(g.Token.Reveal()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cs, stderr := bridge(t, "mcp", "--home", dir, "--token-file", tokenFile)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	listed, err := cs.ListTools(ctx, nil)
	if err != nil || len(listed.Tools) != 7 { // the daemon's seven tools
		t.Fatalf("tools through the bridge: %v, %v (stderr %s)", listed, err, stderr)
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "wallet_info"})
	if err != nil || res.IsError || !strings.Contains(resultText(res), sb.Info.Owner) {
		t.Fatalf("wallet_info through the bridge: %v %v", resultText(res), err)
	}
	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "send_transaction", Arguments: map[string]any{"to": sb.Info.WETH, "value": "0.001"}})
	if err != nil || res.IsError || !strings.Contains(resultText(res), `"hash": "0x`) {
		t.Fatalf("allowed deposit through the bridge: %v %v", resultText(res), err)
	}
	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "send_transaction", Arguments: map[string]any{"to": stranger, "value": "0.001"}})
	if err != nil || !res.IsError || !strings.Contains(resultText(res), "no rule allows contract "+stranger) {
		t.Fatalf("transfer through the bridge: error %v, %q, %v; want a refusal naming the stranger", res.IsError, resultText(res), err)
	}
	recs, err := sb.Home.Store.AuditRecords(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var decided []string
	for _, r := range recs {
		if r.Method == "mcp:send_transaction" && r.KeyID == g.Grant.ID && strings.HasPrefix(r.UserAgent, "agentkeys-mcp-bridge/") && strings.HasSuffix(r.UserAgent, " (bridge-test)") {
			decided = append(decided, r.Decision)
		}
	}
	if strings.Join(decided, ",") != "allow,deny" {
		t.Errorf("the daemon's audit of the bridge's sends: %v, want allow,deny", decided)
	}
}

// TestMCPBridgeRefusesBadCredential: with no credential, or one the
// daemon refuses, `agentkeys mcp` exits at once saying why.
func TestMCPBridgeRefusesBadCredential(t *testing.T) {
	dir, sb := startSandbox(t)
	t.Setenv("AGENTKEYS_RPC_URL", sb.Info.RPCURL)
	for _, tc := range []struct{ token, want string }{
		{"", "no credential: set AGENTKEYS_TOKEN"},
		{"ak_wrong", "Unauthorized"},
	} {
		t.Setenv("AGENTKEYS_TOKEN", tc.token)
		_, errOut, code := run(t, "", "mcp", "--home", dir)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("mcp with token %q: exit %d, %q; want 1 saying %q", tc.token, code, errOut, tc.want)
		}
	}
}

// bridge runs the command line with args in-process and connects the
// go-sdk's client to its standard input and output.
func bridge(t *testing.T, args ...string) (*sdk.ClientSession, *syncbuf.Buffer) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	stderr := &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() {
		code := Main(context.Background(), args, IO{In: inR, Out: outW, Err: stderr})
		outW.Close()
		done <- code
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "bridge-test", Version: "1"}, nil).Connect(ctx, &sdk.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatalf("connect to agentkeys mcp: %v (stderr %s)", err, stderr)
	}
	t.Cleanup(func() {
		cs.Close()
		inW.Close()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("agentkeys mcp exited %d: %s", code, stderr)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("agentkeys mcp did not exit when its input closed")
		}
	})
	return cs, stderr
}

func resultText(res *sdk.CallToolResult) string {
	if res == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
