package policy

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func policyFiles(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	for _, ext := range []string{"yaml", "json"} {
		m, _ := filepath.Glob(filepath.Join("testdata", "policies", prefix+"*."+ext))
		for _, f := range m {
			if !strings.HasSuffix(f, ".golden.yaml") {
				out = append(out, f)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s policies in testdata", prefix)
	}
	return out
}

func TestInvalidPoliciesNameTheField(t *testing.T) {
	for _, f := range policyFiles(t, "invalid_") {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		t.Run(name, func(t *testing.T) {
			src, _ := os.ReadFile(f)
			want, err := os.ReadFile(strings.TrimSuffix(f, filepath.Ext(f)) + ".err")
			if err != nil {
				t.Fatalf("missing .err file: %v", err)
			}
			_, err = Parse(src, Options{})
			if err == nil {
				t.Fatal("parsed without error")
			}
			if !strings.Contains(err.Error(), strings.TrimSpace(string(want))) {
				t.Errorf("error %q\ndoes not contain %q", err, strings.TrimSpace(string(want)))
			}
		})
	}
}

func TestValidPoliciesNormalise(t *testing.T) {
	for _, f := range policyFiles(t, "valid_") {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		t.Run(name, func(t *testing.T) {
			src, _ := os.ReadFile(f)
			p, err := Parse(src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Document().YAML()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "policies", name+".golden.yaml")
			if *update {
				os.WriteFile(golden, got, 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("golden: %v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("normalised YAML (-want +got):\n%s", diff)
			}
			assertRoundTrip(t, p)
		})
	}
}

// assertRoundTrip checks that a normalised document, as YAML and as JSON,
// compiles back to the same document: what is stored is what was checked.
func assertRoundTrip(t *testing.T, p *Policy) {
	t.Helper()
	y, _ := p.Document().YAML()
	j, _ := p.Document().JSON()
	for kind, src := range map[string][]byte{"yaml": y, "json": j} {
		again, err := Parse(src, Options{})
		if err != nil {
			t.Fatalf("normalised %s does not parse: %v\n%s", kind, err, src)
		}
		if diff := cmp.Diff(p.Document(), again.Document()); diff != "" {
			t.Errorf("normalised %s does not round-trip (-first +again):\n%s", kind, diff)
		}
	}
}

func TestProfilesCompileAndRoundTrip(t *testing.T) {
	router := "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D"
	for _, name := range Profiles {
		t.Run(name, func(t *testing.T) {
			pp := ProfileParams{Chains: []uint64{31337}, Routers: mustAddrs(router)}
			doc, err := ProfileDocument(name, pp)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Compile(doc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			assertRoundTrip(t, p)
			if got := p.Warning() != ""; got != (name == ProfileFullAccess) {
				t.Errorf("warning present = %v, want %v", got, name == ProfileFullAccess)
			}
		})
	}
	if _, err := ProfileDocument(ProfileSwapOnly, ProfileParams{Chains: []uint64{1}}); err == nil || !strings.Contains(err.Error(), "router") {
		t.Errorf("swap-only without routers: err = %v", err)
	}
	if _, err := ProfileDocument("admin", ProfileParams{Chains: []uint64{1}}); err == nil || !strings.Contains(err.Error(), "unknown profile") {
		t.Errorf("unknown profile: err = %v", err)
	}
}

func TestABIFileIsInlined(t *testing.T) {
	src := []byte("name: t\nchains: [1]\nabis: [{file: vault.json}]\nallow:\n  - contract: \"*\"\n    functions:\n      - sig: \"deposit(uint256,address)\"\n        where: {receiver: $owner}\n")
	abiJSON := `[{"type":"function","name":"deposit","inputs":[{"name":"assets","type":"uint256"},{"name":"receiver","type":"address"}],"outputs":[]}]`
	p, err := Parse(src, Options{ReadFile: func(name string) ([]byte, error) {
		if name != "vault.json" {
			t.Fatalf("read %q", name)
		}
		return []byte(abiJSON), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []ABIDoc{{Signatures: []string{"deposit(uint256 assets,address receiver)"}}}
	if diff := cmp.Diff(want, p.Document().ABIs); diff != "" {
		t.Errorf("abis (-want +got):\n%s", diff)
	}
	assertRoundTrip(t, p)
}
