// Package clientip finds the address of the client that made an HTTP
// request when the daemon runs behind reverse proxies: X-Forwarded-For and
// Forwarded (RFC 7239) are believed only from peers in a trusted list, so
// the policy's IP allowlist and the audit's caller_ip mean the agent, not
// the proxy, and an agent cannot name its own address. The server package
// installs its Middleware; the rpc package reads the result with
// FromRequest. It imports nothing internal.
package clientip

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver decides which address a request came from.
type Resolver struct {
	trusted []netip.Prefix
}

// ParseTrusted parses trusted proxy ranges: CIDRs ("10.0.0.0/8",
// "fd00::/8") or single addresses ("192.0.2.7", "::1"). The error names
// the entry (a network range is not a secret) and what was expected.
func ParseTrusted(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, s := range cidrs {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		if len(s) > 64 {
			s = s[:64] + "…"
		}
		return nil, fmt.Errorf("trusted proxy %q: expected a CIDR like 10.0.0.0/8 or an IP address like 192.0.2.7", s)
	}
	return out, nil
}

// New returns a Resolver trusting the given ranges; with none, forwarding
// headers are never believed and the client is the TCP peer.
func New(trusted []netip.Prefix) *Resolver {
	return &Resolver{trusted: append([]netip.Prefix(nil), trusted...)}
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client's address. Forwarding headers count only
// when the TCP peer is trusted. The hops they list are walked from the
// right (the hop nearest to us) to the left, skipping trusted proxies; the
// first untrusted hop is the client. If every hop is trusted, the left-most
// one is. A hop that cannot be read (malformed, "unknown", an obfuscated
// name), or X-Forwarded-For and Forwarded naming different clients, makes
// ClientIP fall back to the peer: a proxy is never mistaken for an agent's
// choice of address. The zero Addr means even the peer is unknown.
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	peer := PeerIP(req)
	if !peer.IsValid() || len(r.trusted) == 0 || !r.isTrusted(peer) {
		return peer
	}
	xff, xffOK := r.fromHops(req.Header.Values("X-Forwarded-For"), splitXFF)
	fwd, fwdOK := r.fromHops(req.Header.Values("Forwarded"), splitForwarded)
	switch {
	case !xffOK || !fwdOK:
		return peer
	case xff.IsValid() && fwd.IsValid() && xff != fwd:
		// One of the two was passed through from the client untouched; we
		// cannot tell which, so neither is believed.
		return peer
	case fwd.IsValid():
		return fwd
	case xff.IsValid():
		return xff
	}
	return peer
}

// fromHops finds the client in one header's hop list. It returns the zero
// Addr and true when the header is absent, and false when a hop that had
// to be read could not be.
func (r *Resolver) fromHops(values []string, split func(string) ([]string, bool)) (netip.Addr, bool) {
	if len(values) == 0 {
		return netip.Addr{}, true
	}
	hops, ok := split(strings.Join(values, ","))
	if !ok || len(hops) == 0 {
		return netip.Addr{}, false
	}
	var a netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		if a, ok = parseHop(hops[i]); !ok {
			return netip.Addr{}, false
		}
		if !r.isTrusted(a) {
			return a, true
		}
	}
	return a, true // every hop is a trusted proxy: the left-most is the client
}

// splitXFF splits X-Forwarded-For ("client, proxy1, proxy2").
func splitXFF(v string) ([]string, bool) {
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts, true
}

// splitForwarded returns the for= value of each element of a Forwarded
// header (RFC 7239 section 4: elements separated by ',', pairs by ';',
// values tokens or quoted strings). An element without for=, or a header
// that does not follow the grammar, is a failure.
func splitForwarded(v string) ([]string, bool) {
	var out []string
	for _, elem := range splitOutsideQuotes(v, ',') {
		if strings.TrimSpace(elem) == "" {
			return nil, false
		}
		var forValue string
		found := false
		for _, pair := range splitOutsideQuotes(elem, ';') {
			name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || !isToken(name) {
				return nil, false
			}
			value, ok = unquote(value)
			if !ok {
				return nil, false
			}
			if !strings.EqualFold(name, "for") {
				continue
			}
			if found {
				return nil, false // two for= in one element
			}
			forValue, found = value, true
		}
		if !found {
			return nil, false
		}
		out = append(out, forValue)
	}
	return out, true
}

// splitOutsideQuotes splits s at sep where sep is not inside a quoted
// string. An unterminated quote leaves the rest in the last part, which
// unquote then refuses.
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	inQuote, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unquote returns a token as is, and a quoted string without its quotes
// and escapes. Anything else (an IPv6 address or a port outside quotes)
// does not follow RFC 7239 and fails.
func unquote(v string) (string, bool) {
	if !strings.HasPrefix(v, `"`) {
		return v, isToken(v)
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return "", false
	}
	var b strings.Builder
	body := v[1 : len(v)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body):
			i++
			b.WriteByte(body[i])
		case c == '\\' || c == '"':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// isToken reports whether s is an RFC 7230 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// parseHop reads one hop: "192.0.2.1", "192.0.2.1:4711", "2001:db8::1",
// "[2001:db8::1]" or "[2001:db8::1]:4711". Zones are dropped and IPv4 in
// IPv6 is unmapped. "unknown" and obfuscated names ("_hidden") fail.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a.WithZone("").Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// PeerIP is the TCP peer's address (RemoteAddr), or the zero Addr.
func PeerIP(req *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

type ctxKey struct{}

// Middleware resolves each request's client address once and records it
// in the request's context for FromRequest.
func (r *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ip := r.ClientIP(req)
		next.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), ctxKey{}, ip)))
	})
}

// FromRequest returns the client address Middleware recorded, or the TCP
// peer's when no Middleware ran (forwarding headers are then ignored).
func FromRequest(req *http.Request) netip.Addr {
	if a, ok := req.Context().Value(ctxKey{}).(netip.Addr); ok {
		return a
	}
	return PeerIP(req)
}
