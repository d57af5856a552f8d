package web

import (
	"net/netip"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/clock"
)

// A session ends after its TTL however busy, and after its idle time
// unused, both by the injected clock; a dropped or unknown id is no
// session.
func TestSessionsExpire(t *testing.T) {
	c := clock.NewFake(t0)
	s := newSessions(c.Now, 3*time.Hour, time.Hour)
	id, err := s.create()
	if err != nil {
		t.Fatal(err)
	}
	ss := s.get(id)
	if ss == nil || len(ss.csrf) < 40 {
		t.Fatalf("a new session: %+v", ss)
	}
	for range 5 { // busy: used every 50 minutes
		c.Advance(50 * time.Minute)
		if elapsed := c.Now().Sub(t0); elapsed < 3*time.Hour && s.get(id) == nil {
			t.Fatalf("a session in use ended after %s", elapsed)
		}
	}
	if s.get(id) != nil {
		t.Fatalf("a session lived past its TTL")
	}

	id, _ = s.create()
	c.Advance(time.Hour)
	if s.get(id) != nil {
		t.Errorf("a session idle for an hour is alive")
	}
	id, _ = s.create()
	s.drop(id)
	if s.get(id) != nil || s.get("") != nil || s.get("not-a-session") != nil {
		t.Errorf("a dropped, empty or unknown id is a session")
	}
}

// Beyond maxSessions, signing in ends the oldest session.
func TestSessionsAreBounded(t *testing.T) {
	c := clock.NewFake(t0)
	s := newSessions(c.Now, DefaultSessionTTL, DefaultSessionIdle)
	first, _ := s.create()
	for range maxSessions {
		c.Advance(time.Second)
		if _, err := s.create(); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.m) != maxSessions || s.get(first) != nil {
		t.Errorf("%d sessions, the oldest alive: %v", len(s.m), s.get(first) != nil)
	}
}

// The limiter refuses a client after max failures within the window, by
// the injected clock; an IPv6 client is its /64, so walking one's own
// addresses does not help; another client is not affected.
func TestLimiter(t *testing.T) {
	c := clock.NewFake(t0)
	l := newLimiter(c.Now, 3, 10*time.Minute)
	a := client(netip.MustParseAddr("192.0.2.7"))
	for i := range 3 {
		if !l.allow(a) {
			t.Fatalf("refused after %d failures", i)
		}
		l.fail(a)
		c.Advance(time.Minute)
	}
	if l.allow(a) {
		t.Fatal("allowed after 3 failures in 3 minutes")
	}
	if !l.allow(client(netip.MustParseAddr("192.0.2.8"))) {
		t.Error("another address is refused")
	}
	c.Advance(7 * time.Minute) // the first failure leaves the window
	if !l.allow(a) {
		t.Error("still refused once the oldest failure left the window")
	}
	l.succeed(a)
	if len(l.fails) != 0 {
		t.Errorf("failures kept after success: %v", l.fails)
	}

	v6 := func(s string) netip.Prefix { return client(netip.MustParseAddr(s)) }
	for _, s := range []string{"2001:db8::1", "2001:db8::2", "2001:db8::ffff:1"} {
		l.fail(v6(s))
	}
	if l.allow(v6("2001:db8::abcd")) {
		t.Error("another address in the same /64 is allowed after 3 failures of its neighbours")
	}
	if !l.allow(v6("2001:db8:0:1::1")) {
		t.Error("another /64 is refused")
	}
	if got := client(netip.MustParseAddr("::ffff:192.0.2.7")); got != a {
		t.Errorf("an IPv4-mapped address is %s, want %s", got, a)
	}
}
