package service

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/policy"
)

// minuteCounts counts exactly what the map of minute → count it replaced
// counted, in and out of order.
func TestMinuteCountsAsAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const winMin, baseMin = 5, 60
	var c minuteCounts
	ref := map[int64]int{}
	minute := int64(29_000_000)
	for i := range 5000 {
		minute += int64(rng.IntN(4)) - 1 // mostly forward, sometimes back
		if i%700 == 0 {
			minute += 200 // an idle spell longer than the baseline
		}
		ref[minute]++
		var wantWin, wantBase int
		for m, n := range ref {
			switch {
			case m > minute-winMin:
				wantWin += n
			case m > minute-winMin-baseMin:
				wantBase += n
			default:
				delete(ref, m)
			}
		}
		gotWin, gotBase := c.count(minute, winMin, baseMin)
		if gotWin != wantWin || gotBase != wantBase {
			t.Fatalf("request %d at minute %d: window %d, base %d; the map: %d, %d", i, minute, gotWin, gotBase, wantWin, wantBase)
		}
		if len(c) != len(ref) {
			t.Fatalf("request %d: %d minutes kept, the map %d", i, len(c), len(ref))
		}
	}
}

// valueRing keeps the latest values exactly, whatever their width, and
// its median is the one of the values sorted as big.Int.
func TestValueRingMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var h valueRing
	var ref []*big.Int
	for i := range 400 {
		// Mostly small values, some wide (up to 256 bits), so the ring
		// widens while it holds values.
		bits := 1 + rng.IntN(40)
		if i%37 == 0 {
			bits = 1 + rng.IntN(256)
		}
		v := randBig(rng, bits)
		h.push(v)
		ref = append(ref, v)
		if len(ref) > valueHistory {
			ref = ref[1:]
		}
		if h.len() != len(ref) {
			t.Fatalf("value %d: %d kept, want %d", i, h.len(), len(ref))
		}
		sorted := slices.SortedFunc(slices.Values(ref), (*big.Int).Cmp)
		if got, want := h.median(), sorted[len(sorted)/2]; got.Cmp(want) != 0 {
			t.Fatalf("value %d: median %s, want %s", i, got, want)
		}
	}
	if h.width != 4 || len(h.words) != valueHistory*4 {
		t.Errorf("width %d, %d words; want 4 and %d", h.width, len(h.words), valueHistory*4)
	}
}

// randBig is a random value in [1, 2^bits].
func randBig(rng *rand.Rand, bits int) *big.Int {
	v := new(big.Int)
	for range (bits + 63) / 64 {
		v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(rng.Uint64()))
	}
	v.Rsh(v, uint((bits+63)/64*64-bits))
	return v.Add(v, big.NewInt(1))
}

func TestNetSet(t *testing.T) {
	var s netSet
	for _, ip := range []string{"10.0.1.7", "2001:db8::1", "10.0.0.9", "10.0.1.200", "2001:db8:0:1::1", "::ffff:10.0.0.1"} {
		n, _ := network(ip)
		s.add(netKeyOf(n))
	}
	if len(s) != 4 {
		t.Errorf("%d networks, want 4 (10.0.0/24, 10.0.1/24, two /64)", len(s))
	}
	for ip, want := range map[string]bool{"10.0.0.1": true, "10.0.2.1": false, "2001:db8::ffff": true, "2001:db8:0:2::": false, "0.0.0.10": false} {
		n, _ := network(ip)
		if got := s.has(netKeyOf(n)); got != want {
			t.Errorf("has %s: %v, want %v", ip, got, want)
		}
	}
	// At most maxNets are remembered.
	for i := range maxNets + 100 {
		s.add(netKeyOf(netip.PrefixFrom(netip.AddrFrom4([4]byte{11, byte(i >> 8), byte(i), 0}), 24)))
	}
	if len(s) != maxNets {
		t.Errorf("%d networks remembered, want %d", len(s), maxNets)
	}
	// An IPv4 network and an IPv6 one with the same bits are two.
	v4 := netKeyOf(netip.MustParsePrefix("0.0.1.0/24"))
	v6 := netKeyOf(netip.MustParsePrefix("0:0:0:1::/64"))
	if v4.bits != v6.bits || v4.cmp(v6) == 0 {
		t.Errorf("%+v and %+v: want the same bits, not the same network", v4, v6)
	}
}

// BenchmarkDetectorSweep is one sweep over 100,000 keys that each made
// ten requests over the last day (the seeded store of docs/performance.md),
// none of which it can forget.
func BenchmarkDetectorSweep(b *testing.B) {
	d := newDetector(nil, nil, nil, nil)
	rules := &keyRules{anomalies: policy.Anomalies{RateWindow: policy.DefaultRateWindow, RateBaseline: policy.DefaultRateBaseline, BurstWithin: policy.DefaultBurstWithin}}
	now := t0.Add(24 * time.Hour)
	for i := range 100_000 {
		st := &keyState{expires: nanosOf(now.Add(24 * time.Hour)), revoked: never, rules: rules}
		for j := range 10 {
			at := now.Add(-time.Duration(i+j*10_000) * 8 * time.Second)
			st.minutes.count(unixMinute(at), 5, 24*60)
			st.recent = append(st.recent, seqAtOf(int64(j), at))
		}
		d.keys[fmt.Sprintf("key%d", i)] = st
	}
	d.sweep(now)
	b.ResetTimer()
	for b.Loop() {
		d.sweep(now)
	}
}
