package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/agentkeys/agentkeys/client"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
)

// startSandbox runs a chain and a daemon in a fresh home.
func startSandbox(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Config{Home: t.TempDir(), Passphrase: []byte("client test passphrase"), KDF: &kdf,
		// A fixed clock for daemon and chain: nothing here depends on today.
		Now: clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)).Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

var routerABI = mustABI(`[
 {"type":"function","name":"swapExactETHForTokens","stateMutability":"payable","inputs":[{"name":"amountOutMin","type":"uint256"},{"name":"path","type":"address[]"},{"name":"to","type":"address"},{"name":"deadline","type":"uint256"}],"outputs":[{"name":"amounts","type":"uint256[]"}]},
 {"type":"function","name":"balanceOf","stateMutability":"view","inputs":[{"name":"a","type":"address"}],"outputs":[{"name":"","type":"uint256"}]}
]`)

func mustABI(s string) abi.ABI {
	a, err := abi.JSON(strings.NewReader(s))
	if err != nil {
		panic(err)
	}
	return a
}

func pack(t *testing.T, method string, args ...any) []byte {
	t.Helper()
	b, err := routerABI.Pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func milliETH(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e15)) }

// TestClientAgainstSandbox drives every method of the client against a
// real daemon and chain: what the key's policy allows is signed (and a
// swap mined), and each kind of error answer arrives as an *Error with
// its code and, for refusals, the policy's reasons.
func TestClientAgainstSandbox(t *testing.T) {
	sb := startSandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	info := sb.Info
	owner, router := common.HexToAddress(info.Owner), common.HexToAddress(info.Router)
	usdc, weth := common.HexToAddress(info.Tokens["USDC"]), common.HexToAddress(info.WETH)
	stranger := common.HexToAddress("0x9999999999999999999999999999999999999999")
	policyText := fmt.Sprintf(`name: client-test
chains: [%d]
limits: [{asset: native, per_tx: 0.05, per_period: 0.1}]
allow:
  - contract: "%s"
    functions:
      - sig: "swapExactETHForTokens(uint256,address[],address,uint256)"
        where: { to: "$owner" }
typed_data:
  allow:
    - domain: { name: ClientTest, chain_id: %d }
      primary_type: Hello
messages: {allow: true, prefixes: ["agentkeys login:"]}
`, info.ChainID, router.Hex(), info.ChainID)
	g, err := sb.Service.GrantFrom(ctx, service.GrantSpec{Agent: "client-test", Policy: policyText})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, info.RPCURL, g.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if id, err := c.ChainID(ctx); err != nil || id != info.ChainID {
		t.Fatalf("ChainID = %d, %v; want %d", id, err, info.ChainID)
	}
	if a, err := c.Address(ctx); err != nil || a != owner {
		t.Fatalf("Address = %s, %v; want the owner %s", a.Hex(), err, owner.Hex())
	}
	p, err := c.Permissions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.KeyID != g.Grant.ID || p.Agent != "client-test" || p.Address != owner.Hex() || len(p.May) == 0 || !json.Valid(p.Document) {
		t.Fatalf("Permissions = %+v", p)
	}
	// The client's type carries every field the daemon sends: the two are
	// kept in step by hand, as this package may not import the service's.
	var raw json.RawMessage
	if err := c.RPC().CallContext(ctx, &raw, "agentkeys_getPermissions"); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(new(client.Permissions)); err != nil {
		t.Errorf("agentkeys_getPermissions has a field client.Permissions lacks: %v", err)
	}
	var native *client.Budget
	for i := range p.Budget {
		if p.Budget[i].Asset == "native" {
			native = &p.Budget[i]
		}
	}
	if native == nil || native.PerTx != "0.05" || native.Remaining != "0.1" {
		t.Fatalf("budget = %+v, want native 0.05 per tx and 0.1 left", p.Budget)
	}

	balance := func() *big.Int {
		out, err := c.Eth().CallContract(ctx, ethereum.CallMsg{To: &usdc, Data: pack(t, "balanceOf", owner)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return new(big.Int).SetBytes(out)
	}
	before := balance()
	head, err := c.Eth().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := new(big.Int).SetUint64(head.Time + 3600)
	swap := client.Tx{To: &router, Value: milliETH(10), Data: pack(t, "swapExactETHForTokens", big.NewInt(1), []common.Address{weth, usdc}, owner, deadline)}
	r, err := c.Transact(ctx, swap)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("swap receipt status %d", r.Status)
	}
	if after := balance(); after.Cmp(before) <= 0 {
		t.Fatalf("USDC balance %s after the swap, %s before", after, before)
	}

	signed, err := c.SignTransaction(ctx, swap)
	if err != nil {
		t.Fatal(err)
	}
	from, err := types.Sender(types.LatestSignerForChainID(signed.ChainId()), signed)
	if err != nil || from != owner || *signed.To() != router || signed.ChainId().Uint64() != info.ChainID {
		t.Fatalf("signed transaction from %s (%v) to %v on chain %s", from.Hex(), err, signed.To(), signed.ChainId())
	}

	hello := func(primary string) apitypes.TypedData {
		return apitypes.TypedData{
			Types: apitypes.Types{
				"EIP712Domain": {{Name: "name", Type: "string"}, {Name: "chainId", Type: "uint256"}},
				primary:        {{Name: "text", Type: "string"}},
			},
			PrimaryType: primary,
			Domain:      apitypes.TypedDataDomain{Name: "ClientTest", ChainId: (*math.HexOrDecimal256)(new(big.Int).SetUint64(info.ChainID))},
			Message:     apitypes.TypedDataMessage{"text": "hi"},
		}
	}
	td := hello("Hello")
	sig, err := c.SignTypedData(ctx, td)
	if err != nil {
		t.Fatal(err)
	}
	if got := recoverTyped(t, td, sig); got != owner {
		t.Errorf("typed data signed by %s, want the owner", got.Hex())
	}
	sig, err = c.PersonalSign(ctx, []byte("agentkeys login: 42"))
	if err != nil || len(sig) != 65 {
		t.Fatalf("PersonalSign = %x, %v", sig, err)
	}

	// Each kind of error answer, as the agent meets it.
	bad, err := client.Dial(ctx, info.RPCURL, "ak_notakey_0000")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	_, credErr := bad.ChainID(ctx)
	unsupported := client.AsError(c.RPC().CallContext(ctx, nil, "eth_coinbase"))
	paramsErr := client.AsError(c.RPC().CallContext(ctx, nil, "eth_sendTransaction"))
	_, transfer := c.SendTransaction(ctx, client.Tx{To: &stranger, Value: milliETH(10)})
	_, overCap := c.SendTransaction(ctx, client.Tx{To: &router, Value: milliETH(60), Data: swap.Data})
	_, typedRefused := c.SignTypedData(ctx, hello("Drain"))
	_, messageRefused := c.PersonalSign(ctx, []byte("send all funds"))
	tests := []struct {
		name   string
		err    error
		code   int
		reason string // a substring of one of the reasons (refusals)
	}{
		{"unknown credential", credErr, client.CodeCredential, ""},
		{"unsupported method", unsupported, client.CodeUnsupported, ""},
		{"missing params", paramsErr, client.CodeInvalidParams, ""},
		{"native send to a stranger", transfer, client.CodeRefused, stranger.Hex()[:6]},
		{"over the per-transaction limit", overCap, client.CodeRefused, "per-transaction"},
		{"typed data no rule allows", typedRefused, client.CodeRefused, ""},
		{"message without the prefix", messageRefused, client.CodeRefused, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *client.Error
			if !errors.As(tt.err, &e) {
				t.Fatalf("error %v (%T) is not a *client.Error", tt.err, tt.err)
			}
			if e.Code != tt.code || e.Refused() != (tt.code == client.CodeRefused) {
				t.Fatalf("code %d (refused %v), want %d: %v", e.Code, e.Refused(), tt.code, e)
			}
			if e.Refused() && len(e.Reasons) == 0 {
				t.Fatalf("a refusal without reasons: %v", e)
			}
			if tt.reason != "" && !strings.Contains(strings.ToLower(strings.Join(e.Reasons, "\n")), strings.ToLower(tt.reason)) {
				t.Errorf("reasons %q lack %q", e.Reasons, tt.reason)
			}
		})
	}
}

func TestDialNeedsURLAndCredential(t *testing.T) {
	ctx := context.Background()
	if _, err := client.Dial(ctx, "", "ak_x"); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Errorf("Dial without a URL: %v", err)
	}
	if _, err := client.Dial(ctx, "http://127.0.0.1:1/rpc", " "); err == nil || !strings.Contains(err.Error(), "credential") {
		t.Errorf("Dial without a credential: %v", err)
	}
	t.Setenv(client.EnvRPCURL, "http://127.0.0.1:1/rpc")
	t.Setenv(client.EnvToken, "")
	if _, err := client.FromEnv(ctx); err == nil || !strings.Contains(err.Error(), client.EnvToken) {
		t.Errorf("FromEnv without a token: %v", err)
	}
}

func recoverTyped(t *testing.T, td apitypes.TypedData, sig []byte) common.Address {
	t.Helper()
	hash, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	s := append([]byte(nil), sig...)
	if s[64] >= 27 {
		s[64] -= 27
	}
	pub, err := crypto.SigToPub(hash, s)
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(*pub)
}

// TestAsErrorPassesOtherErrors: only JSON-RPC error answers become
// *Error; a transport failure or a cancelled context stays what it is.
func TestAsErrorPassesOtherErrors(t *testing.T) {
	if client.AsError(nil) != nil {
		t.Error("AsError(nil) is not nil")
	}
	if err := client.AsError(context.Canceled); err != context.Canceled {
		t.Errorf("AsError(context.Canceled) = %v", err)
	}
	c, err := client.Dial(context.Background(), "http://127.0.0.1:1/rpc", "ak_x")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.ChainID(context.Background())
	var e *client.Error
	if err == nil || errors.As(err, &e) {
		t.Errorf("a refused connection: %v (%T), want a transport error, not *client.Error", err, err)
	}
}
