package onchain

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/secrets"
)

// The differential test: random policies and random calls go through the
// off-chain evaluator and through the delegate contract on the real EVM,
// and every decision on the on-chain-enforceable part must agree. Calls
// that are allowed are sometimes executed for real, so later decisions
// run against a spend history on both sides; the chain's clock moves
// forward across budget periods and past expiry.

var (
	pOwnerless = common.HexToAddress("0x00000000000000000000000000000000000000c1")
	pC2        = common.HexToAddress("0x00000000000000000000000000000000000000c2")
	pT1        = common.HexToAddress("0x00000000000000000000000000000000000000d1")
	pT2        = common.HexToAddress("0x00000000000000000000000000000000000000d2")
	pA1        = common.HexToAddress("0x00000000000000000000000000000000000000a1")
	pA2        = common.HexToAddress("0x00000000000000000000000000000000000000a2")
)

type parityFn struct {
	sig string
	// args builds random arguments; owner and session are the variables.
	args func(r *rand.Rand, owner, session common.Address) []any
	// conds lists argument paths with kinds "uint", "int", "addr", "bool", "b32".
	conds map[string]string
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func parityFns() []parityFn {
	addr := func(r *rand.Rand, owner, session common.Address) common.Address {
		return pick(r, owner, session, pA1, pA2)
	}
	small := func(r *rand.Rand) *big.Int { return big.NewInt(r.Int64N(12)) }
	return []parityFn{
		{"transfer(address to,uint256 amount)", func(r *rand.Rand, o, s common.Address) []any { return []any{addr(r, o, s), small(r)} },
			map[string]string{"to": "addr", "amount": "uint"}},
		{"approve(address spender,uint256 amount)", func(r *rand.Rand, o, s common.Address) []any { return []any{addr(r, o, s), small(r)} },
			map[string]string{"spender": "addr", "amount": "uint"}},
		{"transferFrom(address from,address to,uint256 amount)", func(r *rand.Rand, o, s common.Address) []any {
			return []any{addr(r, o, s), addr(r, o, s), small(r)}
		}, map[string]string{"from": "addr", "to": "addr", "amount": "uint"}},
		{"swapExactTokensForTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)", func(r *rand.Rand, o, s common.Address) []any {
			return []any{small(r), small(r), []common.Address{pick(r, pT1, pT2, pA1), pick(r, pT1, pT2)}, addr(r, o, s), big.NewInt(1 << 40)}
		}, map[string]string{"to": "addr", "amountIn": "uint", "amountOutMin": "uint"}},
		{"exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 deadline,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96) params)",
			func(r *rand.Rand, o, s common.Address) []any {
				return []any{struct {
					TokenIn, TokenOut common.Address
					Fee               *big.Int
					Recipient         common.Address
					Deadline          *big.Int
					AmountIn          *big.Int
					AmountOutMinimum  *big.Int
					SqrtPriceLimitX96 *big.Int
				}{pick(r, pT1, pT2, pA2), pT2, pick(r, big.NewInt(500), big.NewInt(3000)), addr(r, o, s), big.NewInt(1 << 40), small(r), small(r), new(big.Int)}}
			}, map[string]string{"recipient": "addr", "fee": "uint", "amountIn": "uint"}},
		{"exactInput((bytes path,address recipient,uint256 deadline,uint256 amountIn,uint256 amountOutMinimum) params)",
			func(r *rand.Rand, o, s common.Address) []any {
				path := append(append(pick(r, pT1, pT2, pA1).Bytes(), 0, 0x0b, 0xb8), pT2.Bytes()...)
				return []any{struct {
					Path             []byte
					Recipient        common.Address
					Deadline         *big.Int
					AmountIn         *big.Int
					AmountOutMinimum *big.Int
				}{path, addr(r, o, s), big.NewInt(1 << 40), small(r), small(r)}}
			}, map[string]string{"recipient": "addr", "amountIn": "uint"}},
		{"ping(uint256 a,int256 b,address c,bool d,bytes32 e)", func(r *rand.Rand, o, s common.Address) []any {
			var e [32]byte
			e[0] = byte(r.IntN(3))
			return []any{small(r), big.NewInt(r.Int64N(11) - 5), addr(r, o, s), r.IntN(2) == 0, e}
		}, map[string]string{"a": "uint", "b": "int", "c": "addr", "d": "bool", "e": "b32"}},
	}
}

func operand(r *rand.Rand, kind string) []string {
	switch kind {
	case "uint":
		return []string{fmt.Sprint(r.IntN(12))}
	case "int":
		return []string{fmt.Sprint(r.IntN(11) - 5)}
	case "bool":
		return []string{pick(r, "true", "false")}
	case "b32":
		var b [32]byte
		b[0] = byte(r.IntN(3))
		return []string{fmt.Sprintf("0x%x", b)}
	}
	return []string{pick(r, "$owner", "$session", pA1.Hex(), pA2.Hex())}
}

func randomWhere(r *rand.Rand, fn parityFn) policy.Where {
	var w policy.Where
	for path, kind := range fn.conds {
		if r.IntN(4) != 0 {
			continue
		}
		ops := []string{"eq", "ne", "in", "not_in"}
		if kind == "uint" || kind == "int" {
			ops = append(ops, "lt", "lte", "gt", "gte")
		}
		op := pick(r, ops...)
		vals := operand(r, kind)
		if op == "in" || op == "not_in" {
			if kind == "addr" {
				// On-chain a variable stands alone; literals may be several.
				if !strings.HasPrefix(vals[0], "$") && r.IntN(2) == 0 {
					vals = append(vals, pick(r, pA1.Hex(), pA2.Hex()))
				}
			} else {
				vals = append(vals, operand(r, kind)...)
			}
		}
		w = append(w, policy.CondDoc{Param: path, Ops: []policy.OpDoc{{Op: op, Values: vals}}})
	}
	return w
}

func randomPolicy(r *rand.Rand, fns []parityFn) *policy.Document {
	d := &policy.Document{Name: "parity", Chains: []uint64{devchain.DefaultChainID}, ValidFor: pick(r, "2h", "6h", "2d")}
	period := pick(r, "1h", "3h")
	dec := 0
	if r.IntN(5) > 0 {
		d.Limits = append(d.Limits, policy.LimitDoc{Asset: policy.Native, PerTx: pick(r, "", "5units", "20units"), PerPeriod: pick(r, "30units", "60units"), Period: period})
	}
	for _, tok := range []common.Address{pT1, pT2} {
		if r.IntN(5) > 0 {
			d.Limits = append(d.Limits, policy.LimitDoc{Asset: tok.Hex(), Decimals: &dec, PerTx: pick(r, "", "6", "9"), PerPeriod: pick(r, "15", "25"), Period: period})
		}
	}
	for n := 1 + r.IntN(4); n > 0; n-- {
		rule := policy.RuleDoc{Contract: pick(r, "*", "*", pOwnerless.Hex(), pC2.Hex(), pT1.Hex(), pT2.Hex())}
		for m := 1 + r.IntN(3); m > 0; m-- {
			switch r.IntN(10) {
			case 0:
				rule.Functions = append(rule.Functions, policy.FunctionDoc{Sig: "*"})
			case 1:
				rule.Functions = append(rule.Functions, policy.FunctionDoc{Sig: "receive"})
			default:
				fn := fns[r.IntN(len(fns))]
				rule.Functions = append(rule.Functions, policy.FunctionDoc{Sig: fn.sig, Where: randomWhere(r, fn)})
			}
		}
		d.Allow = append(d.Allow, rule)
	}
	d.ABIs = []policy.ABIDoc{{Signatures: []string{"ping(uint256 a,int256 b,address c,bool d,bytes32 e)"}}}
	return d
}

type spent struct {
	at     time.Time
	asset  string
	amount *big.Int
}

func TestParityOffChainOnChain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a chain")
	}
	ctx := context.Background()
	owner, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := devchain.Start(ctx, devchain.Config{Fund: []common.Address{owner.Address()}})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	c := chain.Client()
	cid := chain.ChainID().Uint64()
	ownerAddr := owner.Address()
	if _, err := chain.DelegateAs(ctx, owner, chain.AgentKeyDelegate()); err != nil {
		t.Fatal(err)
	}
	seed := uint64(2026)
	if v := os.Getenv("AGENTKEYS_PARITY_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	r := rand.New(rand.NewPCG(seed, 11))
	fns := parityFns()
	const policies, callsEach = 40, 26
	total, allowed, executed := 0, 0, 0
	for pi := 0; pi < policies; pi++ {
		session, _ := secrets.GenerateKey()
		if err := chain.Fund(ctx, session.Address()); err != nil {
			t.Fatal(err)
		}
		doc := randomPolicy(r, fns)
		p, err := policy.Compile(doc, policy.Options{})
		if err != nil {
			t.Fatalf("policy %d: %v", pi, err)
		}
		head, _ := c.HeaderByNumber(ctx, nil)
		issued := time.Unix(int64(head.Time)+1, 0).UTC()
		cfg, _ := Compile(p, issued)
		data, err := PackGrant(session.Address(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chain.SendAs(ctx, owner, devchain.Tx{To: &ownerAddr, Data: data}); err != nil {
			t.Fatalf("policy %d: grant: %v", pi, err)
		}
		var history []spent
		for ci := 0; ci < callsEach; ci++ {
			if r.IntN(8) == 0 {
				if err := chain.AdjustTime(time.Duration(r.IntN(5400)) * time.Second); err != nil {
					t.Fatal(err)
				}
			}
			target := pick(r, pOwnerless, pC2, pT1, pT2, pA1)
			value := pick(r, big.NewInt(0), big.NewInt(0), big.NewInt(3), big.NewInt(8), big.NewInt(25))
			var calldata []byte
			switch k := r.IntN(12); {
			case k == 0:
			case k == 1:
				calldata = []byte{0xde, 0xad, 0xbe, 0xef, 1, 2}
			default:
				fn := fns[r.IntN(len(fns))]
				f, _ := policy.ParseSignature(fn.sig)
				packed, err := f.Inputs.Pack(fn.args(r, owner.Address(), session.Address())...)
				if err != nil {
					t.Fatalf("pack %s: %v", fn.sig, err)
				}
				calldata = append(f.Selector[:], packed...)
			}
			head, _ := c.HeaderByNumber(ctx, nil)
			now := time.Unix(int64(head.Time), 0).UTC()
			st := policy.State{Now: now, IssuedAt: issued, Vars: policy.Variables{Owner: owner.Address(), Session: session.Address()}, Spent: map[string]*big.Int{}}
			for _, l := range p.Limits() {
				from := policy.PeriodStart(issued, now, l.Period)
				sum := new(big.Int)
				for _, h := range history {
					if h.asset == l.Asset && !h.at.Before(from) {
						sum.Add(sum, h.amount)
					}
				}
				st.Spent[l.Asset] = sum
			}
			to := target
			d := p.Evaluate(policy.Request{Kind: policy.KindTransaction, ChainID: cid, Tx: &policy.Tx{To: &to, Value: value, Data: calldata}}, st)
			own := owner.Address()
			out, err := c.CallContract(ctx, ethereum.CallMsg{To: &own, Data: PackCheck(session.Address(), target, value, calldata)}, nil)
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			ok, reason, err := UnpackCheck(out)
			if err != nil {
				t.Fatal(err)
			}
			total++
			if d.Allowed() != ok {
				t.Fatalf("policy %d call %d disagree: off-chain %s %q, on-chain ok=%v reason %x\npolicy: %s\ntarget %s value %s data %x\nspent %v now %s issued %s",
					pi, ci, d.Verdict, d.Reasons(), ok, reason, mustJSON(doc), target.Hex(), value, calldata, st.Spent, now, issued)
			}
			if !ok {
				continue
			}
			allowed++
			if r.IntN(2) == 0 {
				continue
			}
			rcpt, err := chain.SendAs(ctx, session, devchain.Tx{To: &ownerAddr, Data: PackExecute(target, value, calldata)})
			if err != nil {
				t.Fatalf("policy %d call %d: execute of an allowed call failed: %v", pi, ci, err)
			}
			executed++
			blk, _ := c.HeaderByNumber(ctx, rcpt.BlockNumber)
			at := time.Unix(int64(blk.Time), 0).UTC()
			// The decision was made at the previous block's time; if the
			// execution fell into the next period the history still counts
			// it where the chain does: at its own block time.
			for _, sp := range d.Spend {
				history = append(history, spent{at: at, asset: sp.Asset, amount: sp.Amount})
			}
		}
	}
	if total < 1000 || allowed < total/20 || allowed == total || executed == 0 {
		t.Fatalf("degenerate run: %d calls, %d allowed, %d executed", total, allowed, executed)
	}
	t.Logf("%d calls compared over %d policies: %d allowed by both, %d executed on chain", total, policies, allowed, executed)
}

func mustJSON(d *policy.Document) string {
	b, _ := d.JSON()
	return string(b)
}

// TestDirtyAddressWordRefusedOnChain: a stolen session key sends a
// transfer whose recipient word has junk in its upper bits and the
// refused address in its lower 20 bytes. The word differs from the
// refused address, so a bare ne would pass; the compiled guard refuses it.
func TestDirtyAddressWordRefusedOnChain(t *testing.T) {
	ctx := context.Background()
	owner, _ := secrets.GenerateKey()
	session, _ := secrets.GenerateKey()
	chain, err := devchain.Start(ctx, devchain.Config{Fund: []common.Address{owner.Address(), session.Address()}})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	c, cid := chain.Client(), chain.ChainID().Uint64()
	ownerAddr := owner.Address()
	if _, err := chain.DelegateAs(ctx, owner, chain.AgentKeyDelegate()); err != nil {
		t.Fatal(err)
	}
	dec := 0
	p, err := policy.Compile(&policy.Document{Name: "ne", Chains: []uint64{cid},
		Limits: []policy.LimitDoc{{Asset: pT1.Hex(), Decimals: &dec, PerPeriod: "100"}},
		Allow: []policy.RuleDoc{{Contract: pT1.Hex(), Functions: []policy.FunctionDoc{{Sig: "transfer(address,uint256)",
			Where: policy.Where{{Param: "to", Ops: []policy.OpDoc{{Op: "ne", Values: []string{pA1.Hex()}}}}}}}}}}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	head, _ := c.HeaderByNumber(ctx, nil)
	cfg, _ := Compile(p, time.Unix(int64(head.Time), 0))
	data, _ := PackGrant(session.Address(), cfg)
	if _, err := chain.SendAs(ctx, owner, devchain.Tx{To: &ownerAddr, Data: data}); err != nil {
		t.Fatal(err)
	}
	fn, _ := policy.ParseSignature("transfer(address,uint256)")
	clean, _ := fn.Inputs.Pack(pA2, big.NewInt(1))
	dirty, _ := fn.Inputs.Pack(pA1, big.NewInt(1))
	dirty[0] = 0xff // junk above the 20 address bytes of the first word
	own := owner.Address()
	for _, tt := range []struct {
		name string
		args []byte
		want bool
	}{{"clean other recipient", clean, true}, {"dirty word hiding the refused recipient", dirty, false}} {
		out, err := c.CallContract(ctx, ethereum.CallMsg{To: &own, Data: PackCheck(session.Address(), pT1, new(big.Int), append(fn.Selector[:], tt.args...))}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok, reason, _ := UnpackCheck(out)
		if ok != tt.want {
			t.Errorf("%s: on-chain ok=%v (%s), want %v", tt.name, ok, DecodeError(reason), tt.want)
		}
	}
}
