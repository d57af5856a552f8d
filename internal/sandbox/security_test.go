package sandbox

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/home"
)

// secret is something that must never leave the places it belongs.
type secret struct {
	name  string
	text  []string // spellings, matched case-insensitively
	bytes [][]byte // raw forms, matched exactly in binary files
}

// credentialSecret returns the spellings of a credential: the whole token
// and its random part, as text and as raw bytes.
func credentialSecret(name, token string) secret {
	part := token[strings.LastIndex(token, "_")+1:]
	s := secret{name: name, text: []string{token, part}}
	if raw, err := hex.DecodeString(part); err == nil {
		s.bytes = append(s.bytes, raw)
	}
	return s
}

// leaks returns the names of the secrets found in b.
func leaks(b []byte, secrets []secret) []string {
	lower := bytes.ToLower(b)
	var found []string
	for _, s := range secrets {
		hit := false
		for _, t := range s.text {
			hit = hit || bytes.Contains(lower, bytes.ToLower([]byte(t)))
		}
		for _, raw := range s.bytes {
			hit = hit || bytes.Contains(b, raw)
		}
		if hit {
			found = append(found, s.name)
		}
	}
	return found
}

// TestNoSecretLeaks runs a representative session — several keys, allowed
// and refused requests, bad and revoked credentials, bad parameters and
// admin calls with wrong credentials — and then looks for every secret in
// everything the daemon wrote: its logs, every response to a client, the
// audit log, the raw database files and the home's other files
// (Invariant 5).
func TestNoSecretLeaks(t *testing.T) {
	e := start(t)
	info := e.sb.Info
	ctx := context.Background()
	owner, router, usdc, weth := common.HexToAddress(info.Owner), common.HexToAddress(info.Router),
		common.HexToAddress(info.Tokens["USDC"]), common.HexToAddress(info.WETH)

	// Keys.
	full := e.grant(map[string]any{"agent": "dev", "profile": "full-access", "daily_limit": []string{"0.05ETH", "100USDC"}, "ttl": "2h"})
	swap := e.grant(map[string]any{"agent": "trader", "profile": "swap-only", "routers": []string{router.Hex()}, "permit2": permit2.Hex(), "daily_limit": []string{"0.05ETH", "100USDC"}})
	reader := e.grant(map[string]any{"agent": "reader", "profile": "read-only"})
	revoked := e.grant(map[string]any{"agent": "gone", "policy": depositPolicy(weth, "0.01")})
	fullTok, swapTok, readTok, revTok := token(t, full), token(t, swap), token(t, reader), token(t, revoked)

	// Allowed requests.
	for _, tok := range []string{fullTok, swapTok, readTok, revTok} {
		wantResult(t, e.call(tok, "eth_accounts"), nil)
		wantResult(t, e.call(tok, "agentkeys_getPermissions"), nil)
	}
	// A signed transaction takes a nonce: broadcast it as its agent would,
	// or every later transaction of the account waits behind the gap.
	var raw hexutil.Bytes
	wantResult(t, e.call(fullTok, "eth_signTransaction", map[string]any{"to": weth.Hex(), "value": "0x38d7ea4c68000"}), &raw)
	var signed types.Transaction
	if err := signed.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Chain.Client().SendTransaction(ctx, &signed); err != nil {
		t.Fatal(err)
	}
	var hash common.Hash
	wantResult(t, e.call(fullTok, "eth_sendTransaction", map[string]any{"to": weth.Hex(), "value": "0x38d7ea4c68000"}), &hash)
	e.receipt(hash)
	wantResult(t, e.call(fullTok, "personal_sign", "agentkeys login: nonce 42", owner.Hex()), nil)
	wantResult(t, e.call(swapTok, "eth_signTypedData_v4", owner.Hex(), permitSingle(info.ChainID, usdc, router, "1000000")), nil)
	wantResult(t, e.call(readTok, "eth_getBalance", owner.Hex(), "latest"), nil)
	swapData := hexutil.Encode(calldata(t, "swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, owner, big.NewInt(4_000_000_000)))
	wantResult(t, e.call(swapTok, "eth_sendTransaction", map[string]any{"to": router.Hex(), "value": "0x38d7ea4c68000", "data": swapData}), &hash)
	e.receipt(hash)

	// Refused requests.
	transfer := hexutil.Encode(calldata(t, "transfer(address,uint256)", stranger, big.NewInt(1)))
	wantError(t, e.call(swapTok, "eth_sendTransaction", map[string]any{"to": usdc.Hex(), "data": transfer}), 4001, "blocks token transfers")
	wantError(t, e.call(fullTok, "eth_signTransaction", map[string]any{"to": weth.Hex(), "value": "0xde0b6b3a7640000"}), 4001, "over the limit")
	wantError(t, e.call(fullTok, "eth_sign", owner.Hex(), common.Hash{1}.Hex()), 4001, "eth_sign")
	wantError(t, e.call(readTok, "personal_sign", "hello", owner.Hex()), 4001, "personal_sign")
	wantError(t, e.call(readTok, "eth_signTypedData_v4", owner.Hex(), permitSingle(info.ChainID, usdc, stranger, "1")), 4001, "typed")

	// Bad credentials.
	idOf := func(tok string) string { return strings.Split(tok, "_")[1] }
	for _, bad := range []string{
		"ak_" + idOf(fullTok) + "_" + strings.Repeat("0", 64),            // a real id, a wrong secret
		fullTok[:len(fullTok)-1],                                         // one character short
		"ak_aaaaaaaaaaaa_" + fullTok[strings.LastIndex(fullTok, "_")+1:], // a real secret under another id
		e.sb.AdminToken, // the admin credential on /rpc
		"Bearer " + fullTok,
	} {
		wantError(t, e.call(bad, "eth_chainId"), 4100, "unknown credential")
	}
	wantError(t, e.call("", "eth_chainId"), 4100, "missing credential")
	if code := e.admin("POST", "/v1/grants/"+revoked["key_id"].(string)+"/revoke", nil, nil); code != http.StatusOK {
		t.Fatalf("revoke: HTTP %d", code)
	}
	wantError(t, e.call(revTok, "eth_accounts"), 4100, "credential revoked")
	wantError(t, e.call(revTok, "eth_signTransaction", map[string]any{"to": weth.Hex(), "value": "0x1"}), 4100, "credential revoked")

	// Bad parameters and bodies.
	wantError(t, e.call(fullTok, "eth_sendTransaction", map[string]any{"to": weth.Hex(), "value": "12"}), -32602, "value")
	wantError(t, e.call(fullTok, "eth_signTransaction", map[string]any{"to": weth.Hex(), "nonce": "0x0"}), -32602, "nonce")
	wantError(t, e.call(fullTok, "eth_signTypedData_v4", owner.Hex(), "not a document"), -32602, "typedData")
	wantError(t, e.call(fullTok, "eth_coinbase"), 4200, "not supported")
	e.post(fullTok, fullTok)            // the token as the body
	e.post(fullTok, `[`+fullTok+`]`)    // and as a broken batch
	e.do(http.MethodGet, fullTok, "")   // wrong HTTP method
	e.post(fullTok, `{"jsonrpc":"2.0"`) // truncated

	// The admin API with wrong credentials, and legitimate views.
	adminSecret := e.sb.AdminToken[strings.LastIndex(e.sb.AdminToken, "_")+1:]
	flipped := []byte(e.sb.AdminToken)
	flipped[len(flipped)-1] ^= 1
	for _, bad := range []string{"", fullTok, string(flipped), "akadm_aaaaaaaaaaaa_" + adminSecret, "akadm_" + adminSecret} {
		var out map[string]any
		if code := e.adminAs(bad, "GET", "/v1/grants", nil, &out); code != http.StatusUnauthorized {
			t.Errorf("admin with a wrong credential: HTTP %d, want 401", code)
		}
		if code := e.adminAs(bad, "POST", "/v1/grants", map[string]any{"agent": "x", "profile": "full-access"}, &out); code != http.StatusUnauthorized {
			t.Errorf("grant with a wrong credential: HTTP %d, want 401", code)
		}
	}
	var list struct {
		Keys []map[string]any `json:"keys"`
	}
	if code := e.admin("GET", "/v1/grants", nil, &list); code != http.StatusOK || len(list.Keys) != 4 {
		t.Fatalf("list: HTTP %d, %d keys", code, len(list.Keys))
	}
	for _, g := range []map[string]any{full, swap, reader, revoked} {
		e.admin("GET", "/v1/grants/"+g["key_id"].(string), nil, &map[string]any{})
	}
	e.admin("GET", "/v1/grants/"+fullTok, nil, &map[string]any{}) // a token where an id belongs
	e.admin("POST", "/v1/grants", map[string]any{"agent": "x", "profile": "nope", "token": fullTok}, &map[string]any{})
	e.admin("POST", "/v1/grants", map[string]any{"agent": fullTok, "profile": "read-only"}, &map[string]any{})

	// What the session must never reveal.
	wallet, err := e.sb.Home.WalletKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keyHex := hex.EncodeToString(wallet.Bytes())
	secrets := []secret{
		credentialSecret("full-access token", fullTok),
		credentialSecret("swap-only token", swapTok),
		credentialSecret("read-only token", readTok),
		credentialSecret("revoked token", revTok),
		credentialSecret("admin token", e.sb.AdminToken),
		{name: "wallet private key", text: []string{keyHex, "0x" + keyHex}, bytes: [][]byte{wallet.Bytes()}},
		{name: "passphrase", text: []string{testPassphrase}, bytes: [][]byte{[]byte(testPassphrase)}},
	}

	audited, err := json.Marshal(e.auditRecords())
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string][]byte{
		"daemon logs":           []byte(e.logs.String()),
		"responses to clients":  []byte(e.wire.String()),
		"audit records as JSON": audited,
	}
	// sandbox.json is removed on Close: scan it while it exists.
	if sources["file "+InfoFile], err = os.ReadFile(filepath.Join(info.Home, InfoFile)); err != nil {
		t.Fatal(err)
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(info.Home)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if en.Name() == AdminTokenFile || !en.Type().IsRegular() {
			continue // admin.token holds the sandbox's admin credential by design
		}
		b, err := os.ReadFile(filepath.Join(info.Home, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sources["file "+en.Name()] = b
	}
	for _, must := range []string{"file " + InfoFile, "file " + home.ConfigFile, "file " + home.DBFile} {
		if len(sources[must]) == 0 {
			t.Errorf("%s is missing or empty; nothing to scan", must)
		}
	}
	for _, must := range []string{"daemon logs", "responses to clients", "audit records as JSON"} {
		if len(sources[must]) < 1000 {
			t.Errorf("%s hold only %d bytes; the scan would prove nothing", must, len(sources[must]))
		}
	}
	for name, b := range sources {
		if found := leaks(b, secrets); len(found) > 0 {
			t.Errorf("%s reveal: %s", name, strings.Join(found, ", "))
		}
	}
	// The scan itself must be able to find what it looks for.
	if found := leaks([]byte("x"+strings.ToUpper(keyHex)+"x "+readTok), secrets); len(found) != 2 {
		t.Errorf("self-check: found %v, want the wallet key and the read-only token", found)
	}
}
