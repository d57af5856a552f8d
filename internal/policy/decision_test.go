package policy

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// swapRequest is the benchmarks' allowed swap of amountIn USDC units on
// the V2 router, judged at a time the swapper's schedule allows.
func swapRequest(t testing.TB, amountIn string) (Request, State) {
	owner := common.HexToAddress(testOwner)
	router := common.HexToAddress(benchV2Router)
	data := encodeCall(t, "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
		[]any{amountIn, "1", []any{benchUSDC, benchWETH}, owner.Hex(), "9999999999"})
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	return Request{Kind: KindTransaction, ChainID: 31337, SourceIP: mustIP("127.0.0.1"), Tx: &Tx{To: &router, Value: new(big.Int), Data: data}},
		State{Now: now, IssuedAt: now.Add(-time.Hour), Vars: Variables{Owner: owner}, Spent: map[string]*big.Int{}}
}

// The trace is written when asked for, but from what was decided: a
// caller that reuses its calldata buffer, its usage map or the spend's
// amounts afterwards changes none of it.
func TestDecisionKeepsItsOwnCopies(t *testing.T) {
	p := benchSwapper(t)
	for _, amount := range []string{"10000000", "600000000"} { // allowed; over both USDC caps
		req, st := swapRequest(t, amount)
		st.Spent[Native] = big.NewInt(7)
		st.Spent[strings.ToLower(benchUSDC)] = big.NewInt(950_000_000) // over the daily cap with 600 more
		d := p.Evaluate(req, st)
		before, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		for i := range req.Tx.Data {
			req.Tx.Data[i] = 0xff
		}
		for _, v := range st.Spent {
			v.SetInt64(1)
		}
		for _, s := range d.Spend {
			s.Amount.SetInt64(42)
		}
		st.Spent["extra"] = big.NewInt(1)
		d.Spend = nil // the trace's spend is the caller's; its reasons and calls are not
		after, _ := json.Marshal(d)
		var b, a Trace
		if err := json.Unmarshal(before, &b); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(after, &a); err != nil {
			t.Fatal(err)
		}
		if diff := cmpDiff(b.Reasons, a.Reasons); diff != "" {
			t.Errorf("amount %s: reasons changed (-before +after):\n%s", amount, diff)
		}
		if diff := cmpDiff(b.Calls, a.Calls); diff != "" || len(b.Calls) != 1 || len(b.Calls[0].Args) != 5 {
			t.Errorf("amount %s: calls changed (-before +after):\n%s", amount, diff)
		}
		if want := Verdict(map[bool]string{true: "allow", false: "deny"}[amount == "10000000"]); b.Verdict != want {
			t.Fatalf("amount %s: %s, want %s", amount, b.Verdict, want)
		}
		if b.Rule != a.Rule || (b.Verdict == Allow) == (b.Rule == "") {
			t.Errorf("amount %s: rule %q, then %q", amount, b.Rule, a.Rule)
		}
	}
}

// Deciding an allowed swap allocates almost nothing (the goal is
// fewer than 10 allocations; the trace is not written).
func TestEvaluateAllocations(t *testing.T) {
	p := benchSwapper(t)
	req, st := swapRequest(t, "100000000")
	if d := p.Evaluate(req, st); !d.Allowed() {
		t.Fatalf("refused: %q", d.Reasons())
	}
	if n := testing.AllocsPerRun(100, func() { p.Evaluate(req, st) }); n >= 10 {
		t.Errorf("an allowed swap allocates %.0f times", n)
	}
}

func TestEvaluateBatch(t *testing.T) {
	p := benchSwapper(t)
	req1, st := swapRequest(t, "400000000") // 400 USDC of a 1,000 USDC daily cap
	req2, _ := swapRequest(t, "400000000")
	req3, _ := swapRequest(t, "300000000") // 1,100 in all: over the cap
	req1.Tx.MaxFee, req2.Tx.MaxFee = big.NewInt(1e12), big.NewInt(2e12)
	usdc := strings.ToLower(benchUSDC)

	d := p.EvaluateBatch([]Request{req1, req2}, st)
	if !d.Allowed() || len(d.Reasons()) != 0 {
		t.Fatalf("two swaps within the cap refused: %q", d.Reasons())
	}
	if r := d.Rule(); !strings.HasPrefix(r, "call 1: allow[0].functions[0] (uniswap-v2-router) allows ") || !strings.Contains(r, "; call 2: allow[0]") {
		t.Errorf("rule %q", r)
	}
	got := map[string]string{}
	for _, s := range d.Spend {
		got[s.Asset+map[bool]string{true: " fee"}[s.Fee]] = s.Amount.String()
	}
	if diff := cmpDiff(map[string]string{usdc: "800000000", "native fee": "3000000000000"}, got); diff != "" {
		t.Errorf("spend (-want +got):\n%s", diff)
	}
	if n := len(d.Calls()); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
	if st.Spent[usdc] != nil {
		t.Errorf("the batch changed the caller's usage: %v", st.Spent)
	}

	d = p.EvaluateBatch([]Request{req1, req2, req3}, st)
	reasons := d.Reasons()
	if d.Allowed() || d.Rule() != "" || len(reasons) != 1 ||
		!strings.HasPrefix(reasons[0], "call 3: spends 300 USDC, over the limit of 1000 USDC per 24h: 800 already used, 200 left") {
		t.Errorf("a batch over the cap: %s %q rule %q", d.Verdict, reasons, d.Rule())
	}
}

func TestDenied(t *testing.T) {
	d := Denied("credential revoked")
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"decision":"deny","reasons":["credential revoked"]}` || d.Allowed() {
		t.Errorf("Denied: %s", b)
	}
	if b, _ := json.Marshal(Decision{}); string(b) != `{"decision":"","reasons":[]}` {
		t.Errorf("zero decision: %s", b)
	}
}
