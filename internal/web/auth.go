package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/netip"
	"sync"
	"time"
)

// Defaults of Config.
const (
	// DefaultSessionTTL is how long a sign-in lasts at most;
	// DefaultSessionIdle ends it sooner when the owner stops using it.
	DefaultSessionTTL  = 12 * time.Hour
	DefaultSessionIdle = time.Hour
	// DefaultSignInLimit failed sign-ins from one client address (an IPv6
	// client's /64) within DefaultSignInWindow refuse further attempts
	// from it, right or wrong, until the oldest failure leaves the window.
	DefaultSignInLimit  = 5
	DefaultSignInWindow = 15 * time.Minute
)

// maxSessions bounds the live sessions; signing in beyond it ends the
// oldest. maxTrackedClients bounds the addresses the sign-in limiter
// remembers: when that many have failed within the window, new addresses
// are refused too (the owner still has the CLI), so a flood from many
// addresses cannot grow memory.
const (
	maxSessions       = 64
	maxTrackedClients = 10000
)

// newSecret returns 32 random bytes, URL-safe base64.
func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// sameSecret compares two secrets in constant time; an empty one never
// matches.
func sameSecret(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// session is one signed-in browser. Its id lives only in the browser's
// cookie; the server keeps the id's hash.
type session struct {
	csrf    string // the token every form of this session carries
	created time.Time
	seen    time.Time
}

// sessions are the signed-in browsers, expired by the injected clock.
type sessions struct {
	mu        sync.Mutex
	now       func() time.Time
	ttl, idle time.Duration
	m         map[[32]byte]*session
}

func newSessions(now func() time.Time, ttl, idle time.Duration) *sessions {
	return &sessions{now: now, ttl: ttl, idle: idle, m: map[[32]byte]*session{}}
}

// create starts a session and returns its id (the cookie's value).
func (s *sessions) create() (string, error) {
	id, err := newSecret()
	if err != nil {
		return "", err
	}
	csrf, err := newSecret()
	if err != nil {
		return "", err
	}
	now := s.now()
	ss := &session{csrf: csrf, created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now)
	for len(s.m) >= maxSessions {
		var oldest [32]byte
		var at time.Time
		for k, v := range s.m {
			if at.IsZero() || v.created.Before(at) {
				oldest, at = k, v.created
			}
		}
		delete(s.m, oldest)
	}
	s.m[sha256.Sum256([]byte(id))] = ss
	return id, nil
}

// get returns the live session with id and marks it used, or nil.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	k := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[k]
	if ss == nil {
		return nil
	}
	if s.expired(ss, now) {
		delete(s.m, k)
		return nil
	}
	ss.seen = now
	return ss
}

func (s *sessions) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(id)))
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return !now.Before(ss.created.Add(s.ttl)) || !now.Before(ss.seen.Add(s.idle))
}

func (s *sessions) prune(now time.Time) {
	for k, v := range s.m {
		if s.expired(v, now) {
			delete(s.m, k)
		}
	}
}

// limiter refuses sign-in attempts from a client that failed too often
// within a window, by the injected clock.
type limiter struct {
	mu     sync.Mutex
	now    func() time.Time
	max    int
	window time.Duration
	fails  map[netip.Prefix][]time.Time
}

func newLimiter(now func() time.Time, max int, window time.Duration) *limiter {
	return &limiter{now: now, max: max, window: window, fails: map[netip.Prefix][]time.Time{}}
}

// client is the unit the limiter counts: the address, or an IPv6
// address's /64 (one subscriber's usual allocation, so an attacker cannot
// simply walk their own addresses).
func client(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

// allow reports whether c may try to sign in now.
func (l *limiter) allow(c netip.Prefix) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.recent(c, now)
	if len(recent) == 0 && len(l.fails) >= maxTrackedClients {
		for k := range l.fails {
			l.recent(k, now)
		}
		return len(l.fails) < maxTrackedClients
	}
	return len(recent) < l.max
}

// fail counts a failed attempt of c.
func (l *limiter) fail(c netip.Prefix) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[c] = append(l.recent(c, now), now)
}

// succeed forgets c's failures.
func (l *limiter) succeed(c netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, c)
}

// recent drops c's failures that left the window and returns the rest.
func (l *limiter) recent(c netip.Prefix, now time.Time) []time.Time {
	fs := l.fails[c]
	i := 0
	for i < len(fs) && !fs[i].After(now.Add(-l.window)) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.fails, c)
		return nil
	}
	l.fails[c] = fs
	return fs
}
