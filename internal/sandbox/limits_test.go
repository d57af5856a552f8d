package sandbox

import (
	"strings"
	"testing"
	"time"
)

// step is one request made at the sandbox clock after advancing it.
type step struct {
	name    string
	advance time.Duration
	code    int    // 0: the request must succeed
	want    string // substring of the error message or reasons
}

// runSteps makes an eth_blockNumber request per step, in order, on one
// key: the read path is decided like any other request (window, schedule,
// rate, network), so it shows the key's time and rate rules alone.
func runSteps(t *testing.T, e *env, tok string, steps []step) {
	t.Helper()
	for _, s := range steps {
		e.clock.Advance(s.advance)
		r := e.call(tok, "eth_blockNumber")
		at := e.clock.Now().Format("Mon 15:04:05")
		if s.code == 0 {
			if r.Error != nil {
				t.Fatalf("%s (%s): error %d %q, want a block number", s.name, at, r.Error.Code, r.Error.Message)
			}
			continue
		}
		if r.Error == nil {
			t.Fatalf("%s (%s): got block number %s, want error %d %q", s.name, at, r.Result, s.code, s.want)
		}
		if r.Error.Code != s.code || !strings.Contains(r.Error.Message+string(r.Error.Data), s.want) {
			t.Fatalf("%s (%s): error %d %q (data %s), want %d containing %q", s.name, at, r.Error.Code, r.Error.Message, r.Error.Data, s.code, s.want)
		}
	}
}

// TestExpiryWithInjectedClock: a key granted for an hour works until the
// hour is up and then is refused as expired with a 4100 that says only
// that (Invariants 6 and 8).
func TestExpiryWithInjectedClock(t *testing.T) {
	e := start(t)
	g := e.grant(map[string]any{"agent": "bot", "profile": "read-only", "ttl": "1h"})
	tok := token(t, g)
	keyID := g["key_id"].(string)
	wantExpiry := e.clock.Now().Add(time.Hour).Format(time.RFC3339)
	if g["expires_at"] != wantExpiry {
		t.Fatalf("expires_at = %v, want %s", g["expires_at"], wantExpiry)
	}
	runSteps(t, e, tok, []step{
		{name: "just granted"},
		{name: "after 59m", advance: 59 * time.Minute},
	})

	e.clock.Advance(2 * time.Minute) // 61m after the grant
	for _, method := range []string{"eth_blockNumber", "eth_chainId", "eth_accounts", "agentkeys_getPermissions"} {
		t.Run(method, func(t *testing.T) {
			r := e.call(tok, method)
			msg := wantError(t, r, 4100, "credential expired")
			if want := "credential expired at " + wantExpiry; msg != want {
				t.Errorf("message %q, want exactly %q", msg, want)
			}
			if len(r.Error.Data) != 0 {
				t.Errorf("4100 carries data %s; it must say nothing more about the key", r.Error.Data)
			}
			secret := tok[strings.LastIndex(tok, "_")+1:]
			for _, leak := range []string{keyID, secret, "read-only", "bot"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message %q reveals %q", msg, leak)
				}
			}
		})
	}
	var view map[string]any
	if code := e.admin("GET", "/v1/grants/"+keyID, nil, &view); code != 200 || view["status"] != "expired" {
		t.Errorf("admin view after expiry: HTTP %d, status %v", code, view["status"])
	}
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}

// TestValidFromInTheFuture: a key whose policy starts later does nothing
// until then, with a 4001 that says when it starts.
func TestValidFromInTheFuture(t *testing.T) {
	e := start(t)
	from := e.clock.Now().Add(23 * time.Hour) // the next day, 09:00
	g := e.grant(map[string]any{"agent": "bot", "policy": policyText("later", "valid_from: "+from.Format(time.RFC3339), "valid_for: 2h")})
	runSteps(t, e, token(t, g), []step{
		{name: "before valid_from", code: 4001, want: "not valid until " + from.Format(time.RFC3339)},
		{name: "a minute before", advance: 22*time.Hour + 59*time.Minute, code: 4001, want: "not valid until"},
		{name: "at valid_from", advance: time.Minute},
		{name: "within the window", advance: time.Hour},
		{name: "after valid_for", advance: time.Hour, code: 4100, want: "credential expired at " + from.Add(2*time.Hour).Format(time.RFC3339)},
	})
}

// TestScheduleWindow: the sandbox clock starts on a Wednesday (testEpoch)
// 10:00 UTC, inside wed 09:00-11:00.
func TestScheduleWindow(t *testing.T) {
	e := start(t)
	pol := policyText("office-hours", "valid_for: 7d", "schedule: {timezone: UTC, days: [wed], hours: \"09:00-11:00\"}")
	g := e.grant(map[string]any{"agent": "bot", "policy": pol})
	runSteps(t, e, token(t, g), []step{
		{name: "wednesday 10:00"},
		{name: "wednesday 10:59", advance: 59 * time.Minute},
		{name: "wednesday 11:00", advance: time.Minute, code: 4001, want: "outside the key's schedule"},
		{name: "wednesday 12:00", advance: time.Hour, code: 4001, want: "outside the key's schedule: wed 09:00-11:00 in UTC (it is Wed 12:00 there now)"},
		{name: "thursday 10:00", advance: 22 * time.Hour, code: 4001, want: "it is Thu 10:00 there now"},
		{name: "next wednesday 09:00", advance: 6*24*time.Hour - time.Hour},
	})
}

// TestRateLimit: at most 3 requests per sliding minute, and every
// request counts toward the rate, allowed or not.
func TestRateLimit(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "three pass, the fourth is refused, a minute later requests pass", steps: []step{
			{name: "first"},
			{name: "second"},
			{name: "third"},
			{name: "fourth", code: 4001, want: "rate limit reached: at most 3 requests per 1m"},
			{name: "after 61s", advance: 61 * time.Second},
			{name: "second in the new window"},
		}},
		{name: "refused requests count too", steps: []step{
			{name: "t=0"},
			{name: "t=1", advance: time.Second},
			{name: "t=2", advance: time.Second},
			{name: "t=3 over the rate", advance: time.Second, code: 4001, want: "rate limit reached"},
			// Only t=0 has left the window: t=1, t=2 and the refused t=3
			// are still in it.
			{name: "t=61", advance: 58 * time.Second, code: 4001, want: "rate limit reached"},
			// Now only the two refused requests (t=3, t=61) are in it.
			{name: "t=63", advance: 2 * time.Second},
			{name: "t=63 again: t=3, t=61 and t=63 fill the window", code: 4001, want: "rate limit reached"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t)
			g := e.grant(map[string]any{"agent": "bot", "policy": policyText("slow", "rate: {max: 3, per: 1m}")})
			runSteps(t, e, token(t, g), tt.steps)
		})
	}
}

// TestNetworkCIDR: the sandbox's clients connect from 127.0.0.1.
func TestNetworkCIDR(t *testing.T) {
	tests := []struct {
		name  string
		cidrs string
		code  int
		want  string
	}{
		{name: "other network refused", cidrs: `["10.0.0.0/8"]`, code: 4001, want: "requests from 127.0.0.1 are not allowed: this key only accepts 10.0.0.0/8"},
		{name: "loopback allowed", cidrs: `["127.0.0.0/8"]`},
		{name: "bare address allowed", cidrs: `["127.0.0.1"]`},
		{name: "ipv6 loopback only refused", cidrs: `["::1"]`, code: 4001, want: "requests from 127.0.0.1"},
		{name: "one of several allowed", cidrs: `["10.0.0.0/8", "127.0.0.1/32"]`},
	}
	e := start(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := e.grant(map[string]any{"agent": "bot", "policy": policyText("net", "network: {allow_cidrs: "+tt.cidrs+"}")})
			runSteps(t, e, token(t, g), []step{{name: tt.cidrs, code: tt.code, want: tt.want}})
		})
	}
}
