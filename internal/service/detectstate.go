package service

import (
	"cmp"
	"encoding/binary"
	"math"
	"math/big"
	"net/netip"
	"slices"
	"time"
)

// The compact forms of what the detector keeps per key. A key's history
// is held by the detector for as long as the key may act (see sweep), so
// each part is sized for 100,000 keys: no maps, no pointers per entry,
// every slice bounded.

// netKey is a source network (see network) in 16 bytes without a
// pointer: the top 24 bits of an IPv4 address or the top 64 of an IPv6.
type netKey struct {
	bits uint64
	v4   bool
}

func netKeyOf(p netip.Prefix) netKey {
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		return netKey{bits: uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2]), v4: true}
	}
	b := a.As16()
	return netKey{bits: binary.BigEndian.Uint64(b[:8])}
}

func (a netKey) cmp(b netKey) int {
	switch {
	case a.v4 != b.v4:
		if a.v4 {
			return -1
		}
		return 1
	case a.bits < b.bits:
		return -1
	case a.bits > b.bits:
		return 1
	}
	return 0
}

// netSet is the networks a key was used from, sorted; at most maxNets.
type netSet []netKey

func (s netSet) has(n netKey) bool {
	_, ok := slices.BinarySearchFunc(s, n, netKey.cmp)
	return ok
}

// add remembers n unless the set is full.
func (s *netSet) add(n netKey) {
	i, ok := slices.BinarySearchFunc(*s, n, netKey.cmp)
	if ok || len(*s) >= maxNets {
		return
	}
	*s = slices.Insert(*s, i, n)
}

// minuteCount is a key's requests in one Unix minute (minutes clamped to
// ±4,000 years around 1970, counts saturating at 2^32-1).
type minuteCount struct {
	m int32
	n uint32
}

func unixMinute(t time.Time) int64 {
	return min(max(t.Unix()/60, math.MinInt32), math.MaxInt32)
}

// minuteCounts is a key's requests per minute, sorted by minute, holding
// only the minutes a request came in: at most the rate baseline and
// window in minutes (43,205 for the longest policy allows), and one
// entry per minute with a request, however many requests it had.
type minuteCounts []minuteCount

// count adds a request at minute and returns the requests in the window
// (the winMin minutes up to and including minute, and any later) and in
// the baseMin minutes before it, forgetting the minutes before both. It
// does exactly what the detector did with a map of minute → count.
func (c *minuteCounts) count(minute, winMin, baseMin int64) (inWindow, inBase int) {
	s := *c
	i, ok := slices.BinarySearchFunc(s, minute, func(e minuteCount, m int64) int { return cmp.Compare(int64(e.m), m) })
	if ok {
		if s[i].n < math.MaxUint32 {
			s[i].n++
		}
	} else {
		s = slices.Insert(s, i, minuteCount{m: int32(minute), n: 1})
	}
	drop := 0
	for _, e := range s {
		m := int64(e.m)
		switch {
		case m > minute-winMin:
			inWindow += int(e.n)
		case m > minute-winMin-baseMin:
			inBase += int(e.n)
		default:
			drop++ // sorted: the minutes forgotten are a prefix
		}
	}
	*c = s[drop:]
	return inWindow, inBase
}

// forget drops the minutes no request at or after minute could count:
// those the next count would forget.
func (c *minuteCounts) forget(minute, winMin, baseMin int64) {
	s := *c
	drop := 0
	for drop < len(s) && int64(s[drop].m) <= minute-winMin-baseMin {
		drop++
	}
	*c = s[drop:]
}

// nanos is an instant in 8 bytes: Unix nanoseconds, clamped to the
// years 1678 to 2262 that UnixNano holds (an expiry set later is kept as
// 2262). never stands for no instant.
type nanos int64

const never nanos = math.MinInt64

var (
	minNanos = time.Unix(0, math.MinInt64+1)
	maxNanos = time.Unix(0, math.MaxInt64)
)

func nanosOf(t time.Time) nanos {
	switch {
	case t.Before(minNanos):
		return math.MinInt64 + 1
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return nanos(t.UnixNano())
}

// time is the instant n; for never, one before every other.
func (n nanos) time() time.Time { return time.Unix(0, int64(n)).UTC() }

// seqAt is a record's Seq and time (Unix nanoseconds: only differences
// of times less than 292 years apart are taken, which int64 arithmetic
// gets exactly even where UnixNano itself wraps).
type seqAt struct {
	seq int64
	at  int64
}

func seqAtOf(seq int64, t time.Time) seqAt { return seqAt{seq, t.UnixNano()} }

// within reports whether x is less than d before t.
func (x seqAt) within(t time.Time, d time.Duration) bool { return t.UnixNano()-x.at < int64(d) }

// valueRing is a key's latest allowed values of one asset, oldest first
// and at most valueHistory of them, as big-endian 64-bit words, width
// words each: the width of the widest value kept (one word for any value
// under 2^64, four for any uint256). Values are kept exactly, so the
// median is the one the detector always took.
type valueRing struct {
	asset string // shared among keys: see detector.assetName
	width int
	words []uint64
}

func (h *valueRing) len() int {
	if h.width == 0 {
		return 0
	}
	return len(h.words) / h.width
}

func (h *valueRing) at(i int) []uint64 { return h.words[i*h.width : (i+1)*h.width] }

// push appends v (positive), dropping the oldest past valueHistory.
func (h *valueRing) push(v *big.Int) {
	n := max((v.BitLen()+63)/64, 1)
	if n > h.width {
		// Widen every value kept: leading zero words.
		wider := make([]uint64, 0, (h.len()+1)*n)
		for i := range h.len() {
			wider = append(wider, make([]uint64, n-h.width)...)
			wider = append(wider, h.at(i)...)
		}
		h.words, h.width = wider, n
	}
	if h.len() >= valueHistory {
		h.words = append(h.words[:0], h.words[h.width:]...)
	}
	buf := v.FillBytes(make([]byte, h.width*8))
	for i := range h.width {
		h.words = append(h.words, binary.BigEndian.Uint64(buf[i*8:]))
	}
}

// median is the value at the middle of the kept values sorted (the
// upper middle of an even count).
func (h *valueRing) median() *big.Int {
	var idx [valueHistory]int
	order := idx[:h.len()]
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return slices.Compare(h.at(a), h.at(b)) })
	m := h.at(order[len(order)/2])
	buf := make([]byte, 8*len(m))
	for i, w := range m {
		binary.BigEndian.PutUint64(buf[i*8:], w)
	}
	return new(big.Int).SetBytes(buf)
}
