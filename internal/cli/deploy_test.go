package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/agentkeys/agentkeys/contracts"
	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

const deployPassphrase = "deploy test passphrase"

// testHome creates a home with cheap KDF parameters and returns its
// directory, admin credential and owner address.
func testHome(t *testing.T) (string, secrets.Credential, common.Address) {
	t.Helper()
	kdf, _ := secrets.NewKDFParams()
	kdf.N = 1 << 10
	dir := filepath.Join(t.TempDir(), "home")
	h, cred, err := home.Init(context.Background(), dir, home.InitOptions{Passphrase: []byte(deployPassphrase), KDF: &kdf})
	if err != nil {
		t.Fatal(err)
	}
	owner := common.HexToAddress(h.Config.WalletAddress)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, cred, owner
}

// served is an `agentkeys serve` running in-process.
type served struct {
	agentURL, adminURL string
	out, errOut        *syncbuf.Buffer
	stop               func()
}

// runServe starts `agentkeys serve` against upstream on free loopback
// ports and stops it when the test ends (or when stop is called).
func runServe(t *testing.T, dir, upstream string, extra ...string) *served {
	t.Helper()
	return serveWith(t, dir, append([]string{"--rpc-upstream", upstream, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"}, extra...)...)
}

// serveWith starts `agentkeys serve --home dir args...` on a home made by
// testHome and stops it when the test ends (or when stop is called).
func serveWith(t *testing.T, dir string, args ...string) *served {
	t.Helper()
	t.Setenv("AGENTKEYS_PASSPHRASE", deployPassphrase)
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{out: &syncbuf.Buffer{}, errOut: &syncbuf.Buffer{}}
	done := make(chan int, 1)
	args = append([]string{"serve", "--home", dir}, args...)
	go func() { done <- Main(ctx, args, IO{In: strings.NewReader(""), Out: s.out, Err: s.errOut}) }()
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, s.errOut.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}
	t.Cleanup(s.stop)
	urls := regexp.MustCompile(`agents: (https?://\S+)/rpc\n  admin:  (https?://\S+)/v1/`)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if m := urls.FindStringSubmatch(s.out.String()); m != nil {
			s.agentURL, s.adminURL = m[1], m[2]
			return s
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before serving: %s %s", code, s.out.String(), s.errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s %s", s.out.String(), s.errOut.String())
		}
	}
}

// cli runs one agentkeys command against a served daemon's admin API.
func (s *served) cli(t *testing.T, cred secrets.Credential, dir string, args ...string) (string, string, int) {
	t.Helper()
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", cred.Reveal())
	var out, errOut bytes.Buffer
	full := append(append([]string{}, args...), "--home", dir, "--admin-url", s.adminURL)
	code := Main(context.Background(), full, IO{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return out.String(), errOut.String(), code
}

func (s *served) deploy(t *testing.T, cred secrets.Credential, dir string, extra ...string) service.DeployResult {
	t.Helper()
	out, errOut, code := s.cli(t, cred, dir, append([]string{"wallet", "deploy-delegate", "-o", "json"}, extra...)...)
	if code != 0 {
		t.Fatalf("deploy-delegate exited %d: %s %s\nserve: %s", code, out, errOut, s.errOut.String())
	}
	var res service.DeployResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("deploy-delegate output %q: %v", out, err)
	}
	return res
}

// checkDeployed fails unless addr holds AgentKeyDelegate's runtime code.
func checkDeployed(t *testing.T, c *ethclient.Client, addr common.Address) {
	t.Helper()
	code, err := c.CodeAt(context.Background(), addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code, contracts.MustLoad("AgentKeyDelegate").DeployedBytecode) {
		t.Fatalf("%s does not hold AgentKeyDelegate (%d bytes of code)", addr.Hex(), len(code))
	}
}

// recordedDelegate reads the delegate config.json records for chainID.
func recordedDelegate(t *testing.T, dir string, chainID uint64) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, home.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg home.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Delegates[chainID]
}

// auditRecords returns the home's audit records with method.
func auditRecords(t *testing.T, dir, method string) []audit.Record {
	t.Helper()
	st, err := home.OpenStore(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.AuditRecords(context.Background(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range recs {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// TestDeployDelegateCreate2 deploys AgentKeyDelegate through the
// deterministic deployment proxy of the in-process chain (which has it, as
// go-ethereum's dev genesis does), records it in the home, uses it for
// wallet upgrade without a restart and after one without --delegate, and
// lets a second home on the same chain adopt the same deployment without a
// transaction.
func TestDeployDelegateCreate2(t *testing.T) {
	ctx := context.Background()
	dirA, credA, ownerA := testHome(t)
	dirB, credB, ownerB := testHome(t)
	chain, err := devchain.Start(ctx, devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{ownerA, ownerB}, WithoutDelegate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	if has, err := delegation.HasFactory(ctx, chain.Client()); err != nil || !has {
		t.Fatalf("the devchain has no deterministic deployment proxy (%v): this test covers the CREATE2 path", err)
	}
	id := chain.ChainID().Uint64()

	a := runServe(t, dirA, chain.URL())
	if !strings.Contains(a.out.String(), "no AgentKeyDelegate on this chain yet (agentkeys wallet deploy-delegate)") {
		t.Fatalf("serve output does not say how to get a delegate: %s", a.out.String())
	}
	// Before any deployment, status and the refusal say what to do.
	if out, _, code := a.cli(t, credA, dirA, "wallet", "status"); code != 0 || !strings.Contains(out, "run agentkeys wallet deploy-delegate") {
		t.Fatalf("wallet status without a delegate: exit %d, %q", code, out)
	}
	_, errOut, code := a.cli(t, credA, dirA, "wallet", "upgrade")
	if code == 0 || !strings.Contains(errOut, "agentkeys wallet deploy-delegate") {
		t.Fatalf("upgrade without a delegate: exit %d, %q", code, errOut)
	}

	res := a.deploy(t, credA, dirA)
	want := delegation.DeterministicAddress()
	if res.Method != delegation.MethodCreate2 || res.Address != want || res.AlreadyDeployed || !res.Recorded || res.ChainID != id || res.TxHash == "" {
		t.Fatalf("deploy = %+v, want a CREATE2 deployment at %s, recorded", res, want.Hex())
	}
	checkDeployed(t, chain.Client(), want)
	if got := recordedDelegate(t, dirA, id); !strings.EqualFold(got, want.Hex()) {
		t.Fatalf("config.json delegates[%d] = %q, want %s", id, got, want.Hex())
	}
	recs := auditRecords(t, dirA, "agentkeys_deployDelegate")
	if len(recs) != 1 || recs[0].TxHash != res.TxHash || !strings.Contains(strings.ToLower(string(recs[0].Call)), strings.ToLower(want.Hex())) {
		t.Fatalf("audit of the deployment = %+v, want one record naming tx %s and %s", recs, res.TxHash, want.Hex())
	}

	// Again: nothing is sent.
	again := a.deploy(t, credA, dirA)
	if !again.AlreadyDeployed || again.Address != want || again.TxHash != "" {
		t.Fatalf("second deploy = %+v, want the existing deployment", again)
	}
	if n := len(auditRecords(t, dirA, "agentkeys_deployDelegate")); n != 1 {
		t.Fatalf("%d deployment records after a no-op, want 1", n)
	}

	// The running daemon uses it at once.
	out, errOut, code := a.cli(t, credA, dirA, "wallet", "upgrade", "-o", "json")
	var st service.WalletStatus
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || !st.Delegated || !st.IsAgentKeys || st.Delegate != want {
		t.Fatalf("upgrade after deploy: exit %d, %s %s", code, out, errOut)
	}

	// After a restart without --delegate, serve reads it from the home.
	a.stop()
	a = runServe(t, dirA, chain.URL())
	if !strings.Contains(a.out.String(), "7702:   AgentKeyDelegate "+want.Hex()) {
		t.Fatalf("restarted serve does not use the recorded delegate: %s", a.out.String())
	}
	out, _, code = a.cli(t, credA, dirA, "wallet", "status", "-o", "json")
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Expected != want {
		t.Fatalf("wallet status after restart: exit %d, %s", code, out)
	}

	// Another home on the same chain adopts the deployment: CREATE2 made
	// it the same contract, so no transaction is needed.
	b := runServe(t, dirB, chain.URL())
	adopted := b.deploy(t, credB, dirB)
	if !adopted.AlreadyDeployed || adopted.Address != want || !adopted.Recorded {
		t.Fatalf("second home's deploy = %+v, want to adopt %s", adopted, want.Hex())
	}
	if n := len(auditRecords(t, dirB, "agentkeys_useDelegate")); n != 1 {
		t.Fatalf("%d agentkeys_useDelegate records in the second home, want 1", n)
	}
}

// TestDeployDelegatePlain deploys with a plain contract creation (--plain,
// the path taken on chains without the deployment proxy) and checks the
// address follows from the owner's nonce.
func TestDeployDelegatePlain(t *testing.T) {
	ctx := context.Background()
	dir, cred, owner := testHome(t)
	chain, err := devchain.Start(ctx, devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}, WithoutDelegate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	nonce, err := chain.Client().NonceAt(ctx, owner, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := runServe(t, dir, chain.URL())
	res := s.deploy(t, cred, dir, "--plain")
	want := crypto.CreateAddress(owner, nonce)
	if res.Method != delegation.MethodCreate || res.Address != want || res.AlreadyDeployed || !res.Recorded {
		t.Fatalf("deploy --plain = %+v, want a plain creation at %s", res, want.Hex())
	}
	if want == delegation.DeterministicAddress() {
		t.Fatal("plain and CREATE2 addresses coincide")
	}
	checkDeployed(t, chain.Client(), want)
	if got := recordedDelegate(t, dir, chain.ChainID().Uint64()); !strings.EqualFold(got, want.Hex()) {
		t.Fatalf("config.json records %q, want %s", got, want.Hex())
	}
	recs := auditRecords(t, dir, "agentkeys_deployDelegate")
	if len(recs) != 1 || recs[0].TxHash != res.TxHash {
		t.Fatalf("audit = %+v", recs)
	}
	bal, _ := chain.Client().BalanceAt(ctx, owner, nil)
	if bal.Cmp(new(big.Int).Mul(big.NewInt(devchain.DefaultFundEther), big.NewInt(1e18))) >= 0 {
		t.Fatalf("the owner did not pay for the deployment: balance %s", bal)
	}
}

// TestServeDelegateChoice: --delegate overrides the home's entry, the
// home's entry for the node's chain is used otherwise, and a bad entry is
// an error naming the field.
func TestServeDelegateChoice(t *testing.T) {
	flagAddr := "0x00000000000000000000000000000000000000f1"
	homeAddr := "0x00000000000000000000000000000000000000e1"
	cfg := home.Config{Delegates: map[uint64]string{1337: homeAddr, 5: "0xnot-an-address"}}
	cases := []struct {
		flag    string
		chainID uint64
		want    string
		err     string
	}{
		{flagAddr, 1337, flagAddr, ""},
		{"", 1337, homeAddr, ""},
		{"", 1, "0x0000000000000000000000000000000000000000", ""},
		{"", 5, "", "delegates[5]: expected a 0x address"},
		{"0x12", 1337, "", "--delegate: expected an address"},
	}
	for _, c := range cases {
		got, err := serveDelegate(c.flag, cfg, c.chainID)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("serveDelegate(%q, %d) error %v, want %q", c.flag, c.chainID, err, c.err)
			}
			continue
		}
		if err != nil || !strings.EqualFold(got.Hex(), c.want) {
			t.Errorf("serveDelegate(%q, %d) = %s, %v; want %s", c.flag, c.chainID, got.Hex(), err, c.want)
		}
	}
}
