package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/crypto"
)

// Function is a contract function the engine can recognise and decode.
type Function struct {
	Name      string
	Signature string // canonical, e.g. "transfer(address,uint256)"
	Selector  [4]byte
	Inputs    abi.Arguments
	// Named reports whether every input has a name, so conditions can
	// refer to arguments.
	Named bool
	// layout reads canonical calldata in place; nil for shapes it does
	// not cover, which DecodeArgs decodes.
	layout *layout
}

// laidOut decodes calldata the function's layout accepts, as DecodeArgs
// would but without reflection.
func (f *Function) laidOut(data []byte) (Args, bool) {
	at := make([]int, f.layout.leaves)
	if !f.layout.decode(data, at) {
		return Args{}, false
	}
	return f.layout.values(data, at), true
}

// leaf is the index of an argument path among the function's leaves (the
// order of Args.Paths), or -1.
func (f *Function) leaf(path string) int {
	for i, l := range f.leaves() {
		if l.path == path {
			return i
		}
	}
	return -1
}

func (f *Function) leaves() []leaf {
	var out []leaf
	for i, in := range f.Inputs {
		n := in.Name
		if n == "" {
			n = fmt.Sprintf("arg%d", i)
		}
		out = collectLeaves(out, n, in.Type)
	}
	return out
}

// Calldata is a call of f with args: its selector and the arguments
// ABI-encoded (Go values as go-ethereum's abi package takes them).
func (f *Function) Calldata(args ...any) ([]byte, error) {
	packed, err := f.Inputs.Pack(args...)
	if err != nil {
		return nil, fmt.Errorf("encode the arguments of %s: %w", f.Signature, err)
	}
	return append(f.Selector[:], packed...), nil
}

// SelectorHex is the 0x-prefixed selector.
func (f *Function) SelectorHex() string { return fmt.Sprintf("0x%x", f.Selector[:]) }

// Display is the signature with parameter names, for people.
func (f *Function) Display() string {
	parts := make([]string, len(f.Inputs))
	for i, in := range f.Inputs {
		parts[i] = strings.TrimSpace(namedType(in.Type) + " " + in.Name)
	}
	return f.Name + "(" + strings.Join(parts, ",") + ")"
}

// namedType prints a type with tuple component names, so that a
// normalised signature keeps every name a condition may use.
func namedType(t abi.Type) string {
	switch t.T {
	case abi.TupleTy:
		parts := make([]string, len(t.TupleElems))
		for i, e := range t.TupleElems {
			parts[i] = strings.TrimSpace(namedType(*e) + " " + t.TupleRawNames[i])
		}
		return "(" + strings.Join(parts, ",") + ")"
	case abi.SliceTy:
		return namedType(*t.Elem) + "[]"
	case abi.ArrayTy:
		return fmt.Sprintf("%s[%d]", namedType(*t.Elem), t.Size)
	}
	return t.String()
}

// ParseSignature parses a human-readable function signature such as
// "transfer(address,uint256)", "transfer(address to, uint256 amount)" or
// "function exactInputSingle((address tokenIn,address tokenOut,uint24 fee) params) payable returns (uint256)".
// Parameter names are optional; without them conditions cannot name
// arguments unless a known ABI supplies the names.
func ParseSignature(sig string) (*Function, error) {
	p := &sigParser{s: strings.TrimSpace(sig)}
	p.s = strings.TrimPrefix(p.s, "function ")
	p.skipSpace()
	name := p.ident()
	if name == "" {
		return nil, errors.New("expected a function name followed by a parameter list, like transfer(address,uint256)")
	}
	params, err := p.params()
	if err != nil {
		return nil, err
	}
	// Modifiers and return values say nothing about calldata; accept and
	// ignore them so signatures can be pasted from Solidity or ethers.
	rest := strings.TrimSpace(p.s[p.i:])
	if rest != "" && !validTrailer(rest) {
		return nil, fmt.Errorf("unexpected %q after the parameter list", rest)
	}
	return newFunction(name, params)
}

func validTrailer(rest string) bool {
	for _, w := range strings.Fields(rest) {
		switch {
		case w == "external", w == "public", w == "payable", w == "nonpayable", w == "view", w == "pure", w == "virtual", w == "override":
		case strings.HasPrefix(w, "returns"):
			return true // the return list is not checked
		default:
			return false
		}
	}
	return true
}

func newFunction(name string, params []abi.ArgumentMarshaling) (*Function, error) {
	f := &Function{Name: name, Named: true}
	types := make([]string, len(params))
	for i, pm := range params {
		if !allNamed(pm.Components) {
			f.Named = false
			pm.Components = placeholderNames(pm.Components)
		}
		t, err := abi.NewType(pm.Type, "", pm.Components)
		if err != nil {
			return nil, fmt.Errorf("parameter %d: type %s: %v", i+1, pm.Type, err)
		}
		if pm.Name == "" || !allNamed(pm.Components) {
			f.Named = false
		}
		f.Inputs = append(f.Inputs, abi.Argument{Name: pm.Name, Type: t})
		types[i] = t.String()
	}
	f.Signature = name + "(" + strings.Join(types, ",") + ")"
	copy(f.Selector[:], crypto.Keccak256([]byte(f.Signature))[:4])
	f.layout = newLayout(f.Inputs, f.leaves())
	return f, nil
}

// placeholderNames names anonymous tuple components, which the ABI
// package cannot represent; such a function is not Named, so the
// placeholders never reach a condition or a normalised document.
func placeholderNames(cs []abi.ArgumentMarshaling) []abi.ArgumentMarshaling {
	out := make([]abi.ArgumentMarshaling, len(cs))
	for i, c := range cs {
		c.Components = placeholderNames(c.Components)
		if c.Name == "" {
			c.Name = fmt.Sprintf("unnamed%d", i)
		}
		out[i] = c
	}
	return out
}

func allNamed(cs []abi.ArgumentMarshaling) bool {
	for _, c := range cs {
		if c.Name == "" || !allNamed(c.Components) {
			return false
		}
	}
	return true
}

// functionFromABI converts a method of a JSON ABI.
func functionFromABI(m abi.Method) (*Function, error) {
	params := make([]abi.ArgumentMarshaling, len(m.Inputs))
	for i, in := range m.Inputs {
		params[i] = marshalingOf(in.Name, in.Type)
	}
	return newFunction(m.RawName, params)
}

func marshalingOf(name string, t abi.Type) abi.ArgumentMarshaling {
	am := abi.ArgumentMarshaling{Name: name, Type: t.String()}
	if t.T == abi.TupleTy || (t.Elem != nil && baseTuple(t)) {
		suffix := strings.TrimPrefix(t.String(), tupleString(t))
		am.Type = "tuple" + suffix
		base := t
		for base.T != abi.TupleTy {
			base = *base.Elem
		}
		for i, e := range base.TupleElems {
			am.Components = append(am.Components, marshalingOf(base.TupleRawNames[i], *e))
		}
	}
	return am
}

func baseTuple(t abi.Type) bool {
	for t.Elem != nil {
		t = *t.Elem
	}
	return t.T == abi.TupleTy
}

func tupleString(t abi.Type) string {
	for t.T != abi.TupleTy {
		t = *t.Elem
	}
	return t.String()
}

type sigParser struct {
	s string
	i int
}

func (p *sigParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *sigParser) ident() string {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || p.i > start && c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *sigParser) peek() byte {
	p.skipSpace()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// maxSigDepth bounds tuple nesting so hostile input cannot exhaust the stack.
const maxSigDepth = 8

func (p *sigParser) params() ([]abi.ArgumentMarshaling, error) { return p.paramsAt(0) }

func (p *sigParser) paramsAt(depth int) ([]abi.ArgumentMarshaling, error) {
	if depth > maxSigDepth {
		return nil, errors.New("tuples nested too deeply")
	}
	if p.peek() != '(' {
		return nil, fmt.Errorf("expected '(' at position %d", p.i+1)
	}
	p.i++
	var out []abi.ArgumentMarshaling
	if p.peek() == ')' {
		p.i++
		return out, nil
	}
	for {
		pm, err := p.param(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, pm)
		switch p.peek() {
		case ',':
			p.i++
		case ')':
			p.i++
			return out, nil
		default:
			return nil, fmt.Errorf("expected ',' or ')' at position %d", p.i+1)
		}
	}
}

func (p *sigParser) param(depth int) (abi.ArgumentMarshaling, error) {
	var pm abi.ArgumentMarshaling
	if p.peek() == '(' || strings.HasPrefix(p.s[p.i:], "tuple(") {
		p.i += len(p.s[p.i:]) - len(strings.TrimPrefix(p.s[p.i:], "tuple"))
		comps, err := p.paramsAt(depth + 1)
		if err != nil {
			return pm, err
		}
		pm.Type, pm.Components = "tuple", comps
	} else {
		t := p.ident()
		if t == "" {
			return pm, fmt.Errorf("expected a type at position %d", p.i+1)
		}
		pm.Type = canonicalBase(t)
		if !validBase(pm.Type) {
			return pm, fmt.Errorf("unknown type %q", t)
		}
	}
	for p.peek() == '[' {
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			return pm, errors.New("unclosed '['")
		}
		pm.Type += p.s[p.i : p.i+end+1]
		p.i += end + 1
	}
	// Optional data location and name.
	for {
		save := p.i
		w := p.ident()
		switch w {
		case "memory", "calldata", "storage", "indexed":
			continue
		case "":
			p.i = save
			return pm, nil
		default:
			pm.Name = w
			return pm, nil
		}
	}
}

// validBase accepts the elementary ABI types.
func validBase(t string) bool {
	switch t {
	case "address", "bool", "string", "bytes":
		return true
	}
	for _, p := range []struct {
		prefix   string
		min, max int
		step     int
	}{{"uint", 8, 256, 8}, {"int", 8, 256, 8}, {"bytes", 1, 32, 1}} {
		if rest, ok := strings.CutPrefix(t, p.prefix); ok {
			n, err := strconv.Atoi(rest)
			return err == nil && n >= p.min && n <= p.max && n%p.step == 0 && strconv.Itoa(n) == rest
		}
	}
	return false
}

func canonicalBase(t string) string {
	switch t {
	case "uint":
		return "uint256"
	case "int":
		return "int256"
	case "byte":
		return "bytes1"
	}
	return t
}
