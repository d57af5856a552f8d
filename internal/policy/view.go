package policy

import (
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// The views below expose a compiled policy's rules to compilers for other
// enforcement layers (the on-chain delegate). They are copies; changing
// them changes nothing.

// RuleView is one allow or deny rule.
type RuleView struct {
	Path        string // "allow[0]"
	AnyContract bool
	Contract    common.Address
	Functions   []FunctionView
}

// FunctionView is one function entry of a rule.
type FunctionView struct {
	Path       string // "allow[0].functions[1]"
	Any        bool   // "*"
	Receive    bool   // empty calldata
	Selector   [4]byte
	Function   *Function // nil for a bare selector
	Conditions []ConditionView
}

// ConditionView is one operator on one argument.
type ConditionView struct {
	Param    string   // as written
	Path     string   // resolved argument path, like "params.recipient"
	Op       string   // eq ne lt lte gt gte in not_in
	Type     abi.Type // the argument's type
	Operands []OperandView
}

// OperandView is a literal or a variable ("$owner", "$session").
type OperandView struct {
	Variable string
	Int      *big.Int
	Address  *common.Address
	Bool     *bool
	Bytes    []byte
}

// SpendView says how a built-in function spends a token.
type SpendView struct {
	Function *Function
	// Asset is "@target", "@path0" (first address of the address[] argument
	// "path"), "@v3first"/"@v3last" (first/last token of the packed path in
	// the argument PathArg) or an address argument's path.
	Asset   string
	PathArg string
	Amount  string // the uint argument's path
}

// AllowRules returns the allow rules in order.
func (p *Policy) AllowRules() []RuleView { return rulesView(p.allow) }

// DenyRules returns the deny rules in order.
func (p *Policy) DenyRules() []RuleView { return rulesView(p.deny) }

// HasSchedule, HasRate, HasNetwork, HasTypedData and AllowsMessages report
// the rules that only the daemon can enforce.
func (p *Policy) HasSchedule() bool    { return p.schedule != nil }
func (p *Policy) HasNetwork() bool     { return len(p.cidrs) > 0 }
func (p *Policy) HasTypedData() bool   { return len(p.typed) > 0 }
func (p *Policy) AllowsMessages() bool { return p.messages.Allow }

// ValidFrom is the policy's explicit start, if any.
func (p *Policy) ValidFrom() time.Time { return p.validFrom }

// BuiltinSpends lists the built-in functions that spend tokens and how.
func BuiltinSpends() []SpendView {
	var out []SpendView
	for _, k := range builtinFunctions {
		if k.spend.Asset == "" {
			continue
		}
		out = append(out, SpendView{Function: builtins.bySig[mustSig(k.sig)].fn, Asset: k.spend.Asset, PathArg: k.spend.PathArg, Amount: k.spend.Amount})
	}
	return out
}

// IsWrapper reports whether sel is a built-in multicall whose inner calls
// the daemon checks one by one.
func IsWrapper(sel [4]byte) bool {
	e := builtins.lookup(sel)
	return e != nil && e.wrapper
}

func mustSig(s string) string {
	fn, err := ParseSignature(s)
	if err != nil {
		panic(err)
	}
	return fn.Signature
}

func rulesView(rs []*rule) []RuleView {
	out := make([]RuleView, 0, len(rs))
	for _, r := range rs {
		rv := RuleView{Path: r.path, AnyContract: r.any, Contract: r.contract}
		for _, fr := range r.fns {
			fv := FunctionView{Path: fr.path, Any: fr.anyFn, Receive: fr.receive, Selector: fr.sel, Function: fr.fn}
			for _, c := range fr.conds {
				cv := ConditionView{Param: c.param, Path: c.path, Op: c.op}
				if c.typ != nil {
					cv.Type = *c.typ
				}
				for _, o := range c.args {
					cv.Operands = append(cv.Operands, OperandView{Variable: o.variable, Int: o.num, Address: o.addr, Bool: o.boolean, Bytes: o.bytes})
				}
				fv.Conditions = append(fv.Conditions, cv)
			}
			rv.Functions = append(rv.Functions, fv)
		}
		out = append(out, rv)
	}
	return out
}
