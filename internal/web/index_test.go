package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/service"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func call(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The index files each record under the key it names (in KeyID, or in its
// call for the owner's actions and anomalies), keeps refusals and
// anomalies apart, and adds a decision's spend per asset into one point.
func TestIndexFilesRecordsByKey(t *testing.T) {
	x := newIndex()
	ctx := context.Background()
	spend := []map[string]any{
		{"asset": "native", "symbol": "ETH", "decimals": 18, "raw": "20000000000000000", "amount": "0.02"},
		{"asset": "native", "symbol": "ETH", "decimals": 18, "raw": "1000", "amount": "0.000000000000001", "fee": true},
		{"asset": "0xa0b8", "symbol": "USDC", "decimals": 6, "raw": "5000000", "amount": "5"},
	}
	anomaly := service.AnomalyEvent{ID: "an1", KeyID: "key1", Kind: service.AnomalyRefusalBurst, Severity: service.SeverityCritical,
		Summary: "5 refusals in 1m", At: t0.Add(3 * time.Minute), Records: []int64{3}, Response: "suspend"}
	recs := []audit.Record{
		{Seq: 1, Time: t0, Method: "agentkeys_grant", Decision: audit.DecisionAllow, Call: call(t, map[string]any{"key_id": "key1", "agent": "bot"})},
		{Seq: 2, Time: t0.Add(time.Minute), KeyID: "key1", Method: "eth_sendTransaction", Decision: audit.DecisionAllow, TxHash: "0xabc",
			CallerIP: "127.0.0.1", Call: call(t, map[string]any{"kind": "transaction", "calls": []map[string]any{{"function": "swap(uint256)"}}, "spend": spend})},
		{Seq: 3, Time: t0.Add(2 * time.Minute), KeyID: "key1", Method: "eth_sendTransaction", Decision: audit.DecisionDeny,
			Reasons: []string{"transfer is not allowed", strings.Repeat("x", 1000)}, Call: call(t, map[string]any{"spend": spend})},
		{Seq: 4, Time: t0.Add(3 * time.Minute), Method: service.MethodAnomaly, Decision: audit.DecisionAllow, Call: call(t, anomaly)},
		{Seq: 5, Time: t0.Add(4 * time.Minute), KeyID: "key2", Method: "eth_chainId", Decision: audit.DecisionAllow},
		{Seq: 6, Time: t0.Add(5 * time.Minute), Method: "agentkeys_revoke", Decision: audit.DecisionAllow, Call: call(t, map[string]any{"key_id": "<script>"})},
	}
	for _, r := range recs {
		if err := x.add(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	k := x.key("key1")
	seqs := func(es []entry) []int64 {
		out := []int64{}
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	if diff := cmp.Diff([]int64{4, 3, 2, 1}, seqs(k.Timeline)); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{3}, seqs(k.Refusals)); diff != "" {
		t.Errorf("refusals (-want +got):\n%s", diff)
	}
	if len(k.Anomalies) != 1 || k.Anomalies[0].Anomaly == nil || k.Anomalies[0].Anomaly.Kind != service.AnomalyRefusalBurst ||
		k.Anomalies[0].Anomaly.Severity != service.SeverityCritical || k.Anomalies[0].Anomaly.Response != "suspend" {
		t.Errorf("anomalies = %+v", k.Anomalies)
	}
	if r := k.Refusals[0].Reasons; len(r) != 2 || len(r[1]) > maxReasonLen+len("…") {
		t.Errorf("a long reason was not bounded: %d bytes", len(r[1]))
	}
	// The refused request's spend is not spend; the allowed one's ETH
	// value and fee make one point.
	var got []string
	for _, s := range k.Spend {
		for _, p := range s.Points {
			got = append(got, s.Symbol+" "+p.Delta.String()+" "+p.Total.String())
		}
	}
	if diff := cmp.Diff([]string{"ETH 20000000000001000 20000000000001000", "USDC 5000000 5000000"}, got); diff != "" {
		t.Errorf("spend points (-want +got):\n%s", diff)
	}
	if k2 := x.key("key2"); len(k2.Timeline) != 1 || len(k2.Spend) != 0 {
		t.Errorf("key2 = %+v", k2)
	}
	if bad := x.key("<script>"); len(bad.Timeline) != 0 {
		t.Errorf("a key id that is not one was indexed: %+v", bad)
	}
	if diff := cmp.Diff([]int64{5, 6}, seqs(x.recent(4))); diff != "" {
		t.Errorf("recent after 4 (-want +got):\n%s", diff)
	}
}

// The index keeps only the newest records of a key and of the feed, but
// its spend totals count every record.
func TestIndexIsBounded(t *testing.T) {
	x := newIndex()
	n := keepPoints + 10
	for i := 1; i <= n; i++ {
		r := audit.Record{Seq: int64(i), Time: t0.Add(time.Duration(i) * time.Second), KeyID: "k", Method: "eth_sendTransaction",
			Decision: audit.DecisionAllow, Call: call(t, map[string]any{"spend": []map[string]any{{"asset": "native", "decimals": 18, "raw": "1"}}})}
		if err := x.add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	k := x.key("k")
	if len(k.Timeline) != keepPerKey || k.Timeline[0].Seq != int64(n) {
		t.Errorf("timeline keeps %d, newest %d; want %d, newest %d", len(k.Timeline), k.Timeline[0].Seq, keepPerKey, n)
	}
	if got := len(x.recent(0)); got != keepFeed {
		t.Errorf("the feed keeps %d, want %d", got, keepFeed)
	}
	s := k.Spend[0]
	if len(s.Points) != keepPoints || s.Total.Int64() != int64(n) || s.Points[len(s.Points)-1].Total.Int64() != int64(n) {
		t.Errorf("spend keeps %d points, total %s; want %d points, total %d", len(s.Points), s.Total, keepPoints, n)
	}
}

// The index keeps the keys whose records came last, at most its size, and
// then says the view may be partial; keeping a key's newest records costs
// no copy of them all per record.
func TestIndexKeepsTheKeysUsedLast(t *testing.T) {
	x := newIndexOf(2)
	ctx := context.Background()
	add := func(seq int64, key string) {
		t.Helper()
		if err := x.add(ctx, audit.Record{Seq: seq, Time: t0.Add(time.Duration(seq) * time.Second), KeyID: key, Method: "eth_chainId", Decision: audit.DecisionAllow}); err != nil {
			t.Fatal(err)
		}
	}
	add(1, "a")
	add(2, "b")
	if v := x.key("a"); len(v.Timeline) != 1 || v.Partial {
		t.Fatalf("a before any key was dropped: %+v", v)
	}
	add(3, "a") // a is now the key used last
	add(4, "c") // drops b
	if v := x.key("b"); len(v.Timeline) != 0 || !v.Partial || v.Kept != 2 {
		t.Errorf("b after it was dropped: %+v", v)
	}
	if v := x.key("a"); len(v.Timeline) != 2 || v.Timeline[0].Seq != 3 {
		t.Errorf("a: %+v, want its two records, newest first", v.Timeline)
	}
	add(5, "b") // back, with only what came since
	if v := x.key("b"); len(v.Timeline) != 1 || v.Timeline[0].Seq != 5 {
		t.Errorf("b again: %+v", v.Timeline)
	}

	// Many records of one key: the newest keepPerKey, newest first, and
	// the feed's newest keepFeed.
	y := newIndex()
	for seq := int64(1); seq <= 5*keepPerKey+7; seq++ {
		if err := y.add(ctx, audit.Record{Seq: seq, Time: t0, KeyID: "k", Method: "eth_chainId", Decision: audit.DecisionDeny}); err != nil {
			t.Fatal(err)
		}
	}
	v := y.key("k")
	last := int64(5*keepPerKey + 7)
	if len(v.Timeline) != keepPerKey || v.Timeline[0].Seq != last || v.Timeline[keepPerKey-1].Seq != last-keepPerKey+1 ||
		len(v.Refusals) != keepPerKey || v.Refusals[0].Seq != last {
		t.Errorf("timeline %d entries from %d, refusals %d", len(v.Timeline), v.Timeline[0].Seq, len(v.Refusals))
	}
	if r := y.recent(0); len(r) != keepFeed || r[0].Seq != last-keepFeed+1 || r[keepFeed-1].Seq != last {
		t.Errorf("recent: %d entries", len(r))
	}
}
