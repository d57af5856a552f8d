package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetrics: /metrics on the admin listener needs the admin credential,
// and after an agent's allowed, refused and unsupported requests it shows
// them by method and decision, the refusal by class, both latency
// histograms, the key's budget against its cap and the audit chain's
// length. The counters come from the audit log, so a restarted daemon
// shows the same counts.
func TestMetrics(t *testing.T) {
	dir, adminCred, chain := newServeHome(t)
	d := runServe(t, dir, chain.URL())

	policy := "name: metered\nchains: [31337]\nvalid_for: 1h\nmessages: allow\nlimits:\n  - { asset: native, per_tx: 1ETH, per_period: 2ETH, period: 1d }\n"
	body, _ := json.Marshal(map[string]string{"agent": "bot", "policy": policy})
	grant := postJSON(t, http.DefaultClient, d.adminURL+"/v1/grants", adminCred.Reveal(), string(body), nil)
	var g struct {
		KeyID   string `json:"key_id"`
		Token   string `json:"token"`
		Address string `json:"address"`
	}
	if err := json.Unmarshal([]byte(grant), &g); err != nil || g.Token == "" {
		t.Fatalf("grant: %s", grant)
	}
	call := func(method, params string) string {
		return postJSON(t, http.DefaultClient, d.agentURL+"/rpc", g.Token, fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q,"params":%s}`, method, params), nil)
	}
	if out := call("personal_sign", fmt.Sprintf(`["hello","%s"]`, g.Address)); !strings.Contains(out, `"result":"0x`) {
		t.Fatalf("personal_sign: %s", out)
	}
	stranger := "0x000000000000000000000000000000000000dEaD"
	if out := call("eth_signTransaction", fmt.Sprintf(`[{"from":"%s","to":"%s","value":"0x4563918244f40000","gas":"0x5208","maxFeePerGas":"0x3b9aca00","maxPriorityFeePerGas":"0x1"}]`,
		g.Address, stranger)); !strings.Contains(out, `"code":4001`) {
		t.Fatalf("a transfer over the per-transaction cap: %s", out)
	}
	if out := call("eth_mine", `[]`); !strings.Contains(out, "not supported") {
		t.Fatalf("eth_mine: %s", out)
	}

	if code, _ := httpDo(t, http.DefaultClient, "GET", d.adminURL+"/metrics", "", "", nil); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the admin credential: %d", code)
	}
	if code, _ := httpDo(t, http.DefaultClient, "GET", d.agentURL+"/metrics", adminCred.Reveal(), "", nil); code != http.StatusNotFound {
		t.Errorf("/metrics on the agents' listener: %d, want 404", code)
	}
	// The feed counts as records commit, apart from the requests: poll
	// (up to 200 scrapes) until it caught up.
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"agentkeys_requests_total", map[string]string{"method": "personal_sign", "decision": "allow"}, 1},
		{"agentkeys_requests_total", map[string]string{"method": "eth_signTransaction", "decision": "deny"}, 1},
		{"agentkeys_requests_total", map[string]string{"method": "other", "decision": "deny"}, 1},
		// Over both caps, and no rule allows the plain transfer: three
		// reasons in one refusal.
		{"agentkeys_refusals_total", map[string]string{"reason": "budget"}, 2},
		{"agentkeys_refusals_total", map[string]string{"reason": "target"}, 1},
		{"agentkeys_refusals_total", map[string]string{"reason": "request"}, 1},
		{"agentkeys_budget_cap", map[string]string{"key_id": g.KeyID, "asset": "native", "period": "24h"}, 2},
		{"agentkeys_budget_used", map[string]string{"key_id": g.KeyID, "asset": "native"}, 0},
		{"agentkeys_gauges_error", nil, 0},
	}
	var fams map[string]*dto.MetricFamily
	caughtUp := func() {
		for i := 0; ; i++ {
			fams = scrapeMetrics(t, d.adminURL, adminCred.Reveal())
			ok := true
			for _, w := range want {
				if v, found := metricValue(fams, w.name, w.labels); !found || v != w.value {
					ok = false
					if i == 200 {
						t.Errorf("%s%v = %v (found %v), want %v\n%s", w.name, w.labels, v, found, w.value, fams[w.name])
					}
				}
			}
			if ok || i == 200 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	caughtUp()
	if v, _ := metricValue(fams, "agentkeys_request_seconds", map[string]string{"method": "personal_sign"}); v != 1 {
		t.Errorf("request latency samples for personal_sign: %v, want 1", v)
	}
	if v, _ := metricValue(fams, "agentkeys_decision_seconds", nil); v < 2 {
		t.Errorf("decision latency samples: %v, want at least 2", v)
	}
	if v, _ := metricValue(fams, "agentkeys_audit_chain_length", nil); v < 4 {
		t.Errorf("audit chain length %v, want at least 4 (grant and three requests)", v)
	}
	if strings.Contains(fmt.Sprint(fams), "eth_mine") {
		t.Error("a method name the agent made up became a label value")
	}

	// A restarted daemon counts the same from the audit log.
	d.stop()
	d = runServe(t, dir, chain.URL())
	caughtUp()
}

// scrapeMetrics reads and parses the daemon's /metrics with the admin
// credential.
func scrapeMetrics(t *testing.T, adminURL, token string) map[string]*dto.MetricFamily {
	t.Helper()
	code, text := httpDo(t, http.DefaultClient, "GET", adminURL+"/metrics", token, "", nil)
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, text)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metricValue is the value (a histogram's sample count) of the first
// series of name carrying labels, and whether there is one.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for k, v := range labels {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}
