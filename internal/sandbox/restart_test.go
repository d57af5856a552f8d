package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

// startOn starts a sandbox on the home in dir with the clock c, as start
// does on a fresh home.
func startOn(t *testing.T, dir string, c *clock.Fake) (*env, error) {
	t.Helper()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	logs := &syncbuf.Buffer{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := Start(ctx, Config{Home: dir, Passphrase: []byte(testPassphrase), KDF: &kdf, Now: c.Now,
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	e := &env{t: t, sb: sb, clock: c, logs: logs, wire: &syncbuf.Buffer{}, transport: tr}
	t.Cleanup(func() { e.close() })
	return e, nil
}

func mustStartOn(t *testing.T, dir string, c *clock.Fake) *env {
	t.Helper()
	e, err := startOn(t, dir, c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// swapETH has the agent swap value ETH for USDC to the owner and returns
// the transaction's hash.
func (e *env) swapETH(token string, value float64) (common.Hash, error) {
	e.t.Helper()
	info := e.sb.Info
	owner, router := common.HexToAddress(info.Owner), common.HexToAddress(info.Router)
	data := calldata(e.t, "swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1),
		[]common.Address{common.HexToAddress(info.WETH), common.HexToAddress(info.Tokens["USDC"])}, owner, big.NewInt(4_000_000_000))
	var hash common.Hash
	err := e.agent(token).CallContext(context.Background(), &hash, "eth_sendTransaction", txObj{To: &router, Value: wei(value), Data: data})
	return hash, err
}

// maxFee is the worst-case fee of a transaction the node knows: gas limit
// × max fee per gas, what the daemon reserves for it.
func (e *env) maxFee(hash common.Hash) *big.Int {
	e.t.Helper()
	tx, _, err := e.sb.Chain.Client().TransactionByHash(context.Background(), hash)
	if err != nil {
		e.t.Fatalf("transaction %s: %v", hash.Hex(), err)
	}
	return new(big.Int).Mul(new(big.Int).SetUint64(tx.Gas()), tx.GasFeeCap())
}

// chainResetRecords returns the calls of the audit log's chain-reset
// records, oldest first.
func (e *env) chainResetRecords() []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, r := range e.auditRecords() {
		if r.Method != service.MethodChainReset {
			continue
		}
		if r.KeyID != "" || r.Decision != audit.DecisionAllow {
			e.t.Errorf("chain reset record %+v: want an admin record", r)
		}
		var call map[string]any
		if err := json.Unmarshal(r.Call, &call); err != nil {
			e.t.Fatalf("chain reset record call %s: %v", r.Call, err)
		}
		out = append(out, call)
	}
	return out
}

// TestSandboxRestartResetsTheChainBoundState: a sandbox restarted on its
// home runs a new chain, so the store's nonce counter (ahead of the new
// chain) is reset and the next swap is mined; the budget reserved for the
// lost chain's transactions is released, and the audit log says what was
// reset. The key itself (wallet mode) keeps working.
func TestSandboxRestartResetsTheChainBoundState(t *testing.T) {
	dir := t.TempDir()
	c := clock.NewFake(testEpoch(t))
	e := mustStartOn(t, dir, c)
	g := e.grant(map[string]any{"agent": "trader", "profile": "swap-only", "routers": []string{e.sb.Info.Router}, "daily_limit": []string{"0.1ETH"}, "ttl": "24h"})
	tok, keyID := token(t, g), g["key_id"].(string)
	lost := new(big.Int).Mul(big.NewInt(5), big.NewInt(1e16)) // 0.05 ETH of value, and the fees below
	for _, v := range []float64{0.02, 0.03} {
		hash, err := e.swapETH(tok, v)
		if err == nil {
			lost.Add(lost, e.maxFee(hash))
		}
		if err != nil {
			t.Fatalf("swap on the first chain: %v", err)
		}
		if r := e.receipt(hash); r.Status != 1 {
			t.Fatalf("swap on the first chain reverted: %+v", r)
		}
	}
	if len(e.chainResetRecords()) != 0 {
		t.Error("a new home recorded a chain reset")
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}

	c.Advance(time.Minute)
	e = mustStartOn(t, dir, c)
	hash, err := e.swapETH(tok, 0.04)
	if err != nil {
		t.Fatalf("swap after the restart: %v", err)
	}
	if r := e.receipt(hash); r.Status != 1 {
		t.Fatalf("swap after the restart reverted: %+v", r)
	}

	// The lost chain's 0.05 ETH (and fees) no longer count: 0.04 ETH and
	// its worst-case fee are pending, the rest of 0.1 is left.
	var perms map[string]any
	if err := e.agent(tok).CallContext(context.Background(), &perms, "agentkeys_getPermissions"); err != nil {
		t.Fatal(err)
	}
	budget := perms["budget"].([]any)[0].(map[string]any)
	pending := new(big.Int).Add(big.NewInt(4e16), e.maxFee(hash))
	left := new(big.Int).Sub(big.NewInt(1e17), pending)
	if budget["raw_spent"] != "0" || budget["raw_pending"] != pending.String() || budget["raw_remaining"] != left.String() {
		t.Errorf("budget after the restart = %v, want %s pending and %s remaining", budget, pending, left)
	}

	resets := e.chainResetRecords()
	if len(resets) != 1 {
		t.Fatalf("%d chain reset records, want 1", len(resets))
	}
	owner := strings.ToLower(e.sb.Info.Owner)
	want := map[string]any{
		"chain_id":               float64(31337),
		"why":                    "agentkeys sandbox started a new in-process chain",
		"nonce_counters_deleted": []any{map[string]any{"address": owner, "next": float64(2)}}, // the two swaps, nonces 0 and 1
		"reservations_released":  []any{map[string]any{"key_id": keyID, "asset": "native", "amount": lost.String(), "reservations": float64(4)}},
		"revoked_7702_keys":      []any{},
	}
	if got, _ := json.Marshal(resets[0]); string(got) != string(mustJSON(t, want)) {
		t.Errorf("chain reset record:\n got %s\nwant %s", got, mustJSON(t, want))
	}
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit after the restart: %s", rep)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSandboxRestartRevokes7702Keys: a 7702 key's session was registered
// on the lost chain only, so after a restart the key is refused, saying
// why, and the reset record names it.
func TestSandboxRestartRevokes7702Keys(t *testing.T) {
	dir := t.TempDir()
	c := clock.NewFake(testEpoch(t))
	e := mustStartOn(t, dir, c)
	if code := e.admin("POST", "/v1/wallet/upgrade", nil, nil); code != http.StatusOK {
		t.Fatalf("upgrade: HTTP %d", code)
	}
	g := e.grant(map[string]any{"agent": "trader", "mode": "7702", "profile": "swap-only", "routers": []string{e.sb.Info.Router}, "daily_limit": []string{"0.1ETH"}})
	tok, keyID := token(t, g), g["key_id"].(string)
	if err := e.close(); err != nil {
		t.Fatal(err)
	}

	e = mustStartOn(t, dir, c)
	var bn hexutil.Uint64
	wantRefused(t, e.agent(tok).CallContext(context.Background(), &bn, "eth_blockNumber"), 4100,
		"chain 31337 was reset (agentkeys sandbox started a new in-process chain); this 7702 key's session existed only on the old chain: grant a new key")
	var shown map[string]any
	if code := e.admin("GET", "/v1/grants/"+keyID, nil, &shown); code != http.StatusOK || shown["revoked_at"] == nil {
		t.Errorf("key after the restart: HTTP %d %v, want it revoked", code, shown)
	}
	resets := e.chainResetRecords()
	if len(resets) != 1 || fmt.Sprint(resets[0]["revoked_7702_keys"]) != fmt.Sprint([]any{keyID}) {
		t.Fatalf("chain reset records %v: want one revoking %s", resets, keyID)
	}
}

// TestSecondSandboxOnAHeldHomeFails: while a sandbox serves a home, a
// second one is refused at once, naming the first, and its sandbox.json
// is left as it was; after Close the file is gone and the home is free.
func TestSecondSandboxOnAHeldHomeFails(t *testing.T) {
	dir := t.TempDir()
	c := clock.NewFake(testEpoch(t))
	since := c.Now().Format(time.RFC3339)
	e := mustStartOn(t, dir, c)
	info := filepath.Join(dir, InfoFile)
	before, err := os.ReadFile(info)
	if err != nil {
		t.Fatal(err)
	}

	c.Advance(time.Hour)
	_, err = startOn(t, dir, c)
	want := fmt.Sprintf("home %s is in use by agentkeys sandbox (pid %d) since %s; stop it first or use another --home", dir, os.Getpid(), since)
	if !errors.Is(err, home.ErrInUse) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second Start: %v\nwant it to say %q", err, want)
	}
	if after, err := os.ReadFile(info); err != nil || string(after) != string(before) {
		t.Fatalf("sandbox.json after the refused Start: %v\n%s\nwant it untouched:\n%s", err, after, before)
	}
	// The first sandbox still serves.
	var bn hexutil.Uint64
	if err := e.agent(token(t, e.grant(map[string]any{"agent": "reader", "profile": "read-only"}))).CallContext(context.Background(), &bn, "eth_blockNumber"); err != nil {
		t.Fatalf("the first sandbox after the refused Start: %v", err)
	}

	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(info); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sandbox.json after Close: %v, want it removed", err)
	}
	l, err := home.Acquire(dir, "test", c.Now())
	if err != nil {
		t.Fatalf("the home after Close: %v", err)
	}
	l.Release()
}
