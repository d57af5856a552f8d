package web

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/service"
)

func TestBars(t *testing.T) {
	limits := []service.LimitLine{
		{Asset: "native", Symbol: "ETH", PerPeriod: "0.1", RawPeriod: "100", Period: "24h"},
		{Asset: "0xa0b8", Symbol: "USDC", PerTx: "5", RawPerTx: "5"},
		{Asset: "fees", Symbol: "ETH", PerPeriod: "1", RawPeriod: "10", Period: "24h"},
	}
	budget := []service.BudgetLine{
		{Asset: "native", Symbol: "ETH", RawSpent: "25", RawPending: "50", Spent: "0.025", Pending: "0.05", Remaining: "0.025", PerPeriod: "0.1", Period: "24h"},
		{Asset: "0xa0b8", Symbol: "USDC", RawSpent: "0", RawPending: "0", Spent: "0", Pending: "0", PerTx: "5"},
		{Asset: "fees", Symbol: "ETH", RawSpent: "9", RawPending: "7", Spent: "0.9", Pending: "0.7", Remaining: "0", PerPeriod: "1", Period: "24h"},
	}
	got := bars(limits, budget)
	type shape struct {
		HasCap            bool
		Spent, Pending    float64
		LabelHasRemaining bool
	}
	var shapes []shape
	for _, b := range got {
		shapes = append(shapes, shape{b.HasCap, b.SpentPct, b.PendingPct, strings.Contains(b.Label, "left of")})
	}
	want := []shape{
		{true, 25, 50, true},
		{false, 0, 0, false}, // a per-transaction cap alone has no bar
		{true, 90, 10, true}, // pending beyond the cap is drawn up to it
	}
	if diff := cmp.Diff(want, shapes); diff != "" {
		t.Errorf("bars (-want +got):\n%s", diff)
	}
}

// The chart is a step line from the grant to now through each decision's
// total, and a row per decision.
func TestSpendChart(t *testing.T) {
	pts := []point{
		{Time: t0.Add(time.Hour), Seq: 2, Delta: big.NewInt(1e17), Total: big.NewInt(1e17)},
		{Time: t0.Add(3 * time.Hour), Seq: 5, Delta: big.NewInt(3e17), Total: big.NewInt(4e17)},
	}
	c := spendChart(series{Asset: "native", Symbol: "ETH", Decimals: 18, Total: big.NewInt(4e17), Points: pts}, t0, t0.Add(4*time.Hour))
	// x: 8 + hours/4 × 624; y: 172 − total/0.4 × 144.
	want := "8.0,172.0 164.0,172.0 164.0,136.0 476.0,136.0 476.0,28.0 632.0,28.0"
	if c.Line != want {
		t.Errorf("line = %q, want %q", c.Line, want)
	}
	if c.Total != "0.4" || len(c.Dots) != 2 || len(c.Rows) != 2 || c.Rows[0].Total != "0.4" || c.Rows[1].Amount != "0.1" {
		t.Errorf("chart = %+v", c)
	}
	if empty := spendChart(series{Asset: "native", Total: new(big.Int)}, t0, t0); empty.Line != "" || empty.Symbol != "native" {
		t.Errorf("an empty series draws %+v", empty)
	}
}
