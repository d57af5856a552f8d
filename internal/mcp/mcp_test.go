package mcp_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/limit"
	"github.com/agentkeys/agentkeys/internal/mcp"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
)

var stranger = common.HexToAddress("0x9999999999999999999999999999999999999999")

// startSandbox runs a real daemon in front of the in-process dev chain,
// both on one fake clock.
func startSandbox(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10 // a cheap passphrase KDF: this home holds play money
	c := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Config{Home: t.TempDir(), Passphrase: []byte("mcp test passphrase"), KDF: &kdf,
		Now: c.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

// grantDeposits grants a key that may only send plain ETH to WETH (a
// deposit), up to 1 ETH a day, and returns its id and credential.
func grantDeposits(t *testing.T, sb *sandbox.Sandbox) (id, token string) {
	t.Helper()
	doc := "name: weth-deposits\nchains: [31337]\n" +
		"limits: [{asset: native, per_period: 1, period: 24h}, {asset: fees, per_period: 1, period: 24h}]\n" +
		"allow: [{contract: \"" + sb.Info.WETH + "\", functions: [receive]}]\n"
	res, err := sb.Service.GrantFrom(context.Background(), service.GrantSpec{Agent: "llm", Policy: doc, TTL: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Grant.ID, res.Token.Reveal()
}

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// connect is the go-sdk's own client on the daemon's /mcp over HTTP.
func connect(t *testing.T, sb *sandbox.Sandbox, token string) (*sdk.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sdk.NewClient(&sdk.Implementation{Name: "mcp-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: mcp.EndpointFromRPC(sb.Info.RPCURL),
		HTTPClient: &http.Client{Transport: bearer{token}}, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func call(t *testing.T, cs *sdk.ClientSession, name string, args any) *sdk.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func text(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// structured decodes a successful result's structured content.
func structured[T any](t *testing.T, name string, res *sdk.CallToolResult) T {
	t.Helper()
	var v T
	if res.IsError {
		t.Fatalf("%s: tool error: %s", name, text(res))
	}
	b, err := json.Marshal(res.StructuredContent)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		t.Fatalf("%s: structured content %s: %v", name, b, err)
	}
	return v
}

// waitMined polls the chain, with a deadline, until hash is in a block
// that is the chain's head or below it.
func waitMined(t *testing.T, sb *sandbox.Sandbox, hash common.Hash) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		r, err := sb.Chain.Client().TransactionReceipt(ctx, hash)
		if err == nil {
			if head, herr := sb.Chain.Client().HeaderByNumber(ctx, nil); herr == nil && head.Number.Cmp(r.BlockNumber) >= 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no receipt for %s: %v", hash.Hex(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// records returns the audit records of method, oldest first.
func records(t *testing.T, sb *sandbox.Sandbox, method string) []audit.Record {
	t.Helper()
	all, err := sb.Home.Store.AuditRecords(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range all {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// TestToolsOverHTTP: an MCP client lists the tools, reads wallet_info,
// sends an allowed deposit that is mined, follows it with
// get_transaction, reads balances, and gets tool errors that give the
// policy's reasons and what is still allowed; every call is audited
// under its tool's name.
func TestToolsOverHTTP(t *testing.T) {
	sb := startSandbox(t)
	keyID, token := grantDeposits(t, sb)
	cs, err := connect(t, sb, token)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	listed, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range listed.Tools {
		names = append(names, tl.Name)
		schema, _ := tl.InputSchema.(map[string]any)
		if tl.Description == "" || schema["type"] != "object" {
			t.Errorf("tool %s: description %q, input schema %v: want both", tl.Name, tl.Description, tl.InputSchema)
		}
	}
	slices.Sort(names)
	if want := []string{"get_balance", "get_transaction", "send_transaction", "sign_typed_data", "simulate_transaction", "swap", "wallet_info"}; !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}

	info := structured[struct {
		Address string   `json:"address"`
		ChainID uint64   `json:"chain_id"`
		KeyID   string   `json:"key_id"`
		May     []string `json:"may"`
		Budget  []string `json:"budget"`
		Tokens  []struct {
			Symbol string `json:"symbol"`
		} `json:"tokens"`
	}](t, "wallet_info", call(t, cs, "wallet_info", map[string]any{}))
	if info.Address != sb.Info.Owner || info.ChainID != sb.Info.ChainID || info.KeyID != keyID {
		t.Errorf("wallet_info: %s on %d key %s, want %s on %d key %s", info.Address, info.ChainID, info.KeyID, sb.Info.Owner, sb.Info.ChainID, keyID)
	}
	wantMay := "call a plain ETH transfer on contract " + common.HexToAddress(sb.Info.WETH).Hex()
	if !slices.ContainsFunc(info.May, func(s string) bool { return strings.EqualFold(s, wantMay) }) {
		t.Errorf("wallet_info may %q, want %q among them", info.May, wantMay)
	}
	if len(info.Budget) != 2 || !strings.HasPrefix(info.Budget[0], "1 ETH left of 1 per 24h") {
		t.Errorf("wallet_info budget %q, want 1 ETH left of 1 per 24h first", info.Budget)
	}
	if !slices.ContainsFunc(info.Tokens, func(tk struct {
		Symbol string `json:"symbol"`
	}) bool {
		return tk.Symbol == "USDC"
	}) {
		t.Errorf("wallet_info tokens %v, want USDC among them", info.Tokens)
	}

	// An allowed deposit: signed, broadcast, mined, followed.
	sent := structured[struct {
		Hash string `json:"hash"`
	}](t, "send_transaction", call(t, cs, "send_transaction", map[string]any{"to": sb.Info.WETH, "value": "0.01"}))
	waitMined(t, sb, common.HexToHash(sent.Hash))
	if _, err := sb.Service.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	tx := structured[service.TxInfo](t, "get_transaction", call(t, cs, "get_transaction", map[string]any{"hash": sent.Hash}))
	if tx.State != "included" || tx.Status == nil || *tx.Status != 1 || tx.Value != "10000000000000000" || !strings.EqualFold(tx.To, sb.Info.WETH) {
		t.Errorf("get_transaction: %+v, want an included, successful 0.01 ETH deposit to WETH", tx)
	}

	// Balances: native as the chain says, a known token by symbol.
	onChain, err := sb.Chain.Client().BalanceAt(ctx, common.HexToAddress(sb.Info.Owner), nil)
	if err != nil {
		t.Fatal(err)
	}
	eth := structured[struct{ Raw, Token string }](t, "get_balance", call(t, cs, "get_balance", map[string]any{}))
	if eth.Raw != onChain.String() || eth.Token != "ETH" {
		t.Errorf("get_balance ETH: %+v, want raw %s", eth, onChain)
	}
	usdc := structured[struct {
		Balance, Contract string
		Decimals          uint8
	}](t, "get_balance", call(t, cs, "get_balance", map[string]any{"token": "usdc"}))
	if usdc.Balance != "10000" || usdc.Decimals != 6 || !strings.EqualFold(usdc.Contract, sb.Info.Tokens["USDC"]) {
		t.Errorf("get_balance USDC: %+v, want 10000 with 6 decimals at %s", usdc, sb.Info.Tokens["USDC"])
	}

	// WETH by address (the home does not list it): its decimals read from
	// the chain, the deposit above in it.
	weth := structured[struct {
		Balance  string
		Decimals uint8
	}](t, "get_balance", call(t, cs, "get_balance", map[string]any{"token": sb.Info.WETH}))
	if weth.Balance != "0.01" || weth.Decimals != 18 {
		t.Errorf("get_balance of WETH by address: %+v, want 0.01 with 18 decimals", weth)
	}

	// Simulations sign and spend nothing: an allowed deposit says allowed
	// with what it would charge; a transfer to a stranger says why not.
	nonce, err := sb.Chain.Client().NonceAt(ctx, common.HexToAddress(sb.Info.Owner), nil)
	if err != nil {
		t.Fatal(err)
	}
	type simulation struct {
		Allowed bool
		Reasons []string
		Spend   []struct{ Asset, Amount string }
		Result  string
		Next    string
	}
	sim := structured[simulation](t, "simulate_transaction", call(t, cs, "simulate_transaction", map[string]any{"to": sb.Info.WETH, "value": "0.02"}))
	if !sim.Allowed || len(sim.Reasons) != 0 || !slices.ContainsFunc(sim.Spend, func(s struct{ Asset, Amount string }) bool {
		return s.Asset == "native" && s.Amount == "0.02"
	}) || !strings.Contains(sim.Next, "would be allowed") {
		t.Errorf("simulate an allowed deposit: %+v", sim)
	}
	sim = structured[simulation](t, "simulate_transaction", call(t, cs, "simulate_transaction", map[string]any{"to": stranger.Hex(), "value": "0.01"}))
	if sim.Allowed || !slices.ContainsFunc(sim.Reasons, func(r string) bool { return strings.Contains(r, "no rule allows contract "+stranger.Hex()) }) ||
		!strings.Contains(sim.Next, "wallet_info") {
		t.Errorf("simulate a transfer to a stranger: %+v", sim)
	}
	if res := call(t, cs, "simulate_transaction", map[string]any{"to": "0x123"}); !res.IsError || !strings.Contains(text(res), "to: expected an address") {
		t.Errorf("simulate with a bad address: error %v, %q", res.IsError, text(res))
	}
	if after, err := sb.Chain.Client().NonceAt(ctx, common.HexToAddress(sb.Info.Owner), nil); err != nil || after != nonce {
		t.Errorf("the owner's nonce moved from %d to %d (%v) after simulations", nonce, after, err)
	}
	if budget, err := sb.Service.Budget(ctx, keyID); err != nil || budget[0].Spent != "0.01" || budget[0].Pending != "0" {
		t.Errorf("the budget after simulations: %+v (%v); want only the 0.01 ETH deposit spent", budget, err)
	}

	// A transfer to a stranger: a tool error with the reason and what the
	// key may still do, nothing signed.
	refused := call(t, cs, "send_transaction", map[string]any{"to": stranger.Hex(), "value": "0.01"})
	got := text(refused)
	t.Logf("refusal as the model reads it:\n%s", got)
	for _, want := range []string{"Refused by the key's policy", "no rule allows contract " + stranger.Hex(), "This key may only:", wantMay, "0.99 ETH left of 1 per 24h", "Do not retry"} {
		if !refused.IsError || !strings.Contains(strings.ToLower(got), strings.ToLower(want)) {
			t.Errorf("refused transfer: error %v, text:\n%s\nwant it to say %q", refused.IsError, got, want)
		}
	}
	// Typed data this policy does not list: refused likewise.
	td := map[string]any{"types": map[string]any{"EIP712Domain": []any{map[string]any{"name": "name", "type": "string"}},
		"Mail": []any{map[string]any{"name": "body", "type": "string"}}},
		"primaryType": "Mail", "domain": map[string]any{"name": "x"}, "message": map[string]any{"body": "hi"}}
	if res := call(t, cs, "sign_typed_data", map[string]any{"typed_data": td}); !res.IsError || !strings.Contains(text(res), "typed data") {
		t.Errorf("sign_typed_data: error %v, text %q; want a refusal naming typed data", res.IsError, text(res))
	}
	// Another key's transaction is not found.
	other := "0x" + strings.Repeat("ab", 32)
	if res := call(t, cs, "get_transaction", map[string]any{"hash": other}); !res.IsError || !strings.Contains(text(res), "No transaction") {
		t.Errorf("get_transaction of an unknown hash: error %v, text %q", res.IsError, text(res))
	}

	// Metrics count tool calls by their tool's method, as agent requests.
	if err := sb.Service.Feed().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, sb.Info.AdminURL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+sb.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	scraped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`agentkeys_requests_total{decision="allow",method="mcp:send_transaction"} 1`,
		`agentkeys_requests_total{decision="deny",method="mcp:send_transaction"} 1`,
		`agentkeys_request_seconds_count{method="mcp:wallet_info"} 1`} {
		if !strings.Contains(string(scraped), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	sends := records(t, sb, "mcp:send_transaction")
	if len(sends) != 2 || sends[0].Decision != audit.DecisionAllow || sends[0].TxHash != sent.Hash || sends[1].Decision != audit.DecisionDeny || sends[0].KeyID != keyID {
		t.Errorf("audit of mcp:send_transaction: %+v, want the allowed deposit then the refusal, under key %s", sends, keyID)
	}
	for _, m := range []string{"mcp:wallet_info", "mcp:get_balance", "mcp:get_transaction", "mcp:sign_typed_data"} {
		if len(records(t, sb, m)) == 0 {
			t.Errorf("no audit record of %s", m)
		}
		if !mcp.Supported(m) {
			t.Errorf("Supported(%q) = false", m)
		}
	}
}

// TestSwap: a swap-only key swaps ETH for USDC and USDC back through
// the router its policy names, approval included; the amounts it reports
// are what the wallet's balances show; a router the key does not allow
// is refused before anything is signed.
func TestSwap(t *testing.T) {
	sb := startSandbox(t)
	res, err := sb.Service.GrantFrom(context.Background(), service.GrantSpec{Agent: "trader", Profile: "swap-only",
		Routers: []string{sb.Info.Router}, DailyLimit: []string{"1ETH", "1000USDC"}, TTL: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := connect(t, sb, res.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	type bal struct{ Raw string }
	usdcRaw := func() *big.Int {
		v, _ := new(big.Int).SetString(structured[bal](t, "get_balance", call(t, cs, "get_balance", map[string]any{"token": "USDC"})).Raw, 10)
		return v
	}
	type swapOut struct {
		AmountIn    string `json:"amount_in"`
		AmountOut   string `json:"amount_out"`
		MinOut      string `json:"min_amount_out"`
		ApproveHash string `json:"approve_hash"`
		Hash        string `json:"hash"`
		Router      string `json:"router"`
	}
	before := usdcRaw()
	bought := structured[swapOut](t, "swap", call(t, cs, "swap", map[string]any{"token_in": "ETH", "token_out": "USDC", "amount": "0.01", "max_slippage": 0.01}))
	gained := new(big.Int).Sub(usdcRaw(), before)
	if got := policy.FormatAmount(gained, 6); got != bought.AmountOut || gained.Sign() <= 0 || bought.ApproveHash != "" || !strings.EqualFold(bought.Router, sb.Info.Router) {
		t.Errorf("swap ETH→USDC: %+v; the wallet gained %s USDC", bought, got)
	}
	floor, _ := policy.ParseAmount(bought.MinOut, 6, "USDC")
	if gained.Cmp(floor) < 0 {
		t.Errorf("swap ETH→USDC got %s, under its minimum %s", bought.AmountOut, bought.MinOut)
	}

	t.Logf("bought: %+v", bought)
	sold := structured[swapOut](t, "swap", call(t, cs, "swap", map[string]any{"token_in": "usdc", "token_out": "ETH", "amount": "10"}))
	if sold.ApproveHash == "" || sold.AmountIn != "10" || sold.AmountOut == "" || sold.AmountOut == "0" {
		t.Errorf("swap USDC→ETH: %+v, want an approval, then 10 USDC sold for some ETH", sold)
	}
	if spent := new(big.Int).Sub(before, usdcRaw()); spent.Cmp(new(big.Int).Sub(big.NewInt(10_000_000), gained)) != 0 {
		t.Errorf("after selling 10 USDC the wallet is down %s base units from the start, want 10 USDC less what it bought", spent)
	}
	for _, h := range []string{bought.Hash, sold.ApproveHash, sold.Hash} {
		waitMined(t, sb, common.HexToHash(h))
	}
	allowed := 0
	for _, r := range records(t, sb, "mcp:swap") {
		if r.Decision == audit.DecisionAllow && r.TxHash != "" {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("%d allowed mcp:swap transactions in the audit log, want 3 (a swap, an approval, a swap)", allowed)
	}

	other := call(t, cs, "swap", map[string]any{"token_in": "ETH", "token_out": "USDC", "amount": "0.01", "router": stranger.Hex()})
	if !other.IsError || !strings.Contains(text(other), "router: this key may not swap through "+stranger.Hex()) {
		t.Errorf("swap through a stranger's router: error %v, %q", other.IsError, text(other))
	}
	tooMuch := call(t, cs, "swap", map[string]any{"token_in": "ETH", "token_out": "USDC", "amount": "2"})
	if !tooMuch.IsError || !strings.Contains(text(tooMuch), "Refused by the key's policy") || !strings.Contains(text(tooMuch), "ETH left of 1 per 24h") {
		t.Errorf("swap over the daily cap: error %v, %q; want a refusal with the budget left", tooMuch.IsError, text(tooMuch))
	}
}

// TestSwap7702: for a 7702 session key, selling a token approves and
// swaps in one batch transaction executed by the owner's account.
func TestSwap7702(t *testing.T) {
	sb := startSandbox(t)
	ctx := context.Background()
	if _, err := sb.Service.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := sb.Service.GrantFrom(ctx, service.GrantSpec{Agent: "trader", Mode: service.Mode7702, Profile: "swap-only",
		Routers: []string{sb.Info.Router}, DailyLimit: []string{"0.1ETH", "100USDC"}, TTL: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := connect(t, sb, res.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	sold := structured[struct {
		AmountOut   string `json:"amount_out"`
		ApproveHash string `json:"approve_hash"`
		Hash        string `json:"hash"`
	}](t, "swap", call(t, cs, "swap", map[string]any{"token_in": "USDC", "token_out": "ETH", "amount": "30"}))
	if sold.ApproveHash != "" || sold.Hash == "" || !strings.HasPrefix(sold.AmountOut, "0.00") {
		t.Errorf("7702 swap of 30 USDC: %+v, want one batch (no separate approval) paying about 0.00997 ETH", sold)
	}
	waitMined(t, sb, common.HexToHash(sold.Hash))
	rcpt, err := sb.Chain.Client().TransactionReceipt(ctx, common.HexToHash(sold.Hash))
	if err != nil {
		t.Fatal(err)
	}
	tx, _, err := sb.Chain.Client().TransactionByHash(ctx, common.HexToHash(sold.Hash))
	if err != nil || tx.To() == nil || *tx.To() != common.HexToAddress(sb.Info.Owner) || rcpt.Status != 1 {
		t.Errorf("7702 swap transaction to %v (%v), status %d: want a successful call on the owner's account", tx.To(), err, rcpt.Status)
	}
}

// TestBadInput: malformed arguments are tool errors naming the field and
// what was expected, audited as invalid; nothing is signed.
func TestBadInput(t *testing.T) {
	sb := startSandbox(t)
	_, token := grantDeposits(t, sb)
	cs, err := connect(t, sb, token)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"send_transaction", map[string]any{}, "to: required"},
		{"send_transaction", map[string]any{"to": "0x123"}, `to: expected an address (0x followed by 40 hex digits), got "0x123"`},
		{"send_transaction", map[string]any{"to": sb.Info.WETH, "value": "lots"}, "value: "},
		{"send_transaction", map[string]any{"to": sb.Info.WETH, "value": 5}, "value: expected a string"},
		{"send_transaction", map[string]any{"to": sb.Info.WETH, "data": "0xabc"}, "data: expected 0x-hex bytes"},
		{"send_transaction", map[string]any{"to": sb.Info.WETH, "amount": "1"}, "amount: unknown field"},
		{"get_balance", map[string]any{"token": "DOGE"}, `token: unknown symbol "DOGE"`},
		{"get_transaction", map[string]any{"hash": "0x12"}, "hash: expected a transaction hash"},
		{"sign_typed_data", map[string]any{}, "typed_data: required"},
		{"swap", map[string]any{"token_in": "ETH", "amount": "1"}, "token_out: required"},
		{"swap", map[string]any{"token_in": "ETH", "token_out": "USDC", "amount": "1", "max_slippage": 2}, "max_slippage: expected a fraction"},
		{"swap", map[string]any{"token_in": "ETH", "token_out": "DOGE", "amount": "1"}, `token_out: unknown symbol "DOGE"`},
		{"sign_typed_data", map[string]any{"typed_data": map[string]any{"message": map[string]any{}}}, "typed_data: not an EIP-712 document"},
	} {
		res := call(t, cs, tc.tool, tc.args)
		if !res.IsError || !strings.Contains(text(res), tc.want) {
			t.Errorf("%s %v: error %v, text %q; want an error saying %q", tc.tool, tc.args, res.IsError, text(res), tc.want)
		}
	}
	invalid := 0
	for _, r := range records(t, sb, "mcp:send_transaction") {
		if r.Decision != audit.DecisionDeny || !strings.HasPrefix(r.Reasons[0], "invalid params: ") || r.TxHash != "" {
			t.Errorf("record %d: %s %q tx %q, want an invalid-params refusal", r.Seq, r.Decision, r.Reasons, r.TxHash)
		}
		invalid++
	}
	if invalid != 6 {
		t.Errorf("%d audited send_transaction refusals, want 6", invalid)
	}
}

// TestNoCredential: without a credential, or with a wrong or revoked
// one, the endpoint answers 401 with the reason and audits the refusal.
func TestNoCredential(t *testing.T) {
	sb := startSandbox(t)
	keyID, token := grantDeposits(t, sb)
	if _, err := sb.Service.Revoke(context.Background(), keyID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ token, want string }{
		{"", "missing credential"},
		{"ak_nope", "unknown credential"},
		{token, "credential revoked"},
	} {
		if _, err := connect(t, sb, tc.token); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
			t.Errorf("connect with %q: %v, want 401 Unauthorized", tc.token[:min(len(tc.token), 3)], err)
		}
		req, _ := http.NewRequest(http.MethodPost, mcp.EndpointFromRPC(sb.Info.RPCURL), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := bearer{tc.token}.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		var body strings.Builder
		_, _ = io.Copy(&body, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body.String(), tc.want) || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("tools/list with %q: %d %q, want 401 saying %q", tc.token[:min(len(tc.token), 3)], resp.StatusCode, body.String(), tc.want)
		}
	}
	// The revoked key's attempts are its own records; credentials that
	// name no key are counted per source and audited once per window.
	refused := records(t, sb, "mcp:connect")
	if len(refused) < 2 || refused[0].Decision != audit.DecisionDeny || !strings.HasPrefix(refused[0].Reasons[0], "credential revoked") {
		t.Errorf("audit of the revoked key's connections: %+v, want each denied", refused)
	}
	if err := sb.Service.FlushLimits(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	agg := records(t, sb, service.MethodCredentialFailures)
	var a limit.Aggregate
	if len(agg) != 1 || json.Unmarshal(agg[0].Call, &a) != nil || a.Surface != "mcp" || a.Reasons["missing credential: send Authorization: Bearer ak_..."] < 2 ||
		a.Reasons["unknown credential"] < 2 {
		t.Errorf("aggregate of keyless refusals: %+v %v", agg, a.Reasons)
	}
}

// TestEndpointFromRPC: AGENTKEYS_RPC_URL names /rpc; the bridge finds
// /mcp beside it, and takes a base URL or an /mcp URL as given.
func TestEndpointFromRPC(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8645/rpc":        "http://127.0.0.1:8645/mcp",
		"https://wallet.example.com/rpc/":  "https://wallet.example.com/mcp",
		"http://127.0.0.1:8645":            "http://127.0.0.1:8645/mcp",
		" http://127.0.0.1:8645/mcp ":      "http://127.0.0.1:8645/mcp",
		"https://proxy.example/agents/rpc": "https://proxy.example/agents/mcp",
	} {
		if got := mcp.EndpointFromRPC(in); got != want {
			t.Errorf("EndpointFromRPC(%q) = %q, want %q", in, got, want)
		}
	}
}
