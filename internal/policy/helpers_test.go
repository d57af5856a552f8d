package policy

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// encodeCall builds calldata from a signature and loosely typed arguments:
// strings for scalars, lists for arrays, maps for tuples, and
// {sig, args} maps for bytes that hold an inner call.
func encodeCall(t testing.TB, sig string, args []any) []byte {
	t.Helper()
	fn, err := ParseSignature(sig)
	if err != nil {
		t.Fatalf("signature %q: %v", sig, err)
	}
	if len(args) != len(fn.Inputs) {
		t.Fatalf("%s takes %d arguments, got %d", sig, len(fn.Inputs), len(args))
	}
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = goValue(t, fn.Inputs[i].Type, a).Interface()
	}
	data, err := fn.Calldata(vals...)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func goValue(t testing.TB, typ abi.Type, a any) reflect.Value {
	t.Helper()
	switch typ.T {
	case abi.AddressTy:
		return reflect.ValueOf(common.HexToAddress(fmt.Sprint(a)))
	case abi.UintTy, abi.IntTy:
		n, err := parseInteger(fmt.Sprint(a))
		if err != nil {
			t.Fatalf("integer %v: %v", a, err)
		}
		v := reflect.New(typ.GetType()).Elem()
		if typ.GetType() == reflect.TypeOf(&big.Int{}) {
			return reflect.ValueOf(n)
		}
		if typ.T == abi.UintTy {
			v.SetUint(n.Uint64())
		} else {
			v.SetInt(n.Int64())
		}
		return v
	case abi.BoolTy:
		return reflect.ValueOf(fmt.Sprint(a) == "true")
	case abi.BytesTy:
		if m, ok := a.(map[string]any); ok {
			return reflect.ValueOf(encodeCall(t, m["sig"].(string), asList(m["args"])))
		}
		return reflect.ValueOf(hexBytes(t, fmt.Sprint(a)))
	case abi.FixedBytesTy:
		v := reflect.New(typ.GetType()).Elem()
		reflect.Copy(v, reflect.ValueOf(hexBytes(t, fmt.Sprint(a))))
		return v
	case abi.SliceTy:
		items := asList(a)
		v := reflect.MakeSlice(typ.GetType(), len(items), len(items))
		for i, it := range items {
			v.Index(i).Set(goValue(t, *typ.Elem, it))
		}
		return v
	case abi.TupleTy:
		m, ok := a.(map[string]any)
		if !ok {
			t.Fatalf("tuple %s needs a mapping, got %v", typ.String(), a)
		}
		v := reflect.New(typ.TupleType).Elem()
		for i, name := range typ.TupleRawNames {
			v.Field(i).Set(goValue(t, *typ.TupleElems[i], m[name]))
		}
		return v
	}
	t.Fatalf("test helper cannot encode %s", typ.String())
	return reflect.Value{}
}

func asList(a any) []any {
	if a == nil {
		return nil
	}
	return a.([]any)
}

func hexBytes(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

func mustAddrs(ss ...string) []common.Address {
	out := make([]common.Address, len(ss))
	for i, s := range ss {
		out[i] = common.HexToAddress(s)
	}
	return out
}

func mustIP(s string) netip.Addr { return netip.MustParseAddr(s) }
