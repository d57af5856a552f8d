package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// The traces in testdata/traces.golden.jsonl pin every decision the engine
// gives, word for word: the verdict, the rule, every reason, the decoded
// calls and the spend, as the audit log records them. They were written
// by the engine before it was rewritten for speed, so a decision or a
// reason that changes shows here. Rewrite them with -update only for a
// change meant to alter decisions or their words.

const tracesGolden = "traces.golden.jsonl"

type traceCase struct {
	name string
	p    *Policy
	req  Request
	st   State
}

func TestTracesUnchanged(t *testing.T) {
	cases := traceCorpus(t)
	var got bytes.Buffer
	for _, c := range cases {
		b, err := json.Marshal(c.p.Evaluate(c.req, c.st))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		fmt.Fprintf(&got, "%s %s\n", c.name, b)
	}
	path := filepath.Join("testdata", tracesGolden)
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantLines := bytes.Split(bytes.TrimSuffix(want, []byte("\n")), []byte("\n"))
	gotLines := bytes.Split(bytes.TrimSuffix(got.Bytes(), []byte("\n")), []byte("\n"))
	if len(wantLines) != len(gotLines) {
		t.Fatalf("%d traces, the golden file has %d", len(gotLines), len(wantLines))
	}
	bad := 0
	for i := range wantLines {
		if !bytes.Equal(wantLines[i], gotLines[i]) {
			if bad++; bad <= 5 {
				t.Errorf("trace changed:\nwant %s\ngot  %s", wantLines[i], gotLines[i])
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d traces changed", bad, len(wantLines))
	}
	// The corpus must exercise both verdicts and the wrappers, or it pins little.
	var allowed, denied, multicalls int
	for _, l := range gotLines {
		switch {
		case bytes.Contains(l, []byte(`{"decision":"allow"`)):
			allowed++
		case bytes.Contains(l, []byte(`{"decision":"deny"`)):
			denied++
		}
		if bytes.Contains(l, []byte(`"depth":1`)) {
			multicalls++
		}
	}
	if allowed < 50 || denied < 50 || multicalls < 20 {
		t.Fatalf("degenerate corpus: %d allowed, %d denied, %d with inner calls", allowed, denied, multicalls)
	}
	t.Logf("%d traces: %d allowed, %d denied, %d with inner calls", len(gotLines), allowed, denied, multicalls)
}

// traceCorpus is every decision fixture, then requests from a seeded
// generator against every valid policy in testdata, the profiles and two
// policies with ABIs of unusual shapes.
func traceCorpus(t *testing.T) []traceCase {
	var out []traceCase
	files, _ := filepath.Glob(filepath.Join("testdata", "cases", "*.yaml"))
	for _, f := range files {
		p, req, st, _ := loadCase(t, f)
		out = append(out, traceCase{"case/" + strings.TrimSuffix(filepath.Base(f), ".yaml"), p, req, st})
	}
	pols := tracePolicies(t)
	g := &traceGen{r: rand.New(rand.NewPCG(12, 2026))}
	for i := range 500 {
		pi := g.r.IntN(len(pols))
		req, st := g.request(pols[pi].p)
		out = append(out, traceCase{fmt.Sprintf("gen/%d/%s", i, pols[pi].name), pols[pi].p, req, st})
	}
	return out
}

type namedPolicy struct {
	name string
	p    *Policy
}

func tracePolicies(t *testing.T) []namedPolicy {
	var out []namedPolicy
	for _, f := range policyFiles(t, "valid_") {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(src, Options{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, namedPolicy{strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), p})
	}
	permit2 := common.HexToAddress(traceAddrs[6])
	for _, prof := range []struct {
		name string
		pp   ProfileParams
	}{
		{ProfileReadOnly, ProfileParams{Chains: []uint64{31337}}},
		{ProfileFullAccess, ProfileParams{Chains: []uint64{31337}}},
		{ProfileSwapOnly, ProfileParams{Chains: []uint64{31337}, Routers: mustAddrs(traceAddrs[2], traceAddrs[3]), Permit2: &permit2,
			Limits: []LimitDoc{{Asset: traceAddrs[4], Decimals: ptr(6), PerPeriod: "1000"}, {Asset: "native", PerTx: "0.1", PerPeriod: "0.5"}}}},
	} {
		doc, err := ProfileDocument(prof.name, prof.pp)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(doc, Options{})
		if err != nil {
			t.Fatalf("%s: %v", prof.name, err)
		}
		out = append(out, namedPolicy{"profile-" + prof.name, p})
	}
	for name, src := range map[string]string{
		// Static arrays, small integers, strings and a deny rule with
		// conditions: shapes the common swaps do not have.
		"shapes": `name: shapes
chains: [31337]
limits: [{asset: native, per_tx: 1, per_period: 2}, {asset: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", decimals: 6, per_tx: 100}]
abis: [{signatures: ["function g(uint256[2] pair, address who, uint8 small, int16 tick)", "function h((uint64 a, int32 b, bytes4 tag) s, string note, bytes blob)"]}]
allow:
  - contract: "*"
    functions:
      - sig: "g(uint256[2],address,uint8,int16)"
        where: { who: $owner, small: "<= 7", tick: { gt: "-100", lt: "100" } }
      - sig: "h((uint64,int32,bytes4),string,bytes)"
        where: { a: "> 1", b: { ne: "-3" }, tag: "0xdeadbeef" }
  - contract: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
    functions: ["transfer(address,uint256)", "approve(address,uint256)"]
deny:
  - contract: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
    functions:
      - sig: "transfer(address,uint256)"
        where: { to: { not_in: [$owner, "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D"] } }
    reason: only to the owner or the router
`,
		// Broad rules by selector and wildcard next to narrow ones.
		"selectors": `name: selectors
chains: [31337, 1]
limits: [{asset: native, per_tx: 0.5}, {asset: fees, per_period: 0.01}]
allow:
  - contract: "0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45"
    functions: ["0x5ae401dc", "multicall(bytes[])", "*"]
  - contract: "*"
    functions: [receive, "0xdeadbeef"]
  - contract: "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D"
    name: v2
    functions:
      - sig: "swapExactETHForTokens(uint256,address[],address,uint256)"
        where: { to: { in: [$owner, $session] }, amountOutMin: { gte: 1 } }
deny:
  - contract: "*"
    functions: ["0xdeadbeef"]
`,
	} {
		p, err := Parse([]byte(src), Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, namedPolicy{name, p})
	}
	// Map order must not decide the corpus.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].name < out[j-1].name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// traceAddrs are the addresses requests use: owner, session, the two
// routers, USDC, WETH, Permit2, a stranger and the policies' test
// contracts.
var traceAddrs = []string{
	testOwner,
	"0x5555555555555555555555555555555555555555",
	"0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D",
	"0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45",
	"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
	"0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
	"0x000000000022D473030F116dDEE9F6B43aC78BA3",
	"0x9999999999999999999999999999999999999999",
	"0x2222222222222222222222222222222222222222",
	"0x3333333333333333333333333333333333333333",
	"0x4444444444444444444444444444444444444444",
}

var traceUints = []string{"0", "1", "2", "3", "5", "7", "8", "50", "99", "100", "500", "3000", "3000000", "100000000",
	"500000000", "500000001", "1000000000", "1000000001", "100000000000000000", "500000000000000001", "99999999999"}

var traceInts = []string{"0", "1", "-1", "-3", "-5", "4", "5", "-100", "99", "100", "-32768", "32767"}

type traceGen struct{ r *rand.Rand }

func (g *traceGen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *traceGen) addr() common.Address { return common.HexToAddress(g.pick(traceAddrs)) }

// request makes one request and the state it is judged in: mostly a
// request the key's context allows, sometimes with one thing wrong.
func (g *traceGen) request(p *Policy) (Request, State) {
	r := g.r
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := State{Now: now, IssuedAt: now.Add(-time.Hour), Vars: Variables{Owner: common.HexToAddress(testOwner)},
		Spent: map[string]*big.Int{}, Requests: r.IntN(5)}
	if r.IntN(3) == 0 {
		st.Vars.Session = common.HexToAddress(traceAddrs[1])
	}
	for _, a := range []string{Native, Fees, strings.ToLower(traceAddrs[4]), strings.ToLower(traceAddrs[5])} {
		if r.IntN(6) == 0 {
			v, _ := new(big.Int).SetString(g.pick(traceUints), 10)
			st.Spent[a] = v
		}
	}
	req := Request{ChainID: 31337, Method: "eth_sendTransaction", SourceIP: netip.MustParseAddr("127.0.0.1")}
	switch r.IntN(6) {
	case 0:
		req.SourceIP = netip.MustParseAddr("::1")
	case 1:
		owner := st.Vars.Owner
		req.From = &owner
	}
	if r.IntN(4) == 0 {
		switch r.IntN(9) {
		case 0:
			st.Now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) // a Saturday
		case 1:
			st.Now = time.Date(2026, 11, 25, 22, 30, 0, 0, time.UTC) // night in Berlin
		case 2:
			st.Now = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC) // after valid_until
			st.IssuedAt = st.Now.Add(-48 * time.Hour)
		case 3:
			req.ChainID = 1
		case 4:
			req.SourceIP = netip.MustParseAddr("10.1.2.3")
		case 5:
			req.SourceIP = netip.Addr{}
		case 6:
			a := g.addr()
			req.From = &a
		case 7:
			st.Requests = 30 + r.IntN(3)
		default:
			st.IssuedAt = st.Now.Add(-30 * time.Hour)
		}
	}
	switch k := r.IntN(20); {
	case k < 15:
		req.Kind = KindTransaction
		req.Tx = g.tx(p)
	case k < 18:
		req.Kind, req.Method = KindTypedData, "eth_signTypedData_v4"
		req.TypedData = g.typedData()
	case k < 19:
		req.Kind, req.Method = KindMessage, "personal_sign"
		req.Message = []byte(g.pick([]string{"agentkeys login: 42", "hello",
			"app.example.com wants you to sign in with your Ethereum account:\n" + testOwner + "\n\nSign in",
			"https://app.example.com wants you to sign in with your Ethereum account:\n" + traceAddrs[7] + "\n",
			"evil.example wants you to sign in with your Ethereum account:\n" + testOwner + "\n"}))
	default:
		req.Kind = Kind(g.pick([]string{string(KindRead), string(KindRead), string(KindEthSign), string(KindAuthorization), "teleport"}))
		req.Method = g.pick([]string{"eth_call", "eth_sign", "", "eth_getBalance"})
	}
	return req, st
}

func (g *traceGen) tx(p *Policy) *Tx {
	r := g.r
	to := g.addr()
	tx := &Tx{To: &to, Value: new(big.Int)}
	if r.IntN(5) == 0 {
		tx.Value, _ = new(big.Int).SetString(g.pick(traceUints), 10)
	}
	if r.IntN(4) == 0 {
		tx.MaxFee, _ = new(big.Int).SetString(g.pick(traceUints), 10)
	}
	rules := p.AllowRules()
	switch k := r.IntN(20); {
	case k == 0:
		tx.To = nil
	case k == 1:
		tx.Authorizations = 1
	case k == 2:
		// empty calldata: a plain transfer
	case k == 3:
		tx.Data = make([]byte, r.IntN(8))
		for i := range tx.Data {
			tx.Data[i] = byte(r.IntN(256))
		}
	case k < 7:
		to = common.HexToAddress(g.pick(traceAddrs[2:4]))
		tx.Data = g.multicall(0)
	case k < 9 || len(rules) == 0:
		tx.Data = g.call(p)
	default:
		// A call some allow rule names, with arguments that often meet
		// its conditions.
		rule := rules[r.IntN(len(rules))]
		if !rule.AnyContract {
			to = rule.Contract
		}
		fv := rule.Functions[r.IntN(len(rule.Functions))]
		switch {
		case fv.Receive:
			tx.Value = big.NewInt(int64(r.IntN(3)))
		case fv.Any:
			tx.Data = g.call(p)
		case fv.Function == nil:
			tx.Data = append(fv.Selector[:], make([]byte, 32*r.IntN(2))...)
		default:
			tx.Data = g.encode(fv.Function)
		}
	}
	if len(tx.Data) > 4 && r.IntN(8) == 0 {
		tx.Data = g.mutate(tx.Data)
	}
	return tx
}

// call is a call of a built-in function or of one the policy's ABIs
// name, with arguments drawn from the pools.
func (g *traceGen) call(p *Policy) []byte {
	var fns []*Function
	for _, k := range builtinFunctions {
		if !strings.HasPrefix(k.sig, "multicall") {
			fns = append(fns, builtins.bySig[mustSig(k.sig)].fn)
		}
	}
	for _, e := range p.user.bySig {
		fns = append(fns, e.fn)
	}
	// Registry maps iterate in random order: sort the user's part.
	user := fns[len(fns)-len(p.user.bySig):]
	for i := 1; i < len(user); i++ {
		for j := i; j > 0 && user[j].Signature < user[j-1].Signature; j-- {
			user[j], user[j-1] = user[j-1], user[j]
		}
	}
	fn := fns[g.r.IntN(len(fns))]
	return g.encode(fn)
}

func (g *traceGen) encode(fn *Function) []byte {
	vals := make([]any, len(fn.Inputs))
	for i, in := range fn.Inputs {
		vals[i] = g.value(in.Name, in.Type)
	}
	data, err := fn.Calldata(vals...)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", fn.Signature, err))
	}
	return data
}

// value is a Go value of type t as the ABI package packs it.
func (g *traceGen) value(name string, t abi.Type) any {
	r := g.r
	switch t.T {
	case abi.AddressTy:
		if r.IntN(2) == 0 {
			return common.HexToAddress(testOwner)
		}
		return g.addr()
	case abi.UintTy:
		n, _ := new(big.Int).SetString(g.pick(traceUints), 10)
		if n.BitLen() > t.Size {
			n.SetUint64(uint64(r.IntN(1 << min(t.Size, 16))))
		}
		return g.num(t, n)
	case abi.IntTy:
		n, _ := new(big.Int).SetString(g.pick(traceInts), 10)
		if n.BitLen() >= t.Size {
			n.SetInt64(-1)
		}
		return g.num(t, n)
	case abi.BoolTy:
		return r.IntN(2) == 0
	case abi.FixedBytesTy:
		v := reflect.New(t.GetType()).Elem()
		b := v.Bytes()
		if r.IntN(2) == 0 {
			copy(b, []byte{0xde, 0xad, 0xbe, 0xef, 0xde, 0xad})
		} else {
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
		}
		return v.Interface()
	case abi.StringTy:
		return g.pick([]string{"", "note", strings.Repeat("x", 40)})
	case abi.BytesTy:
		if name == "path" {
			// A V3 packed path: token, fee, token (sometimes malformed).
			b := append(common.HexToAddress(g.pick(traceAddrs[4:6])).Bytes(), 0, 0x01, 0xf4)
			b = append(b, common.HexToAddress(g.pick(traceAddrs[4:6])).Bytes()...)
			return b[:len(b)-r.IntN(2)]
		}
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	case abi.SliceTy, abi.ArrayTy:
		n := t.Size
		if t.T == abi.SliceTy {
			n = r.IntN(4)
		}
		v := reflect.New(t.GetType()).Elem()
		if t.T == abi.SliceTy {
			v = reflect.MakeSlice(t.GetType(), n, n)
		}
		for i := range n {
			v.Index(i).Set(reflect.ValueOf(g.value(name, *t.Elem)))
		}
		return v.Interface()
	case abi.TupleTy:
		v := reflect.New(t.GetType()).Elem()
		for i, e := range t.TupleElems {
			v.Field(i).Set(reflect.ValueOf(g.value(t.TupleRawNames[i], *e)))
		}
		return v.Interface()
	}
	panic("trace generator cannot make " + t.String())
}

func (g *traceGen) num(t abi.Type, n *big.Int) any {
	v := reflect.New(t.GetType()).Elem()
	switch {
	case v.Kind() == reflect.Pointer:
		return n
	case t.T == abi.UintTy:
		v.SetUint(n.Uint64())
	default:
		v.SetInt(n.Int64())
	}
	return v.Interface()
}

// multicall wraps one to three calls to the V3 router in a multicall,
// sometimes nested.
func (g *traceGen) multicall(depth int) []byte {
	r := g.r
	sigs := []string{"multicall(bytes[] data)", "multicall(uint256 deadline,bytes[] data)", "multicall(bytes32 previousBlockhash,bytes[] data)"}
	fn := builtins.bySig[mustSig(sigs[r.IntN(len(sigs))])].fn
	var inner [][]byte
	for range r.IntN(4) {
		switch k := r.IntN(8); {
		case k == 0 && depth < 4:
			inner = append(inner, g.multicall(depth+1))
		case k == 1:
			inner = append(inner, g.encode(builtins.bySig[mustSig("transfer(address to,uint256 amount)")].fn))
		default:
			v3 := []string{
				"exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96) params)",
				"exactInput((bytes path,address recipient,uint256 amountIn,uint256 amountOutMinimum) params)",
				"unwrapWETH9(uint256 amountMinimum,address recipient)",
				"refundETH()",
			}
			inner = append(inner, g.encode(builtins.bySig[mustSig(v3[r.IntN(len(v3))])].fn))
		}
	}
	var args []any
	switch len(fn.Inputs) {
	case 1:
		args = []any{inner}
	default:
		args = []any{g.value(fn.Inputs[0].Name, fn.Inputs[0].Type), inner}
	}
	data, err := fn.Calldata(args...)
	if err != nil {
		panic(err)
	}
	return data
}

// mutate breaks calldata the ways a careless or hostile agent might.
func (g *traceGen) mutate(data []byte) []byte {
	r := g.r
	out := bytes.Clone(data)
	if len(out) <= 4 {
		return append(out, make([]byte, 32)...)
	}
	switch r.IntN(5) {
	case 0:
		out[4+r.IntN(len(out)-4)] ^= byte(1 + r.IntN(255))
	case 1:
		out = out[:4+r.IntN(len(out)-4)]
	case 2:
		out = append(out, make([]byte, 32)...)
	case 3:
		if len(out) >= 36 {
			out[4] = 1 // a high byte no canonical word of a small type has
		}
	default:
		out = append(out, 1)
	}
	return out
}

func (g *traceGen) typedData() *apitypes.TypedData {
	r := g.r
	spender := g.pick(append([]string{traceAddrs[3], traceAddrs[3]}, traceAddrs...))
	amount := g.pick(traceUints)
	verifying := g.pick([]string{traceAddrs[6], traceAddrs[6], traceAddrs[6], traceAddrs[4], "nonsense"})
	chain := g.pick([]string{"31337", "31337", "31337", "1", ""})
	primary := g.pick([]string{"PermitSingle", "PermitSingle", "Permit", "PermitBatch", "Order"})
	domain := `"name": "Permit2", "verifyingContract": "` + verifying + `"`
	if chain != "" {
		domain += `, "chainId": ` + chain
	}
	var doc string
	switch primary {
	case "Permit":
		doc = `{"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
		  "Permit": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"}]},
		  "primaryType": "Permit", "domain": {` + domain + `},
		  "message": {"owner": "` + testOwner + `", "spender": "` + spender + `", "value": "` + amount + `", "nonce": "0", "deadline": "1800000000"}}`
	case "PermitBatch":
		doc = `{"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
		  "PermitDetails": [{"name": "token", "type": "address"}, {"name": "amount", "type": "uint160"}, {"name": "expiration", "type": "uint48"}, {"name": "nonce", "type": "uint48"}],
		  "PermitBatch": [{"name": "details", "type": "PermitDetails[]"}, {"name": "spender", "type": "address"}, {"name": "sigDeadline", "type": "uint256"}]},
		  "primaryType": "PermitBatch", "domain": {` + domain + `},
		  "message": {"details": [{"token": "` + traceAddrs[4] + `", "amount": "` + amount + `", "expiration": "1800000000", "nonce": "0"},
		    {"token": "` + traceAddrs[5] + `", "amount": "` + g.pick(traceUints) + `", "expiration": "1800000000", "nonce": "0"}],
		    "spender": "` + spender + `", "sigDeadline": "1800000000"}}`
	default:
		token := g.pick(traceAddrs[4:6])
		if r.IntN(8) == 0 {
			token = "0x12"
		}
		doc = `{"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
		  "PermitDetails": [{"name": "token", "type": "address"}, {"name": "amount", "type": "uint160"}, {"name": "expiration", "type": "uint48"}, {"name": "nonce", "type": "uint48"}],
		  "` + primary + `": [{"name": "details", "type": "PermitDetails"}, {"name": "spender", "type": "address"}, {"name": "sigDeadline", "type": "uint256"}]},
		  "primaryType": "` + primary + `", "domain": {` + domain + `},
		  "message": {"details": {"token": "` + token + `", "amount": "` + amount + `", "expiration": "1800000000", "nonce": "0"},
		    "spender": "` + spender + `", "sigDeadline": "1800000000"}}`
	}
	var td apitypes.TypedData
	if err := json.Unmarshal([]byte(doc), &td); err != nil {
		panic(fmt.Sprintf("typed data: %v\n%s", err, doc))
	}
	return &td
}
