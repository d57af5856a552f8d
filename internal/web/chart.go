package web

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
)

// bar is one cap of a key drawn as a bar: spent, then pending, then what
// is left, in percent of the cap for the current period.
type bar struct {
	service.BudgetLine
	HasCap     bool    // a per-period cap to draw against (a per-transaction cap alone has none)
	SpentPct   float64 // 0–100
	PendingPct float64 // 0–100 − SpentPct
	Label      string  // the bar in words, for screen readers and tooltips
}

// bars draws each budget line against its limit's cap.
func bars(limits []service.LimitLine, budget []service.BudgetLine) []bar {
	out := make([]bar, 0, len(budget))
	for i, b := range budget {
		capRaw := ""
		if i < len(limits) && limits[i].Asset == b.Asset {
			capRaw = limits[i].RawPeriod
		} else {
			for _, l := range limits {
				if l.Asset == b.Asset {
					capRaw = l.RawPeriod
				}
			}
		}
		v := bar{BudgetLine: b}
		name := b.Symbol
		if name == "" {
			name = b.Asset
		}
		if c, ok := new(big.Int).SetString(capRaw, 10); ok && c.Sign() > 0 {
			v.HasCap = true
			v.SpentPct = percent(b.RawSpent, c)
			v.PendingPct = min(percent(b.RawPending, c), 100-v.SpentPct)
			v.Label = fmt.Sprintf("%s: %s spent, %s pending, %s left of %s per %s", name, b.Spent, b.Pending, b.Remaining, b.PerPeriod, b.Period)
		} else {
			v.Label = fmt.Sprintf("%s: %s spent, %s pending; at most %s per transaction", name, b.Spent, b.Pending, b.PerTx)
		}
		out = append(out, v)
	}
	return out
}

// percent is raw of c in percent, 0–100, to a hundredth.
func percent(raw string, c *big.Int) float64 {
	x, ok := new(big.Int).SetString(raw, 10)
	if !ok || x.Sign() <= 0 {
		return 0
	}
	bp := new(big.Int).Div(new(big.Int).Mul(x, big.NewInt(10000)), c)
	if bp.Cmp(big.NewInt(10000)) > 0 {
		return 100
	}
	return float64(bp.Int64()) / 100
}

// The spend chart's geometry, in SVG user units.
const (
	chartW, chartH          = 640.0, 200.0
	chartLeft, chartRight   = 8.0, 632.0
	chartTop, chartBottom   = 28.0, 172.0
	chartLabelY, chartAxisY = 18.0, 192.0
)

// chart is one asset's cumulative spend drawn server-side as inline SVG,
// with the same numbers as a table for screen readers.
type chart struct {
	Asset, Symbol string
	Total         string // in whole units
	Line          string // SVG polyline points
	Dots          []dot
	From, To      string // the time axis' ends
	Rows          []chartRow
}

type dot struct {
	X, Y  string
	Label string
}

type chartRow struct {
	Time          time.Time
	Amount, Total string
}

// spendChart draws s from the key's grant (or its first kept point, if
// older points were dropped) until now, as a step line: the total after
// each decision that spent.
func spendChart(s series, granted, now time.Time) chart {
	c := chart{Asset: s.Asset, Symbol: s.Symbol, Total: policy.FormatAmount(s.Total, s.Decimals)}
	if c.Symbol == "" {
		c.Symbol = s.Asset
	}
	if len(s.Points) == 0 {
		return c
	}
	first, last := s.Points[0], s.Points[len(s.Points)-1]
	t0, t1 := granted, now
	if first.Time.Before(t0) {
		t0 = first.Time
	}
	if last.Time.After(t1) {
		t1 = last.Time
	}
	span := t1.Sub(t0).Seconds()
	if span <= 0 {
		span = 1
	}
	hi := toFloat(last.Total)
	if hi <= 0 {
		hi = 1
	}
	x := func(t time.Time) float64 { return chartLeft + t.Sub(t0).Seconds()/span*(chartRight-chartLeft) }
	y := func(v *big.Int) float64 { return chartBottom - toFloat(v)/hi*(chartBottom-chartTop) }
	var pts []string
	add := func(px, py float64) { pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py)) }
	prev := new(big.Int).Sub(first.Total, first.Delta)
	add(x(t0), y(prev))
	for _, p := range s.Points {
		add(x(p.Time), y(prev))
		add(x(p.Time), y(p.Total))
		amount, total := policy.FormatAmount(p.Delta, s.Decimals), policy.FormatAmount(p.Total, s.Decimals)
		c.Dots = append(c.Dots, dot{X: fmt.Sprintf("%.1f", x(p.Time)), Y: fmt.Sprintf("%.1f", y(p.Total)),
			Label: fmt.Sprintf("%s: +%s %s, %s in all", p.Time.UTC().Format("2006-01-02 15:04:05 UTC"), amount, c.Symbol, total)})
		c.Rows = append([]chartRow{{Time: p.Time, Amount: amount, Total: total}}, c.Rows...)
		prev = p.Total
	}
	add(x(t1), y(prev))
	c.Line = strings.Join(pts, " ")
	c.From, c.To = t0.UTC().Format("Jan 2 15:04"), t1.UTC().Format("Jan 2 15:04 UTC")
	return c
}

func toFloat(v *big.Int) float64 {
	f, _ := new(big.Float).SetInt(v).Float64()
	return f
}
