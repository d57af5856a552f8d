package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/holiman/uint256"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
)

// TestOwnerOfflineCLI: the owner-offline mode end to end through the CLI,
// serve and the agents' endpoint. init --owner-address makes a home with a
// relayer and no owner key; wallet upgrade shows what the owner signs and
// takes the signed authorization; a wallet-mode key is refused; a 7702
// key is pending with the typed data to sign; key activate refuses a
// signature that is not the owner's and takes the owner's; the agent's
// personal_sign is refused with the reason; revoke --all tells the owner
// how to call revokeAll.
func TestOwnerOfflineCLI(t *testing.T) {
	ctx := context.Background()
	owner, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := devchain.Start(ctx, devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner.Address()}, WithoutDelegate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	t.Setenv("AGENTKEYS_PASSPHRASE", deployPassphrase)
	t.Setenv("AGENTKEYS_HOME", "")
	dir := filepath.Join(t.TempDir(), "home")

	out, errOut, code := run(t, "", "init", "--home", dir, "--owner-address", "0x1234")
	if code == 0 || !strings.Contains(errOut, "--owner-address") {
		t.Fatalf("init with a malformed owner address: exit %d, %s", code, errOut)
	}
	out, errOut, code = run(t, "", "init", "--home", dir, "--owner-address", owner.Address().Hex())
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"owner address: " + owner.Address().Hex(), "NOT in this home", "relayer address: 0x", "refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
	token := adminTokenRE.FindString(out)
	if token == "" {
		t.Fatalf("init printed no admin credential:\n%s", out)
	}
	var relayer common.Address
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "relayer address: "); ok {
			relayer = common.HexToAddress(strings.Fields(rest)[0])
		}
	}
	if err := chain.Fund(ctx, relayer); err != nil {
		t.Fatal(err)
	}
	s := runServe(t, dir, chain.URL())
	// The relayer deploys the delegate (anyone may).
	out, errOut, code = s.cliToken(t, token, dir, "wallet", "deploy-delegate", "-o", "json")
	var dep service.DeployResult
	if code != 0 || json.Unmarshal([]byte(out), &dep) != nil || dep.Address == (common.Address{}) || dep.TxHash == "" {
		t.Fatalf("deploy-delegate: exit %d %s\n%s", code, errOut, out)
	}

	out, errOut, code = s.cliToken(t, token, dir, "wallet", "status")
	if code != 0 || !strings.Contains(out, "owner-offline") || !strings.Contains(out, "relayer:  "+relayer.Hex()) {
		t.Fatalf("wallet status: exit %d %s\n%s", code, errOut, out)
	}
	out, errOut, code = s.cliToken(t, token, dir, "wallet", "upgrade")
	if code != 0 || !strings.Contains(out, "cast wallet sign-auth "+dep.Address.Hex()) || !strings.Contains(out, "--authorization") {
		t.Fatalf("wallet upgrade without an authorization: exit %d %s\n%s", code, errOut, out)
	}
	out, errOut, code = s.cliToken(t, token, dir, "wallet", "upgrade", "-o", "json")
	var req service.AuthorizationRequest
	if code != 0 || json.Unmarshal([]byte(out), &req) != nil {
		t.Fatalf("wallet upgrade -o json: exit %d %s\n%s", code, errOut, out)
	}
	auth, err := types.SignSetCode(owner.ECDSA(), types.SetCodeAuthorization{ChainID: *uint256.NewInt(req.ChainID), Address: req.Delegate, Nonce: req.Nonce})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rlp.EncodeToBytes(&auth)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code = s.cliToken(t, token, dir, "wallet", "upgrade", "--authorization", hexutil.Encode(raw))
	if code != 0 || !strings.Contains(out, "delegated to AgentKeyDelegate") {
		t.Fatalf("wallet upgrade --authorization: exit %d %s\n%s", code, errOut, out)
	}

	_, errOut, code = s.cliToken(t, token, dir, "key", "grant", "--agent", "w", "--mode", "wallet", "--profile", "full-access")
	if code == 0 || !strings.Contains(errOut, "--mode 7702") {
		t.Fatalf("wallet-mode grant: exit %d, %s", code, errOut)
	}
	sink := common.HexToAddress("0x00000000000000000000000000000000005e11e5")
	pol := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(pol, []byte(fmt.Sprintf(`name: offline
chains: [%d]
limits: [{asset: native, per_tx: 0.001, per_period: 0.01}]
allow: [{contract: "%s", functions: [{sig: "receive"}]}]
messages: {allow: true}
`, chain.ChainID().Uint64(), sink.Hex())), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = s.cliToken(t, token, dir, "key", "grant", "--agent", "bot", "--mode", "7702", "--policy", pol, "-o", "json")
	grantOut := out
	var g admin.GrantView
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil {
		t.Fatalf("grant: exit %d %s\n%s", code, errOut, out)
	}
	if g.Status != "pending_signature" || g.SignatureRequest == nil || g.SignatureRequest.Signer != owner.Address() {
		t.Fatalf("grant: status %q, signature request %+v", g.Status, g.SignatureRequest)
	}
	out, errOut, code = s.cliToken(t, token, dir, "key", "show", g.KeyID)
	if code != 0 || !strings.Contains(out, "pending_signature") || !strings.Contains(out, g.SignatureRequest.Digest.Hex()) || !strings.Contains(out, "agentkeys key activate "+g.KeyID) {
		t.Fatalf("key show of a pending key: exit %d %s\n%s", code, errOut, out)
	}
	// The typed data as a wallet receives it: the JSON printed.
	var wire struct {
		SignatureRequest struct {
			TypedData json.RawMessage `json:"typed_data"`
		} `json:"signature_request"`
	}
	if err := json.Unmarshal([]byte(grantOut), &wire); err != nil {
		t.Fatal(err)
	}
	stranger, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sign := func(key *secrets.PrivateKey) string {
		var td apitypes.TypedData
		if err := json.Unmarshal(wire.SignatureRequest.TypedData, &td); err != nil {
			t.Fatal(err)
		}
		digest, _, err := apitypes.TypedDataAndHash(td)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := crypto.Sign(digest, key.ECDSA())
		if err != nil {
			t.Fatal(err)
		}
		sig[64] += 27
		return hexutil.Encode(sig)
	}

	_, errOut, code = s.cliToken(t, token, dir, "key", "activate", g.KeyID, "--signature", sign(stranger))
	if code == 0 || !strings.Contains(errOut, "not the owner") {
		t.Fatalf("activate with another key's signature: exit %d, %s", code, errOut)
	}
	agentReq := func(method string, params ...any) string {
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
		r, err := http.NewRequest("POST", s.agentURL+"/rpc", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+g.Token)
		r.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := agentReq("personal_sign", "0x68656c6c6f", owner.Address().Hex()); !strings.Contains(got, "4100") || !strings.Contains(got, "pending owner signature") {
		t.Errorf("agent request while pending: %s", got)
	}
	out, errOut, code = s.cliToken(t, token, dir, "key", "activate", g.KeyID, "--signature", sign(owner))
	if code != 0 || !strings.Contains(out, "activated "+g.KeyID) {
		t.Fatalf("activate: exit %d %s\n%s", code, errOut, out)
	}
	if got := agentReq("personal_sign", "0x68656c6c6f", owner.Address().Hex()); !strings.Contains(got, "only the owner can sign") {
		t.Errorf("personal_sign after activation: %s", got)
	}
	out, errOut, code = s.cliToken(t, token, dir, "key", "revoke", "--all")
	if code != 0 || !strings.Contains(out, "revokeAll()") || !strings.Contains(out, "cast send "+owner.Address().Hex()) {
		t.Fatalf("revoke --all: exit %d %s\n%s", code, errOut, out)
	}
}

// cliToken runs one agentkeys command against a served daemon's admin API
// with the admin credential as init printed it.
func (s *served) cliToken(t *testing.T, token, dir string, args ...string) (string, string, int) {
	t.Helper()
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", token)
	full := append(append([]string{}, args...), "--home", dir, "--admin-url", s.adminURL)
	return run(t, "", full...)
}
