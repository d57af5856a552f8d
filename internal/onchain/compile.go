// Package onchain compiles a policy's on-chain-enforceable part into the
// grant of the AgentKeyDelegate contract (contracts/src), and says which
// rules only the daemon enforces. The service core uses it in 7702 mode.
package onchain

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/policy"
)

// Condition operators and value kinds, as the contract numbers them.
const (
	OpEQ uint8 = iota
	OpNE
	OpLT
	OpLTE
	OpGT
	OpGTE
	OpIN
	OpNotIN
)

const (
	ValueLiteral uint8 = iota
	ValueSelf          // address(this): the owner's account ($owner)
	ValueSender        // the session key ($session)
)

// Token kinds of a spend rule.
const (
	TokenTarget uint8 = iota
	TokenAddressArg
	TokenFirstOfAddressArray
	TokenFirstOfPackedPath
	TokenLastOfPackedPath
)

var opCodes = map[string]uint8{"eq": OpEQ, "ne": OpNE, "lt": OpLT, "lte": OpLTE, "gt": OpGT, "gte": OpGTE, "in": OpIN, "not_in": OpNotIN}

// Loc locates a 32-byte argument word: args[Head], or through one pointer
// p = args[Head] at args[p+Inner].
type Loc struct {
	Head     uint32
	Indirect bool
	Inner    uint32
}

// Condition mirrors the contract's Condition.
type Condition struct {
	Loc       Loc
	Op        uint8
	Signed    bool
	ValueKind uint8
	Values    [][32]byte
}

// Permission mirrors the contract's Permission.
type Permission struct {
	Target        common.Address
	Selector      [4]byte
	AnySelector   bool
	EmptyCalldata bool
	Conditions    []Condition
}

// SpendRule mirrors the contract's SpendRule.
type SpendRule struct {
	Selector  [4]byte
	TokenKind uint8
	Token     Loc
	Amount    Loc
}

// TokenLimit mirrors the contract's TokenLimit.
type TokenLimit struct {
	Token     common.Address
	PerTx     *big.Int
	PerPeriod *big.Int
}

// Config mirrors the contract's SessionConfig.
type Config struct {
	ValidAfter      uint64
	ValidUntil      uint64
	Period          uint32
	MaxValuePerCall *big.Int
	NativePerPeriod *big.Int
	MaxCalls        *big.Int
	Permissions     []Permission
	SpendRules      []SpendRule
	TokenLimits     []TokenLimit
}

// Report says where each rule is enforced.
type Report struct {
	OnChain      []string `json:"on_chain"`
	OffChainOnly []string `json:"off_chain_only"`
}

// NoCap is the contract's "no cap" amount.
var NoCap = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// Compile builds the on-chain grant for a key issued at issuedAt.
// Everything it cannot express on chain is listed in the report as
// enforced off-chain only; the chain is then looser than the daemon, never
// stricter.
func Compile(p *policy.Policy, issuedAt time.Time) (Config, Report) {
	var (
		cfg Config
		rep Report
	)
	nb, na := p.Window(issuedAt)
	cfg.ValidAfter, cfg.ValidUntil = uint64(nb.Unix()), uint64(na.Unix())
	rep.OnChain = append(rep.OnChain, fmt.Sprintf("validity window %s to %s", nb.UTC().Format(time.RFC3339), na.UTC().Format(time.RFC3339)))
	cfg.MaxCalls = new(big.Int)
	compileLimits(p, &cfg, &rep)
	for _, r := range p.AllowRules() {
		for _, f := range r.Functions {
			perm, dropped := compileFunction(r, f)
			cfg.Permissions = append(cfg.Permissions, perm)
			rep.OnChain = append(rep.OnChain, fmt.Sprintf("%s: %s on %s", f.Path, fnName(f), contractName(r)))
			for _, d := range dropped {
				rep.OffChainOnly = append(rep.OffChainOnly, fmt.Sprintf("%s: condition %s", f.Path, d))
			}
			if f.Any {
				rep.OffChainOnly = append(rep.OffChainOnly, fmt.Sprintf("%s: the inner calls of multicall on %s (the chain allows any function there)", f.Path, contractName(r)))
			}
		}
	}
	cfg.SpendRules = spendRules()
	for _, r := range p.DenyRules() {
		rep.OffChainOnly = append(rep.OffChainOnly, fmt.Sprintf("%s: deny rule (the chain has only allow rules)", r.Path))
	}
	for name, has := range map[string]bool{"schedule": p.HasSchedule(), "source network": p.HasNetwork(), "typed data (EIP-712) rules": p.HasTypedData(),
		"personal_sign rules": p.AllowsMessages()} {
		if has {
			rep.OffChainOnly = append(rep.OffChainOnly, name)
		}
	}
	if _, ok := p.RateLimit(); ok {
		rep.OffChainOnly = append(rep.OffChainOnly, "rate limit")
	}
	if p.SuspendsOnAnomaly() {
		rep.OffChainOnly = append(rep.OffChainOnly, "suspension on anomalies (the session stays registered on chain until the key is revoked)")
	}
	sort.Strings(rep.OffChainOnly)
	return cfg, rep
}

func fnName(f policy.FunctionView) string {
	switch {
	case f.Any:
		return "any function"
	case f.Receive:
		return "plain value transfers"
	case f.Function != nil:
		return f.Function.Signature
	}
	return fmt.Sprintf("selector 0x%x", f.Selector)
}

func contractName(r policy.RuleView) string {
	if r.AnyContract {
		return "any contract"
	}
	return r.Contract.Hex()
}

func compileLimits(p *policy.Policy, cfg *Config, rep *Report) {
	cfg.MaxValuePerCall, cfg.NativePerPeriod = new(big.Int), new(big.Int) // no native limit: no value at all
	var period time.Duration
	for _, l := range p.Limits() {
		if l.Asset == policy.Fees {
			continue
		}
		if period == 0 && (l.PerPeriod != nil || l.Asset == policy.Native) {
			period = l.Period
		}
	}
	if period == 0 {
		period = 24 * time.Hour
	}
	if secs := period / time.Second; secs > math.MaxUint32 {
		period = math.MaxUint32 * time.Second
	}
	cfg.Period = uint32(period / time.Second)
	for _, l := range p.Limits() {
		if l.Asset == policy.Fees {
			// Gas comes from the session key's stipend, which the chain
			// cannot tell apart from other ether: the daemon keeps this one.
			rep.OffChainOnly = append(rep.OffChainOnly, "the fee limit (gas is paid from the session key's stipend)")
			continue
		}
		perTx, perPeriod := orNoCap(l.PerTx), orNoCap(l.PerPeriod)
		if l.PerPeriod != nil && l.Period != period {
			rep.OffChainOnly = append(rep.OffChainOnly, fmt.Sprintf("the %s limit per %s (the chain keeps one period, %s)", l.Symbol, l.Period, period))
			perPeriod = NoCap
		}
		if l.Asset == policy.Native {
			cfg.MaxValuePerCall, cfg.NativePerPeriod = perTx, perPeriod
			rep.OnChain = append(rep.OnChain, "native value per call and per period")
			continue
		}
		cfg.TokenLimits = append(cfg.TokenLimits, TokenLimit{Token: common.HexToAddress(l.Asset), PerTx: perTx, PerPeriod: perPeriod})
		rep.OnChain = append(rep.OnChain, fmt.Sprintf("%s spend per transaction and per period", l.Symbol))
	}
}

func orNoCap(v *big.Int) *big.Int {
	if v == nil {
		return NoCap
	}
	return new(big.Int).Set(v)
}

// compileFunction turns one function entry into a permission, returning
// the conditions it could not express.
func compileFunction(r policy.RuleView, f policy.FunctionView) (Permission, []string) {
	perm := Permission{Target: r.Contract, Selector: f.Selector, AnySelector: f.Any, EmptyCalldata: f.Receive}
	if r.AnyContract {
		perm.Target = common.Address{}
	}
	var dropped []string
	for _, c := range f.Conditions {
		cc, why := compileCondition(f.Function, c)
		if why != "" {
			dropped = append(dropped, fmt.Sprintf("%s %s (%s)", c.Param, c.Op, why))
			continue
		}
		perm.Conditions = append(perm.Conditions, cc)
		if guard, ok := cleanWordGuard(c, cc); ok {
			perm.Conditions = append(perm.Conditions, guard)
		}
	}
	return perm, dropped
}

func compileCondition(fn *policy.Function, c policy.ConditionView) (Condition, string) {
	loc, t, err := Locate(fn, c.Path)
	if err != nil {
		return Condition{}, err.Error()
	}
	cc := Condition{Loc: loc, Op: opCodes[c.Op], Signed: t.T == abi.IntTy && cc0Ordered(c.Op)}
	for _, o := range c.Operands {
		if o.Variable != "" {
			if len(c.Operands) != 1 {
				return Condition{}, "a variable mixed with other values"
			}
			switch o.Variable {
			case "$owner":
				cc.ValueKind = ValueSelf
			case "$session":
				cc.ValueKind = ValueSender
			default:
				return Condition{}, "unknown variable " + o.Variable
			}
			continue
		}
		w, err := word(t, o)
		if err != nil {
			return Condition{}, err.Error()
		}
		cc.Values = append(cc.Values, w)
	}
	return cc, ""
}

// cleanWordGuard backs a ne/not_in condition on a narrow argument with a
// range check. A word with dirty upper bits differs from every clean value,
// so it would pass ne/not_in on chain, while the callee might read it as
// the very value refused; the guard refuses such words, as the daemon
// refuses non-canonical calldata.
func cleanWordGuard(c policy.ConditionView, cc Condition) (Condition, bool) {
	if c.Op != "ne" && c.Op != "not_in" {
		return Condition{}, false
	}
	var bits int
	switch c.Type.T {
	case abi.AddressTy:
		bits = 160
	case abi.BoolTy:
		bits = 1
	case abi.UintTy:
		bits = c.Type.Size
	default:
		return Condition{}, false
	}
	if bits >= 256 {
		return Condition{}, false
	}
	var w [32]byte
	new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(bits)), big.NewInt(1)).FillBytes(w[:])
	return Condition{Loc: cc.Loc, Op: OpLTE, Values: [][32]byte{w}}, true
}

func cc0Ordered(op string) bool { return op == "lt" || op == "lte" || op == "gt" || op == "gte" }

// word encodes an operand as the ABI word of type t.
func word(t abi.Type, o policy.OperandView) ([32]byte, error) {
	var w [32]byte
	switch t.T {
	case abi.UintTy, abi.IntTy:
		if o.Int == nil {
			return w, fmt.Errorf("not an integer")
		}
		v := new(big.Int).Set(o.Int)
		if v.Sign() < 0 {
			v.Add(v, new(big.Int).Lsh(big.NewInt(1), 256))
		}
		v.FillBytes(w[:])
	case abi.AddressTy:
		if o.Address == nil {
			return w, fmt.Errorf("not an address")
		}
		copy(w[12:], o.Address[:])
	case abi.BoolTy:
		if o.Bool == nil {
			return w, fmt.Errorf("not a bool")
		}
		if *o.Bool {
			w[31] = 1
		}
	case abi.FixedBytesTy:
		copy(w[:], o.Bytes)
	default:
		return w, fmt.Errorf("type %s", t.String())
	}
	return w, nil
}

// Locate finds where the argument at path sits in a call's ABI encoding.
// It supports static arguments, static tuples inline, and one level of
// dynamic tuple behind a pointer.
func Locate(fn *policy.Function, path string) (Loc, abi.Type, error) {
	if fn == nil {
		return Loc{}, abi.Type{}, fmt.Errorf("no ABI")
	}
	segs := strings.Split(path, ".")
	head := 0
	for i, in := range fn.Inputs {
		name := in.Name
		if name == "" {
			name = fmt.Sprintf("arg%d", i)
		}
		if name != segs[0] {
			head += headSize(in.Type)
			continue
		}
		t := in.Type
		if len(segs) == 1 {
			return static(t, Loc{Head: uint32(head)})
		}
		if t.T != abi.TupleTy {
			return Loc{}, t, fmt.Errorf("%s is not a tuple", segs[0])
		}
		if isDynamic(t) {
			inner, leafType, err := inline(t, segs[1:])
			if err != nil {
				return Loc{}, leafType, err
			}
			return static(leafType, Loc{Head: uint32(head), Indirect: true, Inner: uint32(inner)})
		}
		inner, leafType, err := inline(t, segs[1:])
		if err != nil {
			return Loc{}, leafType, err
		}
		return static(leafType, Loc{Head: uint32(head + inner)})
	}
	return Loc{}, abi.Type{}, fmt.Errorf("no argument %s", segs[0])
}

// inline walks static fields of a tuple's head.
func inline(t abi.Type, segs []string) (int, abi.Type, error) {
	off := 0
	for i, e := range t.TupleElems {
		if t.TupleRawNames[i] != segs[0] {
			off += headSize(*e)
			continue
		}
		if len(segs) == 1 {
			return off, *e, nil
		}
		if e.T != abi.TupleTy || isDynamic(*e) {
			return 0, *e, fmt.Errorf("%s is behind a second pointer", segs[0])
		}
		inner, leaf, err := inline(*e, segs[1:])
		return off + inner, leaf, err
	}
	return 0, abi.Type{}, fmt.Errorf("no field %s", segs[0])
}

func static(t abi.Type, l Loc) (Loc, abi.Type, error) {
	switch t.T {
	case abi.UintTy, abi.IntTy, abi.AddressTy, abi.BoolTy, abi.FixedBytesTy:
		return l, t, nil
	}
	return l, t, fmt.Errorf("%s is not a one-word value", t.String())
}

func isDynamic(t abi.Type) bool {
	switch t.T {
	case abi.StringTy, abi.BytesTy, abi.SliceTy:
		return true
	case abi.ArrayTy:
		return isDynamic(*t.Elem)
	case abi.TupleTy:
		for _, e := range t.TupleElems {
			if isDynamic(*e) {
				return true
			}
		}
	}
	return false
}

// headSize is the bytes an argument takes in its enclosing head.
func headSize(t abi.Type) int {
	if isDynamic(t) {
		return 32
	}
	switch t.T {
	case abi.TupleTy:
		n := 0
		for _, e := range t.TupleElems {
			n += headSize(*e)
		}
		return n
	case abi.ArrayTy:
		return t.Size * headSize(*t.Elem)
	}
	return 32
}

// spendRules compiles the built-in spend table.
func spendRules() []SpendRule {
	var out []SpendRule
	for _, s := range policy.BuiltinSpends() {
		amount, _, err := Locate(s.Function, s.Amount)
		if err != nil {
			continue
		}
		r := SpendRule{Selector: s.Function.Selector, Amount: amount}
		switch s.Asset {
		case "@target":
			r.TokenKind = TokenTarget
		case "@path0":
			r.TokenKind = TokenFirstOfAddressArray
			r.Token, err = pointerLoc(s.Function, "path")
		case "@v3first", "@v3last":
			r.TokenKind = TokenFirstOfPackedPath
			if s.Asset == "@v3last" {
				r.TokenKind = TokenLastOfPackedPath
			}
			r.Token, err = pointerLoc(s.Function, s.PathArg)
		default:
			r.TokenKind = TokenAddressArg
			r.Token, _, err = Locate(s.Function, s.Asset)
		}
		if err != nil {
			continue
		}
		out = append(out, r)
	}
	return out
}

// pointerLoc locates the offset word of a dynamic argument (a top-level
// one, or a field of a dynamic tuple).
func pointerLoc(fn *policy.Function, path string) (Loc, error) {
	segs := strings.Split(path, ".")
	head := 0
	for _, in := range fn.Inputs {
		if in.Name != segs[0] {
			head += headSize(in.Type)
			continue
		}
		if len(segs) == 1 {
			return Loc{Head: uint32(head)}, nil
		}
		off := 0
		for i, e := range in.Type.TupleElems {
			if in.Type.TupleRawNames[i] == segs[1] {
				return Loc{Head: uint32(head), Indirect: isDynamic(in.Type), Inner: uint32(off)}, nil
			}
			off += headSize(*e)
		}
	}
	return Loc{}, fmt.Errorf("no argument %s", path)
}
