package request

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/allocs"
	"github.com/agentkeys/agentkeys/internal/policy"
)

// fuzzAllocBound is what one input may cost: room for the parse and two
// evaluations, plus a multiple of its length (quoting it in a reason),
// never what a number or a length inside it claims.
func fuzzAllocBound(input []byte) uint64 { return 64<<20 + 256*uint64(len(input)) }

// fuzzPolicies are a narrow policy (swaps, approvals and typed-data rules
// on one router) and a broad one (full access) to judge parsed requests.
func fuzzPolicies(f *testing.F) []*policy.Policy {
	f.Helper()
	src, err := os.ReadFile(filepath.Join("..", "policy", "testdata", "policies", "valid_uniswap_swapper.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	narrow, err := policy.Parse(src, policy.Options{})
	if err != nil {
		f.Fatal(err)
	}
	doc, err := policy.ProfileDocument(policy.ProfileFullAccess, policy.ProfileParams{Chains: []uint64{31337}})
	if err != nil {
		f.Fatal(err)
	}
	broad, err := policy.Compile(doc, policy.Options{})
	if err != nil {
		f.Fatal(err)
	}
	return []*policy.Policy{narrow, broad}
}

// judge evaluates req under every policy; a decision must be one of the
// two verdicts, an allow with its rule and a deny with its reasons.
func judge(t *testing.T, pols []*policy.Policy, req policy.Request) {
	t.Helper()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, p := range pols {
		d := p.Evaluate(req, policy.State{Now: now, IssuedAt: now})
		switch {
		case d.Verdict == policy.Allow && (d.Rule() == "" || len(d.Reasons()) > 0):
			t.Fatalf("allow without a rule or with reasons: %+v", d.Trace())
		case d.Verdict == policy.Deny && len(d.Reasons()) == 0:
			t.Fatalf("deny without reasons: %+v", d.Trace())
		case d.Verdict != policy.Allow && d.Verdict != policy.Deny:
			t.Fatalf("verdict %q", d.Verdict)
		}
	}
}

// FuzzTxParam feeds arbitrary bytes as an eth_sendTransaction parameter,
// as the CLI (strict) and JSON-RPC (lenient) read it, and judges what
// parses. Nothing panics; a refusal names what is wrong in a bounded
// message; no input allocates beyond its bound.
func FuzzTxParam(f *testing.F) {
	pols := fuzzPolicies(f)
	for _, s := range []string{
		`{"to":"0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D","value":"0x1","data":"0xa9059cbb"}`,
		`{"from":"0x9999999999999999999999999999999999999999","to":"0x9999999999999999999999999999999999999999","gas":"0x5208","maxFeePerGas":"0x3b9aca00","maxPriorityFeePerGas":"0x1","chainId":"0x7a69","type":"0x2"}`,
		`{"to":null,"input":"0x6080","gasPrice":"0x1"}`,
		`{"to":"0x01","value":"12"}`,
		`{"data":"0x00","input":"0x01"}`,
		`{"chainId":"0x0"}`,
		`{"accessList":[],"authorizationList":[{}]}`,
		`{} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		allocs.Within(t, fuzzAllocBound(src), func() {
			tx, _, chain, err := ParseTxParam(src)
			if err == nil {
				judge(t, pols, policy.Request{Kind: policy.KindTransaction, ChainID: max(chain, 31337), Tx: tx})
			}
			p, err := DecodeTxParam(src, false)
			if err != nil {
				if msg := err.Error(); msg == "" || len(msg) > 512 {
					t.Fatalf("JSON-RPC error of %d bytes: %.200q", len(msg), msg)
				}
				return
			}
			judge(t, pols, policy.Request{Kind: policy.KindTransaction, ChainID: 31337, Tx: p.PolicyTx()})
		})
	})
}

// FuzzTypedData feeds arbitrary bytes as an eth_signTypedData_v4
// document and judges what parses. Nothing panics and no input allocates
// beyond its bound.
func FuzzTypedData(f *testing.F) {
	pols := fuzzPolicies(f)
	for _, name := range []string{"permit-to-stranger.json"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "examples", name)); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"types":{"EIP712Domain":[{"name":"chainId","type":"uint256"}],"M":[{"name":"v","type":"uint256"}]},"primaryType":"M","domain":{"chainId":31337},"message":{"v":1}}`,
		`"{\"types\":{\"EIP712Domain\":[],\"M\":[{\"name\":\"a\",\"type\":\"address[]\"}]},\"primaryType\":\"M\",\"domain\":{},\"message\":{\"a\":[]}}"`,
		`{"types":{"EIP712Domain":[{"name":"chainId","type":"uint256"}],"M":[{"name":"b","type":"bytes32"},{"name":"s","type":"string"},{"name":"n","type":"int8"}]},"primaryType":"M","domain":{"chainId":"0x7a69"},"message":{"b":"0x00","s":"x","n":-129}}`,
		`{"types":{"EIP712Domain":[],"A":[{"name":"b","type":"B"}],"B":[{"name":"a","type":"A"}]},"primaryType":"A","domain":{},"message":{"b":{"a":{}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		allocs.Within(t, fuzzAllocBound(src), func() {
			td, err := ParseTypedData(src)
			if err != nil {
				if err.Error() == "" {
					t.Fatal("an empty error")
				}
				return
			}
			judge(t, pols, policy.Request{Kind: policy.KindTypedData, ChainID: 31337, TypedData: td})
		})
	})
}
