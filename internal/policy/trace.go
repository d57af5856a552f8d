package policy

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// Decision is the outcome of Evaluate. Its verdict and spend are set when
// it is made; its trace (the rule that allowed it, every reason it was
// refused, the decoded calls) is written out only when asked for, so
// deciding costs no words that nobody reads. Each call of Rule, Reasons,
// Calls or Trace writes them anew.
type Decision struct {
	Verdict Verdict
	// Spend is what the request spends, one entry per asset in the order
	// first spent, then the worst-case fee if it is charged.
	Spend []Spend
	trace tracer
}

// tracer writes out a decision's trace.
type tracer interface {
	rule() string
	reasonList() []string
	callList() []Call
}

// Trace is a decision written out in full, as the audit log records it
// and `agentkeys policy explain` shows it.
type Trace struct {
	Verdict Verdict  `json:"decision"`
	Rule    string   `json:"rule,omitempty"` // what allowed it
	Reasons []string `json:"reasons"`        // every reason it was refused
	Calls   []Call   `json:"calls,omitempty"`
	Spend   []Spend  `json:"spend,omitempty"`
}

// Denied is a refusal for reasons given outright, such as a credential
// that cannot act.
func Denied(reasons ...string) Decision {
	return Decision{Verdict: Deny, trace: fixed(reasons)}
}

// Allowed reports whether the request may be signed.
func (d Decision) Allowed() bool { return d.Verdict == Allow }

// Rule says what allowed the request; empty for a refusal.
func (d Decision) Rule() string {
	if d.trace == nil || !d.Allowed() {
		return ""
	}
	return d.trace.rule()
}

// Reasons lists every reason the request was refused; empty (never nil)
// when it was allowed.
func (d Decision) Reasons() []string {
	if d.trace == nil || d.Allowed() {
		return []string{}
	}
	return d.trace.reasonList()
}

// Calls are the transaction's decoded calls, outer calls before the
// calls inside them.
func (d Decision) Calls() []Call {
	if d.trace == nil {
		return nil
	}
	return d.trace.callList()
}

// Trace writes the decision out in full.
func (d Decision) Trace() Trace {
	return Trace{Verdict: d.Verdict, Rule: d.Rule(), Reasons: d.Reasons(), Calls: d.Calls(), Spend: d.Spend}
}

// MarshalJSON writes the decision's trace.
func (d Decision) MarshalJSON() ([]byte, error) { return json.Marshal(d.Trace()) }

func (e *evaluation) rule() string {
	parts := make([]string, len(e.notes))
	for i, n := range e.notes {
		parts[i] = e.noteWords(n)
	}
	return strings.Join(parts, "; ")
}

func (e *evaluation) reasonList() []string {
	out := make([]string, len(e.reasons))
	for i, r := range e.reasons {
		out[i] = r.words()
	}
	return out
}

func (e *evaluation) callList() []Call {
	if len(e.calls) == 0 {
		return nil
	}
	out := make([]Call, 0, len(e.calls))
	for _, c := range e.calls {
		call := Call{Depth: c.depth, To: e.p.hex(c.to), Function: e.describe(c.data)}
		if c.depth == 0 {
			call.Value = e.value.String()
		}
		if len(c.data) >= 4 {
			var sel [4]byte
			copy(sel[:], c.data)
			call.Selector = "0x" + hex.EncodeToString(sel[:])
			if bi := builtins.lookup(sel); c.args && bi != nil {
				if args, ok := bi.fn.laidOut(c.data); ok {
					call.Args = e.p.displayArgs(args)
				}
			}
		}
		out = append(out, call)
	}
	return out
}

// fixed is the trace of a refusal for reasons given outright.
type fixed []string

func (f fixed) rule() string         { return "" }
func (f fixed) reasonList() []string { return append([]string{}, f...) }
func (f fixed) callList() []Call     { return nil }

// EvaluateBatch decides several requests as one, as for a batch of
// calls: each is evaluated with the spend of those before it counted,
// and the batch is allowed only if every request is. Its spend is the
// requests' spend added up per asset, fees apart from value; its reasons
// and rule name the call they come from ("call 2: ...").
func (p *Policy) EvaluateBatch(reqs []Request, st State) Decision {
	if len(reqs) == 1 {
		return p.Evaluate(reqs[0], st)
	}
	spent := map[string]*big.Int{}
	for k, v := range st.Spent {
		spent[k] = new(big.Int).Set(v)
	}
	// Totals are kept per asset and kind: a fee is reserved apart from
	// the value, so settlement can replace it.
	type spendKey struct {
		asset string
		fee   bool
	}
	total := map[spendKey]*Spend{}
	var order []spendKey
	parts := make(batch, len(reqs))
	out := Decision{Verdict: Allow, trace: parts}
	for i, r := range reqs {
		sti := st
		sti.Spent = spent
		d := p.Evaluate(r, sti)
		parts[i] = d
		if !d.Allowed() {
			out.Verdict = Deny
		}
		for _, sp := range d.Spend {
			if spent[sp.Asset] == nil {
				spent[sp.Asset] = new(big.Int)
			}
			spent[sp.Asset].Add(spent[sp.Asset], sp.Amount)
			k := spendKey{sp.Asset, sp.Fee}
			if total[k] == nil {
				c := sp
				c.Amount = new(big.Int)
				total[k] = &c
				order = append(order, k)
			}
			total[k].Amount.Add(total[k].Amount, sp.Amount)
		}
	}
	for _, k := range order {
		out.Spend = append(out.Spend, *total[k])
	}
	return out
}

// batch is the trace of EvaluateBatch: each request's decision.
type batch []Decision

func (b batch) rule() string {
	parts := make([]string, len(b))
	for i, d := range b {
		parts[i] = fmt.Sprintf("call %d: %s", i+1, d.Rule())
	}
	return strings.Join(parts, "; ")
}

func (b batch) reasonList() []string {
	out := []string{}
	for i, d := range b {
		if d.Allowed() {
			continue
		}
		for _, r := range d.Reasons() {
			out = append(out, fmt.Sprintf("call %d: %s", i+1, r))
		}
	}
	return out
}

func (b batch) callList() []Call {
	var out []Call
	for _, d := range b {
		out = append(out, d.Calls()...)
	}
	return out
}
