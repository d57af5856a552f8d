package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/holiman/uint256"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/doctor"
	"github.com/agentkeys/agentkeys/internal/gethtest"
	"github.com/agentkeys/agentkeys/internal/onchain"
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
	ownerOfflineStory(t, offlineChain{url: chain.URL(), id: chain.ChainID().Uint64(), client: chain.Client(),
		fund: func(a common.Address) {
			if err := chain.Fund(ctx, a); err != nil {
				t.Fatal(err)
			}
		}}, owner)
}

// TestOwnerOfflineOnGethDev is TestOwnerOfflineCLI in front of a real
// go-ethereum node (geth --dev).
func TestOwnerOfflineOnGethDev(t *testing.T) {
	node := gethtest.Start(t)
	owner, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ten := new(big.Int).Mul(big.NewInt(10), big.NewInt(1e18))
	node.Fund(t, ten, owner.Address())
	ownerOfflineStory(t, offlineChain{url: node.URL, id: node.ChainID, client: node.Client(),
		fund: func(a common.Address) { node.Fund(t, ten, a) }}, owner)
}

// offlineChain is the node a story runs on.
type offlineChain struct {
	url    string
	id     uint64
	client *ethclient.Client
	fund   func(common.Address)
}

// ownerOfflineStory: init --owner-address, the relayer deploys the
// delegate, the owner signs the authorization, a 7702 key is granted,
// pending, activated with the owner's signature, pays within its grant,
// is refused outside it and for personal_sign; revoke --all prints the
// owner's revokeAll, and once the owner sends it the chain refuses the
// session too.
func ownerOfflineStory(t *testing.T, chain offlineChain, owner *secrets.PrivateKey) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
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
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", token)
	doctorArgs := []string{"--home", dir, "--rpc-upstream", chain.url}
	r, dout, _ := runDoctor(t, headTime(t, chain.client).Add(3*time.Second), doctorArgs...)
	if c := checkOf(t, r, "owner key"); c.Status != doctor.OK || !strings.Contains(c.Detail, "not on this host") || !strings.Contains(c.Detail, relayer.Hex()) {
		t.Errorf("doctor's owner key check: %+v", c)
	}
	if c := checkOf(t, r, "relayer balance"); c.Status != doctor.Fail || !strings.Contains(c.Fix, relayer.Hex()) {
		t.Errorf("doctor with an unfunded relayer: %+v", c)
	}
	if strings.Join(r.Modes, ",") != "7702" {
		t.Errorf("doctor's modes without the owner's key: %v\n%s", r.Modes, dout)
	}
	chain.fund(relayer)
	r, _, _ = runDoctor(t, headTime(t, chain.client).Add(3*time.Second), doctorArgs...)
	if c := checkOf(t, r, "relayer balance"); c.Status != doctor.OK {
		t.Errorf("doctor with a funded relayer: %+v", c)
	}
	s := runServe(t, dir, chain.url)
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
`, chain.id, sink.Hex())), 0o600); err != nil {
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
	agent, err := rpc.DialOptions(ctx, s.agentURL+"/rpc", rpc.WithHeader("Authorization", "Bearer "+g.Token))
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	pay := func(to common.Address) (common.Hash, error) {
		var h common.Hash
		err := agent.CallContext(ctx, &h, "eth_sendTransaction", map[string]any{"to": to, "value": (*hexutil.Big)(big.NewInt(1e15))})
		return h, err
	}
	h, err := pay(sink)
	if err != nil {
		t.Fatalf("allowed payment: %v\nserve: %s", err, s.errOut.String())
	}
	if r, err := delegation.Wait(ctx, chain.client, h); err != nil || r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("allowed payment: %v", err)
	}
	var rerr rpc.Error
	if _, err := pay(common.HexToAddress("0x00000000000000000000000000000000000beef2")); !errors.As(err, &rerr) || rerr.ErrorCode() != 4001 {
		t.Fatalf("payment to a stranger: %v, want 4001", err)
	}

	out, errOut, code = s.cliToken(t, token, dir, "key", "revoke", "--all")
	if code != 0 || !strings.Contains(out, "revokeAll()") || !strings.Contains(out, "cast send "+owner.Address().Hex()) {
		t.Fatalf("revoke --all: exit %d %s\n%s", code, errOut, out)
	}
	// The owner sends its revokeAll from its own wallet: the session, used
	// directly with its stolen key, is refused by the chain.
	var ra struct {
		OwnerAction service.OwnerCall `json:"owner_action"`
	}
	// revoke --all again for the JSON: nothing left to revoke, same call.
	out, _, _ = s.cliToken(t, token, dir, "key", "revoke", "--all", "-o", "json")
	if err := json.Unmarshal([]byte(out), &ra); err != nil || ra.OwnerAction.To != owner.Address() {
		t.Fatalf("revoke --all -o json: %v\n%s", err, out)
	}
	session := common.HexToAddress(g.Session)
	ownerAddr := owner.Address()
	// Revoked by the daemon only: the stolen session key still works on
	// chain, within its grant, until the owner acts.
	if _, err := chain.client.EstimateGas(ctx, ethereum.CallMsg{From: session, To: &ownerAddr, Data: onchain.PackExecute(sink, big.NewInt(1e14), nil)}); err != nil {
		t.Fatalf("before the owner's revokeAll the session's execute within its grant fails: %v", err)
	}
	if r, err := sendFrom(ctx, chain, owner, ra.OwnerAction.To, hexutil.MustDecode(ra.OwnerAction.Data)); err != nil || r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("the owner's revokeAll: %v", err)
	}
	if _, err := chain.client.EstimateGas(ctx, ethereum.CallMsg{From: session, To: &ownerAddr, Data: onchain.PackExecute(sink, big.NewInt(1e14), nil)}); err == nil {
		t.Error("after the owner's revokeAll the chain still takes the session's execute")
	}
	// Every step above left an audit record in one unbroken chain,
	// the activation among them.
	out, errOut, code = run(t, "", "audit", "verify", "--home", dir)
	if code != 0 {
		t.Fatalf("audit verify: exit %d %s\n%s", code, errOut, out)
	}
	out, errOut, code = run(t, "", "audit", "tail", "--home", dir, "-n", "1000", "-o", "json")
	for _, m := range []string{"agentkeys_walletUpgrade", "agentkeys_grantWithSignature", "agentkeys_activate", "agentkeys_deployDelegate"} {
		if code != 0 || !strings.Contains(out, m) {
			t.Errorf("audit tail lacks %s (exit %d %s)", m, code, errOut)
		}
	}
}

// sendFrom signs and sends a transaction as the owner's own wallet would,
// and waits for its receipt.
func sendFrom(ctx context.Context, chain offlineChain, key *secrets.PrivateKey, to common.Address, data []byte) (*types.Receipt, error) {
	c := chain.client
	nonce, err := c.PendingNonceAt(ctx, key.Address())
	if err != nil {
		return nil, err
	}
	tip, err := c.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, err
	}
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, err
	}
	gas, err := c.EstimateGas(ctx, ethereum.CallMsg{From: key.Address(), To: &to, Data: data})
	if err != nil {
		return nil, err
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: new(big.Int).SetUint64(chain.id), Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: gas * 2, To: &to, Data: data}), types.LatestSignerForChainID(new(big.Int).SetUint64(chain.id)), key.ECDSA())
	if err != nil {
		return nil, err
	}
	if err := c.SendTransaction(ctx, tx); err != nil {
		return nil, err
	}
	return delegation.Wait(ctx, c, tx.Hash())
}

// cliToken runs one agentkeys command against a served daemon's admin API
// with the admin credential as init printed it.
func (s *served) cliToken(t *testing.T, token, dir string, args ...string) (string, string, int) {
	t.Helper()
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", token)
	full := append(append([]string{}, args...), "--home", dir, "--admin-url", s.adminURL)
	return run(t, "", full...)
}
