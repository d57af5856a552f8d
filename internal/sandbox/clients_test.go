package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/audit"
)

// clientRefusal is how a client script reports a refused request: the
// JSON-RPC code and data.reasons it found in the library's error, where it
// found them, and the library's own error chain.
type clientRefusal struct {
	Code        int      `json:"code"`
	CodePath    string   `json:"code_path"`
	Reasons     []string `json:"reasons"`
	ReasonsPath string   `json:"reasons_path"`
	Chain       []string `json:"chain"`
	Top         struct {
		Name    string `json:"name"`
		Code    any    `json:"code"`
		Message string `json:"message"`
	} `json:"top"`
}

// clientReport is the JSON line clients/viem.mjs and clients/ethers.mjs
// print.
type clientReport struct {
	Library string `json:"library"`
	Version string `json:"version"`
	OK      bool   `json:"ok"`
	Error   string `json:"error"`
	ChainID uint64 `json:"chain_id"`
	Swap    struct {
		Hash string `json:"hash"`
	} `json:"swap"`
	TypedDataSigned struct {
		Signature string `json:"signature"`
		Recovered string `json:"recovered"`
	} `json:"typed_data_signed"`
	TransferRefusal  clientRefusal `json:"transfer_refusal"`
	TypedDataRefusal clientRefusal `json:"typed_data_refusal"`
	Permissions      struct {
		Agent   string `json:"agent"`
		Profile string `json:"profile"`
		Budget  []struct {
			Symbol     string `json:"symbol"`
			RawSpent   string `json:"raw_spent"`
			RawPending string `json:"raw_pending"`
		} `json:"budget"`
	} `json:"permissions"`
	ObservedNonceParam json.RawMessage `json:"observed_nonce_param"`
}

// TestRealClients drives agentkeys' /rpc with unmodified viem and ethers
// (clients/*.mjs): reads, a swap mined through the router, a token
// transfer and an EIP-712 permit refused with 4001 and data.reasons, and
// agentkeys_getPermissions through each library's raw request. It needs
// Node.js and `bash clients/install.sh`; without them it is skipped, except
// in CI, where it fails.
func TestRealClients(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	var missing string
	switch {
	case err != nil:
		missing = "node is not on PATH"
	default:
		for _, lib := range []string{"viem", "ethers"} {
			if _, err := os.Stat(filepath.Join(root, "clients", "node_modules", lib, "package.json")); err != nil {
				missing = "clients/node_modules/" + lib + " is missing"
				break
			}
		}
	}
	if missing != "" {
		msg := missing + ": install Node.js and run `bash clients/install.sh` to test viem and ethers against /rpc"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI must not skip the real-client tests)")
		}
		t.Skip(msg)
	}

	for _, lib := range []string{"viem", "ethers"} {
		t.Run(lib, func(t *testing.T) {
			e := start(t)
			info := e.sb.Info
			router, usdc := common.HexToAddress(info.Router), info.Tokens["USDC"]
			// Permit2 signatures to the router are allowed (the sandbox has
			// no Permit2 contract; signing needs none), up to 100 USDC a day.
			g := e.grant(map[string]any{"agent": lib, "profile": "swap-only", "routers": []string{info.Router}, "daily_limit": []string{"0.1ETH", "100USDC"},
				"permit2": permit2.Hex()})
			tok, keyID := token(t, g), g["key_id"].(string)
			cfg, err := json.Marshal(map[string]any{
				"rpc_url": info.RPCURL, "token": tok, "owner": info.Owner, "router": info.Router,
				"weth": info.WETH, "usdc": usdc, "chain_id": info.ChainID, "stranger": stranger.Hex(), "permit2": permit2.Hex(),
			})
			if err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, filepath.Join("clients", lib+".mjs"))
			cmd.Dir = root
			// The credential goes in the environment, not argv, so it is
			// not visible in the process list.
			cmd.Env = append(os.Environ(), "AGENTKEYS_CLIENT_CONFIG="+string(cfg))
			cmd.WaitDelay = 5 * time.Second
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("node clients/%s.mjs timed out\nstdout:\n%s\nstderr:\n%s", lib, stdout.String(), stderr.String())
			}

			var rep clientReport
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
				t.Fatalf("node clients/%s.mjs: %v; output is not its JSON report: %v\nstdout:\n%s\nstderr:\n%s", lib, runErr, err, stdout.String(), stderr.String())
			}
			if runErr != nil || !rep.OK {
				var exit *exec.ExitError
				if runErr != nil && !errors.As(runErr, &exit) {
					t.Fatalf("node clients/%s.mjs: %v\nstderr:\n%s", lib, runErr, stderr.String())
				}
				t.Fatalf("node clients/%s.mjs failed (%v): %s\nreport: %s\nstderr:\n%s", lib, runErr, rep.Error, lines[len(lines)-1], stderr.String())
			}
			if strings.Contains(stdout.String()+stderr.String(), tok[strings.LastIndex(tok, "_")+1:]) {
				t.Errorf("the client's output shows its credential")
			}
			t.Logf("%s %s: %s", rep.Library, rep.Version, lines[len(lines)-1])

			if rep.Library != lib || rep.ChainID != info.ChainID {
				t.Errorf("report of %q on chain %d, want %s on %d", rep.Library, rep.ChainID, lib, info.ChainID)
			}

			// The swap is on chain, from the owner to the router, and it
			// succeeded.
			hash := common.HexToHash(rep.Swap.Hash)
			if rcpt := e.receipt(hash); rcpt.Status != types.ReceiptStatusSuccessful {
				t.Errorf("swap %s: receipt status %d", hash.Hex(), rcpt.Status)
			}
			tx, _, err := e.sb.Chain.Client().TransactionByHash(context.Background(), hash)
			if err != nil {
				t.Fatal(err)
			}
			if tx.To() == nil || *tx.To() != router {
				t.Errorf("swap sent to %v, want the router %s", tx.To(), router.Hex())
			}
			if from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx); err != nil || from != common.HexToAddress(info.Owner) {
				t.Errorf("swap signed by %s (%v), want the owner %s", from.Hex(), err, info.Owner)
			}

			for _, r := range []struct {
				what, want string
				got        clientRefusal
			}{
				{"USDC transfer to a stranger", "profile swap-only blocks token transfers", rep.TransferRefusal},
				{"EIP-712 permit to a stranger", "typed data Permit", rep.TypedDataRefusal},
			} {
				if r.got.Code != 4001 || !slices.ContainsFunc(r.got.Reasons, func(s string) bool { return strings.Contains(s, r.want) }) {
					t.Errorf("%s: %s showed code %d, reasons %q; want 4001 with a reason containing %q", r.what, lib, r.got.Code, r.got.Reasons, r.want)
				}
				t.Logf("%s: %s surfaces %s (%s %v: %q); code at %s, data.reasons at %s",
					r.what, lib, strings.Join(r.got.Chain, " > "), r.got.Top.Name, r.got.Top.Code, r.got.Top.Message, r.got.CodePath, r.got.ReasonsPath)
			}

			// The allowed Permit2 signature: made by the owner's key.
			if rep.TypedDataSigned.Signature == "" || !strings.EqualFold(rep.TypedDataSigned.Recovered, info.Owner) {
				t.Errorf("Permit2 PermitSingle to the router through %s: %+v, want a signature recovering to the owner %s", lib, rep.TypedDataSigned, info.Owner)
			}

			p := rep.Permissions
			charged := map[string]*big.Int{}
			for _, b := range p.Budget {
				spent, _ := new(big.Int).SetString(b.RawSpent, 10)
				pending, _ := new(big.Int).SetString(b.RawPending, 10)
				if spent != nil && pending != nil {
					charged[b.Symbol] = new(big.Int).Add(spent, pending)
				}
			}
			// The 0.01 ETH swap and its worst-case fee are pending until the
			// watcher sees it mined (no watcher runs in these tests); the
			// 50 USDC the permit lets the router take is spent at once.
			value := big.NewInt(1e16)
			if eth := charged["ETH"]; p.Agent != lib || p.Profile != "swap-only" || len(p.Budget) != 2 || eth == nil ||
				eth.Cmp(value) <= 0 || eth.Cmp(new(big.Int).Mul(value, big.NewInt(2))) >= 0 || charged["USDC"] == nil || charged["USDC"].Int64() != 50_000_000 {
				t.Errorf("agentkeys_getPermissions through %s: %+v, want agent %s, swap-only, the 0.01 ETH swap plus its fee and the 50 USDC permit charged", lib, p, lib)
			}
			t.Logf("a nonce set by the caller (-32602 from agentkeys), as %s shows it: %s", lib, rep.ObservedNonceParam)

			// The daemon recorded the swap as allowed and both refusals.
			var allowed, signedTyped bool
			var denied []string
			for _, r := range e.auditRecords() {
				if r.KeyID != keyID {
					continue
				}
				switch {
				case r.Decision == audit.DecisionAllow && r.Method == "eth_sendTransaction" && common.HexToHash(r.TxHash) == hash:
					allowed = true
				case r.Decision == audit.DecisionAllow && r.Method == "eth_signTypedData_v4":
					signedTyped = true
				case r.Decision == audit.DecisionDeny:
					denied = append(denied, r.Method)
				}
			}
			if !allowed || !signedTyped || !slices.Contains(denied, "eth_sendTransaction") || !slices.Contains(denied, "eth_signTypedData_v4") {
				t.Errorf("audit: swap allowed %v, Permit2 signed %v, denials %q; want the swap and the Permit2 allowed and eth_sendTransaction and eth_signTypedData_v4 denied", allowed, signedTyped, denied)
			}
			if rep := e.verifyAudit(); !rep.OK() {
				t.Errorf("audit: %s", rep)
			}
		})
	}
}
