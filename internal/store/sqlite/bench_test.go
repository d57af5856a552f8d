package sqlite

import (
	"context"
	"math/big"
	"testing"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// decideOnce is a typical allowed request: read spend and rate, reserve,
// take a nonce, audit. Each is one durable (fsynced) commit.
func decideOnce(ctx context.Context, tx store.DecideTx) error {
	if _, err := tx.Spent(ctx, store.AssetNative, t0); err != nil {
		return err
	}
	if _, err := tx.Requests(ctx, t0); err != nil {
		return err
	}
	if err := tx.Reserve(ctx, t0, []store.Spend{{Asset: store.AssetNative, Amount: big.NewInt(1e15)}}); err != nil {
		return err
	}
	if _, err := tx.NextNonce(ctx, 1, wallet, 0); err != nil {
		return err
	}
	_, err := tx.AppendAudit(ctx, audit.Record{Time: t0, Method: "eth_sendTransaction", Decision: audit.DecisionAllow,
		Call: []byte(`{"to":"0x7a250d5630b4cf539739df2c5dacb4c659f2488d","value":"0x38d7ea4c68000"}`)})
	return err
}

// BenchmarkDecide reports the cost of one full decision transaction. Spent
// scans this grant's reservations in the window, so ns/op grows slowly with
// b.N; the figure is for comparison between changes, not an absolute.
func BenchmarkDecide(b *testing.B) {
	for _, mode := range []string{"sequential", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			s := openTemp(b)
			seedTB(b, s)
			b.ReportAllocs()
			b.ResetTimer()
			if mode == "sequential" {
				for b.Loop() {
					if err := s.Decide(b.Context(), "g", decideOnce); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
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
}
