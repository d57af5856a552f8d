package policy

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// Args holds decoded call arguments by path: top-level names ("amountIn"),
// dotted paths into tuples ("params.recipient"). Values are normalised:
// *big.Int for integers, common.Address, bool, []byte for fixed and
// dynamic bytes, string, and []any for arrays.
type Args struct {
	order  []string
	values map[string]any
}

// Get returns the value at path.
func (a Args) Get(path string) (any, bool) {
	v, ok := a.values[path]
	return v, ok
}

// Paths lists the leaf paths in ABI order.
func (a Args) Paths() []string { return a.order }

// ErrNonCanonical is returned for calldata that decodes but is not the
// standard ABI encoding of its values. Such input is refused because the
// contract might read it differently from this decoder.
var ErrNonCanonical = errors.New("calldata is not canonically ABI-encoded")

// DecodeArgs decodes calldata (selector included) with fn's inputs. The
// encoding must be canonical: re-encoding the decoded values must give the
// input back byte for byte.
func DecodeArgs(fn *Function, data []byte) (Args, error) {
	if len(data) < 4 || !bytes.Equal(data[:4], fn.Selector[:]) {
		return Args{}, fmt.Errorf("calldata does not start with the selector of %s", fn.Signature)
	}
	vals, err := unpack(fn.Inputs, data[4:])
	if err != nil {
		return Args{}, err
	}
	packed, err := fn.Inputs.Pack(vals...)
	if err != nil || !bytes.Equal(packed, data[4:]) {
		return Args{}, ErrNonCanonical
	}
	a := Args{values: map[string]any{}}
	for i, in := range fn.Inputs {
		name := in.Name
		if name == "" {
			name = fmt.Sprintf("arg%d", i)
		}
		a.add(name, in.Type, reflect.ValueOf(vals[i]))
	}
	return a, nil
}

// unpack guards the ABI decoder: hostile calldata must produce an error,
// never a panic.
func unpack(args abi.Arguments, data []byte) (vals []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			vals, err = nil, fmt.Errorf("malformed calldata: %v", r)
		}
	}()
	vals, err = args.Unpack(data)
	if err != nil {
		return nil, fmt.Errorf("malformed calldata: %w", err)
	}
	if len(vals) != len(args) {
		return nil, errors.New("malformed calldata: wrong number of values")
	}
	return vals, nil
}

func (a *Args) add(path string, t abi.Type, v reflect.Value) {
	if t.T == abi.TupleTy {
		for i, elem := range t.TupleElems {
			a.add(path+"."+t.TupleRawNames[i], *elem, v.Field(i))
		}
		return
	}
	a.order = append(a.order, path)
	a.values[path] = normalise(t, v)
}

func normalise(t abi.Type, v reflect.Value) any {
	switch t.T {
	case abi.UintTy, abi.IntTy:
		switch x := v.Interface().(type) {
		case *big.Int:
			return new(big.Int).Set(x)
		case uint8, uint16, uint32, uint64:
			return new(big.Int).SetUint64(v.Uint())
		default:
			return big.NewInt(v.Int())
		}
	case abi.AddressTy:
		return v.Interface().(common.Address)
	case abi.BoolTy:
		return v.Bool()
	case abi.FixedBytesTy:
		b := make([]byte, v.Len())
		reflect.Copy(reflect.ValueOf(b), v)
		return b
	case abi.BytesTy:
		return bytes.Clone(v.Bytes())
	case abi.StringTy:
		return v.String()
	case abi.SliceTy, abi.ArrayTy:
		out := make([]any, v.Len())
		for i := range out {
			if t.Elem.T == abi.TupleTy {
				sub := Args{values: map[string]any{}}
				sub.add("", *t.Elem, v.Index(i))
				m := map[string]any{}
				for k, val := range sub.values {
					m[strings.TrimPrefix(k, ".")] = val
				}
				out[i] = m
				continue
			}
			out[i] = normalise(*t.Elem, v.Index(i))
		}
		return out
	}
	return fmt.Sprint(v.Interface())
}

// resolvePath finds the argument a condition names: an exact path, or a
// leaf name that is unique within the function ("recipient" for
// "params.recipient").
func resolvePath(fn *Function, name string) (string, abi.Type, error) {
	leaves := fn.leaves()
	var hits []leaf
	for _, l := range leaves {
		if l.path == name {
			return l.path, l.typ, nil
		}
		if strings.HasSuffix(l.path, "."+name) {
			hits = append(hits, l)
		}
	}
	if len(hits) == 1 {
		return hits[0].path, hits[0].typ, nil
	}
	names := make([]string, len(leaves))
	for i, l := range leaves {
		names[i] = l.path
	}
	if len(hits) > 1 {
		return "", abi.Type{}, fmt.Errorf("%q is ambiguous in %s; use the full path (one of %s)", name, fn.Display(), strings.Join(names, ", "))
	}
	return "", abi.Type{}, fmt.Errorf("no parameter %q in %s; expected one of %s", name, fn.Display(), strings.Join(names, ", "))
}

type leaf struct {
	path string
	typ  abi.Type
}

func collectLeaves(out []leaf, path string, t abi.Type) []leaf {
	if t.T == abi.TupleTy {
		for i, e := range t.TupleElems {
			out = collectLeaves(out, path+"."+t.TupleRawNames[i], *e)
		}
		return out
	}
	return append(out, leaf{path, t})
}
