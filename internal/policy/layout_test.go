package policy

import (
	"bytes"
	"encoding/binary"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// layoutSigs are functions of every shape a layout covers: the built-ins
// and more, so that the layout can be checked against the ABI package
// (DecodeArgs), which is the reference for what calldata means.
var layoutSigs = []string{
	"small(uint8 a,int8 b,uint16 c,int16 d,uint32 e,int32 f,uint64 g,int64 h)",
	"odd(uint24 a,int24 b,uint160 c,int256 d,uint256 e,uint48 f,int40 g)",
	"words(bool a,bytes1 b,bytes4 c,bytes32 d,address e)",
	"dyn(bytes a,string b,address[] c,bytes[] d,string[] e,uint8[] f)",
	"nested(uint256[][] a,(uint256 x,bytes y)[] b,((bool p,string q)[] r,int64 s) c)",
	"tuples((address a,(uint8 b,bytes c) d) e,(uint16 f,int32 g) h,string i)",
	"empties(bytes a,string[] b,(bytes c)[] d)",
}

func layoutFunctions(t testing.TB) []*Function {
	var fns []*Function
	for _, k := range builtinFunctions {
		fns = append(fns, builtins.bySig[mustSig(k.sig)].fn)
	}
	for _, s := range layoutSigs {
		fn, err := ParseSignature(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if fn.layout == nil {
			t.Fatalf("%s has no layout", s)
		}
		fns = append(fns, fn)
	}
	return fns
}

// TestLayoutMatchesABI decodes encodings of every shape, intact and
// broken, with the layout and with the ABI package: both must accept the
// same calldata and read the same arguments.
func TestLayoutMatchesABI(t *testing.T) {
	g := &traceGen{r: rand.New(rand.NewPCG(3, 2026))}
	accepted, refused := 0, 0
	for _, fn := range layoutFunctions(t) {
		for range 150 {
			data := g.encode(fn)
			for _, d := range [][]byte{data, g.mutate(data), g.mutate(g.mutate(data)), g.shift(data)} {
				if checkLayout(t, fn, d) {
					accepted++
				} else {
					refused++
				}
			}
		}
	}
	if accepted < 1000 || refused < 1000 {
		t.Fatalf("degenerate run: %d accepted, %d refused", accepted, refused)
	}
	t.Logf("%d accepted, %d refused", accepted, refused)
}

// TestLayoutLeavesOtherShapesToTheABIPackage: shapes the layout does not
// cover have none, and are decoded by DecodeArgs.
func TestLayoutLeavesOtherShapesToTheABIPackage(t *testing.T) {
	for _, s := range []string{"f(uint256[2] a)", "f((uint8 a,bytes b)[3] c)", "f(address a,bytes32[1][] b)"} {
		fn, err := ParseSignature(s)
		if err != nil {
			t.Fatal(err)
		}
		if fn.layout != nil {
			t.Errorf("%s has a layout", s)
		}
	}
}

func FuzzLayoutMatchesABI(f *testing.F) {
	fns := layoutFunctions(f)
	g := &traceGen{r: rand.New(rand.NewPCG(5, 2026))}
	for i, fn := range fns {
		f.Add(uint8(i), g.encode(fn)[4:])
	}
	f.Fuzz(func(t *testing.T, which uint8, args []byte) {
		fn := fns[int(which)%len(fns)]
		checkLayout(t, fn, append(fn.Selector[:], args...))
	})
}

// checkLayout compares the layout's reading of data with DecodeArgs' and
// reports whether data was accepted.
func checkLayout(t testing.TB, fn *Function, data []byte) bool {
	t.Helper()
	at := make([]int, fn.layout.leaves)
	ok := fn.layout.decode(data, at)
	want, err := DecodeArgs(fn, data)
	if ok != (err == nil) {
		t.Fatalf("%s: layout accepts %v, DecodeArgs says %v\ncalldata %x", fn.Signature, ok, err, data)
	}
	if !ok {
		return false
	}
	got := fn.layout.values(data, at)
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(Args{}), cmpopts.EquateEmpty(), cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })); diff != "" {
		t.Fatalf("%s: arguments (-DecodeArgs +layout):\n%s\ncalldata %x", fn.Signature, diff, data)
	}
	return true
}

// shift moves a dynamic value's offset by a word: the data still decodes
// with a lenient decoder, but is not canonical.
func (g *traceGen) shift(data []byte) []byte {
	out := bytes.Clone(data)
	for i := 4; i+32 <= len(out); i += 32 {
		if n := binary.BigEndian.Uint64(out[i+24 : i+32]); allBytes(out[i:i+24], 0) && n >= 32 && n%32 == 0 && int(n) < len(out)-4 {
			binary.BigEndian.PutUint64(out[i+24:i+32], n+32)
			return append(out, make([]byte, 32)...)
		}
	}
	return out
}
