package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
)

// TestDecisionsAgree decides the 1,000 recorded requests with both
// engines: every verdict must be the same, and the set must hold both
// verdicts and every kind of request, or the comparison says little.
func TestDecisionsAgree(t *testing.T) {
	ctx := context.Background()
	s, err := newSideBySide(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	allowed, err := s.agree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if allowed < 200 || allowed > 800 {
		t.Errorf("%d of 1000 allowed: the set should mix both verdicts", allowed)
	}
	kinds := map[string][2]int{}
	for i, r := range s.reqs {
		k := kinds[r.what]
		if s.decideOurs(i) {
			k[0]++
		} else {
			k[1]++
		}
		kinds[r.what] = k
	}
	if len(kinds) < 10 {
		t.Errorf("only %d kinds of request: %v", len(kinds), kinds)
	}
	for what, k := range kinds {
		t.Logf("%-30s %3d allowed %3d refused", what, k[0], k[1])
	}
}

// TestRegoNamesTheProfilesFunctions checks that swap_only.rego is the
// profile agentkeys compiles: the functions it allows on the routers, the
// functions it blocks everywhere and the caps are the same.
func TestRegoNamesTheProfilesFunctions(t *testing.T) {
	ctx := context.Background()
	p, err := swapOnly()
	if err != nil {
		t.Fatal(err)
	}
	var onRouters, blocked []string
	for _, r := range p.AllowRules() {
		if r.Contract != v2Router {
			continue
		}
		for _, f := range r.Functions {
			onRouters = append(onRouters, fmt.Sprintf("%#x", f.Selector))
		}
	}
	for _, r := range p.DenyRules() {
		for _, f := range r.Functions {
			if r.AnyContract {
				blocked = append(blocked, fmt.Sprintf("%#x", f.Selector))
			}
		}
	}
	query := func(q string) []string {
		rs, err := rego.New(rego.Query(q), rego.Module("swap_only.rego", swapOnlyRego)).Eval(ctx)
		if err != nil || len(rs) != 1 {
			t.Fatalf("%s: %v %v", q, rs, err)
		}
		var out []string
		switch v := rs[0].Expressions[0].Value.(type) {
		case map[string]any:
			for k := range v {
				out = append(out, k)
			}
		case string:
			out = append(out, v)
		}
		return out
	}
	sorted := func(s []string) []string { slices.Sort(s); return s }
	if got, want := sorted(append(query("data.agentkeys.swaponly.router_fns"), query("data.agentkeys.swaponly.refund_eth")...)), sorted(onRouters); !slices.Equal(got, want) {
		t.Errorf("router functions:\nRego    %v\nprofile %v", got, want)
	}
	if got, want := sorted(query("data.agentkeys.swaponly.blocked")), sorted(blocked); !slices.Equal(got, want) {
		t.Errorf("blocked functions:\nRego    %v\nprofile %v", got, want)
	}
	for _, l := range p.Limits() {
		for name, v := range map[string]*big.Int{"per_tx": l.PerTx, "per_period": l.PerPeriod} {
			want := "<nil>"
			if v != nil {
				want = v.String()
			}
			rs, err := rego.New(rego.Query(fmt.Sprintf("x := object.get(data.agentkeys.swaponly.limits[%q], %q, null)", l.Asset, name)), rego.Module("swap_only.rego", swapOnlyRego)).Eval(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := "<nil>"
			if len(rs) == 1 {
				got = fmt.Sprint(rs[0].Bindings["x"])
			}
			if got != want {
				t.Errorf("%s %s: Rego %s, profile %s", l.Asset, name, got, want)
			}
		}
	}
}

func TestRunPrintsTheRatio(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-requests", "200", "-rounds", "1"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"200 recorded requests", "agentkeys:", "OPA:", "as long per decision"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(context.Background(), []string{"-rounds", "0"}, &out); err == nil {
		t.Error("-rounds 0 accepted")
	}
}

// BenchmarkDecide decides the recorded requests one after another: one
// operation is one decision.
func BenchmarkDecide(b *testing.B) {
	ctx := context.Background()
	s, err := newSideBySide(ctx, 1000)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("agentkeys", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s.decideOurs(i % len(s.reqs))
			i++
		}
	})
	b.Run("opa", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.decideOPA(ctx, i%len(s.reqs)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkSideBySide passes over the 1,000 requests with each engine in
// turn (one operation is one pass of each) and reports the time per
// decision of each and their ratio.
func BenchmarkSideBySide(b *testing.B) {
	ctx := context.Background()
	s, err := newSideBySide(ctx, 1000)
	if err != nil {
		b.Fatal(err)
	}
	var ours, theirs time.Duration
	for b.Loop() {
		o, t, err := s.time(ctx, 1)
		if err != nil {
			b.Fatal(err)
		}
		ours, theirs = ours+o, theirs+t
	}
	n := float64(b.N * len(s.reqs))
	b.ReportMetric(float64(ours.Nanoseconds())/n, "agentkeys-ns/decision")
	b.ReportMetric(float64(theirs.Nanoseconds())/n, "opa-ns/decision")
	b.ReportMetric(float64(theirs)/float64(ours), "opa/agentkeys")
}
