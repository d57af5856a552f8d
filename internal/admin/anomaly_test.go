package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/service"
)

// The owner's side of anomalies over the API: a key suspended by a
// refusal burst shows its status, reason and anomaly; the anomaly list
// filters by key and age; suspend and resume are one call each; bad
// filters are refused naming the field.
func TestAnomaliesSuspendResume(t *testing.T) {
	e := start(t)
	policy := "name: p\nchains: [31337]\nanomalies:\n  refusal_burst: {on_anomaly: suspend, count: 2}\n"
	body, _ := json.Marshal(map[string]string{"agent": "bot", "policy": policy})
	g := e.grant(t, string(body))
	other := e.grant(t, `{"agent":"calm","profile":"read-only"}`)

	ctx := context.Background()
	info := service.RequestInfo{Method: "eth_sign", IP: netip.MustParseAddr("127.0.0.1")}
	sess, err := e.svc.Authenticate(ctx, g.Token, info)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Invalid(ctx, sess, info, "unsupported")
	e.svc.Invalid(ctx, sess, info, "unsupported")
	if err := e.svc.Feed().Sync(ctx); err != nil {
		t.Fatal(err)
	}

	var shown struct {
		Status        string                 `json:"status"`
		SuspendReason string                 `json:"suspend_reason"`
		Anomalies     []service.AnomalyEvent `json:"anomalies"`
	}
	status, out := e.do(t, "GET", "/v1/grants/"+g.KeyID, "")
	if status != http.StatusOK || json.Unmarshal(out, &shown) != nil {
		t.Fatalf("show: HTTP %d %s", status, out)
	}
	if shown.Status != "suspended" || !strings.Contains(shown.SuspendReason, "refusal_burst") || len(shown.Anomalies) != 1 || shown.Anomalies[0].Kind != "refusal_burst" {
		t.Fatalf("show: %+v", shown)
	}

	list := func(query string) []service.AnomalyEvent {
		t.Helper()
		status, out := e.do(t, "GET", "/v1/anomalies"+query, "")
		var as []service.AnomalyEvent
		if status != http.StatusOK || json.Unmarshal(out, &as) != nil {
			t.Fatalf("anomalies%s: HTTP %d %s", query, status, out)
		}
		return as
	}
	if as := list("?key=" + g.KeyID + "&since=1h"); len(as) != 1 || as[0].KeyID != g.KeyID || len(as[0].Records) != 2 {
		t.Errorf("this key's anomalies: %+v", as)
	}
	if as := list("?key=" + other.KeyID); len(as) != 0 {
		t.Errorf("the calm key's anomalies: %+v", as)
	}
	e.clock.Advance(2 * time.Hour)
	if as := list("?since=1h"); len(as) != 0 {
		t.Errorf("anomalies of the last hour, two hours later: %+v", as)
	}
	for _, c := range []struct {
		query  string
		status int
		field  string
	}{
		{"?since=yesterday", http.StatusBadRequest, "since"},
		{"?limit=0", http.StatusBadRequest, "limit"},
		{"?key=ak_nope", http.StatusNotFound, "no such key"},
	} {
		status, out := e.do(t, "GET", "/v1/anomalies"+c.query, "")
		if status != c.status || !strings.Contains(errorOf(t, out), c.field) {
			t.Errorf("anomalies%s: HTTP %d %s; want %d naming %s", c.query, status, out, c.status, c.field)
		}
	}

	var v grantView
	status, out = e.do(t, "POST", "/v1/grants/"+g.KeyID+"/resume", "")
	if status != http.StatusOK || json.Unmarshal(out, &v) != nil || v.Status != "active" {
		t.Fatalf("resume: HTTP %d %s", status, out)
	}
	status, out = e.do(t, "POST", "/v1/grants/"+other.KeyID+"/suspend", `{"reason":"rotating it"}`)
	if status != http.StatusOK || !strings.Contains(string(out), `"suspend_reason": "rotating it"`) {
		t.Fatalf("suspend: HTTP %d %s", status, out)
	}
	if status, out = e.do(t, "POST", "/v1/grants/"+other.KeyID+"/suspend", `{"why":"x"}`); status != http.StatusBadRequest {
		t.Errorf("suspend with an unknown field: HTTP %d %s", status, out)
	}
	if status, _ = e.do(t, "POST", "/v1/grants/ak_nope/resume", ""); status != http.StatusNotFound {
		t.Errorf("resume of an unknown key: HTTP %d", status)
	}
}
