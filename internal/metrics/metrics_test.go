package metrics

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/service"
)

// Records count by what they are: agent requests by bounded method and
// decision, refusal reasons by class, anomalies by kind; the owner's and
// the daemon's records not at all.
func TestRecordCounts(t *testing.T) {
	m := New(func(method string) bool { return method == "eth_sendTransaction" }, nil)
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	ev, _ := json.Marshal(service.AnomalyEvent{ID: "a1", KeyID: "k", Kind: service.AnomalyRefusalBurst, Severity: service.SeverityCritical})
	for _, r := range []audit.Record{
		{Time: at, KeyID: "k", Method: "eth_sendTransaction", Decision: audit.DecisionAllow},
		{Time: at, KeyID: "k", Method: "eth_sendTransaction", Decision: audit.DecisionDeny, Reasons: []string{"rate limit reached: at most 5 requests per 1m"}},
		{Time: at, KeyID: "k", Method: strings.Repeat("x", 64), Decision: audit.DecisionDeny, Reasons: []string{"method x is not supported by agentkeys"}},
		{Time: at, Method: "agentkeys_revoke", Decision: audit.DecisionAllow},
		{Time: at, Method: service.MethodAnomaly, Decision: audit.DecisionAllow, Call: ev},
		// Aggregates: 7 failed credentials and 2 refused unchecked; 4 requests over a key's limit.
		{Time: at, Method: service.MethodCredentialFailures, Decision: audit.DecisionDeny, Call: []byte(`{"surface":"rpc","source":"192.0.2.1","failed":7,"throttled":2}`)},
		{Time: at, Method: service.MethodRateLimited, Decision: audit.DecisionDeny, Call: []byte(`{"key_id":"k","refused":4}`)},
	} {
		if err := m.Record(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	want := `
# HELP agentkeys_requests_total Agent requests in the audit log, by JSON-RPC method or MCP tool (mcp:<tool>) and decision (allow, deny, error).
# TYPE agentkeys_requests_total counter
agentkeys_requests_total{decision="allow",method="eth_sendTransaction"} 1
agentkeys_requests_total{decision="deny",method="eth_sendTransaction"} 1
agentkeys_requests_total{decision="deny",method="other"} 1
# HELP agentkeys_refusals_total Reasons agent requests were refused, by class (budget, rate, target, network, schedule, credential, ...).
# TYPE agentkeys_refusals_total counter
agentkeys_refusals_total{reason="credential"} 9
agentkeys_refusals_total{reason="rate"} 5
agentkeys_refusals_total{reason="request"} 1
# HELP agentkeys_anomalies_total Anomalies raised, by kind and severity.
# TYPE agentkeys_anomalies_total counter
agentkeys_anomalies_total{kind="refusal_burst",severity="critical"} 1
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "agentkeys_requests_total", "agentkeys_refusals_total", "agentkeys_anomalies_total"); err != nil {
		t.Error(err)
	}
	// A malformed anomaly record is reported, not counted.
	if err := m.Record(t.Context(), audit.Record{Time: at, Method: service.MethodAnomaly, Decision: audit.DecisionAllow, Call: []byte("{")}); err == nil {
		t.Error("a malformed anomaly record was taken")
	}
}
