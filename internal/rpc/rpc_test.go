package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/clientip"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/rpc"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

var stranger = common.HexToAddress("0x9999999999999999999999999999999999999999")

// env is a daemon's agent endpoint on a real home (SQLite in a temp dir)
// and the in-process dev chain, mounted as server.Start mounts it.
type env struct {
	t     testing.TB
	clock *clock.Fake
	home  *home.Home
	chain *devchain.Chain
	svc   *service.Service
	logs  *syncbuf.Buffer
	url   string // the /rpc endpoint
	owner common.Address
}

func start(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	h, _, err := home.Init(ctx, t.TempDir(), home.InitOptions{Passphrase: []byte("rpc test passphrase"), KDF: &kdf, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	wallet, err := h.WalletKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := devchain.Start(ctx, devchain.Config{Fund: []common.Address{wallet.Address()}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	svc, err := service.New(service.Config{Store: h.Store, Chain: chain.Client(), ChainID: chain.ChainID().Uint64(), Now: clk.Now, Log: log,
		Wallet: signer.NewWallet(wallet), WalletKeyID: h.Config.WalletKeyID, Delegate: chain.AgentKeyDelegate(), Vault: h.Master})
	if err != nil {
		t.Fatal(err)
	}
	// The node's own JSON-RPC client, in process: read methods reach the
	// dev chain as they would reach a node over HTTP.
	upstream := chain.Client().Client()
	e := &env{t: t, clock: clk, home: h, chain: chain, svc: svc, logs: logs, owner: wallet.Address()}
	e.url = e.mount(rpc.NewServer(svc, upstream, log))
	return e
}

// mount serves an agent handler at /rpc as server.Start does and returns
// its URL.
func (e *env) mount(h http.Handler) string {
	mux := http.NewServeMux()
	mux.Handle("/rpc", h)
	srv := httptest.NewServer(clientip.New(nil).Middleware(mux))
	e.t.Cleanup(srv.Close)
	return srv.URL + "/rpc"
}

// grant makes a key from a grant spec and returns its credential.
func (e *env) grant(spec service.GrantSpec) (token, keyID string) {
	e.t.Helper()
	ctx := context.Background()
	doc, err := e.svc.Document(ctx, spec)
	if err != nil {
		e.t.Fatal(err)
	}
	var ttl time.Duration
	if spec.TTL != "" {
		if ttl, err = time.ParseDuration(spec.TTL); err != nil {
			e.t.Fatal(err)
		}
	}
	res, err := e.svc.Grant(ctx, service.GrantRequest{Agent: spec.Agent, Mode: spec.Mode, Doc: doc, TTL: ttl})
	if err != nil {
		e.t.Fatalf("grant: %v", err)
	}
	return res.Token.Reveal(), res.Grant.ID
}

// reply is one JSON-RPC response as a client reads it.
type reply struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// post sends body to url with token as the bearer credential and returns
// the HTTP status and body. No response may carry any credential the
// test made, whatever it answers.
func (e *env) post(t *testing.T, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		_, secret, _ := strings.Cut(strings.TrimPrefix(token, "ak_"), "_")
		if bytes.Contains(out, []byte(token)) || len(secret) >= 16 && bytes.Contains(out, []byte(secret)) {
			t.Errorf("the response carries the credential: %s", out)
		}
	}
	return resp.StatusCode, out
}

// call posts one request and decodes its one response.
func (e *env) call(t *testing.T, token, body string) reply {
	t.Helper()
	status, out := e.post(t, e.url, token, body)
	if status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", status, out)
	}
	var r reply
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("not one JSON-RPC response: %v\n%s", err, out)
	}
	if r.JSONRPC != "2.0" {
		t.Errorf("jsonrpc %q, want 2.0", r.JSONRPC)
	}
	return r
}

func request(id int, method, params string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, params)
}

func swapCalldata(t *testing.T, minOut *big.Int, path []common.Address, to common.Address) []byte {
	t.Helper()
	ty := func(s string) abi.Type {
		v, err := abi.NewType(s, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	args := abi.Arguments{{Type: ty("uint256")}, {Type: ty("address[]")}, {Type: ty("address")}, {Type: ty("uint256")}}
	packed, err := args.Pack(minOut, path, to, big.NewInt(4_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	return append(crypto.Keccak256([]byte("swapExactETHForTokens(uint256,address[],address,uint256)"))[:4], packed...)
}

// TestErrorMapping: every error class an agent can hit reaches it with
// the EIP-1193/EIP-1474 code a wallet client expects, a message naming
// what is wrong, and data only where the class carries some.
func TestErrorMapping(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	// A key that expires: granted for an hour, then two hours pass.
	expired, expiredID := e.grant(service.GrantSpec{Agent: "old", Profile: "full-access", DailyLimit: []string{"1ETH"}, TTL: "1h"})
	e.clock.Advance(2 * time.Hour)
	tok, keyID := e.grant(service.GrantSpec{Agent: "bot", Profile: "full-access", DailyLimit: []string{"1ETH"}})
	revoked, revokedID := e.grant(service.GrantSpec{Agent: "gone", Profile: "full-access", DailyLimit: []string{"1ETH"}})
	if _, err := e.svc.Revoke(ctx, revokedID); err != nil {
		t.Fatal(err)
	}
	router, weth, usdc := e.chain.Router(), e.chain.WETH(), e.chain.Tokens()["USDC"].Address
	trader, _ := e.grant(service.GrantSpec{Agent: "trader", Profile: "swap-only", Routers: []string{router.Hex()}, DailyLimit: []string{"0.1ETH"}})
	wrongSecret := "ak_" + keyID + "_" + strings.Repeat("0", 64)
	greedy := swapCalldata(t, new(big.Int).Lsh(big.NewInt(1), 200), []common.Address{weth, usdc}, e.owner)
	to := stranger.Hex()

	tests := []struct {
		name    string
		token   string
		body    string
		code    int
		message string // the exact message, or its start when prefix is set
		prefix  bool
		id      string
	}{
		{"not JSON", tok, `{"jsonrpc":"2.0",`, -32700, "parse error: the body is not JSON", false, "null"},
		{"not JSON at all", tok, `hello`, -32700, "parse error: the body is not JSON", false, "null"},
		{"no jsonrpc version", tok, `{"id":1,"method":"eth_chainId"}`, -32600, `invalid request: expected {"jsonrpc":"2.0","method":...}`, false, "1"},
		{"no method", tok, `{"jsonrpc":"2.0","id":2}`, -32600, `invalid request: expected {"jsonrpc":"2.0","method":...}`, false, "2"},
		{"method name too long", tok, request(3, strings.Repeat("m", 65), `[]`), -32600, `invalid request: expected {"jsonrpc":"2.0","method":...}`, false, "3"},
		{"JSON but not a request object", tok, `42`, -32600, `invalid request: expected {"jsonrpc":"2.0","method":...}`, false, "null"},
		{"params not an array", tok, `{"jsonrpc":"2.0","id":4,"method":"eth_chainId","params":{}}`, -32600, `invalid request: expected {"jsonrpc":"2.0","method":...}`, false, "null"},
		{"empty batch", tok, `[]`, -32600, "a batch holds 1 to 100 requests", false, "null"},
		{"batch over the limit", tok, "[" + strings.TrimSuffix(strings.Repeat(request(1, "eth_chainId", `[]`)+",", 101), ",") + "]", -32600, "a batch holds 1 to 100 requests", false, "null"},
		{"broken batch", tok, `[{"jsonrpc":"2.0"`, -32700, "parse error: the body is not JSON", false, "null"},

		{"unknown method", tok, request(5, "eth_coinbase", `[]`), 4200, "method eth_coinbase is not supported by agentkeys", false, "5"},
		{"missing credential", "", request(6, "eth_chainId", `[]`), 4100, "missing credential: send Authorization: Bearer ak_...", false, "6"},
		{"unsupported method without a credential: the credential first", "", request(7, "debug_traceTransaction", `["0x00"]`), 4100, "missing credential: send Authorization: Bearer ak_...", false, "7"},
		{"unknown credential", "ak_aaaaaaaaaaaa_" + strings.Repeat("0", 64), request(8, "eth_chainId", `[]`), 4100, "unknown credential", false, "8"},
		{"known id, wrong secret", wrongSecret, request(9, "eth_accounts", `[]`), 4100, "unknown credential", false, "9"},
		{"not a credential", "hello", request(10, "eth_accounts", `[]`), 4100, "unknown credential", false, "10"},
		{"expired credential", expired, request(11, "eth_chainId", `[]`), 4100, "credential expired at 2026-11-25T11:00:00Z", false, "11"},
		{"revoked credential", revoked, request(12, "eth_chainId", `[]`), 4100, "credential revoked at 2026-11-25T12:00:00Z", false, "12"},

		{"nonce given", tok, request(13, "eth_signTransaction", `[{"to":"`+to+`","nonce":"0x1"}]`), -32602, "invalid params: nonce: agentkeys allocates nonces; leave nonce out", false, "13"},
		{"value not hex", tok, request(14, "eth_sendTransaction", `[{"to":"`+to+`","value":"12"}]`), -32602, "invalid params: value", true, "14"},
		{"from another account", tok, request(15, "eth_sendTransaction", `[{"from":"`+to+`","to":"`+to+`"}]`), -32602, "invalid params: from: this key acts as " + e.owner.Hex(), false, "15"},
		{"no transaction object", tok, request(16, "eth_sendTransaction", `[]`), -32602, "invalid params: params: expected one transaction object", false, "16"},
		{"gas out of bounds", tok, request(17, "eth_signTransaction", `[{"to":"`+to+`","gas":"0x1"}]`), -32602, "invalid params: gas: must be between 21000 and 30000000", false, "17"},
		{"wrong chain", tok, request(18, "eth_signTransaction", `[{"to":"`+to+`","chainId":"0x1"}]`), -32602, "invalid params: chainId: this daemon signs for chain", true, "18"},
		{"personal_sign message not a string", tok, request(19, "personal_sign", `[7, "`+e.owner.Hex()+`"]`), -32602, "invalid params: message: expected a string", false, "19"},
		{"typed data as another account", tok, request(20, "eth_signTypedData_v4", `["`+to+`", {}]`), -32602, "invalid params: address: this key signs only as " + e.owner.Hex(), false, "20"},
		{"calls status without an id", tok, request(21, "wallet_getCallsStatus", `["0x12"]`), -32602, "invalid params: id: expected a batch id from wallet_sendCalls", false, "21"},
		{"relaying someone else's bytes", tok, request(22, "eth_sendRawTransaction", `["0x1234"]`), -32602, "invalid params: transaction: not a signed transaction", true, "22"},

		{"target reverts", trader, request(23, "eth_sendTransaction", fmt.Sprintf(`[{"to":%q,"value":"0x2386f26fc10000","data":"0x%x"}]`, router.Hex(), greedy)),
			3, "execution reverted: DemoRouter: INSUFFICIENT_OUTPUT_AMOUNT", false, "23"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(t, tt.token, tt.body)
			if r.Error == nil {
				t.Fatalf("result %s, want error %d", r.Result, tt.code)
			}
			if r.Error.Code != tt.code {
				t.Errorf("code %d (%q), want %d", r.Error.Code, r.Error.Message, tt.code)
			}
			if tt.prefix && !strings.HasPrefix(r.Error.Message, tt.message) || !tt.prefix && r.Error.Message != tt.message {
				t.Errorf("message %q, want %q", r.Error.Message, tt.message)
			}
			if string(r.ID) != tt.id {
				t.Errorf("id %s, want %s", r.ID, tt.id)
			}
			if r.Result != nil {
				t.Errorf("an error with a result: %s", r.Result)
			}
			switch tt.code {
			case 3:
				var data string
				if err := json.Unmarshal(r.Error.Data, &data); err != nil {
					t.Fatalf("revert data %s: %v", r.Error.Data, err)
				}
				reason, err := abi.UnpackRevert(common.FromHex(data))
				if err != nil || reason != "DemoRouter: INSUFFICIENT_OUTPUT_AMOUNT" {
					t.Errorf("revert data %s decodes to %q, %v", data, reason, err)
				}
			default:
				if r.Error.Data != nil {
					t.Errorf("data %s, want none", r.Error.Data)
				}
			}
			if tt.code == 4100 {
				for _, id := range []string{keyID, expiredID, revokedID} {
					if strings.Contains(r.Error.Message, id) {
						t.Errorf("4100 names a key id: %q", r.Error.Message)
					}
				}
			}
		})
	}

	// The unsupported method was audited as the key's refusal.
	recs, err := e.home.Store.AuditRecords(ctx, 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		if r.Method == "eth_coinbase" && r.KeyID == keyID && r.Decision == "deny" && slices.Contains(r.Reasons, "method eth_coinbase is not supported by agentkeys") {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit record refusing eth_coinbase for %s", keyID)
	}
}

// TestPolicyRefusal: a request the policy refuses is error 4001 with the
// policy's reasons, in the message and as data.reasons.
func TestPolicyRefusal(t *testing.T) {
	e := start(t)
	tok, _ := e.grant(service.GrantSpec{Agent: "bot", Profile: "full-access", DailyLimit: []string{"0.01ETH"}})
	tests := []struct {
		name, body, reason string
	}{
		{"eth_sign", request(1, "eth_sign", fmt.Sprintf(`[%q, "0x00"]`, e.owner.Hex())), "eth_sign"},
		{"over the daily limit", request(2, "eth_sendTransaction", fmt.Sprintf(`[{"to":%q,"value":"0xde0b6b3a7640000"}]`, stranger.Hex())), "limit"},
		{"contract creation", request(3, "eth_signTransaction", `[{"data":"0x6000"}]`), "contract creation is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(t, tok, tt.body)
			if r.Error == nil || r.Error.Code != 4001 {
				t.Fatalf("got %+v %s, want 4001", r.Error, r.Result)
			}
			var data struct {
				Reasons []string `json:"reasons"`
			}
			if err := json.Unmarshal(r.Error.Data, &data); err != nil || len(data.Reasons) == 0 {
				t.Fatalf("data %s: %v; want {reasons: [...]}", r.Error.Data, err)
			}
			if want := "refused by policy: " + strings.Join(data.Reasons, "; "); r.Error.Message != want {
				t.Errorf("message %q, want %q", r.Error.Message, want)
			}
			if !strings.Contains(strings.Join(data.Reasons, " "), tt.reason) {
				t.Errorf("reasons %q do not mention %q", data.Reasons, tt.reason)
			}
		})
	}
}

// TestUpstreamFailure: the node's failures reach the agent in the node's
// words, with the node's code when it gave one; a transport failure is
// -32000 and never shows the upstream URL, which may carry an API key.
func TestUpstreamFailure(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	tok, _ := e.grant(service.GrantSpec{Agent: "bot", Profile: "full-access", DailyLimit: []string{"1ETH"}})

	t.Run("the node refuses", func(t *testing.T) {
		// A signed transaction relayed twice: the node has it already (or
		// has mined it), and says so.
		r := e.call(t, tok, request(1, "eth_signTransaction", fmt.Sprintf(`[{"to":%q,"value":"0x1"}]`, stranger.Hex())))
		if r.Error != nil {
			t.Fatalf("sign: %+v", r.Error)
		}
		relay := request(2, "eth_sendRawTransaction", "["+string(r.Result)+"]")
		if r := e.call(t, tok, relay); r.Error != nil {
			t.Fatalf("first relay: %+v", r.Error)
		}
		r = e.call(t, tok, relay)
		if r.Error == nil || r.Error.Code != -32000 {
			t.Fatalf("second relay: %+v %s, want -32000", r.Error, r.Result)
		}
		if m := r.Error.Message; !strings.Contains(m, "already known") && !strings.Contains(m, "nonce too low") {
			t.Errorf("message %q, want the node's words", m)
		}
	})
	t.Run("the node rejects the arguments", func(t *testing.T) {
		r := e.call(t, tok, request(3, "eth_getBalance", `["not an address", "latest"]`))
		if r.Error == nil || r.Error.Code != -32602 || !strings.Contains(r.Error.Message, "invalid argument 0") {
			t.Fatalf("got %+v, want the node's -32602", r.Error)
		}
	})
	t.Run("the node is unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		dead, err := gethrpc.DialContext(ctx, "http://"+addr+"/v3/SECRETPROJECTKEY?apikey=SECRETQUERYKEY")
		if err != nil {
			t.Fatal(err)
		}
		defer dead.Close()
		url := e.mount(rpc.NewServer(e.svc, dead, nil))
		for _, body := range []string{request(4, "eth_blockNumber", `[]`), request(5, "wallet_getCallsStatus", `["0x`+strings.Repeat("ab", 32)+`"]`)} {
			status, out := e.post(t, url, tok, body)
			var r reply
			if err := json.Unmarshal(out, &r); err != nil || status != http.StatusOK {
				t.Fatalf("HTTP %d %s: %v", status, out, err)
			}
			if r.Error == nil || r.Error.Code != -32000 || !strings.Contains(r.Error.Message, "connection refused") {
				t.Errorf("got %+v, want -32000 with the dial error", r.Error)
			}
			if bytes.Contains(out, []byte("SECRET")) || bytes.Contains(out, []byte("/v3")) {
				t.Errorf("the reply shows the upstream URL: %s", out)
			}
		}
	})
}

// TestInternalError: a failure that is nobody's fault the agent can fix
// (here the store is gone) is -32603 saying only that nothing was
// signed; the cause goes to the daemon's log.
func TestInternalError(t *testing.T) {
	e := start(t)
	tok, _ := e.grant(service.GrantSpec{Agent: "bot", Profile: "full-access", DailyLimit: []string{"1ETH"}})
	if err := e.home.Store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{request(1, "eth_chainId", `[]`), request(2, "eth_sendTransaction", fmt.Sprintf(`[{"to":%q}]`, stranger.Hex()))} {
		r := e.call(t, tok, body)
		if r.Error == nil || r.Error.Code != -32603 || r.Error.Message != "internal error: the request was not signed" || r.Error.Data != nil {
			t.Errorf("got %+v, want -32603 saying nothing was signed, without data", r.Error)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "rpc internal error") || !strings.Contains(logs, "closed") {
		t.Errorf("the cause is not in the log:\n%s", logs)
	}
}

// TestBatch: a batch answers each request in order, results and errors
// side by side, each with its own id.
func TestBatch(t *testing.T) {
	e := start(t)
	tok, _ := e.grant(service.GrantSpec{Agent: "bot", Profile: "full-access", DailyLimit: []string{"1ETH"}})
	body := "[" + strings.Join([]string{
		request(1, "eth_chainId", `[]`),
		request(2, "eth_coinbase", `[]`),
		request(3, "eth_sign", fmt.Sprintf(`[%q, "0x00"]`, e.owner.Hex())),
		`7`,
		`{"jsonrpc":"1.0","id":5,"method":"eth_chainId"}`,
		request(6, "eth_accounts", `[]`),
		request(7, "eth_signTransaction", `[{"nonce":"0x1"}]`),
	}, ",") + "]"
	status, out := e.post(t, e.url, tok, body)
	if status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", status, out)
	}
	var rs []reply
	if err := json.Unmarshal(out, &rs); err != nil {
		t.Fatalf("not a batch response: %v\n%s", err, out)
	}
	type got struct {
		ID     string
		Result string
		Code   int
	}
	var have []got
	for _, r := range rs {
		g := got{ID: string(r.ID), Result: string(r.Result)}
		if r.Error != nil {
			g.Code = r.Error.Code
		}
		have = append(have, g)
	}
	want := []got{
		{ID: "1", Result: fmt.Sprintf(`"0x%x"`, e.chain.ChainID())},
		{ID: "2", Code: 4200},
		{ID: "3", Code: 4001},
		{ID: "null", Code: -32600},
		{ID: "5", Code: -32600},
		{ID: "6", Result: fmt.Sprintf(`[%q]`, strings.ToLower(e.owner.Hex()))},
		{ID: "7", Code: -32602},
	}
	if !slices.Equal(have, want) {
		t.Errorf("batch answered\n%+v\nwant\n%+v", have, want)
	}
}

// TestBodyLimits: a body over 1 MiB is refused as an invalid request
// without being read further; only POST is served.
func TestBodyLimits(t *testing.T) {
	e := start(t)
	tok, _ := e.grant(service.GrantSpec{Agent: "bot", Profile: "full-access", DailyLimit: []string{"1ETH"}})
	big := request(1, "eth_chainId", `["`+strings.Repeat("a", 1<<20)+`"]`)
	r := e.call(t, tok, big)
	if r.Error == nil || r.Error.Code != -32600 || r.Error.Message != "request body over 1048576 bytes" || string(r.ID) != "null" {
		t.Errorf("got %+v id %s, want -32600 naming the limit", r.Error, r.ID)
	}
	// Just under the limit is read and answered.
	if r := e.call(t, tok, request(2, "eth_chainId", `[]`)+strings.Repeat(" ", 1<<19)); r.Error != nil {
		t.Errorf("a padded request under the limit: %+v", r.Error)
	}

	resp, err := http.Get(e.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("GET /rpc: HTTP %d, Allow %q; want 405 and POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}
