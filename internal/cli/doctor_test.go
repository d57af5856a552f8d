package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/doctor"
	"github.com/agentkeys/agentkeys/internal/gethtest"
	"github.com/agentkeys/agentkeys/internal/home"
)

// runDoctor runs `agentkeys doctor -o json` with an injected clock and
// returns the report and the exit code.
func runDoctor(t *testing.T, now time.Time, args ...string) (*doctor.Report, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{io: IO{In: strings.NewReader(""), Out: &out, Err: &errOut}, now: func() time.Time { return now }}
	root := newRoot(e)
	root.SetArgs(append([]string{"doctor", "-o", "json"}, args...))
	root.SetOut(&out)
	root.SetErr(&errOut)
	code := 0
	if err := root.ExecuteContext(context.Background()); err != nil {
		errOut.WriteString(err.Error())
		code = 1
	}
	var r doctor.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("doctor output %q (%s): %v", out.String(), errOut.String(), err)
	}
	return &r, out.String() + errOut.String(), code
}

func checkOf(t *testing.T, r *doctor.Report, name string) doctor.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, r.Checks)
	return doctor.Check{}
}

// editConfig changes config.json in place (keeping its mode).
func editConfig(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, home.ConfigFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func headTime(t *testing.T, c *ethclient.Client) time.Time {
	t.Helper()
	h, err := c.HeaderByNumber(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return time.Unix(int64(h.Time), 0)
}

// closedURL is a loopback URL nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/secret-api-key-path"
}

// TestDoctorDevchain checks a funded home against the in-process chain:
// ready, then broken one way at a time, each named with its fix, and
// failures (not warnings) make the exit code non-zero.
func TestDoctorDevchain(t *testing.T) {
	ctx := context.Background()
	dir, cred, owner := testHome(t)
	poorDir, poorCred, _ := testHome(t)
	chain, err := devchain.Start(ctx, devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	id := chain.ChainID().Uint64()
	editConfig(t, dir, func(m map[string]any) { m["chain_id"] = id })
	now := headTime(t, chain.Client()).Add(3 * time.Second)
	t.Setenv("AGENTKEYS_PASSPHRASE", deployPassphrase)
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", cred.Reveal())
	up := []string{"--home", dir, "--rpc-upstream", chain.URL()}

	r, out, code := runDoctor(t, now, up...)
	if code != 0 || !r.Ready() {
		t.Fatalf("a funded home on a Prague chain: exit %d\n%s", code, out)
	}
	for _, name := range []string{"home", "home permissions", "passphrase", "admin credential", "admin listener", "node", "chain id", "sync", "EIP-7702", "owner balance", "owner delegation", "clock"} {
		if c := checkOf(t, r, name); c.Status != doctor.OK {
			t.Errorf("%s: %+v, want ok", name, c)
		}
	}
	if c := checkOf(t, r, "AgentKeyDelegate"); c.Status != doctor.Warn || !strings.Contains(c.Fix, "agentkeys wallet deploy-delegate") {
		t.Errorf("no delegate recorded: %+v, want a warning saying how to deploy one", c)
	}
	if strings.Join(r.Modes, ",") != "wallet,7702" || r.ChainID != id || r.Owner != owner.Hex() {
		t.Errorf("report = modes %v chain %d owner %s", r.Modes, r.ChainID, r.Owner)
	}
	if strings.Contains(out, deployPassphrase) || strings.Contains(out, cred.Reveal()) {
		t.Fatal("doctor printed a secret")
	}

	// One problem at a time: the check that finds it, its status, a word of
	// its detail and of its fix, and whether it blocks going live.
	cases := []struct {
		name                 string
		setup                func(t *testing.T) (args []string, now time.Time)
		check                string
		status               doctor.Status
		detail, fix, notSeen string
	}{
		{"wrong chain id", func(t *testing.T) ([]string, time.Time) {
			editConfig(t, dir, func(m map[string]any) { m["chain_id"] = 1 })
			t.Cleanup(func() { editConfig(t, dir, func(m map[string]any) { m["chain_id"] = id }) })
			return up, now
		}, "chain id", doctor.Fail, "the home expects chain 1", "node of chain 1", ""},
		{"unreachable node", func(t *testing.T) ([]string, time.Time) {
			return []string{"--home", dir, "--rpc-upstream", closedURL(t)}, now
		}, "node", doctor.Fail, "does not answer", "check that the node runs", "secret-api-key-path"},
		{"config readable by others", func(t *testing.T) ([]string, time.Time) {
			p := filepath.Join(dir, home.ConfigFile)
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(p, 0o600) })
			return up, now
		}, "home permissions", doctor.Fail, "config.json is 0644", "chmod 600 " + filepath.Join(dir, home.ConfigFile), ""},
		{"home directory open", func(t *testing.T) ([]string, time.Time) {
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o700) })
			return up, now
		}, "home permissions", doctor.Fail, "is 0755", "chmod 700 " + dir, ""},
		{"clock ahead", func(t *testing.T) ([]string, time.Time) { return up, now.Add(time.Hour) }, "clock", doctor.Fail, "older than this machine's clock", "NTP", ""},
		{"clock behind", func(t *testing.T) ([]string, time.Time) { return up, now.Add(-time.Hour) }, "clock", doctor.Fail, "behind the latest block", "NTP", ""},
		{"clock within tolerance", func(t *testing.T) ([]string, time.Time) { return up, now.Add(90 * time.Second) }, "clock", doctor.OK, "within 2m0s", "", ""},
		{"recorded delegate without code", func(t *testing.T) ([]string, time.Time) {
			editConfig(t, dir, func(m map[string]any) { m["delegates"] = map[string]string{"31337": owner.Hex()} })
			t.Cleanup(func() { editConfig(t, dir, func(m map[string]any) { delete(m, "delegates") }) })
			return up, now
		}, "AgentKeyDelegate", doctor.Fail, "no AgentKeyDelegate code there", "agentkeys wallet deploy-delegate", ""},
		{"another home's admin credential", func(t *testing.T) ([]string, time.Time) {
			t.Setenv("AGENTKEYS_ADMIN_TOKEN", poorCred.Reveal())
			return up, now
		}, "admin credential", doctor.Fail, "not this home's admin credential", "AGENTKEYS_ADMIN_TOKEN", poorCred.Reveal()},
		{"a private key where the admin credential belongs", func(t *testing.T) ([]string, time.Time) {
			t.Setenv("AGENTKEYS_ADMIN_TOKEN", "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
			return up, now
		}, "admin credential", doctor.Fail, "not an admin credential", "akadm_", "59c6995e998f97a5"},
		{"no passphrase source", func(t *testing.T) ([]string, time.Time) {
			t.Setenv("AGENTKEYS_PASSPHRASE", "")
			return up, now
		}, "passphrase", doctor.Warn, "cannot unlock", "AGENTKEYS_PASSPHRASE", ""},
		{"admin listener on every interface", func(t *testing.T) ([]string, time.Time) {
			return append(append([]string{}, up...), "--admin-listen", "0.0.0.0:8646"), now
		}, "admin listener", doctor.Warn, "reachable from other machines", "127.0.0.1", ""},
		{"unfunded owner", func(t *testing.T) ([]string, time.Time) {
			t.Setenv("AGENTKEYS_ADMIN_TOKEN", poorCred.Reveal())
			return []string{"--home", poorDir, "--rpc-upstream", chain.URL()}, now
		}, "owner balance", doctor.Fail, "holds 0 ETH", "send ETH to", ""},
		{"no home", func(t *testing.T) ([]string, time.Time) {
			return []string{"--home", filepath.Join(t.TempDir(), "none"), "--rpc-upstream", chain.URL()}, now
		}, "home", doctor.Fail, "run agentkeys init", "agentkeys init", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args, now := tc.setup(t)
			r, out, code := runDoctor(t, now, args...)
			c := checkOf(t, r, tc.check)
			if c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) || !strings.Contains(c.Fix, tc.fix) {
				t.Fatalf("%s = %+v, want %s with %q and fix %q", tc.check, c, tc.status, tc.detail, tc.fix)
			}
			if wantCode := map[bool]int{true: 1, false: 0}[tc.status == doctor.Fail]; code != wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, wantCode, out)
			}
			if tc.notSeen != "" && strings.Contains(out, tc.notSeen) {
				t.Fatalf("doctor echoed %q:\n%s", tc.notSeen, out)
			}
		})
	}

	// An unreachable node skips what depends on it rather than guessing.
	r, _, _ = runDoctor(t, now, "--home", dir, "--rpc-upstream", closedURL(t))
	for _, name := range []string{"chain id", "sync", "EIP-7702", "owner balance", "clock"} {
		if c := checkOf(t, r, name); c.Status != doctor.Skip {
			t.Errorf("%s with the node down: %+v, want skip", name, c)
		}
	}
}

// TestDoctorGethDev checks a home that went through the whole 7702
// preparation on a real geth --dev node (deploy-delegate, wallet upgrade):
// every check passes, and a wrong chain id or a skewed clock fails.
func TestDoctorGethDev(t *testing.T) {
	node := gethtest.Start(t)
	dir, cred, owner := testHome(t)
	node.Fund(t, new(big.Int).Mul(big.NewInt(5), big.NewInt(1e18)), owner)
	editConfig(t, dir, func(m map[string]any) { m["chain_id"] = node.ChainID })
	s := runServe(t, dir, node.URL)
	res := s.deploy(t, cred, dir)
	if _, errOut, code := s.cli(t, cred, dir, "wallet", "upgrade"); code != 0 {
		t.Fatalf("upgrade: %s", errOut)
	}
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", cred.Reveal())
	now := headTime(t, node.Client()).Add(2 * time.Second)
	up := []string{"--home", dir, "--rpc-upstream", node.URL}

	r, out, code := runDoctor(t, now, up...)
	if code != 0 || r.Fails != 0 || r.Warns != 0 {
		t.Fatalf("a prepared home on geth --dev: exit %d, %d failed, %d warnings\n%s", code, r.Fails, r.Warns, out)
	}
	if c := checkOf(t, r, "AgentKeyDelegate"); !strings.Contains(c.Detail, res.Address.Hex()) {
		t.Errorf("AgentKeyDelegate: %+v, want %s", c, res.Address.Hex())
	}
	if c := checkOf(t, r, "owner delegation"); !strings.Contains(c.Detail, "delegated to AgentKeyDelegate "+res.Address.Hex()) {
		t.Errorf("owner delegation: %+v", c)
	}
	if strings.Join(r.Modes, ",") != "wallet,7702" {
		t.Errorf("modes %v on a Prague node", r.Modes)
	}

	if r, _, code := runDoctor(t, now.Add(10*time.Minute), up...); code != 1 || checkOf(t, r, "clock").Status != doctor.Fail {
		t.Errorf("clock 10 minutes ahead: exit %d, %+v", code, checkOf(t, r, "clock"))
	}
	editConfig(t, dir, func(m map[string]any) { m["chain_id"] = 31337 })
	if r, _, code := runDoctor(t, now, up...); code != 1 || checkOf(t, r, "chain id").Status != doctor.Fail {
		t.Errorf("home expecting 31337 on geth's 1337: exit %d, %+v", code, checkOf(t, r, "chain id"))
	}
}
