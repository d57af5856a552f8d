package policy

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/bound"
)

// Variables are the addresses a condition may name as $owner and $session.
type Variables struct {
	Owner   common.Address // the account the agent acts as
	Session common.Address // the session key in 7702 mode; zero otherwise
}

func (v Variables) lookup(name string) (common.Address, bool) {
	switch name {
	case "$owner":
		return v.Owner, v.Owner != (common.Address{})
	case "$session":
		return v.Session, v.Session != (common.Address{})
	}
	return common.Address{}, false
}

var knownVariables = []string{"$owner", "$session"}

// cond is a compiled condition on one argument.
type cond struct {
	param string // as written
	path  string // resolved argument path
	leaf  int    // the argument's index among its function's leaves; -1 for typed data
	op    string
	args  []operand
	// typ is the ABI type for calldata conditions; nil for typed data,
	// where the type arrives with the document.
	typ *abi.Type
}

// operand is one literal or variable, parsed for every kind it could be.
type operand struct {
	raw      string
	variable string
	num      *big.Int
	addr     *common.Address
	boolean  *bool
	bytes    []byte
	// unsigned and signed are num as calldata words compare: big-endian,
	// and two's complement with the sign bit flipped, so that byte order
	// is number order. The bound says where num lies when it has no word.
	unsigned, signed [32]byte
	uBound, sBound   int8 // -1: below every value of the kind; 1: above; 0: in the word
}

func parseOperand(raw string) operand {
	o := operand{raw: raw}
	if strings.HasPrefix(raw, "$") {
		o.variable = raw
		return o
	}
	if n, err := parseInteger(raw); err == nil {
		o.num = n
		o.setWords()
	}
	if common.IsHexAddress(raw) && len(raw) == 42 {
		a := common.HexToAddress(raw)
		o.addr = &a
	}
	switch raw {
	case "true", "false":
		b := raw == "true"
		o.boolean = &b
	}
	if strings.HasPrefix(raw, "0x") && len(raw)%2 == 0 {
		if b, err := hex.DecodeString(raw[2:]); err == nil {
			o.bytes = b
		}
	}
	return o
}

var (
	two256 = new(big.Int).Lsh(big.NewInt(1), 256)
	two255 = new(big.Int).Lsh(big.NewInt(1), 255)
)

func (o *operand) setWords() {
	switch {
	case o.num.Sign() < 0:
		o.uBound = -1
	case o.num.Cmp(two256) >= 0:
		o.uBound = 1
	default:
		o.num.FillBytes(o.unsigned[:])
	}
	switch {
	case o.num.Cmp(new(big.Int).Neg(two255)) < 0:
		o.sBound = -1
	case o.num.Cmp(two255) >= 0:
		o.sBound = 1
	default:
		v := o.num
		if v.Sign() < 0 {
			v = new(big.Int).Add(v, two256)
		}
		v.FillBytes(o.signed[:])
		o.signed[0] ^= 0x80
	}
}

// compileCond checks a condition against a known argument type (typ may
// be nil for typed data) and returns what went wrong in words.
func compileCond(c CondDoc, op OpDoc, path string, typ *abi.Type) (*cond, string) {
	out := &cond{param: c.Param, path: path, leaf: -1, op: op.Op, typ: typ}
	if len(op.Values) == 0 {
		return nil, "expected a value"
	}
	for _, raw := range op.Values {
		o := parseOperand(strings.TrimSpace(raw))
		if o.raw == "" {
			return nil, "expected a value, got an empty string"
		}
		if o.variable != "" && !contains(knownVariables, o.variable) {
			return nil, fmt.Sprintf("unknown variable %s; expected one of %s", o.variable, strings.Join(knownVariables, ", "))
		}
		if typ != nil {
			if msg := o.fits(*typ, op.Op); msg != "" {
				return nil, msg
			}
		} else if o.variable == "" && o.num == nil && o.addr == nil && o.boolean == nil && o.bytes == nil && ordered(op.Op) {
			return nil, fmt.Sprintf("%s needs a number, got %q", op.Op, o.raw)
		}
		out.args = append(out.args, o)
	}
	return out, ""
}

func ordered(op string) bool { return op == "lt" || op == "lte" || op == "gt" || op == "gte" }

// fits reports why o cannot be compared with a value of type t under op.
func (o operand) fits(t abi.Type, op string) string {
	switch t.T {
	case abi.UintTy, abi.IntTy:
		if o.num == nil {
			return fmt.Sprintf("%s is %s: expected an integer, got %q", "argument", t.String(), o.raw)
		}
		if t.T == abi.UintTy && o.num.Sign() < 0 {
			return fmt.Sprintf("argument is %s: expected a non-negative integer, got %q", t.String(), o.raw)
		}
		if o.num.BitLen() > t.Size {
			return fmt.Sprintf("argument is %s: %q does not fit in %d bits", t.String(), o.raw, t.Size)
		}
		return ""
	case abi.AddressTy:
		if ordered(op) {
			return fmt.Sprintf("%s cannot compare addresses; use eq, ne, in or not_in", op)
		}
		if o.variable == "" && o.addr == nil {
			return fmt.Sprintf("argument is an address: expected 0x followed by 40 hex digits or one of %s, got %q", strings.Join(knownVariables, ", "), o.raw)
		}
		return ""
	case abi.BoolTy:
		if ordered(op) {
			return fmt.Sprintf("%s cannot compare booleans; use eq or ne", op)
		}
		if o.boolean == nil {
			return fmt.Sprintf("argument is a bool: expected true or false, got %q", o.raw)
		}
		return ""
	case abi.FixedBytesTy:
		if ordered(op) {
			return fmt.Sprintf("%s cannot compare %s; use eq, ne, in or not_in", op, t.String())
		}
		if len(o.bytes) != t.Size {
			return fmt.Sprintf("argument is %s: expected 0x followed by %d hex digits, got %q", t.String(), 2*t.Size, o.raw)
		}
		return ""
	}
	return fmt.Sprintf("conditions support uint, int, address, bool and bytes1..bytes32 arguments, not %s", t.String())
}

// check evaluates the condition on an actual value. It returns "" when the
// condition holds, and otherwise words saying why not.
func (c *cond) check(actual any, vars Variables) string {
	holds, why := c.apply(func(o *operand) (int, string) { return compare(actual, *o, vars) })
	switch {
	case why != "":
		return fmt.Sprintf("%s cannot be checked: %s", c.param, why)
	case holds:
		return ""
	}
	return fmt.Sprintf("%s %s %s, got %s", c.param, opWords[c.op], c.describeOperands(vars), formatValue(actual))
}

// holdsFor evaluates a calldata condition on the word of its argument,
// without words: checkable is false when the condition cannot be
// evaluated (check then says why).
func (c *cond) holdsFor(w []byte, vars Variables) (holds, checkable bool) {
	holds, why := c.apply(func(o *operand) (int, string) { return compareWord(c.typ, w, o, vars) })
	return holds, why == ""
}

// apply compares the actual value with every operand and applies the
// operator; why is set when a comparison is impossible.
func (c *cond) apply(compare func(*operand) (int, string)) (holds bool, why string) {
	matches := 0
	for i := range c.args {
		cmp, msg := compare(&c.args[i])
		if msg != "" {
			return false, msg
		}
		ok := false
		switch c.op {
		case "eq", "in":
			ok = cmp == 0
		case "ne", "not_in":
			ok = cmp != 0
		case "lt":
			ok = cmp < 0
		case "lte":
			ok = cmp <= 0
		case "gt":
			ok = cmp > 0
		case "gte":
			ok = cmp >= 0
		}
		if ok {
			matches++
		}
	}
	if c.op == "in" {
		return matches > 0, ""
	}
	return matches == len(c.args), ""
}

// compareWord is compare for a calldata word of type t, which a layout
// has checked is canonical. Its messages only say that the values cannot
// be compared; compare gives the words.
func compareWord(t *abi.Type, w []byte, o *operand, vars Variables) (int, string) {
	switch t.T {
	case abi.UintTy:
		if o.num == nil {
			return 0, "not a number"
		}
		if o.uBound != 0 {
			return -int(o.uBound), ""
		}
		return bytes.Compare(w, o.unsigned[:]), ""
	case abi.IntTy:
		if o.num == nil {
			return 0, "not a number"
		}
		if o.sBound != 0 {
			return -int(o.sBound), ""
		}
		if a, b := w[0]^0x80, o.signed[0]; a != b {
			if a < b {
				return -1, ""
			}
			return 1, ""
		}
		return bytes.Compare(w[1:], o.signed[1:]), ""
	case abi.AddressTy:
		if o.variable != "" {
			v, ok := vars.lookup(o.variable)
			if !ok {
				return 0, "variable not set"
			}
			return bytes.Compare(w[12:], v[:]), ""
		}
		if o.addr == nil {
			return 0, "not an address"
		}
		return bytes.Compare(w[12:], o.addr[:]), ""
	case abi.BoolTy:
		if o.boolean == nil {
			return 0, "not a bool"
		}
		if (w[31] == 1) == *o.boolean {
			return 0, ""
		}
		return 1, ""
	case abi.FixedBytesTy:
		if o.bytes == nil {
			return 0, "not bytes"
		}
		return bytes.Compare(w[:t.Size], o.bytes), ""
	}
	return 0, "not comparable"
}

var opWords = map[string]string{
	"eq": "must be", "ne": "must not be", "lt": "must be less than", "lte": "must be at most",
	"gt": "must be more than", "gte": "must be at least", "in": "must be one of", "not_in": "must not be one of",
}

func (c *cond) describeOperands(vars Variables) string {
	parts := make([]string, len(c.args))
	for i, o := range c.args {
		parts[i] = o.raw
		if o.variable != "" {
			if a, ok := vars.lookup(o.variable); ok {
				parts[i] = fmt.Sprintf("%s (%s)", o.variable, shortAddr(a))
			}
		} else if o.addr != nil {
			parts[i] = shortAddr(*o.addr)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// compare orders actual against an operand; a non-empty message means they
// cannot be compared, which refuses the request.
func compare(actual any, o operand, vars Variables) (int, string) {
	switch a := actual.(type) {
	case *big.Int:
		if o.num == nil {
			return 0, fmt.Sprintf("%q is not a number", o.raw)
		}
		return a.Cmp(o.num), ""
	case common.Address:
		want := o.addr
		if o.variable != "" {
			v, ok := vars.lookup(o.variable)
			if !ok {
				return 0, fmt.Sprintf("%s is not set for this key", o.variable)
			}
			want = &v
		}
		if want == nil {
			return 0, fmt.Sprintf("%q is not an address", o.raw)
		}
		return bytes.Compare(a[:], want[:]), ""
	case bool:
		if o.boolean == nil {
			return 0, fmt.Sprintf("%q is not true or false", o.raw)
		}
		if a == *o.boolean {
			return 0, ""
		}
		return 1, ""
	case []byte:
		if o.bytes == nil {
			return 0, fmt.Sprintf("%q is not hex bytes", o.raw)
		}
		return bytes.Compare(a, o.bytes), ""
	case string:
		if o.variable != "" {
			return 0, fmt.Sprintf("%s cannot be compared with text", o.variable)
		}
		return strings.Compare(a, o.raw), ""
	}
	return 0, fmt.Sprintf("values of this type (%T) cannot be compared", actual)
}

// shortAddr abbreviates an address the way wallets do: 0xA0b8…eB48.
func shortAddr(a common.Address) string {
	h := a.Hex()
	return h[:6] + "…" + h[len(h)-4:]
}

func formatValue(v any) string {
	switch x := v.(type) {
	case common.Address:
		return shortAddr(x)
	case *big.Int:
		return x.String()
	case []byte:
		if len(x) > 32 {
			return fmt.Sprintf("0x%s… (%d bytes)", hex.EncodeToString(x[:32]), len(x))
		}
		return "0x" + hex.EncodeToString(x)
	case string:
		return bound.Quote(x)
	case nil:
		return "nothing"
	}
	return bound.Text(fmt.Sprint(v), bound.Prefix)
}
