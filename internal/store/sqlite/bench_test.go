package sqlite

import (
	"context"
	"fmt"
	"math/big"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// benchNow is when the benchmarked decisions happen: late in the budget
// period that began at t0, after the key's prior requests.
var benchNow = t0.Add(12 * time.Hour)

var benchTx atomic.Uint64

// decideOnce is a typical allowed request: read spend and rate, reserve
// value and worst-case fee for the signed transaction, take a nonce,
// audit. Each is one durable (fsynced) commit.
func decideOnce(ctx context.Context, tx store.DecideTx) error {
	if _, err := tx.Spent(ctx, store.AssetNative, t0); err != nil {
		return err
	}
	if _, err := tx.Requests(ctx, benchNow.Add(-time.Minute), 600); err != nil {
		return err
	}
	hash := fmt.Sprintf("0x%064x", 1<<40+benchTx.Add(1))
	if err := tx.ReserveTx(ctx, benchNow, hash, []store.Spend{
		{Asset: store.AssetNative, Amount: big.NewInt(1e15)},
		{Asset: store.AssetNative, Amount: big.NewInt(3e14), Fee: true},
	}); err != nil {
		return err
	}
	if _, err := tx.NextNonce(ctx, 1, wallet, 0); err != nil {
		return err
	}
	_, err := tx.AppendAudit(ctx, audit.Record{Time: benchNow, Method: "eth_sendTransaction", Decision: audit.DecisionAllow, TxHash: hash,
		Call: []byte(`{"to":"0x7a250d5630b4cf539739df2c5dacb4c659f2488d","value":"0x38d7ea4c68000"}`)})
	return err
}

// seedHistory gives grant g n earlier requests in the current period, as
// the daemon leaves them: a pending transaction (value and fee) and an
// audit record each, spread over the hours before benchNow.
func seedHistory(tb testing.TB, s *Store, n int) {
	tb.Helper()
	const batch = 10_000
	step := 11 * time.Hour / time.Duration(n)
	for done := 0; done < n; done += batch {
		err := s.Decide(tb.Context(), "g", func(ctx context.Context, tx store.DecideTx) error {
			// Every decision reads the period's total before it reserves.
			if _, err := tx.Spent(ctx, store.AssetNative, t0); err != nil {
				return err
			}
			for i := done; i < min(done+batch, n); i++ {
				at := t0.Add(time.Duration(i) * step)
				hash := fmt.Sprintf("0x%064x", i+1)
				if err := tx.ReserveTx(ctx, at, hash, []store.Spend{
					{Asset: store.AssetNative, Amount: big.NewInt(1e12)},
					{Asset: store.AssetNative, Amount: big.NewInt(3e11), Fee: true},
				}); err != nil {
					return err
				}
				if _, err := tx.AppendAudit(ctx, audit.Record{Time: at, Method: "eth_sendTransaction", Decision: audit.DecisionAllow, TxHash: hash}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkDecide reports the cost of one full decision transaction for a
// key with 100 and with 100,000 earlier requests in the period. Spent is
// one running-total row, so the two figures should be about the same; the
// figures are for comparison between changes, not absolutes.
func BenchmarkDecide(b *testing.B) {
	for _, prior := range []int{100, 100_000} {
		b.Run(fmt.Sprintf("prior=%d", prior), func(b *testing.B) {
			s := openTemp(b)
			seedTB(b, s)
			seedHistory(b, s, prior)
			for _, mode := range []string{"sequential", "parallel"} {
				b.Run(mode, func(b *testing.B) {
					b.ReportAllocs()
					if mode == "sequential" {
						for b.Loop() {
							if err := s.Decide(b.Context(), "g", decideOnce); err != nil {
								b.Fatal(err)
							}
						}
						return
					}
					// 64 goroutines, as 64 agents: decisions queue for the
					// writer, which commits those waiting together.
					b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := s.Decide(context.Background(), "g", decideOnce); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		})
	}
}
