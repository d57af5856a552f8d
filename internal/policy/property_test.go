package policy

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// The property: whatever the policy, Evaluate never allows a call that the
// policy does not list. The oracle below is a deliberately simple,
// independent reading of the generated rules.

type propFn struct {
	sig    string // with names
	params []string
}

var propFns = []propFn{
	{"transfer(address to,uint256 amount)", []string{"to", "amount"}},
	{"approve(address spender,uint256 amount)", []string{"spender", "amount"}},
	{"mint(address to,uint256 amount)", []string{"to", "amount"}},
	{"burn(uint256 amount)", []string{"amount"}},
	{"ping()", nil},
}

type propCond struct {
	param, op string
	addr      common.Address
	num       int64
}

type propRule struct {
	contract string // "*" or address hex
	fn       int    // index into propFns, -1 for "*"
	conds    []propCond
}

var propAddrs = []common.Address{
	common.HexToAddress("0x00000000000000000000000000000000000000a1"),
	common.HexToAddress("0x00000000000000000000000000000000000000a2"),
	common.HexToAddress("0x00000000000000000000000000000000000000a3"),
}

func genRule(r *rand.Rand) propRule {
	pr := propRule{contract: "*", fn: -1}
	if r.IntN(4) > 0 {
		pr.contract = propAddrs[r.IntN(len(propAddrs))].Hex()
	}
	if r.IntN(5) > 0 {
		pr.fn = r.IntN(len(propFns))
		for _, p := range propFns[pr.fn].params {
			if r.IntN(2) == 0 {
				continue
			}
			if p == "amount" {
				pr.conds = append(pr.conds, propCond{param: p, op: []string{"eq", "ne", "lt", "lte", "gt", "gte"}[r.IntN(6)], num: r.Int64N(6)})
			} else {
				pr.conds = append(pr.conds, propCond{param: p, op: []string{"eq", "ne"}[r.IntN(2)], addr: propAddrs[r.IntN(len(propAddrs))]})
			}
		}
	}
	return pr
}

func (pr propRule) doc() RuleDoc {
	fd := FunctionDoc{Sig: "*"}
	if pr.fn >= 0 {
		fd.Sig = propFns[pr.fn].sig
		for _, c := range pr.conds {
			v := c.addr.Hex()
			if c.param == "amount" {
				v = fmt.Sprint(c.num)
			}
			fd.Where = append(fd.Where, CondDoc{Param: c.param, Ops: []OpDoc{{Op: c.op, Values: []string{v}}}})
		}
	}
	return RuleDoc{Contract: pr.contract, Functions: []FunctionDoc{fd}}
}

type propCall struct {
	to     common.Address
	fn     int // -1: unknown selector
	addr   common.Address
	amount int64
}

// oracleAllows is the simple reading: some allow rule covers the call and
// no deny rule does.
func oracleAllows(allow, deny []propRule, c propCall) bool {
	covers := func(pr propRule) bool {
		if pr.contract != "*" && common.HexToAddress(pr.contract) != c.to {
			return false
		}
		if pr.fn == -1 {
			return true
		}
		if pr.fn != c.fn {
			return false
		}
		for _, cond := range pr.conds {
			var ok bool
			if cond.param == "amount" {
				a, b := c.amount, cond.num
				ok = map[string]bool{"eq": a == b, "ne": a != b, "lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[cond.op]
			} else {
				ok = (c.addr == cond.addr) == (cond.op == "eq")
			}
			if !ok {
				return false
			}
		}
		return true
	}
	for _, d := range deny {
		if covers(d) {
			return false
		}
	}
	for _, a := range allow {
		if covers(a) {
			return true
		}
	}
	return false
}

func TestPropertyNeverAllowsUnlisted(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 2026))
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := State{Now: now, IssuedAt: now, Vars: Variables{Owner: propAddrs[0]}}
	allowed, checked := 0, 0
	for i := 0; i < 1500; i++ {
		var allow, deny []propRule
		doc := &Document{Name: "prop", Chains: []uint64{1}}
		for n := r.IntN(5); n > 0; n-- {
			pr := genRule(r)
			allow = append(allow, pr)
			doc.Allow = append(doc.Allow, pr.doc())
		}
		for n := r.IntN(3); n > 0; n-- {
			pr := genRule(r)
			deny = append(deny, pr)
			doc.Deny = append(doc.Deny, pr.doc())
		}
		// Limits high enough that only rules decide; uncapped token spend
		// would otherwise refuse every transfer.
		for _, a := range propAddrs {
			doc.Limits = append(doc.Limits, LimitDoc{Asset: a.Hex(), Decimals: ptr(0), PerTx: "1000"})
		}
		p, err := Compile(doc, Options{})
		if err != nil {
			t.Fatalf("policy %d: %v", i, err)
		}
		for j := 0; j < 20; j++ {
			c := propCall{to: propAddrs[r.IntN(len(propAddrs))], fn: r.IntN(len(propFns)+1) - 1,
				addr: propAddrs[r.IntN(len(propAddrs))], amount: r.Int64N(6)}
			var data []byte
			if c.fn < 0 {
				data = []byte{0xde, 0xad, 0xbe, 0xef}
			} else {
				var args []any
				for _, prm := range propFns[c.fn].params {
					if prm == "amount" {
						args = append(args, fmt.Sprint(c.amount))
					} else {
						args = append(args, c.addr.Hex())
					}
				}
				data = encodeCall(t, propFns[c.fn].sig, args)
			}
			d := p.Evaluate(Request{Kind: KindTransaction, ChainID: 1, Tx: &Tx{To: &c.to, Value: new(big.Int), Data: data}}, st)
			want := oracleAllows(allow, deny, c)
			checked++
			if d.Allowed() {
				allowed++
			}
			if d.Allowed() != want {
				t.Fatalf("policy %d call %d: engine allowed=%v, oracle=%v\ncall %+v\nreasons %q\nrule %q", i, j, d.Allowed(), want, c, d.Reasons(), d.Rule())
			}
		}
	}
	// The generator must exercise both outcomes, or the property says little.
	if allowed == 0 || allowed == checked {
		t.Fatalf("degenerate run: %d of %d allowed", allowed, checked)
	}
	t.Logf("%d calls, %d allowed", checked, allowed)
}

func ptr[T any](v T) *T { return &v }
