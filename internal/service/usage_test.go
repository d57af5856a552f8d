package service_test

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/service"
)

// A key's usage is its newest request and its requests and refusals in
// the last 24h by the service's clock; FindGrants filters on status and
// on how long a key went unused.
func TestUsageAndFindGrants(t *testing.T) {
	h := newHarness(t)
	h.clock.Advance(time.Minute) // the second key is the newer
	doc, err := h.svc.Document(h.ctx, service.GrantSpec{Agent: "idle", Profile: "full-access", DailyLimit: []string{"1ETH"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.Grant(h.ctx, service.GrantRequest{Agent: "idle", Doc: doc, TTL: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	idle := res.Grant.ID
	usage := func(id string) service.KeyUsage {
		t.Helper()
		u, err := h.svc.Usage(h.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if u := usage(idle); u != (service.KeyUsage{}) {
		t.Errorf("a new key's usage = %+v, want none", u)
	}

	if _, err := h.send(false); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	if _, err := h.send(false); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	last := h.clock.Now()
	// Over the 10 ETH daily limit: refused.
	// It comes from a client whose User-Agent carries a terminal escape
	// and goes on for a kilobyte: the record keeps a printable prefix.
	info := h.info("eth_signTransaction")
	info.UserAgent = "evil/1.0 \x1b[2J" + strings.Repeat("x", 1024)
	if _, err := h.svc.Transaction(h.ctx, h.sess, info,
		service.TxArgs{To: &stranger, Value: new(big.Int).Mul(big.NewInt(11), big.NewInt(1e18))}, false); err == nil {
		t.Fatal("a transfer over the daily limit was signed")
	}
	u := usage(h.keyID)
	if u.LastUsed == nil || !u.LastUsed.Equal(last) || u.LastIP != "127.0.0.1" || u.LastDecision != "deny" ||
		u.Requests24h != 3 || u.Denied24h != 1 {
		t.Errorf("usage = %+v (last used %v); want last used %v from 127.0.0.1 denied, 3 requests, 1 denied", u, u.LastUsed, last)
	}
	if want := ("evil/1.0 ?[2J" + strings.Repeat("x", 1024))[:service.MaxUserAgent]; u.LastUserAgent != want {
		t.Errorf("last user agent = %q, want %q", u.LastUserAgent, want)
	}

	// A day after the refusal it alone is within the window.
	h.clock.Advance(24 * time.Hour)
	if u := usage(h.keyID); u.Requests24h != 1 || u.Denied24h != 1 || u.LastUsed == nil || !u.LastUsed.Equal(last) {
		t.Errorf("a day later: usage = %+v; want 1 request, 1 denied, still last used %v", u, last)
	}
	h.clock.Advance(24 * time.Hour) // 2 days after the last request; the first key has expired
	if u := usage(h.keyID); u.Requests24h != 0 || u.Denied24h != 0 || u.LastUsed == nil {
		t.Errorf("two days later: usage = %+v; want no requests in 24h, a last use", u)
	}

	ids := func(q service.GrantQuery) []string {
		t.Helper()
		gs, err := h.svc.FindGrants(h.ctx, q)
		if err != nil {
			t.Fatalf("FindGrants(%+v): %v", q, err)
		}
		if gs.NextCursor != "" {
			t.Errorf("FindGrants(%+v): a next cursor after every key", q)
		}
		out := []string{}
		for _, g := range gs.Keys {
			if g.Usage == nil {
				t.Errorf("FindGrants(%+v): %s has no usage", q, g.ID)
			}
			out = append(out, g.ID)
		}
		return out
	}
	for _, c := range []struct {
		q    service.GrantQuery
		want []string
	}{
		{service.GrantQuery{}, []string{h.keyID, idle}},
		{service.GrantQuery{Status: service.StatusActive}, []string{idle}},
		{service.GrantQuery{Status: service.StatusExpired}, []string{h.keyID}},
		{service.GrantQuery{Status: service.StatusRevoked}, []string{}},
		{service.GrantQuery{UnusedFor: "1d"}, []string{h.keyID, idle}},
		{service.GrantQuery{UnusedFor: "2d"}, []string{h.keyID, idle}}, // exactly 2 days unused
		{service.GrantQuery{UnusedFor: "49h"}, []string{idle}},         // never used: idle since granted, 49h1m ago
		{service.GrantQuery{UnusedFor: "50h"}, []string{}},             // ... which is not yet 50h
		{service.GrantQuery{Status: service.StatusExpired, UnusedFor: "3d"}, []string{}},
	} {
		if got := ids(c.q); !equal(got, c.want) {
			t.Errorf("FindGrants(%+v) = %v, want %v", c.q, got, c.want)
		}
	}

	for _, c := range []struct {
		q     service.GrantQuery
		field string
	}{
		{service.GrantQuery{Status: "live"}, "status"},
		{service.GrantQuery{UnusedFor: "a while"}, "unused_for"},
		{service.GrantQuery{UnusedFor: "0d"}, "unused_for"},
		{service.GrantQuery{UnusedFor: "-1h"}, "unused_for"},
		{service.GrantQuery{Limit: -1}, "limit"},
		{service.GrantQuery{Limit: service.MaxGrantPage + 1}, "limit"},
		{service.GrantQuery{Cursor: "not a cursor"}, "cursor"},
		{service.GrantQuery{Cursor: "bm9kb3Q"}, "cursor"}, // "nodot"
		{service.GrantQuery{Cursor: "MC5n"}, "cursor"},    // "0.g": no time
		{service.GrantQuery{Cursor: "MTIzLg"}, "cursor"},  // "123.": no id
		{service.GrantQuery{Cursor: strings.Repeat("A", 600)}, "cursor"},
	} {
		_, err := h.svc.FindGrants(h.ctx, c.q)
		var pe *service.ParamError
		if !errors.As(err, &pe) || pe.Field != c.field {
			t.Errorf("FindGrants(%+v): error %v, want a ParamError on %s", c.q, err, c.field)
		}
	}
	if _, err := h.svc.Usage(h.ctx, "ak_nosuchkey"); !errors.Is(err, service.ErrNoKey) {
		t.Errorf("Usage of an unknown key: error %v, want ErrNoKey", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFindGrantsPages: following NextCursor lists every key once, in
// order, oldest or newest first, with or without filters, whatever the
// page size; the last page has no NextCursor.
func TestFindGrantsPages(t *testing.T) {
	h := newHarness(t)
	all := []string{h.keyID}
	for i := range 6 {
		h.clock.Advance(time.Minute)
		doc, err := h.svc.Document(h.ctx, service.GrantSpec{Agent: fmt.Sprintf("a%d", i), Profile: "full-access", DailyLimit: []string{"1ETH"}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.svc.Grant(h.ctx, service.GrantRequest{Agent: fmt.Sprintf("a%d", i), Doc: doc, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.Grant.ID)
	}
	if _, err := h.svc.Revoke(h.ctx, all[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := h.send(false); err != nil { // the first key is used now
		t.Fatal(err)
	}
	without := func(ids []string, drop ...string) []string {
		out := []string{}
		for _, id := range ids {
			if !slices.Contains(drop, id) {
				out = append(out, id)
			}
		}
		return out
	}
	for _, c := range []struct {
		name string
		q    service.GrantQuery
		want []string
	}{
		{"all", service.GrantQuery{}, all},
		{"revoked", service.GrantQuery{Status: service.StatusRevoked}, []string{all[2]}},
		{"active", service.GrantQuery{Status: service.StatusActive}, without(all, all[2])},
		{"unused", service.GrantQuery{UnusedFor: "1m"}, without(all, all[0], all[6])}, // the last was granted a minute ago
	} {
		for _, newest := range []bool{false, true} {
			want := slices.Clone(c.want)
			if newest {
				slices.Reverse(want)
			}
			for _, limit := range []int{1, 2, 3, 7, 0} {
				q := c.q
				q.Newest, q.Limit = newest, limit
				var got []string
				for pages := 0; ; pages++ {
					if pages > len(all) {
						t.Fatalf("%s newest=%v limit %d: the pages do not end: %v", c.name, newest, limit, got)
					}
					page, err := h.svc.FindGrants(h.ctx, q)
					if err != nil {
						t.Fatalf("%s: %v", c.name, err)
					}
					if limit > 0 && len(page.Keys) > limit {
						t.Fatalf("%s: a page of %d keys, limit %d", c.name, len(page.Keys), limit)
					}
					for _, k := range page.Keys {
						got = append(got, k.ID)
					}
					if page.NextCursor == "" {
						break
					}
					q.Cursor = page.NextCursor
				}
				if !equal(got, want) {
					t.Errorf("%s newest=%v limit %d: paged %v, want %v", c.name, newest, limit, got, want)
				}
			}
		}
	}
}
