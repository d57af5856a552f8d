package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
)

// TestBenchSeedNewHome: bench seed makes a sandbox home that the sandbox
// serves with the seeded keys, and whose log verifies.
func TestBenchSeedNewHome(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the new home goes
	t.Setenv(home.EnvPassphrase, "")
	out, errOut, code := run(t, "", "bench", "seed", "--grants", "30", "--records", "200", "-o", "json")
	var res struct {
		Home    string `json:"home"`
		New     bool   `json:"new_sandbox_home"`
		Grants  int    `json:"grants"`
		Records int    `json:"records"`
		HeadSeq int64  `json:"head_seq"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if !res.New || res.Grants != 30 || res.Records != 200 || res.HeadSeq != 200 || filepath.Dir(res.Home) != tmp {
		t.Errorf("result %+v", res)
	}
	if out, errOut, code := run(t, "", "audit", "verify", "--home", res.Home); code != 0 || !strings.HasPrefix(out, "audit log OK: 200 records") {
		t.Fatalf("verify the seeded home: exit %d: %s %s", code, out, errOut)
	}

	sb, err := sandbox.Start(t.Context(), sandbox.Config{Home: res.Home, Passphrase: []byte(sandboxPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	page, err := sb.Service.FindGrants(t.Context(), service.GrantQuery{Limit: 25})
	if err != nil || len(page.Keys) != 25 || page.NextCursor == "" || page.Keys[0].Policy == nil || page.Keys[0].Policy.Name() != "bench" {
		t.Fatalf("the sandbox lists %d seeded keys, next %q, %v", len(page.Keys), page.NextCursor, err)
	}
	if page.Keys[0].Usage == nil || page.Keys[0].Usage.Requests24h == 0 {
		t.Errorf("a seeded key made no request in the last day: %+v", page.Keys[0].Usage)
	}
}

// TestBenchSeedGivenHome: writing junk into a given home takes
// --write-junk and a home that names its chain.
func TestBenchSeedGivenHome(t *testing.T) {
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	dir := filepath.Join(t.TempDir(), "ak")
	h, _, err := home.Init(t.Context(), dir, home.InitOptions{Passphrase: []byte(testPassphrase), KDF: &kdf, ChainID: 31337})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, errOut, code := run(t, "", "bench", "seed", "--home", dir, "--grants", "5", "--records", "10"); code == 0 || !strings.Contains(errOut, "--write-junk: this adds 5 junk keys and 10 junk audit records") {
		t.Fatalf("without --write-junk: exit %d: %s", code, errOut)
	}
	out, errOut, code := run(t, "", "bench", "seed", "--home", dir, "--grants", "5", "--records", "10", "--write-junk")
	if code != 0 || !strings.Contains(out, "records: 10 in ") || strings.Contains(out, "new sandbox home") {
		t.Fatalf("with --write-junk: exit %d: %s %s", code, out, errOut)
	}
	if out, errOut, code := run(t, "", "audit", "verify", "--home", dir); code != 0 || !strings.HasPrefix(out, "audit log OK: 10 records") {
		t.Fatalf("verify: exit %d: %s %s", code, out, errOut)
	}

	noChain := newAuditHome(t, 0)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--home", noChain, "--grants", "1", "--write-junk"}, "names no chain id"},
		{[]string{"--home", dir}, "--grants and --records: say how many"},
		{[]string{"--home", dir, "--records", "3", "--write-junk"}, "--records: the records are the seeded keys' requests: give --grants too"},
		{[]string{"--home", dir, "--grants", "-1", "--write-junk"}, "--grants: expected 0 to"},
	} {
		if _, errOut, code := run(t, "", append([]string{"bench", "seed"}, c.args...)...); code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("bench seed %v: exit %d: %s; want %q", c.args, code, errOut, c.want)
		}
	}
}
