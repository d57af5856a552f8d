package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/limit"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/signer"
)

var stranger = common.HexToAddress("0x9999999999999999999999999999999999999999")

// node is the dev chain's client, which can be made unreachable the way a
// remote node is: every nonce read fails with a transport error quoting
// the upstream URL.
type node struct {
	*ethclient.Client
	mu   sync.Mutex
	down bool
}

const nodeDown = `Post "https://mainnet.example/v3/SECRETPROJECTKEY": dial tcp: connection refused`

func (n *node) err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down {
		return errors.New(nodeDown)
	}
	return nil
}

func (n *node) setDown(down bool) {
	n.mu.Lock()
	n.down = down
	n.mu.Unlock()
}

func (n *node) NonceAt(ctx context.Context, a common.Address, block *big.Int) (uint64, error) {
	if err := n.err(); err != nil {
		return 0, err
	}
	return n.Client.NonceAt(ctx, a, block)
}

func (n *node) PendingNonceAt(ctx context.Context, a common.Address) (uint64, error) {
	if err := n.err(); err != nil {
		return 0, err
	}
	return n.Client.PendingNonceAt(ctx, a)
}

func (n *node) CodeAt(ctx context.Context, a common.Address, block *big.Int) ([]byte, error) {
	if err := n.err(); err != nil {
		return nil, err
	}
	return n.Client.CodeAt(ctx, a, block)
}

func (n *node) HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error) {
	if err := n.err(); err != nil {
		return nil, err
	}
	return n.Client.HeaderByNumber(ctx, number)
}

// env is the admin API on a real home (SQLite in a temp dir) and the
// in-process dev chain, mounted as server.Start mounts it.
type env struct {
	home       *home.Home
	chain      *devchain.Chain
	node       *node
	svc        *service.Service
	clock      *clock.Fake
	url        string
	adminToken string
}

// start serves the admin API of a fresh home; limits, if given, are the
// service's abuse limits (defaults otherwise).
func start(t *testing.T, limits ...service.Limits) *env {
	t.Helper()
	var lim service.Limits
	if len(limits) > 0 {
		lim = limits[0]
	}
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	now := clk.Now
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	h, adminCred, err := home.Init(ctx, t.TempDir(), home.InitOptions{Passphrase: []byte("admin test passphrase"), KDF: &kdf, Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	wallet, err := h.WalletKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := devchain.Start(ctx, devchain.Config{Fund: []common.Address{wallet.Address()}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	n := &node{Client: chain.Client()}
	svc, err := service.New(service.Config{Store: h.Store, Chain: n, ChainID: chain.ChainID().Uint64(), Now: now,
		Wallet: signer.NewWallet(wallet), WalletKeyID: h.Config.WalletKeyID, Delegate: chain.AgentKeyDelegate(), Vault: h.Master, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", admin.New(svc, h.VerifyAdmin, nil))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{home: h, chain: chain, node: n, svc: svc, clock: clk, url: srv.URL, adminToken: adminCred.Reveal()}
}

// do sends an admin request with the admin credential and returns the
// status and body. No answer may carry the admin credential.
func (e *env) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	return e.doAs(t, e.adminToken, method, path, body)
}

func (e *env) doAs(t *testing.T, token, method, path, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
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
	if strings.Contains(string(out), e.adminToken) || token != "" && len(token) > 20 && strings.Contains(string(out), token) {
		t.Errorf("%s %s: the answer carries a credential: %s", method, path, out)
	}
	return resp.StatusCode, out
}

// errorOf reads an API error body: {"error": "..."}.
func errorOf(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		t.Fatalf("not an API error: %s (%v)", body, err)
	}
	return e.Error
}

// grantView is what the tests read of a key as the API shows it.
type grantView struct {
	KeyID     string     `json:"key_id"`
	Token     string     `json:"token"`
	Status    string     `json:"status"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// grant makes a key through the API and returns its view.
func (e *env) grant(t *testing.T, body string) grantView {
	t.Helper()
	status, out := e.do(t, "POST", "/v1/grants", body)
	if status != http.StatusCreated {
		t.Fatalf("grant: HTTP %d: %s", status, out)
	}
	var v grantView
	if err := json.Unmarshal(out, &v); err != nil || v.KeyID == "" || v.Token == "" {
		t.Fatalf("grant: %s (%v)", out, err)
	}
	return v
}

// TestAdminCredential: without the admin credential nothing is answered
// but 401, on every route, known or not, and the answer shows nothing of
// what was sent. (Its 20 failures stay under the backoff here:
// TestAdminThrottle is about that.)
func TestAdminCredential(t *testing.T) {
	e := start(t, service.Limits{Failures: limit.FailureConfig{Free: 100}})
	g := e.grant(t, `{"agent":"bot","profile":"full-access","daily_limit":["1ETH"]}`)
	wrongSecret := e.adminToken[:strings.LastIndex(e.adminToken, "_")+1] + strings.Repeat("0", 64)
	tokens := map[string]string{
		"missing":                 "",
		"not a credential":        "hello",
		"an agent credential":     g.Token,
		"the admin id, wrong key": wrongSecret,
	}
	const want = "admin credential missing or not valid: send Authorization: Bearer akadm_..."
	for name, tok := range tokens {
		for _, route := range []struct{ method, path string }{
			{"GET", "/v1/grants"}, {"POST", "/v1/revoke-all"}, {"GET", "/v1/grants/" + g.KeyID}, {"GET", "/v1/no-such-route"}, {"DELETE", "/v1/grants"},
		} {
			t.Run(name+" "+route.method+" "+route.path, func(t *testing.T) {
				status, out := e.doAs(t, tok, route.method, route.path, "")
				if status != http.StatusUnauthorized || errorOf(t, out) != want {
					t.Errorf("HTTP %d %s, want 401 %q", status, out, want)
				}
				if strings.Contains(string(out), g.KeyID) || tok != "" && strings.Contains(string(out), tok) {
					t.Errorf("the 401 shows what was sent or a key: %s", out)
				}
			})
		}
	}
	// Nothing was revoked by the refused revoke-all.
	if status, out := e.do(t, "GET", "/v1/grants/"+g.KeyID, ""); status != http.StatusOK || !strings.Contains(string(out), `"status": "active"`) {
		t.Errorf("after refused requests: HTTP %d %s", status, out)
	}
}

// TestAdminThrottle: wrong admin credentials from one address are
// refused unchecked (429, Retry-After) once past the free failures, with
// waits that double; they leave no record each but one per source and
// window (service's TestCredentialFailures covers the anomaly).
func TestAdminThrottle(t *testing.T) {
	e := start(t)
	cfg := limit.DefaultFailures
	wrong := e.adminToken[:strings.LastIndex(e.adminToken, "_")+1] + strings.Repeat("0", 64)
	before, err := e.home.Store.AuditHead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var retries []string
	for i := range cfg.Free + 3 {
		req, _ := http.NewRequest("GET", e.url+"/v1/grants", nil)
		req.Header.Set("Authorization", "Bearer "+wrong)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch {
		case i < cfg.Free+1:
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("attempt %d: HTTP %d, want 401", i+1, resp.StatusCode)
			}
		default:
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("attempt %d: HTTP %d, want 429", i+1, resp.StatusCode)
			}
			retries = append(retries, resp.Header.Get("Retry-After"))
			// Waiting it out lets one more attempt be checked, whose
			// failure doubles the wait.
			e.clock.Advance(time.Duration(1<<(i-cfg.Free-1)) * time.Second)
			if status, _ := e.doAs(t, wrong, "GET", "/v1/grants", ""); status != http.StatusUnauthorized {
				t.Fatalf("after the wait: HTTP %d, want 401", status)
			}
		}
	}
	if want := []string{"1", "2"}; !slices.Equal(retries[:2], want) {
		t.Errorf("Retry-After %v, want %v first", retries, want)
	}
	// The right credential waits too: the source is throttled, not the
	// credential.
	if status, _ := e.do(t, "GET", "/v1/grants", ""); status != http.StatusTooManyRequests {
		t.Errorf("the admin credential from a throttled source: HTTP %d, want 429", status)
	}
	head, err := e.home.Store.AuditHead(context.Background())
	if err != nil || head.Seq != before.Seq {
		t.Fatalf("refused credentials appended %d records one by one (%v)", head.Seq-before.Seq, err)
	}
	e.clock.Advance(time.Hour)
	if status, _ := e.do(t, "GET", "/v1/grants", ""); status != http.StatusOK {
		t.Errorf("the admin credential after the wait: HTTP %d", status)
	}
	if err := e.svc.FlushLimits(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	recs, err := e.home.Store.AuditRecords(context.Background(), before.Seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	var agg limit.Aggregate
	for _, r := range recs {
		if r.Method == service.MethodCredentialFailures {
			if err := json.Unmarshal(r.Call, &agg); err != nil || r.CallerIP != "127.0.0.1" || r.Decision != "deny" {
				t.Errorf("aggregate record %s (%v)", r.Call, err)
			}
		}
	}
	if agg.Surface != "admin" || agg.Failed != cfg.Free+3 || agg.Throttled != 3 {
		t.Errorf("aggregate %+v, want %d failed and 3 throttled on admin", agg, cfg.Free+3)
	}
	if len(recs) != 1 {
		t.Errorf("%d records for %d attempts, want the one aggregate", len(recs), cfg.Free+6)
	}
}

// TestAdminErrors: each malformed or impossible request is refused with
// the status that says whose fault it is and a message naming the field.
func TestAdminErrors(t *testing.T) {
	e := start(t)
	long := strings.Repeat("x", 10_000)
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string // the error message, or its start when it ends in "…"
	}{
		{"unknown route", "GET", "/v1/nothing", "", 404, ""},
		{"wrong method", "PUT", "/v1/grants", "", 405, ""},
		{"grant: not JSON", "POST", "/v1/grants", `{"agent":`, 400, "request body: unexpected EOF"},
		{"grant: unknown field", "POST", "/v1/grants", `{"agent":"bot","profil":"full-access"}`, 400, `request body: unknown field "profil"`},
		{"grant: wrong type", "POST", "/v1/grants", `{"agent":"bot","daily_limit":"1ETH"}`, 400, "request body: cannot unmarshal string into Go struct field GrantSpec.daily_limit of type []string"},
		{"grant: unknown profile", "POST", "/v1/grants", `{"agent":"bot","profile":"everything"}`, 400, `profile: unknown profile "everything"; expected one of …`},
		{"grant: no profile or policy", "POST", "/v1/grants", `{"agent":"bot"}`, 400, "profile: give a profile (…"},
		{"grant: profile and policy", "POST", "/v1/grants", `{"agent":"bot","profile":"full-access","policy":"name: x"}`, 400, "policy: give a profile or a policy, not both"},
		{"grant: bad limit", "POST", "/v1/grants", `{"agent":"bot","profile":"full-access","daily_limit":["1ETH","lots"]}`, 400, "daily_limit[1]: …"},
		{"grant: bad router", "POST", "/v1/grants", `{"agent":"bot","profile":"swap-only","routers":["0x12"],"daily_limit":["1ETH"]}`, 400, `routers[0]: expected an address (0x followed by 40 hex digits), got "0x12"`},
		{"grant: bad ttl", "POST", "/v1/grants", `{"agent":"bot","profile":"full-access","daily_limit":["1ETH"],"ttl":"soon"}`, 400, `ttl: expected a positive duration like 1h or 7d, got "soon"`},
		{"grant: bad mode", "POST", "/v1/grants", `{"agent":"bot","mode":"root","profile":"full-access","daily_limit":["1ETH"]}`, 400, `mode: expected wallet or 7702, got "root"`},
		{"grant: bad agent", "POST", "/v1/grants", `{"agent":"bad agent!","profile":"full-access","daily_limit":["1ETH"]}`, 400, service.ErrBadAgent.Error()},
		{"grant: another chain", "POST", "/v1/grants", `{"agent":"bot","policy":"name: x\nchains: [1]\n"}`, 400, "chains: …"},
		{"grants: unknown status", "GET", "/v1/grants?status=live", "", 400, `status: expected active, pending_approval, pending_signature, suspended, expired, revoked, got "live"`},
		{"grants: long status", "GET", "/v1/grants?status=" + long, "", 400, `status: expected active, pending_approval, pending_signature, suspended, expired, revoked, got "` + long[:40] + `…" (10000 bytes)`},
		{"grants: bad unused_for", "GET", "/v1/grants?unused_for=ages", "", 400, `unused_for: expected a positive duration like 24h or 7d, got "ages"`},
		{"grants: limit 0", "GET", "/v1/grants?limit=0", "", 400, `limit: expected a number from 1 to 1000, got "0"`},
		{"grants: limit over the maximum", "GET", "/v1/grants?limit=1001", "", 400, `limit: expected a number from 1 to 1000, got "1001"`},
		{"grants: limit not a number", "GET", "/v1/grants?limit=all", "", 400, `limit: expected a number from 1 to 1000, got "all"`},
		{"grants: bad cursor", "GET", "/v1/grants?cursor=nope", "", 400, `cursor: expected the next_cursor of an earlier page, got "nope"`},
		{"grants: long cursor", "GET", "/v1/grants?cursor=" + long, "", 400, `cursor: expected the next_cursor of an earlier page, got "` + long[:40] + `…" (10000 bytes)`},
		{"grants: bad order", "GET", "/v1/grants?order=sideways", "", 400, `order: expected oldest or newest, got "sideways"`},
		{"show: unknown key", "GET", "/v1/grants/ak_nosuchkey0", "", 404, "no such key"},
		{"revoke: unknown key", "POST", "/v1/grants/ak_nosuchkey0/revoke", "", 404, "no such key"},
		{"tokens: not JSON", "POST", "/v1/tokens", `[`, 400, "request body: …"},
		{"tokens: unknown field", "POST", "/v1/tokens", `{"address":"` + stranger.Hex() + `","decimals":6}`, 400, `request body: unknown field "decimals"`},
		{"tokens: bad address", "POST", "/v1/tokens", `{"address":"0xzz"}`, 400, `address: expected a token address (0x followed by 40 hex digits), got "0xzz"`},
		{"tokens: not a token", "POST", "/v1/tokens", `{"address":"` + stranger.Hex() + `"}`, 400, "…"},
		{"tokens: look up a bad address", "GET", "/v1/tokens/" + long, "", 400, `address: expected a token address (0x followed by 40 hex digits), got "` + long[:64] + `…"`},
		{"tokens: look up an account", "GET", "/v1/tokens/" + stranger.Hex(), "", 400, "address: …"},
		{"tokens: remove an unknown one", "DELETE", "/v1/tokens/NOPE", "", 404, service.ErrNoToken.Error()},
		{"txs: unknown state", "GET", "/v1/txs?state=lost", "", 400, `state: expected one of signed, broadcast, included, replaced, cancelled, dropped, got "lost"`},
		{"txs: long state", "GET", "/v1/txs?state=" + long, "", 400, "state: expected one of signed, broadcast, included, replaced, cancelled, dropped, got \"" + long[:40] + "…\" (10000 bytes)"},
		{"tx: bad hash", "GET", "/v1/txs/0x12", "", 400, `hash: expected a transaction hash (0x followed by 64 hex digits), got "0x12"`},
		{"tx: unknown hash", "GET", "/v1/txs/0x" + strings.Repeat("ab", 32), "", 404, service.ErrNoTx.Error()},
		{"cancel: bad hash", "POST", "/v1/txs/" + long + "/cancel", "", 400, "hash: expected a transaction hash (0x followed by 64 hex digits), got \"" + long[:40] + "…\" (10000 bytes)"},
		{"cancel: unknown hash", "POST", "/v1/txs/0x" + strings.Repeat("ab", 32) + "/cancel", "", 404, service.ErrNoTx.Error()},
		{"deploy: unknown field", "POST", "/v1/wallet/deploy-delegate", `{"gas":1}`, 400, `request body: unknown field "gas"`},
		{"alert: not JSON", "POST", "/v1/alerts", `{"url":`, 400, "request body: unexpected EOF"},
		{"alert: unknown field", "POST", "/v1/alerts", `{"url":"https://hooks.example/","severity":"info"}`, 400, `request body: unknown field "severity"`},
		{"alert: bad scheme", "POST", "/v1/alerts", `{"url":"file:///etc/passwd"}`, 400, `url: expected an http:// or https:// URL, got scheme "file"`},
		{"alert: user information", "POST", "/v1/alerts", `{"url":"https://me:pw-SECRET@hooks.example/"}`, 400, "url: must not carry user information (user:password@): …"},
		{"alert: bad severity", "POST", "/v1/alerts", `{"url":"https://hooks.example/","min_severity":"` + long + `"}`, 400, `min_severity: expected info, warning or critical, got "` + long[:40] + `…" (10000 bytes)`},
		{"alert: short secret", "POST", "/v1/alerts", `{"url":"https://hooks.example/","secret":"pw-SECRET"}`, 400, "secret: expected 16 to 1024 bytes, got 9"},
		{"alert: remove an unknown one", "DELETE", "/v1/alerts/hook_nope", "", 404, service.ErrNoAlertHook.Error()},
		{"alert: test an unknown one", "POST", "/v1/alerts/hook_nope/test", "", 404, service.ErrNoAlertHook.Error()},
		{"alert deliveries: unknown hook", "GET", "/v1/alerts/deliveries?hook=hook_nope", "", 404, service.ErrNoAlertHook.Error()},
		{"alert deliveries: bad state", "GET", "/v1/alerts/deliveries?state=lost", "", 400, `state: expected pending, delivered or failed, got "lost"`},
		{"alert deliveries: bad limit", "GET", "/v1/alerts/deliveries?limit=0", "", 400, "limit: expected a number from 1 to 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := e.do(t, tt.method, tt.path, tt.body)
			if status != tt.status {
				t.Fatalf("HTTP %d %s, want %d", status, out, tt.status)
			}
			if len(out) > 1000 {
				t.Errorf("the answer is %d bytes: an echo is not bounded", len(out))
			}
			if tt.status == 404 && tt.want == "" || tt.status == 405 {
				return // the router's own answer
			}
			msg := errorOf(t, out)
			if prefix, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(msg, prefix) {
					t.Errorf("error %q, want it to start with %q", msg, prefix)
				}
			} else if msg != tt.want {
				t.Errorf("error %q, want %q", msg, tt.want)
			}
			if strings.Contains(msg, "SECRET") {
				t.Errorf("the error quotes a secret: %q", msg)
			}
			if strings.Contains(msg, "internal error") {
				t.Errorf("an owner's mistake reported as an internal error: %q", msg)
			}
		})
	}
	// None of the refused hooks was stored.
	if status, out := e.do(t, "GET", "/v1/alerts", ""); status != http.StatusOK || strings.TrimSpace(string(out)) != "[]" {
		t.Errorf("hooks after refused ones: HTTP %d %s", status, out)
	}
	// None of the refused grants made a key.
	status, out := e.do(t, "GET", "/v1/grants", "")
	if status != http.StatusOK || strings.Join(strings.Fields(string(out)), "") != `{"keys":[]}` {
		t.Errorf("keys after refused grants: HTTP %d %s", status, out)
	}
}

// TestAdminGrantPages: GET /v1/grants answers a page of at most limit
// keys (100 by default) and, while more remain, the next_cursor that
// continues it, oldest or newest first.
func TestAdminGrantPages(t *testing.T) {
	e := start(t)
	var want []string
	for range 5 {
		e.clock.Advance(time.Second) // listed by creation time, then id
		want = append(want, e.grant(t, `{"agent":"bot","profile":"full-access","daily_limit":["1ETH"]}`).KeyID)
	}
	list := func(query string) admin.GrantList {
		t.Helper()
		status, out := e.do(t, "GET", "/v1/grants"+query, "")
		if status != http.StatusOK {
			t.Fatalf("GET /v1/grants%s: HTTP %d %s", query, status, out)
		}
		var l admin.GrantList
		if err := json.Unmarshal(out, &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := list(""); len(l.Keys) != 5 || l.NextCursor != "" {
		t.Fatalf("the default page holds %d keys with next cursor %q, want all 5 and none", len(l.Keys), l.NextCursor)
	}
	for _, order := range []string{"oldest", "newest"} {
		var got []string
		query := "?limit=2&order=" + order
		for pages := 1; ; pages++ {
			l := list(query)
			if len(l.Keys) > 2 || pages > 3 {
				t.Fatalf("page %d holds %d keys", pages, len(l.Keys))
			}
			for _, k := range l.Keys {
				if k.Usage == nil || k.Budget == nil {
					t.Errorf("key %s listed without its usage or budget", k.KeyID)
				}
				got = append(got, k.KeyID)
			}
			if l.NextCursor == "" {
				break
			}
			query = "?limit=2&order=" + order + "&cursor=" + l.NextCursor
		}
		w := slices.Clone(want)
		if order == "newest" {
			slices.Reverse(w)
		}
		if !slices.Equal(got, w) {
			t.Errorf("order %s: paged %v, want %v", order, got, w)
		}
	}
}

// TestGrantsUsage: the key list and a key's view carry its usage (last
// request, requests and refusals in 24h) and budget, and the list filters
// on status and on how long a key went unused.
func TestGrantsUsage(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	used := e.grant(t, `{"agent":"bot","profile":"full-access","daily_limit":["1ETH"]}`)
	idle := e.grant(t, `{"agent":"idle","profile":"full-access","daily_limit":["2ETH"]}`)
	gone := e.grant(t, `{"agent":"gone","profile":"full-access","daily_limit":["1ETH"]}`)
	if status, out := e.do(t, "POST", "/v1/grants/"+gone.KeyID+"/revoke", ""); status != http.StatusOK {
		t.Fatalf("revoke: HTTP %d %s", status, out)
	}
	info := service.RequestInfo{Method: "eth_signTransaction", IP: netip.MustParseAddr("192.0.2.7"), RequestID: "r"}
	sess, err := e.svc.Authenticate(ctx, used.Token, info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Transaction(ctx, sess, info, service.TxArgs{To: &stranger, Value: big.NewInt(1e15)}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Transaction(ctx, sess, info, service.TxArgs{To: &stranger, Value: big.NewInt(2e18)}, false); err == nil {
		t.Fatal("a transfer over the daily limit was signed")
	}

	type view struct {
		KeyID  string               `json:"key_id"`
		Usage  *service.KeyUsage    `json:"usage"`
		Budget []service.BudgetLine `json:"budget"`
	}
	list := func(query string) []view {
		t.Helper()
		status, out := e.do(t, "GET", "/v1/grants"+query, "")
		if status != http.StatusOK {
			t.Fatalf("GET /v1/grants%s: HTTP %d %s", query, status, out)
		}
		var page struct {
			Keys []view `json:"keys"`
		}
		if err := json.Unmarshal(out, &page); err != nil {
			t.Fatal(err)
		}
		return page.Keys
	}
	// The keys share a creation time (the clock is stopped), so the list
	// is in id order; compare sets.
	set := func(ids ...string) string {
		slices.Sort(ids)
		return strings.Join(ids, ",")
	}
	ids := func(vs []view) string {
		var out []string
		for _, v := range vs {
			out = append(out, v.KeyID)
		}
		return set(out...)
	}
	byID := map[string]view{}
	for _, v := range list("") {
		byID[v.KeyID] = v
	}
	if len(byID) != 3 {
		t.Fatalf("keys %v, want 3", byID)
	}
	u := byID[used.KeyID].Usage
	if u == nil || u.LastUsed == nil || u.LastIP != "192.0.2.7" || u.LastDecision != "deny" || u.Requests24h != 2 || u.Denied24h != 1 {
		t.Errorf("usage of the used key: %+v", u)
	}
	if u := byID[idle.KeyID].Usage; u == nil || *u != (service.KeyUsage{}) {
		t.Errorf("usage of the idle key: %+v, want present and empty", u)
	}
	// The signed transfer is pending: its value and its worst-case fee.
	if b := byID[used.KeyID].Budget; len(b) != 1 || b[0].RawSpent != "0" || !moreThan(b[0].RawPending, big.NewInt(1e15)) ||
		!sumsTo(b[0].RawPending, b[0].RawRemaining, big.NewInt(1e18)) {
		t.Errorf("budget of the used key in the list: %+v", b)
	}
	if b := byID[idle.KeyID].Budget; len(b) != 1 || b[0].RawRemaining != "2000000000000000000" {
		t.Errorf("budget of the idle key in the list: %+v", b)
	}
	for query, want := range map[string]string{
		"?status=active":  set(used.KeyID, idle.KeyID),
		"?status=revoked": gone.KeyID,
		"?status=expired": "",
		"?unused_for=1h":  "", // granted and used just now
	} {
		if got := ids(list(query)); got != want {
			t.Errorf("GET /v1/grants%s: %s, want %s", query, got, want)
		}
	}
	// Two hours on: every key has been idle for an hour (a never-used key
	// counts from when it was granted), none for three.
	e.clock.Advance(2 * time.Hour)
	for query, want := range map[string]string{
		"?unused_for=1h":               set(used.KeyID, idle.KeyID, gone.KeyID),
		"?unused_for=3h":               "",
		"?status=active&unused_for=1h": set(used.KeyID, idle.KeyID),
	} {
		if got := ids(list(query)); got != want {
			t.Errorf("GET /v1/grants%s: %s, want %s", query, got, want)
		}
	}

	status, out := e.do(t, "GET", "/v1/grants/"+used.KeyID, "")
	if status != http.StatusOK {
		t.Fatalf("show: HTTP %d %s", status, out)
	}
	var one view
	if err := json.Unmarshal(out, &one); err != nil {
		t.Fatal(err)
	}
	if one.Usage == nil || one.Usage.LastUsed == nil || !one.Usage.LastUsed.Equal(*u.LastUsed) || one.Usage.LastIP != u.LastIP ||
		one.Usage.Requests24h != u.Requests24h || one.Usage.Denied24h != u.Denied24h || len(one.Budget) != 1 {
		t.Errorf("show: usage %+v budget %+v; want usage %+v and one budget line", one.Usage, one.Budget, u)
	}
}

func moreThan(dec string, n *big.Int) bool {
	v, ok := new(big.Int).SetString(dec, 10)
	return ok && v.Cmp(n) > 0
}

func sumsTo(a, b string, n *big.Int) bool {
	x, ok1 := new(big.Int).SetString(a, 10)
	y, ok2 := new(big.Int).SetString(b, 10)
	return ok1 && ok2 && new(big.Int).Add(x, y).Cmp(n) == 0
}

// TestRevokeTwice: revoking a revoked key succeeds and keeps the first
// revocation time; the key shows as revoked.
func TestRevokeTwice(t *testing.T) {
	e := start(t)
	g := e.grant(t, `{"agent":"bot","profile":"full-access","daily_limit":["1ETH"]}`)
	var first grantView
	for i := range 2 {
		status, out := e.do(t, "POST", "/v1/grants/"+g.KeyID+"/revoke", "")
		if status != http.StatusOK {
			t.Fatalf("revoke %d: HTTP %d %s", i+1, status, out)
		}
		var v grantView
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		if v.Status != "revoked" || v.RevokedAt == nil || v.Token != "" {
			t.Fatalf("revoke %d: %+v", i+1, v)
		}
		if i == 0 {
			first = v
		} else if !v.RevokedAt.Equal(*first.RevokedAt) {
			t.Errorf("second revoke moved the time from %s to %s", first.RevokedAt, v.RevokedAt)
		}
	}
}

// TestCancelErrors: a transaction whose nonce is already used cannot be
// cancelled (400 naming the hash); when the node cannot be reached the
// answer is 502 without the node's URL.
func TestCancelErrors(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	g := e.grant(t, `{"agent":"bot","profile":"full-access","daily_limit":["1ETH"]}`)
	sess, err := e.svc.Authenticate(ctx, g.Token, service.RequestInfo{Method: "eth_sendTransaction"})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := e.svc.Transaction(ctx, sess, service.RequestInfo{Method: "eth_sendTransaction"}, service.TxArgs{To: &stranger, Value: big.NewInt(1)}, true)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := e.svc.Transaction(ctx, sess, service.RequestInfo{Method: "eth_signTransaction"}, service.TxArgs{To: &stranger, Value: big.NewInt(2)}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := delegation.Wait(ctx, e.chain.Client(), sent.Hash); err != nil {
		t.Fatal(err)
	}

	status, out := e.do(t, "POST", "/v1/txs/"+sent.Hash.Hex()+"/cancel", "")
	if msg := errorOf(t, out); status != http.StatusBadRequest || !strings.HasPrefix(msg, "hash: nonce 0 of ") || !strings.Contains(msg, "already used on chain") {
		t.Errorf("cancel of a mined transaction: HTTP %d %q", status, msg)
	}

	e.node.setDown(true)
	status, out = e.do(t, "POST", "/v1/txs/"+signed.Hash.Hex()+"/cancel", "")
	if msg := errorOf(t, out); status != http.StatusBadGateway || msg != "the node did not answer (see the daemon's log)" {
		t.Errorf("cancel with the node down: HTTP %d %q", status, msg)
	}
	if strings.Contains(string(out), "SECRET") || strings.Contains(string(out), "mainnet.example") {
		t.Errorf("the answer shows the node's URL: %s", out)
	}
	// The signed transaction is still there to cancel or broadcast.
	status, out = e.do(t, "GET", "/v1/txs/"+signed.Hash.Hex(), "")
	var v struct {
		State       string `json:"state"`
		CancelledBy string `json:"cancelled_by"`
	}
	if err := json.Unmarshal(out, &v); status != http.StatusOK || err != nil || v.State != "signed" || v.CancelledBy != "" {
		t.Errorf("after the failed cancel: HTTP %d %s", status, out)
	}
}

// TestNodeDownShowsNoURL: when the node cannot be reached, the owner's
// wallet actions fail with 502 and the read with an error, and no answer
// shows the node's URL (it may carry the provider's API key).
func TestNodeDownShowsNoURL(t *testing.T) {
	e := start(t)
	e.node.setDown(true)
	for _, route := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/v1/wallet/upgrade", http.StatusBadGateway},
		{"POST", "/v1/wallet/downgrade", http.StatusBadGateway},
		{"GET", "/v1/wallet", http.StatusBadGateway},
		{"POST", "/v1/wallet/deploy-delegate", http.StatusBadGateway},
	} {
		t.Run(route.method+" "+route.path, func(t *testing.T) {
			status, out := e.do(t, route.method, route.path, "")
			msg := errorOf(t, out)
			if status != route.status {
				t.Errorf("HTTP %d %q, want %d", status, msg, route.status)
			}
			if !strings.Contains(msg, "connection refused") {
				t.Errorf("the answer does not say what the node did: %q", msg)
			}
			if strings.Contains(msg, "SECRET") || strings.Contains(msg, "/v3") {
				t.Errorf("the answer shows the node's URL: %q", msg)
			}
		})
	}
}
