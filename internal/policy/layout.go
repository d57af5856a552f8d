package policy

import (
	"bytes"
	"encoding/binary"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// A layout is how a function's arguments lie in canonical calldata. It
// lets the engine check an encoding and read the arguments its rules name
// in place, without building Go values: the decision on a swap then costs
// a walk over its words. It accepts exactly what DecodeArgs accepts (the
// ABI package's decoding, then re-encoding to the same bytes), which a
// fuzz test checks against the ABI package itself; functions with
// arguments of other shapes (fixed-size arrays, function types, empty
// tuples) have no layout and are decoded by DecodeArgs.
type layout struct {
	args   shape    // the inputs, as one tuple
	leaves int      // leaf arguments, in the order of collectLeaves
	paths  []leaf   // their paths and types
	shapes []*shape // and shapes
}

type shapeKind uint8

const (
	shWord  shapeKind = iota // a static value in one word
	shBytes                  // bytes or string
	shSlice                  // T[]
	shTuple
)

// wordRule is what a canonical word of an elementary type looks like.
type wordRule uint8

const (
	wordAny     wordRule = iota // uint256, int256 and the sizes the ABI package keeps as big integers
	wordUint                    // uint8, uint16, uint32, uint64: the high bytes are zero
	wordInt                     // int8, int16, int32, int64: the high bytes extend the sign
	wordBool                    // 0 or 1
	wordAddress                 // 12 zero bytes, then the address
	wordFixed                   // bytesN: N bytes, then zeros
)

type shape struct {
	kind    shapeKind
	rule    wordRule
	n       int // wordUint, wordInt, wordFixed: the value's bytes
	dynamic bool
	head    int // bytes the value takes in its parent's head
	leaf    int // index among the function's leaves; -1 inside an array
	elem    *shape
	fields  []shape
}

// newLayout builds the layout of a function's inputs, whose leaves are
// paths, or nil if an input has a shape the layout does not cover.
func newLayout(inputs abi.Arguments, paths []leaf) *layout {
	l := &layout{paths: paths}
	l.args.kind, l.args.leaf = shTuple, -1
	for _, in := range inputs {
		s, ok := shapeOf(in.Type, &l.leaves)
		if !ok {
			return nil
		}
		l.args.fields = append(l.args.fields, s)
		l.args.dynamic = l.args.dynamic || s.dynamic
	}
	l.shapes = make([]*shape, l.leaves)
	l.args.eachLeaf(func(s *shape) { l.shapes[s.leaf] = s })
	return l
}

func (s *shape) eachLeaf(f func(*shape)) {
	if s.leaf >= 0 {
		f(s)
	}
	if s.kind == shTuple {
		for i := range s.fields {
			s.fields[i].eachLeaf(f)
		}
	}
}

// shapeOf builds the shape of t; leaves counts the leaves so far, or is
// nil inside an array, whose elements are not leaves.
func shapeOf(t abi.Type, leaves *int) (shape, bool) {
	s := shape{kind: shWord, head: 32, leaf: -1}
	switch t.T {
	case abi.UintTy, abi.IntTy:
		if t.Size == 8 || t.Size == 16 || t.Size == 32 || t.Size == 64 {
			s.rule, s.n = wordUint, t.Size/8
			if t.T == abi.IntTy {
				s.rule = wordInt
			}
		}
	case abi.BoolTy:
		s.rule = wordBool
	case abi.AddressTy:
		s.rule = wordAddress
	case abi.FixedBytesTy:
		s.rule, s.n = wordFixed, t.Size
	case abi.BytesTy, abi.StringTy:
		s.kind, s.dynamic = shBytes, true
	case abi.SliceTy:
		e, ok := shapeOf(*t.Elem, nil)
		if !ok {
			return s, false
		}
		s.kind, s.dynamic, s.elem = shSlice, true, &e
	case abi.TupleTy:
		if len(t.TupleElems) == 0 {
			return s, false
		}
		s.kind, s.head = shTuple, 0
		for _, et := range t.TupleElems {
			f, ok := shapeOf(*et, leaves)
			if !ok {
				return s, false
			}
			s.fields = append(s.fields, f)
			s.dynamic = s.dynamic || f.dynamic
			s.head += f.head
		}
		if s.dynamic {
			s.head = 32
		}
		return s, true // a tuple is not a leaf; its fields are
	default:
		return s, false
	}
	if leaves != nil {
		s.leaf = *leaves
		*leaves++
	}
	return s, true
}

// decode checks that data (selector included) is the canonical encoding
// of the function's arguments and records in at, which has room for every
// leaf, where each leaf lies in data[4:]: the offset of its word, or of
// the length word of a dynamic value.
func (l *layout) decode(data []byte, at []int) bool {
	if len(data) < 4 {
		return false
	}
	args := data[4:]
	end, ok := l.args.walk(args, 0, at)
	return ok && end == len(args)
}

// walk checks the value of shape s at offset base of buf and returns
// where its encoding ends.
func (s *shape) walk(buf []byte, base int, at []int) (int, bool) {
	if at != nil && s.leaf >= 0 {
		at[s.leaf] = base
	}
	switch s.kind {
	case shWord:
		if base+32 > len(buf) {
			return 0, false
		}
		return base + 32, s.canonical(buf[base : base+32])
	case shBytes:
		n, ok := length(buf, base)
		if !ok {
			return 0, false
		}
		start := base + 32
		end := start + (n+31)/32*32
		if end > len(buf) {
			return 0, false
		}
		for _, b := range buf[start+n : end] {
			if b != 0 {
				return 0, false
			}
		}
		return end, true
	case shSlice:
		n, ok := length(buf, base)
		if !ok {
			return 0, false
		}
		start := base + 32
		if n > (len(buf)-start)/s.elem.head {
			return 0, false
		}
		if !s.elem.dynamic {
			pos := start
			for range n {
				if pos, ok = s.elem.walk(buf, pos, nil); !ok {
					return 0, false
				}
			}
			return pos, true
		}
		next := 32 * n
		for i := range n {
			if !offsetIs(buf, start+32*i, next) {
				return 0, false
			}
			end, ok := s.elem.walk(buf, start+next, nil)
			if !ok {
				return 0, false
			}
			next = end - start
		}
		return start + next, true
	}
	// A tuple: the head holds static fields in place and offsets of the
	// dynamic ones, whose encodings follow in order.
	pos, next := base, 0
	if s.dynamic {
		for i := range s.fields {
			next += s.fields[i].head
		}
	}
	for i := range s.fields {
		f := &s.fields[i]
		if !f.dynamic {
			end, ok := f.walk(buf, pos, at)
			if !ok {
				return 0, false
			}
			pos = end
			continue
		}
		if !offsetIs(buf, pos, next) {
			return 0, false
		}
		end, ok := f.walk(buf, base+next, at)
		if !ok {
			return 0, false
		}
		next, pos = end-base, pos+32
	}
	if s.dynamic {
		return base + next, true
	}
	return pos, true
}

// canonical reports whether w is how the ABI package encodes a value of
// the word's type.
func (s *shape) canonical(w []byte) bool {
	switch s.rule {
	case wordUint:
		return allBytes(w[:32-s.n], 0)
	case wordInt:
		fill := byte(0)
		if w[32-s.n]&0x80 != 0 {
			fill = 0xff
		}
		return allBytes(w[:32-s.n], fill)
	case wordBool:
		return allBytes(w[:31], 0) && w[31] <= 1
	case wordAddress:
		return allBytes(w[:12], 0)
	case wordFixed:
		return allBytes(w[s.n:], 0)
	}
	return true
}

func allBytes(b []byte, v byte) bool {
	for _, c := range b {
		if c != v {
			return false
		}
	}
	return true
}

// length reads the length word at base: a count that fits in what
// follows.
func length(buf []byte, base int) (int, bool) {
	if base+32 > len(buf) || !allBytes(buf[base:base+24], 0) {
		return 0, false
	}
	n := binary.BigEndian.Uint64(buf[base+24 : base+32])
	if n > uint64(len(buf)-base-32) {
		return 0, false
	}
	return int(n), true
}

// offsetIs reports whether the word at pos is the offset want.
func offsetIs(buf []byte, pos, want int) bool {
	return pos+32 <= len(buf) && allBytes(buf[pos:pos+24], 0) && binary.BigEndian.Uint64(buf[pos+24:pos+32]) == uint64(want)
}

// args is a call's calldata with where its leaves lie, once a layout
// accepted it.
type args struct {
	buf []byte // the calldata after the selector
	at  []int
}

// word is the word of a static leaf.
func (a args) word(leaf int) []byte { return a.buf[a.at[leaf] : a.at[leaf]+32] }

// count is the length of a dynamic leaf: bytes, or elements of an array.
func (a args) count(leaf int) int {
	return int(binary.BigEndian.Uint64(a.buf[a.at[leaf]+24 : a.at[leaf]+32]))
}

// bytes is the content of a bytes or string leaf.
func (a args) bytes(leaf int) []byte {
	start := a.at[leaf] + 32
	return a.buf[start : start+a.count(leaf)]
}

// addressAt is element i of an address[] leaf.
func (a args) addressAt(leaf, i int) common.Address {
	pos := a.at[leaf] + 32 + 32*i
	return common.Address(a.buf[pos+12 : pos+32])
}

// value is the argument of type t and shape s at offset pos of buf as
// DecodeArgs presents it (see Args).
func value(t abi.Type, s *shape, buf []byte, pos int) any {
	w := buf[pos : pos+32]
	switch t.T {
	case abi.UintTy:
		return new(big.Int).SetBytes(w)
	case abi.IntTy:
		v := new(big.Int).SetBytes(w)
		if w[0]&0x80 != 0 {
			v.Sub(v, two256)
		}
		return v
	case abi.AddressTy:
		return common.Address(w[12:])
	case abi.BoolTy:
		return w[31] == 1
	case abi.FixedBytesTy:
		return bytes.Clone(w[:t.Size])
	case abi.BytesTy, abi.StringTy:
		n := int(binary.BigEndian.Uint64(w[24:]))
		if t.T == abi.StringTy {
			return string(buf[pos+32 : pos+32+n])
		}
		return bytes.Clone(buf[pos+32 : pos+32+n])
	case abi.SliceTy:
		n := int(binary.BigEndian.Uint64(w[24:]))
		start := pos + 32
		out := make([]any, n)
		for i := range out {
			at := start + i*s.elem.head
			if s.elem.dynamic {
				at = start + int(binary.BigEndian.Uint64(buf[start+32*i+24:start+32*i+32]))
			}
			if t.Elem.T == abi.TupleTy {
				m := map[string]any{}
				tupleValues(m, "", *t.Elem, s.elem, buf, at)
				out[i] = m
				continue
			}
			out[i] = value(*t.Elem, s.elem, buf, at)
		}
		return out
	}
	panic("policy: no value for " + t.String()) // a layout covers no other type
}

// tupleValues reads the fields of a tuple at pos into m by dotted path.
func tupleValues(m map[string]any, prefix string, t abi.Type, s *shape, buf []byte, pos int) {
	head := pos
	for i, e := range t.TupleElems {
		f := &s.fields[i]
		name := prefix + t.TupleRawNames[i]
		at := head
		if f.dynamic {
			at = pos + int(binary.BigEndian.Uint64(buf[head+24:head+32]))
		}
		if e.T == abi.TupleTy {
			tupleValues(m, name+".", *e, f, buf, at)
		} else {
			m[name] = value(*e, f, buf, at)
		}
		head += f.head
	}
}

// values are the leaves of calldata the layout accepted, as DecodeArgs
// presents them: its Args without its reflection and re-encoding.
func (l *layout) values(data []byte, at []int) Args {
	a := Args{order: make([]string, len(l.paths)), values: make(map[string]any, len(l.paths))}
	for i, s := range l.shapes {
		a.order[i] = l.paths[i].path
		a.values[l.paths[i].path] = value(l.paths[i].typ, s, data[4:], at[i])
	}
	return a
}

// bytesAt is element i of the bytes[] value whose length word is at
// offset at of buf. It takes offsets, not args, so that escape analysis
// sees the bytes it returns apart from the leaf positions.
func bytesAt(buf []byte, at, i int) []byte {
	start := at + 32
	pos := start + int(binary.BigEndian.Uint64(buf[start+32*i+24:start+32*i+32]))
	n := int(binary.BigEndian.Uint64(buf[pos+24 : pos+32]))
	return buf[pos+32 : pos+32+n]
}
