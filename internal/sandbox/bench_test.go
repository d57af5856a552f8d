package sandbox

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// BenchmarkSignTransaction measures a whole decision over HTTP: auth,
// policy, budget reservation, store nonce, signature and audit record
// committed to SQLite (synchronous=FULL) for eth_signTransaction.
func BenchmarkSignTransaction(b *testing.B) {
	e := start(b)
	g := e.grant(map[string]any{"agent": "bench", "profile": "full-access", "daily_limit": []string{"1000000ETH"}})
	agent := e.agent(g["token"].(string))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var raw hexutil.Bytes
		if err := agent.CallContext(ctx, &raw, "eth_signTransaction", txObj{To: &stranger, Value: wei(0.000001)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
