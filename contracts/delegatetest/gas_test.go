package delegatetest

import (
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// Gas of a session's execute against the same call sent by the owner
// directly. Figures are receipt gasUsed (intrinsic gas and calldata
// included), measured after a warm-up so that every storage slot involved
// already holds a non-zero value, as it does for a session in use.

// gasPolicies are grants of growing size; the permission that matches the
// measured swap is always the last one. Permissions are stored by (target,
// selector), so execute reads only those that share the call's: the last
// policy puts all of its decoys there, the worst case.
var gasPolicies = []struct {
	name          string
	decoys        int
	sameKeyDecoys bool
}{
	{"few (3 permissions)", 0, false},
	{"medium (10 permissions)", 7, false},
	{"many (30 permissions)", 27, false},
	{"many, 28 on the swap's target+selector", 27, true},
}

const batchSize = 5

// gasBench is a chain with the owner delegated and one session per policy.
type gasBench struct {
	e        *env
	sessions []*account // by gasPolicies index
	path     []common.Address
	amount   *big.Int
}

func newGasBench(tb testing.TB) *gasBench {
	e := newEnv(tb, envConfig{})
	g := &gasBench{e: e, path: []common.Address{e.usdc.Address, e.dai.Address}, amount: e.usdc.Units(1)}
	e.mustSend(e.owner, &e.usdc.Address, nil, tokenABI.PackApprove(e.router, maxUint256))
	for _, p := range gasPolicies {
		s := newAccount(tb)
		if err := e.chain.Fund(e.ctx, s.addr); err != nil {
			tb.Fatal(err)
		}
		cfg := e.swapConfig(swapPolicy{decoys: p.decoys, sameKeyDecoys: p.sameKeyDecoys, usdcPerTx: e.usdc.Units(1_000_000), usdcPerPeriod: e.usdc.Units(1_000_000)})
		if n := len(cfg.Permissions); n != p.decoys+permCount {
			tb.Fatalf("policy %s has %d permissions", p.name, n)
		}
		e.grant(s.addr, cfg)
		g.sessions = append(g.sessions, s)
		// Warm up: the first spend of a period writes fresh slots.
		g.execute(s)
	}
	g.direct()
	return g
}

func (g *gasBench) swap() []byte { return g.e.swapTokens(g.amount, g.path, g.e.owner.addr) }

func (g *gasBench) execute(s *account) uint64 {
	return g.e.execute(s, g.e.router, nil, g.swap()).GasUsed
}

func (g *gasBench) direct() uint64 {
	return g.e.mustSend(g.e.owner, &g.e.router, nil, g.swap()).GasUsed
}

func (g *gasBench) executeBatch(s *account) uint64 {
	calls := make([]call, batchSize)
	for i := range calls {
		calls[i] = call{Target: g.e.router, Value: new(big.Int), Data: g.swap()}
	}
	return g.e.mustSend(s, &g.e.owner.addr, nil, delegateABI.PackExecuteBatch(calls)).GasUsed
}

func (g *gasBench) directBatch() uint64 {
	var total uint64
	for range batchSize {
		total += g.direct()
	}
	return total
}

// TestExecuteGas prints the gas table (go test -v -run TestExecuteGas) and
// checks the shape of the figures, which are deterministic: execute costs
// more than the direct call, permissions on other (target, selector) pairs
// cost nothing per call, and permissions sharing the call's pair do.
func TestExecuteGas(t *testing.T) {
	g := newGasBench(t)
	type row struct {
		name            string
		execute, direct uint64
	}
	var rows []row
	for i, p := range gasPolicies {
		rows = append(rows, row{"swap, " + p.name, g.execute(g.sessions[i]), g.direct()})
	}
	rows = append(rows, row{fmt.Sprintf("batch of %d swaps, %s", batchSize, gasPolicies[0].name), g.executeBatch(g.sessions[0]), g.directBatch()})

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-42s %10s %10s %10s\n", "", "execute", "direct", "overhead")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-42s %10d %10d %+10d\n", r.name, r.execute, r.direct, int64(r.execute)-int64(r.direct))
	}
	t.Log(b.String())

	overhead := func(r row) int64 { return int64(r.execute) - int64(r.direct) }
	few := rows[0]
	if overhead(few) <= 0 {
		t.Errorf("%s: execute %d gas <= direct %d", few.name, few.execute, few.direct)
	}
	for i, r := range rows[1:len(gasPolicies)] {
		p := gasPolicies[i+1]
		// A few gas either way come from calldata: deadlines differ from
		// block to block in how many of their bytes are zero. One permission
		// scanned costs thousands.
		const slack = 100
		d := overhead(r) - overhead(few)
		if !p.sameKeyDecoys && (d > slack || d < -slack) {
			t.Errorf("%s: overhead %d gas, want %d±%d as with %s", r.name, overhead(r), overhead(few), slack, few.name)
		}
		if p.sameKeyDecoys && d <= slack {
			t.Errorf("%s: overhead %d gas, want more than %d", r.name, overhead(r), overhead(few))
		}
	}
}

// BenchmarkExecuteGas reports gas/op of each case; ns/op is the devchain's
// time to mine a transaction and means little.
func BenchmarkExecuteGas(b *testing.B) {
	g := newGasBench(b)
	run := func(name string, op func() uint64) {
		b.Run(name, func(b *testing.B) {
			g.e = g.e.sub(b)
			var gas uint64
			for b.Loop() {
				gas += op()
			}
			b.ReportMetric(float64(gas)/float64(b.N), "gas/op")
		})
	}
	for i, p := range gasPolicies {
		name := strings.Fields(p.name)[0]
		if p.sameKeyDecoys {
			name = "sameKey"
		}
		run(name+"/execute", func() uint64 { return g.execute(g.sessions[i]) })
		run(name+"/direct", g.direct)
	}
	run(fmt.Sprintf("batch%d/execute", batchSize), func() uint64 { return g.executeBatch(g.sessions[0]) })
	run(fmt.Sprintf("batch%d/direct", batchSize), g.directBatch)
}
