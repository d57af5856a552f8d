package daemon_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/daemon"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/store"
	"github.com/agentkeys/agentkeys/internal/store/postgres"
	"github.com/agentkeys/agentkeys/internal/store/postgres/pgtest"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

// The environment of a replica process: this test binary started by
// startReplica serves a home instead of running tests.
const (
	envReplicaHome = "AGENTKEYS_TEST_REPLICA_HOME"
	envReplicaNode = "AGENTKEYS_TEST_REPLICA_NODE"
	replicaPass    = "replica test passphrase"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envReplicaHome); dir != "" {
		os.Exit(runReplica(dir, os.Getenv(envReplicaNode)))
	}
	os.Exit(m.Run())
}

// runReplica serves the home in dir (its store is the PostgreSQL database
// its config names) in front of the node until SIGTERM, printing
// "ready RPC_URL ADMIN_URL" once it serves.
func runReplica(dir, node string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	h, err := home.Open(ctx, dir, []byte(replicaPass))
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		return 2
	}
	defer h.Close()
	d, err := daemon.Start(ctx, daemon.Config{Home: h, UpstreamURL: node, Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0",
		StuckAfter: time.Hour, WatchEvery: 100 * time.Millisecond, Log: daemon.Logger(os.Stderr)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		return 3
	}
	fmt.Printf("ready %s %s\n", d.URL(), d.AdminURL())
	<-ctx.Done()
	if err := d.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		return 4
	}
	return 0
}

// replica is one agentkeys serve process of the test.
type replica struct {
	name       string
	cmd        *exec.Cmd
	rpc, admin string
	logs       *syncbuf.Buffer
	dead       atomic.Bool
}

// startReplica runs this test binary as a replica serving dir, and waits
// until it serves. It is killed when the test ends.
func startReplica(t *testing.T, name, dir, node string) *replica {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, logs: &syncbuf.Buffer{}}
	r.cmd = exec.Command(exe, "-test.run=^$")
	r.cmd.Env = append(os.Environ(), envReplicaHome+"="+dir, envReplicaNode+"="+node)
	r.cmd.Stderr = r.logs
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !r.dead.Load() {
			r.cmd.Process.Signal(syscall.SIGTERM)
			r.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("replica %s logs:\n%s", r.name, tail(r.logs.String(), 4000))
		}
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "ready" {
				r.rpc, r.admin = f[1], f[2]
				ready <- nil
				io.Copy(io.Discard, out)
				return
			}
		}
		ready <- fmt.Errorf("replica %s ended before serving: %s", name, tail(r.logs.String(), 2000))
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("replica %s not serving after two minutes: %s", name, tail(r.logs.String(), 2000))
	}
	return r
}

// kill ends the replica with SIGKILL, as a crash would.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	r.dead.Store(true)
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	r.cmd.Wait()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// rpcAnswer is a JSON-RPC answer: a result or an error code.
type rpcAnswer struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

var httpClient = &http.Client{Timeout: time.Minute}

// call sends one JSON-RPC request with the agent's credential.
func call(url, token, method string, params ...any) (rpcAnswer, error) {
	if params == nil {
		params = []any{}
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, err := http.NewRequest("POST", url+"/rpc", bytes.NewReader(body))
	if err != nil {
		return rpcAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpClient.Do(req)
	if err != nil {
		return rpcAnswer{}, err
	}
	defer resp.Body.Close()
	var a rpcAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return rpcAnswer{}, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	return a, nil
}

// adminDo calls the admin API and decodes its JSON answer into out.
func adminDo(t *testing.T, base, token, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// grantKey makes a full-access key with a daily cap through a replica's
// admin API and returns its id and credential.
func grantKey(t *testing.T, r *replica, admin, agent, daily string) (id, token string) {
	t.Helper()
	var g struct {
		KeyID string `json:"key_id"`
		Token string `json:"token"`
	}
	adminDo(t, r.admin, admin, "POST", "/v1/grants", fmt.Sprintf(`{"agent":%q,"profile":"full-access","daily_limit":[%q]}`, agent, daily), &g)
	if g.KeyID == "" || g.Token == "" {
		t.Fatalf("grant answered no key: %+v", g)
	}
	return g.KeyID, g.Token
}

// payment is the transaction every request of the load asks to sign.
func payment(value *big.Int) map[string]any {
	return map[string]any{"to": "0x000000000000000000000000000000000000dEaD", "value": hexutil.EncodeBig(value), "gas": "0x5208"}
}

// worstCase is what a signed transaction reserves from a native budget:
// its value and its worst-case fee.
func worstCase(tx *types.Transaction) *big.Int {
	fee := new(big.Int).Mul(new(big.Int).SetUint64(tx.Gas()), tx.GasFeeCap())
	return fee.Add(fee, tx.Value())
}

// TestReplicasOnPostgres runs three agentkeys serve processes on one
// PostgreSQL database, each with its own home directory (copies of one
// config.json) and its own connections. 1,200 concurrent requests spread
// over them against one key's cap, the replica leading the transaction
// watcher SIGKILLed in the middle and started again: another takes over
// the watcher, the cap is never exceeded, no nonce is used twice,
// every signature an agent received has its audit record, the budget
// equals what the stored transactions reserve, and the audit chain
// verifies. Then a key revoked through one replica is refused by the
// other two within one second.
func TestReplicasOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three daemons")
	}
	dsn := pgtest.DSN(t)
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	dirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "c")}
	h, adminCred, err := home.Init(t.Context(), dirs[0], home.InitOptions{Passphrase: []byte(replicaPass), KDF: &kdf, Store: dsn})
	if err != nil {
		t.Fatal(err)
	}
	wallet := common.HexToAddress(h.Config.WalletAddress)
	h.Close()
	if _, err := os.Stat(filepath.Join(dirs[0], home.DBFile)); err == nil {
		t.Fatalf("init --store made an %s too", home.DBFile)
	}
	// A second init on the same database is refused: replicas copy the
	// config instead.
	if _, _, err := home.Init(t.Context(), filepath.Join(t.TempDir(), "x"), home.InitOptions{Passphrase: []byte(replicaPass), KDF: &kdf, Store: dsn}); err == nil {
		t.Fatal("a second init on the same database succeeded")
	}
	cfg, err := os.ReadFile(filepath.Join(dirs[0], home.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs[1:] {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, home.ConfigFile), cfg, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	chain, err := devchain.Start(t.Context(), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{wallet}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })

	reps := make([]*replica, 3)
	var startWG sync.WaitGroup
	for i, name := range []string{"A", "B", "C"} {
		startWG.Go(func() { reps[i] = startReplica(t, name, dirs[i], chain.URL()) })
	}
	startWG.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// One replica at a time follows transactions; it is the one killed
	// under load, so another must take over.
	leaders := func() []string {
		var out []string
		for _, r := range reps {
			lead := false
			for _, line := range strings.Split(r.logs.String(), "\n") {
				var l struct {
					Msg   string `json:"msg"`
					Leads *bool  `json:"leads"`
				}
				if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "transaction watcher" && l.Leads != nil {
					lead = *l.Leads
				}
			}
			if lead {
				out = append(out, r.name)
			}
		}
		return out
	}
	// oneLeader waits until exactly one replica says (last) that it leads
	// the transaction watcher, and returns its index.
	oneLeader := func() int {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			l := leaders()
			if len(l) == 1 {
				for i, r := range reps {
					if r.name == l[0] {
						return i
					}
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("replicas leading the transaction watcher: %v, want exactly one", l)
			}
		}
	}
	victim := oneLeader()

	admin := adminCred.Reveal()
	const capText = "0.3ETH"
	capWei, _ := new(big.Int).SetString("300000000000000000", 10)
	value := big.NewInt(1_000_000_000_000_000) // 0.001 ETH
	keyID, token := grantKey(t, reps[0], admin, "loaded", capText)

	// The load: 1,200 requests from 48 clients, request i to replica i%3;
	// a client whose replica is gone tries the next, as a load balancer
	// would. The replica that leads the watcher is killed after 100
	// answers, while the key still has budget.
	const (
		requests = 1200
		clients  = 48
		killAt   = 100
	)
	var (
		mu       sync.Mutex
		signed   []*types.Transaction
		refused  int
		answered atomic.Int64
		failures []string
		next     atomic.Int64
		killOnce sync.Once
		wg       sync.WaitGroup
	)
	killed := make(chan struct{})
	for range clients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= requests {
					return
				}
				var a rpcAnswer
				var err error
				for try := range len(reps) {
					r := reps[(int(i)+try)%len(reps)]
					if r.dead.Load() {
						continue
					}
					if a, err = call(r.rpc, token, "eth_signTransaction", payment(value)); err == nil {
						break
					}
				}
				mu.Lock()
				switch {
				case err != nil:
					failures = append(failures, err.Error())
				case a.Error != nil && a.Error.Code == 4001:
					refused++
				case a.Error != nil:
					failures = append(failures, fmt.Sprintf("code %d: %s", a.Error.Code, a.Error.Message))
				default:
					var raw hexutil.Bytes
					tx := new(types.Transaction)
					if err := json.Unmarshal(a.Result, &raw); err != nil {
						failures = append(failures, err.Error())
					} else if err := tx.UnmarshalBinary(raw); err != nil {
						failures = append(failures, err.Error())
					} else {
						signed = append(signed, tx)
					}
				}
				mu.Unlock()
				if answered.Add(1) == killAt {
					killOnce.Do(func() { close(killed) })
				}
			}
		})
	}
	<-killed
	reps[victim].kill(t)
	mu.Lock()
	atKill := len(signed)
	mu.Unlock()
	wg.Wait()
	t.Logf("load: %d signed, %d refused by the cap, %d failed; replica %s (leading the watcher) killed after %d answers, %d of them signatures",
		len(signed), refused, len(failures), reps[victim].name, killAt, atKill)
	if atKill >= len(signed) {
		t.Errorf("the kill came after the last signature (%d of %d): it tested nothing", atKill, len(signed))
	}
	// Only requests cut off by the kill may fail, and their clients tried
	// the other replicas.
	if len(failures) > 0 {
		t.Errorf("%d requests failed on every replica, e.g. %s", len(failures), failures[0])
	}

	// The killed replica comes back on the same home and database; the
	// watcher has moved to one of the others.
	reps[victim] = startReplica(t, reps[victim].name+"'", dirs[victim], chain.URL())
	if now := oneLeader(); now == victim {
		t.Errorf("the restarted replica %s leads again: no other replica took over", reps[victim].name)
	} else {
		t.Logf("the transaction watcher moved to replica %s", reps[now].name)
	}

	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// No nonce twice: what the agents received, and everything stored.
	seen := map[uint64]string{}
	var sumSigned = new(big.Int)
	for _, tx := range signed {
		if prev, ok := seen[tx.Nonce()]; ok {
			t.Errorf("nonce %d signed twice: %s and %s", tx.Nonce(), prev, tx.Hash().Hex())
		}
		seen[tx.Nonce()] = tx.Hash().Hex()
		sumSigned.Add(sumSigned, worstCase(tx))
	}
	stored, err := st.ListTxs(t.Context(), store.TxFilter{ChainID: devchain.DefaultChainID})
	if err != nil {
		t.Fatal(err)
	}
	storedNonces := map[uint64]bool{}
	reserved := new(big.Int)
	storedHashes := map[string]bool{}
	for _, r := range stored {
		if storedNonces[r.Nonce] {
			t.Errorf("nonce %d stored twice", r.Nonce)
		}
		storedNonces[r.Nonce] = true
		storedHashes[r.Hash] = true
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(r.Raw); err != nil {
			t.Fatal(err)
		}
		if r.GrantID == keyID {
			reserved.Add(reserved, worstCase(tx))
		}
	}
	for n := range uint64(len(stored)) {
		if !storedNonces[n] {
			t.Errorf("nonce %d missing: the %d stored transactions do not use 0..%d", n, len(stored), len(stored)-1)
			break
		}
	}
	if reserved.Cmp(capWei) > 0 {
		t.Errorf("overspend: the key's transactions reserve %s wei, the cap is %s", reserved, capWei)
	}
	if room := new(big.Int).Sub(capWei, reserved); len(signed) > 0 && room.Cmp(worstCase(signed[0])) >= 0 {
		t.Errorf("the cap was not reached: %s wei left after %d refusals", room, refused)
	}
	if sumSigned.Cmp(reserved) > 0 {
		t.Errorf("agents received signatures worth %s wei, more than the %s stored", sumSigned, reserved)
	}

	// Every signature an agent holds has its transaction and its audit
	// record; the chain verifies from every replica's point of view.
	allowed := map[string]bool{}
	for after := int64(0); ; {
		recs, err := st.AuditRecords(t.Context(), after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if r.KeyID == keyID && r.Decision == audit.DecisionAllow && r.TxHash != "" {
				allowed[strings.ToLower(r.TxHash)] = true
			}
			after = r.Seq
		}
	}
	for _, tx := range signed {
		h := strings.ToLower(tx.Hash().Hex())
		if !allowed[h] || !storedHashes[h] {
			t.Errorf("signature %s reached an agent without its audit record (%v) or transaction (%v)", h, allowed[h], storedHashes[h])
		}
	}
	t.Logf("%d transactions stored and audited, %d of them answered to an agent (the rest were signed on the killed replica before its answer)",
		len(stored), len(signed))
	if len(allowed) != len(stored) {
		t.Errorf("%d allowed audit records for %d stored transactions", len(allowed), len(stored))
	}
	rep, _, err := store.VerifyAudit(t.Context(), st, 0)
	if err != nil || !rep.OK() {
		t.Errorf("audit verify: %s, %v", rep, err)
	}

	// The budget every replica reports is what the stored transactions
	// reserve.
	for _, r := range reps {
		var view struct {
			Budget []struct {
				Asset      string `json:"asset"`
				RawSpent   string `json:"raw_spent"`
				RawPending string `json:"raw_pending"`
			} `json:"budget"`
		}
		adminDo(t, r.admin, admin, "GET", "/v1/grants/"+keyID, "", &view)
		total := new(big.Int)
		for _, b := range view.Budget {
			if b.Asset == store.AssetNative {
				s, _ := new(big.Int).SetString(b.RawSpent, 10)
				p, _ := new(big.Int).SetString(b.RawPending, 10)
				if s == nil || p == nil {
					t.Fatalf("replica %s: budget %+v", r.name, b)
				}
				total.Add(s, p)
			}
		}
		if total.Cmp(reserved) != 0 {
			t.Errorf("replica %s reports %s wei charged, the stored transactions reserve %s", r.name, total, reserved)
		}
	}

	// Revocation through A reaches B and C on their next request.
	revID, revToken := grantKey(t, reps[0], admin, "revoked", "1ETH")
	for _, r := range reps {
		a, err := call(r.rpc, revToken, "eth_signTransaction", payment(value))
		if err != nil || a.Error != nil {
			t.Fatalf("replica %s before revocation: %v %+v", r.name, err, a.Error)
		}
	}
	adminDo(t, reps[0].admin, admin, "POST", "/v1/grants/"+revID+"/revoke", "", nil)
	revokedAt := time.Now()
	for _, r := range reps[1:] {
		for {
			a, err := call(r.rpc, revToken, "eth_signTransaction", payment(value))
			if err != nil {
				t.Fatal(err)
			}
			if a.Error != nil && a.Error.Code == 4100 {
				delay := time.Since(revokedAt)
				t.Logf("replica %s refuses the key revoked through A %s after the revocation answered", r.name, delay)
				if delay > time.Second {
					t.Errorf("replica %s took %s to refuse a revoked key, more than one second", r.name, delay)
				}
				break
			}
			if a.Error == nil {
				t.Errorf("replica %s signed for a key revoked through A", r.name)
			}
			if time.Since(revokedAt) > time.Second {
				t.Fatalf("replica %s still does not refuse the revoked key after one second: %+v", r.name, a.Error)
			}
		}
	}
}
