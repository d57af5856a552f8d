package limit

import (
	"net/netip"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time                 { return c.t }
func (c *fakeClock) add(d time.Duration)            { c.t = c.t.Add(d) }
func newClock() *fakeClock                          { return &fakeClock{t: time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)} }
func ip(s string) netip.Addr                        { return netip.MustParseAddr(s) }
func waits(f *Failures, a netip.Addr) time.Duration { return f.Wait("rpc", a) }

// Past the free failures each one doubles the wait, up to the cap; other
// sources are not held up.
func TestFailuresBackOffExponentially(t *testing.T) {
	c := newClock()
	f := NewFailures(FailureConfig{Free: 3, Base: time.Second, Max: 10 * time.Second, Window: time.Hour}, c.now)
	bad, good := ip("203.0.113.7"), ip("198.51.100.1")
	var got []time.Duration
	for range 8 {
		if w := waits(f, bad); w > 0 {
			c.add(w)
		}
		f.Fail("rpc", bad, "unknown credential")
		got = append(got, waits(f, bad))
	}
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("wait after failure %d = %s, want %s (all: %v)", i+1, got[i], want[i], got)
		}
	}
	if w := waits(f, good); w != 0 {
		t.Errorf("another source waits %s", w)
	}
	c.add(10 * time.Second)
	if w := waits(f, bad); w != 0 {
		t.Errorf("after the wait: %s", w)
	}
}

// Past the global cap, every source that failed in the window waits for
// it to end; a source that never failed goes on.
func TestFailuresGlobalCap(t *testing.T) {
	c := newClock()
	f := NewFailures(FailureConfig{Free: 100, Global: 10, Window: time.Minute}, c.now)
	for i := range 10 {
		f.Fail("rpc", netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), "unknown credential")
	}
	c.add(15 * time.Second)
	if w := waits(f, ip("10.0.0.3")); w != 45*time.Second {
		t.Errorf("a failing source waits %s, want the rest of the window (45s)", w)
	}
	if w := waits(f, ip("10.0.0.200")); w != 0 {
		t.Errorf("a new source waits %s", w)
	}
	c.add(45 * time.Second)
	if w := waits(f, ip("10.0.0.3")); w != 0 {
		t.Errorf("after the window: %s", w)
	}
}

// Failures are reported once per source and window, with their count,
// first and last time, reasons and the throttled attempts; an alert once
// a source reaches the threshold.
func TestFailuresAggregate(t *testing.T) {
	c := newClock()
	f := NewFailures(FailureConfig{Free: 2, Base: time.Second, Window: time.Minute, Alert: 4}, c.now)
	a, b := ip("203.0.113.7"), ip("198.51.100.1")
	start := c.t
	for range 5 {
		if f.Wait("admin", a) == 0 {
			f.Fail("admin", a, "wrong admin credential")
		}
		c.add(100 * time.Millisecond)
	}
	f.Fail("rpc", b, "missing credential")
	if due := f.Due(false); len(due) != 0 {
		t.Fatalf("due before the window ended: %+v", due)
	}
	c.t = start.Add(time.Minute)
	due := f.Due(false)
	if len(due) != 2 {
		t.Fatalf("due = %+v, want two aggregates", due)
	}
	ag := due[0]
	if ag.Surface != "admin" || ag.Source != "203.0.113.7" || ag.Failed+ag.Throttled != 5 || ag.Throttled == 0 || !ag.First.Equal(start) || ag.Reasons["wrong admin credential"] != ag.Failed {
		t.Errorf("aggregate = %+v", ag)
	}
	if ag.Alert != (ag.Failed >= 4) {
		t.Errorf("alert %v with %d failures", ag.Alert, ag.Failed)
	}
	if due[1].Source != "198.51.100.1" || due[1].Failed != 1 || due[1].Alert {
		t.Errorf("second aggregate = %+v", due[1])
	}
	if again := f.Due(true); len(again) != 0 {
		t.Errorf("reported twice: %+v", again)
	}
}

func TestFailuresAlertThreshold(t *testing.T) {
	c := newClock()
	f := NewFailures(FailureConfig{Free: 1000, Alert: 3, Window: time.Minute}, c.now)
	for range 3 {
		f.Fail("rpc", ip("192.0.2.1"), "unknown credential")
	}
	f.Fail("rpc", ip("192.0.2.2"), "unknown credential")
	due := f.Due(true)
	if len(due) != 2 || !due[0].Alert || due[0].Source != "192.0.2.1" || due[1].Alert {
		t.Errorf("due = %+v", due)
	}
}

// The remembered sources are bounded; one forgotten still reports its
// count.
func TestFailuresBoundedSources(t *testing.T) {
	c := newClock()
	f := NewFailures(FailureConfig{MaxSources: 3, Window: time.Minute}, c.now)
	for i := range 10 {
		c.add(time.Millisecond)
		f.Fail("rpc", netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), "unknown credential")
	}
	if n := len(f.sources); n > 3 {
		t.Errorf("%d sources remembered", n)
	}
	total := 0
	for _, a := range f.Due(true) {
		total += a.Failed
	}
	if total != 10 {
		t.Errorf("reported %d failures, want 10", total)
	}
}

// A key may burst to its limit, then goes at its rate; one key spending
// its limit leaves another's alone; the global limit holds for all.
func TestRates(t *testing.T) {
	c := newClock()
	r := NewRates(RateConfig{Global: 100, GlobalPer: time.Second, Key: 5, KeyPer: time.Second}, c.now)
	allowed := func(key string, max int, per time.Duration, n int) int {
		ok := 0
		for range n {
			if a, _ := r.Key(key, max, per); a {
				ok++
			}
		}
		return ok
	}
	if got := allowed("flood", 0, 0, 50); got != 5 {
		t.Errorf("default limit let %d of 50 through, want 5", got)
	}
	if got := allowed("calm", 0, 0, 3); got != 3 {
		t.Errorf("another key: %d of 3", got)
	}
	if got := allowed("policy", 10, time.Minute, 20); got != 10 {
		t.Errorf("a policy rate of 10/min let %d of 20 through", got)
	}
	_, wait := r.Key("flood", 0, 0)
	if wait != 200*time.Millisecond {
		t.Errorf("wait %s, want 200ms", wait)
	}
	c.add(time.Second)
	if got := allowed("flood", 0, 0, 50); got != 5 {
		t.Errorf("a second later: %d of 50", got)
	}
	g := 0
	for range 150 {
		if ok, _ := r.Global(); ok {
			g++
		}
	}
	if g != 100 {
		t.Errorf("global limit let %d of 150 through", g)
	}
	c.add(time.Second)
	due := r.Due(time.Second, false)
	counts := map[string]int{}
	for _, d := range due {
		counts[d.Key] = d.Count
	}
	if counts["flood"] != 91 || counts["policy"] != 10 || counts[""] != 50 || counts["calm"] != 0 {
		t.Errorf("refused counts %v", counts)
	}
}

// An IPv6 source is counted by its /64: walking through one's own
// addresses does not start afresh.
func TestFailuresCountIPv6By64(t *testing.T) {
	c := newClock()
	f := NewFailures(FailureConfig{Free: 2, Window: time.Minute}, c.now)
	for i := range 3 {
		f.Fail("rpc", netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)}), "unknown credential")
	}
	if w := f.Wait("rpc", ip("2001:db8::99")); w == 0 {
		t.Error("another address of the same /64 is not held back")
	}
	if w := f.Wait("rpc", ip("2001:db8:0:1::1")); w != 0 {
		t.Errorf("another /64 waits %s", w)
	}
	due := f.Due(true)
	if len(due) != 1 || due[0].Source != "2001:db8::/64" || due[0].Failed != 3 {
		t.Errorf("due = %+v", due)
	}
}
