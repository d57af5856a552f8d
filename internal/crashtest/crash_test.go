package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/cli"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/store/postgres/pgtest"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

// childEnv, when set, turns the test binary into `agentkeys serve`: its
// value is the command line as a JSON array.
const childEnv = "AGENTKEYS_CRASHTEST_SERVE"

const passphrase = "crash test passphrase"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			fmt.Fprintln(os.Stderr, "crashtest child:", err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		code := cli.Main(ctx, a, cli.IO{In: strings.NewReader(""), Out: os.Stdout, Err: os.Stderr})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestCrashUnderLoadSQLite kills the daemon on its embedded SQLite store.
func TestCrashUnderLoadSQLite(t *testing.T) {
	runCrash(t, "")
}

// TestCrashUnderLoadPostgres kills the daemon on a PostgreSQL store (a
// fresh schema of the test database; skipped without one, failed in CI).
func TestCrashUnderLoadPostgres(t *testing.T) {
	runCrash(t, pgtest.DSN(t))
}

// daemon is one `agentkeys serve` child process.
type daemon struct {
	cmd                *exec.Cmd
	out, errOut        *syncbuf.Buffer
	agentURL, adminURL string
	exited             chan struct{}
}

var servingURLs = regexp.MustCompile(`agents: (https?://\S+)/rpc\n  admin:  (https?://\S+)/v1/`)

// startDaemon runs `agentkeys serve --home dir args...` as a child and
// waits until it serves.
func startDaemon(t *testing.T, dir string, args []string) *daemon {
	t.Helper()
	full, _ := json.Marshal(append([]string{"serve", "--home", dir}, args...))
	d := &daemon{out: &syncbuf.Buffer{}, errOut: &syncbuf.Buffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command(os.Args[0], "-test.run=^$")
	d.cmd.Env = append(os.Environ(), childEnv+"="+string(full), "AGENTKEYS_PASSPHRASE="+passphrase)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.errOut
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() { d.kill(syscall.SIGKILL) })
	deadline := time.After(2 * time.Minute)
	for {
		if m := servingURLs.FindStringSubmatch(d.out.String()); m != nil {
			d.agentURL, d.adminURL = m[1], m[2]
			return d
		}
		select {
		case <-d.exited:
			t.Fatalf("serve exited before serving: %s\n%s", d.out.String(), d.errOut.String())
		case <-deadline:
			t.Fatalf("serve did not start: %s\n%s", d.out.String(), d.errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// kill sends sig and waits for the process to go.
func (d *daemon) kill(sig syscall.Signal) {
	select {
	case <-d.exited:
		return
	default:
	}
	_ = d.cmd.Process.Signal(sig)
	<-d.exited
}

// returned is a signature that reached a client.
type returned struct {
	key   int
	hash  common.Hash
	nonce uint64
	value *big.Int
	raw   []byte // eth_signTransaction: the bytes the agent broadcasts
}

// tally counts what the agents saw.
type tally struct {
	mu       sync.Mutex
	sigs     map[common.Hash]returned
	refused  int
	failures int // connection errors and failed answers while the daemon was down or dying
}

func (t *tally) add(r returned) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sigs[r.hash] = r
}

func (t *tally) count(refused bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if refused {
		t.refused++
	} else {
		t.failures++
	}
}

// envInt reads a positive integer setting from the environment.
func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s: expected a positive integer, got %q", name, v)
	}
	return n
}

const (
	keys         = 4
	agentsPerKey = 4
)

var capWei = big.NewInt(300_000_000_000_000_000) // 0.3 ETH a day per key: reached during the run

// runCrash is the harness: serve a home on the store at storeURL ("" for
// the home's SQLite file), load it with agentsPerKey agents on each of keys keys, SIGKILL it at random
// moments AGENTKEYS_CRASH_KILLS times (default 20), restarting each time,
// then let every transaction settle and check what must hold.
func runCrash(t *testing.T, storeURL string) {
	if testing.Short() {
		t.Skip("crash harness: not with -short")
	}
	kills := envInt(t, "AGENTKEYS_CRASH_KILLS", 20)
	seed := uint64(envInt(t, "AGENTKEYS_CRASH_SEED", int(time.Now().UnixNano()%1_000_000_000)+1))
	t.Logf("seed %d (AGENTKEYS_CRASH_SEED reruns these kill moments), %d kills", seed, kills)
	rng := rand.New(rand.NewPCG(seed, 0))

	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	dir := filepath.Join(t.TempDir(), "home")
	h, adminCred, err := home.Init(context.Background(), dir, home.InitOptions{Passphrase: []byte(passphrase), KDF: &kdf, Store: storeURL})
	if err != nil {
		t.Fatal(err)
	}
	owner := common.HexToAddress(h.Config.WalletAddress)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	chain, err := devchain.Start(context.Background(), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	// Signed transactions no agent broadcast (the answer died with the
	// daemon) are cancelled at their nonce after this long.
	if out, code := run(t, "config", "set", "stuck-after", "10s", "--home", dir); code != 0 {
		t.Fatalf("config set stuck-after: %s", out)
	}
	// The home's config names its store, so serve and audit find it.
	args := []string{"--rpc-upstream", chain.URL(), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"}

	d := startDaemon(t, dir, args)
	targets := make([]common.Address, keys)
	tokens := make([]string, keys)
	keyIDs := make([]string, keys)
	for i := range keys {
		targets[i] = common.BigToAddress(big.NewInt(int64(0xc0ffee00 + i)))
		pol := fmt.Sprintf("name: crash-%d\nchains: [31337]\nvalid_for: 24h\nlimits:\n"+
			"  - { asset: native, per_tx: 0.01ETH, per_period: 0.3ETH, period: 1d }\n"+
			"  - { asset: fees, per_period: 100ETH, period: 1d }\n"+
			"allow:\n  - contract: %q\n    functions:\n      - sig: receive\n", i, targets[i].Hex())
		body, _ := json.Marshal(map[string]string{"agent": fmt.Sprintf("crash-%d", i), "policy": pol})
		var g struct {
			KeyID string `json:"key_id"`
			Token string `json:"token"`
		}
		if code := doJSON(t, "POST", d.adminURL+"/v1/grants", adminCred.Reveal(), string(body), &g); code != http.StatusOK && code != http.StatusCreated || g.Token == "" {
			t.Fatalf("grant %d: HTTP %d", i, code)
		}
		tokens[i], keyIDs[i] = g.Token, g.KeyID
	}

	var agentURL atomic.Pointer[string]
	agentURL.Store(&d.agentURL)
	tl := &tally{sigs: map[common.Hash]returned{}}
	ctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 20 * time.Second}
	for k := range keys {
		for a := range agentsPerKey {
			wg.Add(1)
			go func() {
				defer wg.Done()
				arng := rand.New(rand.NewPCG(seed, uint64(k*agentsPerKey+a+1)))
				for ctx.Err() == nil {
					agent(ctx, t, client, chain, *agentURL.Load(), tokens[k], k, owner, targets[k], arng, tl)
				}
			}()
		}
	}

	// Each kill lands while agents are being served: once this daemon has
	// decided a request, after a random further moment.
	signed := func() int {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		return len(tl.sigs)
	}
	decided := func() int {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		return len(tl.sigs) + tl.refused
	}
	var signedBefore []int
	for i := range kills {
		before := decided()
		for deadline := time.Now().Add(time.Minute); decided() == before && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		d.kill(syscall.SIGKILL)
		signedBefore = append(signedBefore, signed())
		d = startDaemon(t, dir, args)
		agentURL.Store(&d.agentURL)
		t.Logf("kill %d: %d signatures had reached agents before it", i+1, signedBefore[len(signedBefore)-1])
	}
	time.Sleep(300 * time.Millisecond)
	stopLoad()
	wg.Wait()
	tl.mu.Lock()
	t.Logf("agents got %d signatures, %d refusals, %d failed answers over %d kills", len(tl.sigs), tl.refused, tl.failures, kills)
	tl.mu.Unlock()
	if len(tl.sigs) == 0 {
		t.Fatal("no signature reached an agent: the load never ran")
	}
	if signedBefore[len(signedBefore)-1] == signedBefore[0] {
		t.Fatal("no signature between the first and the last kill: the kills did not land under load")
	}

	// Agents broadcast what eth_signTransaction gave them (again: some
	// answers came just before a kill).
	for _, r := range tl.sigs {
		if r.raw != nil {
			var tx types.Transaction
			if err := tx.UnmarshalBinary(r.raw); err == nil {
				_ = chain.Client().SendTransaction(context.Background(), &tx)
			}
		}
	}

	// Every transaction must reach a final state: mined, or cancelled at
	// its nonce by the lifecycle watcher.
	var txs []txInfo
	for deadline := time.Now().Add(3 * time.Minute); ; {
		txs = nil
		if code := doJSON(t, "GET", d.adminURL+"/v1/txs", adminCred.Reveal(), "", &txs); code != http.StatusOK {
			t.Fatalf("GET /v1/txs: HTTP %d", code)
		}
		open := 0
		for _, x := range txs {
			if x.State == "signed" || x.State == "broadcast" {
				open++
			}
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d transactions still open after 3 minutes: the account is stalled", open, len(txs))
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Budgets as the daemon reports them to each key.
	spent := make([]*big.Int, keys)
	for k := range keys {
		var resp struct {
			Result struct {
				Budget []struct {
					Asset      string `json:"asset"`
					RawSpent   string `json:"raw_spent"`
					RawPending string `json:"raw_pending"`
				} `json:"budget"`
			} `json:"result"`
			Error json.RawMessage `json:"error"`
		}
		// The agents' load just ended: a key may still be over its
		// request rate (-32005), whose answer says when to retry.
		for range 10 {
			resp.Error = nil
			doJSON(t, "POST", d.agentURL+"/rpc", tokens[k], `{"jsonrpc":"2.0","id":1,"method":"agentkeys_getPermissions"}`, &resp)
			var limited struct {
				Code int `json:"code"`
				Data struct {
					RetryAfter int `json:"retry_after"`
				} `json:"data"`
			}
			if json.Unmarshal(resp.Error, &limited) != nil || limited.Code != -32005 {
				break
			}
			time.Sleep(time.Duration(max(limited.Data.RetryAfter, 1)) * time.Second)
		}
		for _, b := range resp.Result.Budget {
			if b.Asset == "native" {
				spent[k], _ = new(big.Int).SetString(b.RawSpent, 10)
				if b.RawPending != "0" {
					t.Errorf("key %d: %s wei still pending after every transaction settled", k, b.RawPending)
				}
			}
		}
		if spent[k] == nil {
			t.Fatalf("key %d: no native budget in agentkeys_getPermissions: %s", k, resp.Error)
		}
	}
	d.kill(syscall.SIGTERM)

	// The audit log, read after the daemon stopped.
	out, code := run(t, "audit", "verify", "--home", dir)
	if code != 0 {
		t.Fatalf("audit verify after %d kills: %s", kills, out)
	}
	out, code = run(t, "audit", "tail", "--home", dir, "-n", "10000000", "-o", "json", "--decision", "allow")
	if code != 0 {
		t.Fatalf("audit tail: %s", out)
	}
	audited := map[string]auditRecord{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r auditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit tail line %q: %v", sc.Text(), err)
		}
		// The decision's record; later records may name the transaction
		// too (its broadcast failing, its budget released).
		if r.TxHash != "" && (r.Method == "eth_sendTransaction" || r.Method == "eth_signTransaction") {
			audited[strings.ToLower(r.TxHash)] = r
		}
	}

	// 1. Every signature that reached a client has its audit record.
	for h, r := range tl.sigs {
		a, ok := audited[strings.ToLower(h.Hex())]
		if !ok {
			t.Errorf("key %d: signature %s reached the agent without an audit record", r.key, h.Hex())
			continue
		}
		if a.KeyID != keyIDs[r.key] {
			t.Errorf("signature %s audited for key %s, want %s", h.Hex(), a.KeyID, keyIDs[r.key])
		}
	}

	// 2. No nonce signed twice (cancels replace on purpose), for agents'
	// signatures and in the store's transactions; the chain's nonce is
	// one past the highest, with nothing pending.
	byNonce := map[uint64]string{}
	maxNonce := int64(-1)
	for _, x := range txs {
		if x.Kind == "cancel" {
			continue
		}
		if prev, dup := byNonce[x.Nonce]; dup {
			t.Errorf("nonce %d signed twice: %s and %s", x.Nonce, prev, x.Hash)
		}
		byNonce[x.Nonce] = x.Hash
		maxNonce = max(maxNonce, int64(x.Nonce))
	}
	// Every transaction an agent was told was sent is on chain now, with
	// the value and recipient asked for.
	for h, r := range tl.sigs {
		if r.raw != nil {
			continue
		}
		tx, _, err := chain.Client().TransactionByHash(context.Background(), h)
		if err != nil {
			t.Errorf("key %d: eth_sendTransaction answered %s, which never reached the chain: %v", r.key, h.Hex(), err)
			continue
		}
		if tx.Value().Cmp(r.value) != 0 || tx.To() == nil || *tx.To() != targets[r.key] {
			t.Errorf("key %d: sent %s to %v, asked %s to %s", r.key, tx.Value(), tx.To(), r.value, targets[r.key].Hex())
		}
		r.nonce = tx.Nonce()
		tl.sigs[h] = r
	}
	seen := map[uint64]common.Hash{}
	for h, r := range tl.sigs {
		if prev, dup := seen[r.nonce]; dup {
			t.Errorf("agents got two signatures at nonce %d: %s and %s", r.nonce, prev.Hex(), h.Hex())
		}
		seen[r.nonce] = h
	}
	latest, err := chain.Client().NonceAt(context.Background(), owner, nil)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := chain.Client().PendingNonceAt(context.Background(), owner)
	if err != nil {
		t.Fatal(err)
	}
	if latest != uint64(maxNonce+1) || pending != latest {
		t.Errorf("owner account: chain nonce %d (pending %d), store's highest nonce %d: stalled or gapped", latest, pending, maxNonce)
	}

	// 3. The ledger equals the audited allowed spends of transactions that
	// landed, equals what each target received on chain, within the cap.
	for k := range keys {
		landed := new(big.Int)
		for _, x := range txs {
			if x.KeyID != keyIDs[k] || x.Kind != "agent" || x.State != "included" || x.Status == nil || *x.Status != 1 {
				continue
			}
			a, ok := audited[strings.ToLower(x.Hash)]
			if !ok {
				t.Errorf("transaction %s landed without an allow audit record", x.Hash)
				continue
			}
			landed.Add(landed, a.nativeValue(t))
		}
		bal, err := chain.Client().BalanceAt(context.Background(), targets[k], nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("key %d: ledger %s wei, audited landed spends %s wei, chain %s wei, cap %s wei", k, spent[k], landed, bal, capWei)
		if spent[k].Cmp(landed) != 0 || bal.Cmp(landed) != 0 {
			t.Errorf("key %d: ledger %s, audited landed spends %s and the chain %s disagree", k, spent[k], landed, bal)
		}
		if bal.Cmp(capWei) > 0 {
			t.Errorf("key %d: the target received %s wei, over the cap of %s", k, bal, capWei)
		}
	}
}

// agent makes one request as key k: a native send (three times in four)
// or a signature it broadcasts itself, and records the outcome.
func agent(ctx context.Context, t *testing.T, c *http.Client, chain *devchain.Chain, url, token string, k int, owner, target common.Address, rng *rand.Rand, tl *tally) {
	// 0.001 to 0.01 ETH, within the per-transaction cap.
	value := new(big.Int).Add(big.NewInt(1_000_000_000_000_000), big.NewInt(rng.Int64N(9_000_000_000_000_001)))
	method := "eth_sendTransaction"
	if rng.IntN(4) == 0 {
		method = "eth_signTransaction"
	}
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q,"params":[{"from":%q,"to":%q,"value":%q}]}`,
		method, owner.Hex(), target.Hex(), hexutil.EncodeBig(value))
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/rpc", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		tl.count(false)
		time.Sleep(20 * time.Millisecond) // the daemon is down or restarting
		return
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		tl.count(false)
		return
	}
	var out struct {
		Result string `json:"result"`
		Error  *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &out); err != nil || (out.Error == nil && out.Result == "") {
		tl.count(false)
		return
	}
	if out.Error != nil {
		tl.count(out.Error.Code == 4001)
		return
	}
	r := returned{key: k, value: value}
	switch method {
	case "eth_sendTransaction":
		// The daemon broadcast it before answering, but the node may hold
		// it queued behind a nonce a killed daemon signed and never sent
		// (the next daemon's watcher sends that one): it is looked up on
		// chain once everything settled.
		r.hash = common.HexToHash(out.Result)
	default:
		raw, err := hexutil.Decode(out.Result)
		var tx types.Transaction
		if err == nil {
			err = tx.UnmarshalBinary(raw)
		}
		if err != nil {
			t.Errorf("key %d: eth_signTransaction answered %q: %v", k, out.Result, err)
			return
		}
		r.hash, r.nonce, r.raw = tx.Hash(), tx.Nonce(), raw
		if tx.Value().Cmp(value) != 0 || tx.To() == nil || *tx.To() != target {
			t.Errorf("key %d: signed %s to %v, asked %s to %s", k, tx.Value(), tx.To(), value, target.Hex())
		}
		_ = chain.Client().SendTransaction(context.Background(), &tx)
	}
	tl.add(r)
}

type txInfo struct {
	Hash   string  `json:"hash"`
	State  string  `json:"state"`
	Kind   string  `json:"kind"`
	KeyID  string  `json:"key_id"`
	Nonce  uint64  `json:"nonce"`
	Value  string  `json:"value"`
	Status *uint64 `json:"status"`
}

type auditRecord struct {
	KeyID  string          `json:"key_id"`
	Method string          `json:"method"`
	TxHash string          `json:"tx_hash"`
	Call   json.RawMessage `json:"call"`
}

// nativeValue is the native value (not the fee) the record's decision
// spent, from its call's spend list.
func (a auditRecord) nativeValue(t *testing.T) *big.Int {
	var c struct {
		Spend []struct {
			Asset string `json:"asset"`
			Fee   bool   `json:"fee"`
			Raw   string `json:"raw"`
		} `json:"spend"`
	}
	if err := json.Unmarshal(a.Call, &c); err != nil {
		t.Fatalf("audit call of %s: %v", a.TxHash, err)
	}
	sum := new(big.Int)
	for _, s := range c.Spend {
		if s.Asset == "native" && !s.Fee {
			v, ok := new(big.Int).SetString(s.Raw, 10)
			if !ok {
				t.Fatalf("audit call of %s: spend %q", a.TxHash, s.Raw)
			}
			sum.Add(sum, v)
		}
	}
	return sum
}

// run runs an agentkeys command in this process.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	t.Setenv("AGENTKEYS_PASSPHRASE", passphrase)
	var out bytes.Buffer
	code := cli.Main(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &out})
	return out.String(), code
}

// doJSON sends a request with a bearer token and decodes the JSON answer
// into v; it returns the status.
func doJSON(t *testing.T, method, url, token, body string, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s %s: HTTP %d %q: %v", method, url, resp.StatusCode, b, err)
	}
	return resp.StatusCode
}
