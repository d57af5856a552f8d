package clientip

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted, err := ParseTrusted([]string{"10.0.0.0/8", "192.0.2.7", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	r := New(trusted)
	tests := []struct {
		name    string
		peer    string
		xff     []string
		fwd     []string
		want    string // "" is the zero Addr
		noTrust bool   // resolve with no trusted proxies
	}{
		{name: "no headers", peer: "203.0.113.5:4000", want: "203.0.113.5"},
		{name: "untrusted peer's XFF ignored", peer: "203.0.113.5:4000", xff: []string{"198.51.100.1"}, want: "203.0.113.5"},
		{name: "untrusted peer's Forwarded ignored", peer: "203.0.113.5:4000", fwd: []string{"for=198.51.100.1"}, want: "203.0.113.5"},
		{name: "untrusted peer that is a client of a trusted range", peer: "11.0.0.1:1", xff: []string{"10.1.1.1"}, want: "11.0.0.1"},
		{name: "nothing trusted", peer: "10.0.0.1:1", xff: []string{"198.51.100.1"}, noTrust: true, want: "10.0.0.1"},
		{name: "trusted peer, XFF one hop", peer: "10.0.0.1:1", xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "trusted peer, trusted hops skipped", peer: "10.0.0.1:1", xff: []string{"198.51.100.1, 10.2.2.2, 192.0.2.7"}, want: "198.51.100.1"},
		{name: "spoofed left entries not read", peer: "10.0.0.1:1", xff: []string{"127.0.0.1, 198.51.100.9"}, want: "198.51.100.9"},
		{name: "garbage left of the client not read", peer: "10.0.0.1:1", xff: []string{"not-an-ip, 198.51.100.9"}, want: "198.51.100.9"},
		{name: "every hop trusted: left-most", peer: "10.0.0.1:1", xff: []string{"10.9.9.9, 10.2.2.2"}, want: "10.9.9.9"},
		{name: "XFF over several header lines", peer: "10.0.0.1:1", xff: []string{"198.51.100.1", "198.51.100.2, 10.3.3.3"}, want: "198.51.100.2"},
		{name: "XFF with port", peer: "10.0.0.1:1", xff: []string{"198.51.100.1:5555"}, want: "198.51.100.1"},
		{name: "XFF IPv6", peer: "[fd00::1]:443", xff: []string{"2001:db8::17"}, want: "2001:db8::17"},
		{name: "XFF bracketed IPv6 with port", peer: "[fd00::1]:443", xff: []string{"[2001:db8::17]:4711"}, want: "2001:db8::17"},
		{name: "XFF IPv4-mapped IPv6 unmapped", peer: "10.0.0.1:1", xff: []string{"::ffff:198.51.100.3"}, want: "198.51.100.3"},
		{name: "IPv4-mapped trusted peer", peer: "[::ffff:10.0.0.1]:1", xff: []string{"198.51.100.4"}, want: "198.51.100.4"},
		{name: "malformed hop falls back to peer", peer: "10.0.0.1:1", xff: []string{"198.51.100.1, bogus"}, want: "10.0.0.1"},
		{name: "empty hop falls back to peer", peer: "10.0.0.1:1", xff: []string{"198.51.100.1,,10.2.2.2"}, want: "10.0.0.1"},
		{name: "empty XFF falls back to peer", peer: "10.0.0.1:1", xff: []string{""}, want: "10.0.0.1"},
		{name: "Forwarded token", peer: "10.0.0.1:1", fwd: []string{"for=198.51.100.1;proto=https;by=10.0.0.1"}, want: "198.51.100.1"},
		{name: "Forwarded quoted IPv4 with port", peer: "10.0.0.1:1", fwd: []string{`for="198.51.100.1:4711"`}, want: "198.51.100.1"},
		{name: "Forwarded quoted IPv6", peer: "10.0.0.1:1", fwd: []string{`For="[2001:db8:cafe::17]:4711"`}, want: "2001:db8:cafe::17"},
		{name: "Forwarded chain skips trusted", peer: "10.0.0.1:1", fwd: []string{`for=198.51.100.1, for=10.5.5.5;proto=http`}, want: "198.51.100.1"},
		{name: "Forwarded over two lines", peer: "10.0.0.1:1", fwd: []string{`for=198.51.100.1`, `for=198.51.100.2`}, want: "198.51.100.2"},
		{name: "Forwarded quoted comma and semicolon", peer: "10.0.0.1:1", fwd: []string{`for=198.51.100.1;by="a,b;c", for=198.51.100.3`}, want: "198.51.100.3"},
		{name: "Forwarded unknown falls back", peer: "10.0.0.1:1", fwd: []string{"for=unknown"}, want: "10.0.0.1"},
		{name: "Forwarded obfuscated falls back", peer: "10.0.0.1:1", fwd: []string{"for=_hidden"}, want: "10.0.0.1"},
		{name: "Forwarded without for falls back", peer: "10.0.0.1:1", fwd: []string{"proto=https"}, want: "10.0.0.1"},
		{name: "Forwarded unterminated quote falls back", peer: "10.0.0.1:1", fwd: []string{`for="198.51.100.1`}, want: "10.0.0.1"},
		{name: "Forwarded bare IPv6 unquoted falls back", peer: "10.0.0.1:1", fwd: []string{`for=[2001:db8::1]:80;x="`}, want: "10.0.0.1"},
		{name: "Forwarded two for in one element falls back", peer: "10.0.0.1:1", fwd: []string{`for=198.51.100.1;for=198.51.100.2`}, want: "10.0.0.1"},
		{name: "both headers agree", peer: "10.0.0.1:1", xff: []string{"198.51.100.1"}, fwd: []string{"for=198.51.100.1"}, want: "198.51.100.1"},
		{name: "both headers disagree: neither believed", peer: "10.0.0.1:1", xff: []string{"198.51.100.1"}, fwd: []string{"for=203.0.113.9"}, want: "10.0.0.1"},
		{name: "malformed Forwarded beside good XFF falls back", peer: "10.0.0.1:1", xff: []string{"198.51.100.1"}, fwd: []string{"for="}, want: "10.0.0.1"},
		{name: "peer without port", peer: "10.0.0.1", xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "unparseable peer", peer: "@pipe", xff: []string{"198.51.100.1"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/rpc", nil)
			req.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tt.fwd {
				req.Header.Add("Forwarded", v)
			}
			res := r
			if tt.noTrust {
				res = New(nil)
			}
			got := res.ClientIP(req)
			var want netip.Addr
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got != want {
				t.Errorf("ClientIP = %v, want %v", got, want)
			}
		})
	}
}

func TestParseTrusted(t *testing.T) {
	got, err := ParseTrusted([]string{" 10.1.2.3/8 ", "::1", "::ffff:192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("192.0.2.1/32")}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "example.com", "fe80::1%eth0"} {
		if _, err := ParseTrusted([]string{bad}); err == nil {
			t.Errorf("ParseTrusted(%q) succeeded", bad)
		}
	}
}

func TestMiddlewareAndFromRequest(t *testing.T) {
	trusted, _ := ParseTrusted([]string{"10.0.0.0/8"})
	var seen netip.Addr
	h := New(trusted).Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = FromRequest(r) }))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "10.0.0.1:1"
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if seen != netip.MustParseAddr("198.51.100.1") {
		t.Errorf("through the middleware: %v", seen)
	}
	// Without the middleware the header is never read.
	if got := FromRequest(req); got != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("without the middleware: %v", got)
	}
}

func FuzzClientIP(f *testing.F) {
	f.Add("198.51.100.1, 10.0.0.2", `for="[2001:db8::1]:80";proto=https, for=10.0.0.3`)
	f.Add(`,,,`, `for="\"`)
	trusted, _ := ParseTrusted([]string{"10.0.0.0/8"})
	r := New(trusted)
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "10.0.0.1:1"
		req.Header.Set("X-Forwarded-For", xff)
		req.Header.Set("Forwarded", fwd)
		got := r.ClientIP(req)
		if !got.IsValid() {
			t.Fatalf("no address for a valid trusted peer")
		}
	})
}
