package policy

import (
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/allocs"
)

// FuzzParse feeds arbitrary bytes to the policy parser. It must never
// panic nor allocate beyond a bound, and whatever it accepts must
// normalise and round-trip.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "policies", "*.*"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		allocs.Within(t, 64<<20+256*uint64(len(data)), func() {
			p, err := Parse(data, Options{})
			if err != nil {
				return
			}
			assertRoundTrip(t, p)
		})
	})
}

// FuzzEvaluateCalldata feeds arbitrary calldata through the decoder and
// the evaluator of a broad and a narrow policy. It must never panic, and
// a decision must always be one of the two verdicts with its trace.
func FuzzEvaluateCalldata(f *testing.F) {
	router := common.HexToAddress("0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D")
	swapper, err := os.ReadFile(filepath.Join("testdata", "policies", "valid_uniswap_swapper.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	narrow, err := Parse(swapper, Options{})
	if err != nil {
		f.Fatal(err)
	}
	doc, _ := ProfileDocument(ProfileFullAccess, ProfileParams{Chains: []uint64{31337}})
	broad, err := Compile(doc, Options{})
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range builtinFunctions {
		fn, _ := ParseSignature(k.sig)
		f.Add(fn.Selector[:], uint8(0))
		f.Add(append(fn.Selector[:], make([]byte, 96)...), uint8(1))
	}
	f.Add(encodeCall(f, "multicall(bytes[])", []any{[]any{map[string]any{"sig": "transfer(address,uint256)", "args": []any{router.Hex(), "1"}}}}), uint8(2))
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := State{Now: now, IssuedAt: now, Vars: Variables{Owner: router}}
	f.Fuzz(func(t *testing.T, data []byte, target uint8) {
		to := router
		to[19] ^= target
		for _, p := range []*Policy{narrow, broad} {
			d := p.Evaluate(Request{Kind: KindTransaction, ChainID: 31337, Tx: &Tx{To: &to, Value: big.NewInt(1), Data: data}}, st)
			switch d.Verdict {
			case Allow:
				if d.Rule() == "" || len(d.Reasons()) > 0 {
					t.Fatalf("allow without rule or with reasons: %+v", d.Trace())
				}
			case Deny:
				if len(d.Reasons()) == 0 {
					t.Fatalf("deny without reasons: %+v", d.Trace())
				}
			default:
				t.Fatalf("verdict %q", d.Verdict)
			}
		}
		for _, e := range builtins.bySelector {
			if _, err := DecodeArgs(e.fn, data); err == nil && len(data) < 4 {
				t.Fatalf("decoded %d bytes", len(data))
			}
		}
	})
}

// FuzzParseSignature must never panic on arbitrary signatures.
func FuzzParseSignature(f *testing.F) {
	for _, k := range builtinFunctions {
		f.Add(k.sig)
	}
	f.Add("function f((uint8[2][] a,(bytes b) c)[] x) external payable returns (uint256)")
	f.Fuzz(func(t *testing.T, sig string) {
		fn, err := ParseSignature(sig)
		if err != nil {
			return
		}
		again, err := ParseSignature(fn.Signature)
		if err != nil || again.Selector != fn.Selector {
			t.Fatalf("canonical %q does not reparse to the same selector: %v", fn.Signature, err)
		}
	})
}

// FuzzABIFile feeds arbitrary bytes as an ABI file named by a policy's
// abis[].file. Nothing panics; what compiles judges a call to any of its
// functions; no input allocates beyond its bound.
func FuzzABIFile(f *testing.F) {
	src := []byte("name: vault\nchains: [31337]\nabis: [{file: vault.abi.json}]\nallow:\n  - contract: \"0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D\"\n    functions: [\"*\"]\n")
	for _, s := range []string{
		`[{"type":"function","name":"deposit","inputs":[{"name":"assets","type":"uint256"},{"name":"receiver","type":"address"}],"outputs":[],"stateMutability":"nonpayable"}]`,
		`[{"type":"function","name":"swap","inputs":[{"name":"p","type":"tuple","components":[{"name":"a","type":"uint8[2][]"},{"name":"b","type":"bytes"}]}]}]`,
		`[{"type":"event","name":"E","inputs":[]},{"type":"fallback"}]`,
		`[{"type":"function","name":"f","inputs":[{"name":"","type":"uint257"}]}]`,
		`not json`,
	} {
		f.Add([]byte(s))
	}
	router := common.HexToAddress("0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, abiFile []byte) {
		allocs.Within(t, 64<<20+256*uint64(len(abiFile)), func() {
			p, err := Parse(src, Options{ReadFile: func(string) ([]byte, error) { return abiFile, nil }})
			if err != nil {
				if !strings.Contains(err.Error(), "abis[0]") {
					t.Fatalf("an ABI file's error names no field: %v", err)
				}
				return
			}
			for _, e := range p.user.bySig {
				d := p.Evaluate(Request{Kind: KindTransaction, ChainID: 31337, Tx: &Tx{To: &router, Value: new(big.Int), Data: e.fn.Selector[:]}},
					State{Now: now, IssuedAt: now})
				if d.Verdict != Allow && d.Verdict != Deny {
					t.Fatalf("verdict %q", d.Verdict)
				}
			}
		})
	})
}
