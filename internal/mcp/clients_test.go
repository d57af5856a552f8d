package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/mcp"
	"github.com/agentkeys/agentkeys/internal/service"
)

// tsReport is the JSON line clients/mcp.mjs prints per transport.
type tsReport struct {
	Library    string   `json:"library"`
	Version    string   `json:"version"`
	Transport  string   `json:"transport"`
	OK         bool     `json:"ok"`
	Error      string   `json:"error"`
	Tools      []string `json:"tools"`
	WalletInfo struct {
		IsError bool   `json:"is_error"`
		Address string `json:"address"`
		ChainID uint64 `json:"chain_id"`
	} `json:"wallet_info"`
	Swap struct {
		IsError   bool   `json:"is_error"`
		Text      string `json:"text"`
		Hash      string `json:"hash"`
		AmountOut string `json:"amount_out"`
	} `json:"swap"`
	Transfer struct {
		IsError bool   `json:"is_error"`
		Text    string `json:"text"`
	} `json:"transfer"`
}

// TestTypeScriptClient drives the tools with the MCP TypeScript SDK's
// client (clients/mcp.mjs), over streamable HTTP and over stdio through
// the agentkeys binary: it lists the tools, reads wallet_info, swaps ETH
// for USDC (mined on the sandbox) and gets a tool error for a transfer.
// It needs Node.js and `bash clients/install.sh`; without them it is
// skipped, except in CI, where it fails.
func TestTypeScriptClient(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not on PATH"
	default:
		if _, err := os.Stat(filepath.Join(root, "clients", "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err != nil {
			missing = "clients/node_modules/@modelcontextprotocol/sdk is missing"
		}
	}
	if missing != "" {
		msg := missing + ": install Node.js and run `bash clients/install.sh` to test the MCP TypeScript SDK against /mcp"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI must not skip the real-client tests)")
		}
		t.Skip(msg)
	}
	bin := filepath.Join(t.TempDir(), "agentkeys")
	build := exec.Command("go", "build", "-o", bin, "./cmd/agentkeys")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/agentkeys: %v\n%s", err, out)
	}

	sb := startSandbox(t)
	g, err := sb.Service.GrantFrom(context.Background(), service.GrantSpec{Agent: "ts-agent", Profile: "swap-only",
		Routers: []string{sb.Info.Router}, DailyLimit: []string{"0.1ETH"}, TTL: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	tok := g.Token.Reveal()
	cfg, err := json.Marshal(map[string]string{"mcp_url": mcp.EndpointFromRPC(sb.Info.RPCURL), "token": tok, "agentkeys": bin,
		"home": sb.Info.Home, "stranger": stranger.Hex()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("clients", "mcp.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "AGENTKEYS_MCP_CONFIG="+string(cfg))
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("node clients/mcp.mjs timed out\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), tok[strings.LastIndex(tok, "_")+1:]) {
		t.Errorf("the client's output shows its credential")
	}
	var reports []tsReport
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var r tsReport
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("node clients/mcp.mjs: %v; %q is not its JSON report\nstderr:\n%s", runErr, line, stderr.String())
		}
		reports = append(reports, r)
	}
	if runErr != nil || len(reports) != 2 {
		t.Fatalf("node clients/mcp.mjs: %v\nstdout:\n%s\nstderr:\n%s", runErr, stdout.String(), stderr.String())
	}
	wantTools := []string{"get_balance", "get_transaction", "send_transaction", "sign_typed_data", "simulate_transaction", "swap", "wallet_info"}
	for _, r := range reports {
		t.Logf("%s %s over %s: %d tools, swap %s → %s USDC", r.Library, r.Version, r.Transport, len(r.Tools), r.Swap.Hash, r.Swap.AmountOut)
		if !r.OK || !slices.Equal(r.Tools, wantTools) {
			t.Errorf("%s: ok %v (%s), tools %v; want %v", r.Transport, r.OK, r.Error, r.Tools, wantTools)
		}
		if r.WalletInfo.IsError || r.WalletInfo.Address != sb.Info.Owner || r.WalletInfo.ChainID != sb.Info.ChainID {
			t.Errorf("%s: wallet_info %+v, want %s on %d", r.Transport, r.WalletInfo, sb.Info.Owner, sb.Info.ChainID)
		}
		if r.Swap.IsError || r.Swap.Hash == "" || r.Swap.AmountOut == "" {
			t.Errorf("%s: swap %+v, want it mined with its amount out", r.Transport, r.Swap)
		} else {
			waitMined(t, sb, common.HexToHash(r.Swap.Hash))
		}
		if !r.Transfer.IsError || !strings.Contains(r.Transfer.Text, "plain value transfer on 0x9999…9999 is not allowed") || !strings.Contains(r.Transfer.Text, "This key may only:") {
			t.Errorf("%s: transfer to a stranger %+v, want a tool error with the reason and what is allowed", r.Transport, r.Transfer)
		}
	}
	var allowed, denied int
	for _, r := range records(t, sb, "mcp:swap") {
		if r.Decision == audit.DecisionAllow && r.TxHash != "" {
			allowed++
		}
	}
	for _, r := range records(t, sb, "mcp:send_transaction") {
		if r.Decision == audit.DecisionDeny {
			denied++
		}
	}
	if allowed != 2 || denied != 2 {
		t.Errorf("audit: %d allowed swaps and %d refused transfers, want 2 and 2 (one per transport)", allowed, denied)
	}
}
