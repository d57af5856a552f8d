package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/limit"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
)

func mustDoc(t *testing.T, text string) *policy.Document {
	t.Helper()
	doc, err := policy.ParseDocument([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func limitErr(t *testing.T, err error) *service.LimitError {
	t.Helper()
	var le *service.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T), want a *service.LimitError", err, err)
	}
	return le
}

// TestCredentialFailures: a source past its free failures is refused
// unchecked, even with a good credential, until its wait is over; another
// source is not; its failures leave one aggregate record per window, and
// reaching the alert threshold adds a credential_failures anomaly record
// naming it, which the alert handler takes like any anomaly.
func TestCredentialFailures(t *testing.T) {
	clk := clock.NewFake(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	e := startPipelineWith(t, clk.Now, service.Limits{Failures: limit.FailureConfig{Free: 3, Base: time.Second, Alert: 4, Window: time.Minute}})
	ctx := context.Background()
	cid := e.chain.ChainID().Uint64()
	res, err := e.svc.Grant(ctx, service.GrantRequest{Agent: "good", Doc: mustDoc(t, fmt.Sprintf("name: g\nchains: [%d]\nlimits: [{asset: native, per_period: 1}]\nallow: []\n", cid))})
	if err != nil {
		t.Fatal(err)
	}
	good := res.Token.Reveal()
	bad := service.RequestInfo{Method: "eth_chainId", IP: netip.MustParseAddr("203.0.113.9")}
	other := service.RequestInfo{Method: "eth_chainId", IP: netip.MustParseAddr("198.51.100.4")}
	head, _ := e.node.store.AuditHead(ctx)
	for i := range 4 {
		if _, err := e.svc.Authenticate(ctx, "ak_aaaaaaaaaaaa_"+strings.Repeat("0", 64), bad); credentialReason(t, err) != "unknown credential" {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	le := limitErr(t, func() error { _, err := e.svc.Authenticate(ctx, good, bad); return err }())
	if le.RetryAfter != time.Second || le.RetrySeconds() != 1 {
		t.Errorf("retry after %s", le.RetryAfter)
	}
	if _, err := e.svc.Authenticate(ctx, good, other); err != nil {
		t.Errorf("another source: %v", err)
	}
	clk.Advance(time.Second)
	if _, err := e.svc.Authenticate(ctx, good, bad); err != nil {
		t.Errorf("after the wait: %v", err)
	}
	if h, _ := e.node.store.AuditHead(ctx); h.Seq != head.Seq {
		t.Errorf("%d records appended one by one for failed credentials", h.Seq-head.Seq)
	}
	if err := e.svc.FlushLimits(ctx, false); err != nil {
		t.Fatal(err)
	}
	if h, _ := e.node.store.AuditHead(ctx); h.Seq != head.Seq {
		t.Errorf("flushed before the window ended")
	}
	clk.Advance(time.Minute)
	if err := e.svc.FlushLimits(ctx, false); err != nil {
		t.Fatal(err)
	}
	recs, err := e.node.store.AuditRecords(ctx, head.Seq, 10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("records after the window: %d (%v), want the aggregate and its anomaly", len(recs), err)
	}
	var agg limit.Aggregate
	if err := json.Unmarshal(recs[0].Call, &agg); err != nil || recs[0].Method != service.MethodCredentialFailures || agg.Failed != 4 || agg.Throttled != 1 ||
		agg.Source != "203.0.113.9" || !strings.Contains(recs[0].Reasons[0], "4 failed credentials on rpc from 203.0.113.9") {
		t.Errorf("aggregate %s %q (%v)", recs[0].Call, recs[0].Reasons, err)
	}
	ev, ok, err := service.AnomalyOf(recs[1])
	if !ok || err != nil || ev.Kind != service.AnomalyCredentialFailures || ev.KeyID != "" || len(ev.Records) != 1 || ev.Records[0] != recs[0].Seq || ev.Severity != service.SeverityWarning {
		t.Errorf("anomaly %+v (%v)", ev, err)
	}
	if err := e.svc.Feed().Sync(ctx); err != nil {
		t.Fatalf("the feed's handlers (alerts, detector) on the anomaly: %v", err)
	}
}

// TestRequestLimits: a key gets its policy's rate, a key without one the
// default; one key spending its limit leaves another alone; refusals
// leave one record per key and window, not one each; the global limit
// holds for everyone.
func TestRequestLimits(t *testing.T) {
	clk := clock.NewFake(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	e := startPipelineWith(t, clk.Now, service.Limits{Rates: &limit.RateConfig{Global: 30, GlobalPer: time.Second, Key: 5, KeyPer: time.Second}})
	ctx := context.Background()
	cid := e.chain.ChainID().Uint64()
	grant := func(agent, extra string) string {
		res, err := e.svc.Grant(ctx, service.GrantRequest{Agent: agent, Doc: mustDoc(t, fmt.Sprintf("name: %s\nchains: [%d]\nlimits: [{asset: native, per_period: 1}]\n%sallow: []\n", agent, cid, extra))})
		if err != nil {
			t.Fatal(err)
		}
		return res.Token.Reveal()
	}
	flood, calm, rated := grant("flood", ""), grant("calm", ""), grant("rated", "rate: {max: 2, per: 1m}\n")
	info := service.RequestInfo{Method: "eth_chainId", IP: netip.MustParseAddr("192.0.2.1")}
	passed := func(tok string, n int) int {
		ok := 0
		for range n {
			_, err := e.svc.Authenticate(ctx, tok, info)
			if err == nil {
				ok++
			} else {
				limitErr(t, err)
			}
		}
		return ok
	}
	head, _ := e.node.store.AuditHead(ctx)
	if got := passed(flood, 20); got != 5 {
		t.Errorf("a key without a rate: %d of 20 passed, want 5", got)
	}
	if got := passed(calm, 2); got != 2 {
		t.Errorf("another key: %d of 2 passed", got)
	}
	if got := passed(rated, 5); got != 2 {
		t.Errorf("a key with a rate of 2/1m: %d of 5 passed", got)
	}
	if h, _ := e.node.store.AuditHead(ctx); h.Seq != head.Seq {
		t.Errorf("%d records for refused requests", h.Seq-head.Seq)
	}
	clk.Advance(time.Second)
	total := 0
	for i := range 40 {
		tok := grant(fmt.Sprintf("k%d", i), "")
		if _, err := e.svc.Authenticate(ctx, tok, info); err == nil {
			total++
		}
	}
	if total >= 40 {
		t.Errorf("the global limit let all 40 through")
	}
	clk.Advance(time.Minute)
	if err := e.svc.FlushLimits(ctx, false); err != nil {
		t.Fatal(err)
	}
	recs, err := e.node.store.AuditRecords(ctx, head.Seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]int{}
	for _, r := range recs {
		if r.Method != service.MethodRateLimited {
			continue
		}
		var c limit.Refused
		if err := json.Unmarshal(r.Call, &c); err != nil || r.Decision != audit.DecisionDeny {
			t.Errorf("record %s (%v)", r.Call, err)
		}
		refused[c.Key] += c.Count
	}
	if refused[""] == 0 || len(refused) != 3 {
		t.Errorf("refusals recorded %v, want the two keys and the global limit", refused)
	}
}
