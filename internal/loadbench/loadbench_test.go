package loadbench

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/holiman/uint256"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      int
		want   float64
	}{
		{"none", nil, 99, 0},
		{"one", ms(7), 50, 7},
		{"one p99", ms(7), 99, 7},
		{"two p50 is the lower", ms(1, 9), 50, 1},
		{"two p95 is the upper", ms(1, 9), 95, 9},
		{"1..100 p50", ms(hundred...), 50, 50},
		{"1..100 p95", ms(hundred...), 95, 95},
		{"1..100 p99", ms(hundred...), 99, 99},
		{"1..100 p100", ms(hundred...), 100, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(p%d) = %v ms, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestCeiling(t *testing.T) {
	to := common.HexToAddress("0xbeef")
	dynamic := types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(31337), Nonce: 3, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2), Gas: 21000, To: &to, Value: big.NewInt(1)})
	got, err := Ceiling(context.Background(), dynamic, 50*time.Millisecond)
	if err != nil || got <= 0 {
		t.Fatalf("Ceiling = %v, %v; want signatures", got, err)
	}
	if n := withNonce(dynamic, 9); n.Nonce() != 9 || n.Type() != dynamic.Type() || n.Gas() != dynamic.Gas() || *n.To() != to || n.ChainId().Cmp(dynamic.ChainId()) != 0 {
		t.Errorf("withNonce changed more than the nonce: %+v", n)
	}
	setCode := types.NewTx(&types.SetCodeTx{ChainID: uint256.NewInt(31337), Gas: 50000, To: to})
	if _, err := Ceiling(context.Background(), setCode, time.Millisecond); err == nil || !strings.Contains(err.Error(), "type-4") {
		t.Errorf("Ceiling on a type-4 transaction: %v, want a refusal naming the type", err)
	}
	if _, err := Ceiling(context.Background(), types.NewTx(&types.DynamicFeeTx{Gas: 21000, To: &to}), time.Millisecond); err == nil {
		t.Error("Ceiling signed for chain 0")
	}
}
