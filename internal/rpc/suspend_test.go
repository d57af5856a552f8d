package rpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/service"
)

// probedPolicy lets the key pay one address and suspends it on a burst of
// refusals: a hijacked agent testing what else it may do.
const probedPolicy = `name: probed
chains: [31337]
limits:
  - {asset: native, per_tx: 1, per_period: 1}
allow:
  - contract: "0x2222222222222222222222222222222222222222"
    functions: [{sig: receive}]
anomalies:
  refusal_burst: {on_anomaly: suspend, count: 5, within: 10m}
`

// A hijacked agent sends refused requests in a loop over the real HTTP
// endpoint. No feed runs in this test: the key is suspended because
// authentication looks at every record so far before deciding, so the
// sixth attempt (well before the tenth) is refused with 4100 and only
// "credential suspended"; the owner reads why, resumes the key, and it
// works again.
func TestRefusalBurstSuspendsBeforeTheTenthAttempt(t *testing.T) {
	e := start(t)
	token, keyID := e.grant(service.GrantSpec{Agent: "hijacked", Policy: probedPolicy})
	perms := e.call(t, token, request(1, "agentkeys_getPermissions", `[]`))
	if perms.Error != nil || strings.Contains(string(perms.Result), "refusal_burst") || strings.Contains(string(perms.Result), "anomal") {
		t.Fatalf("the agent reads how its anomalies are found: %s %+v", perms.Result, perms.Error)
	}
	probe := request(1, "eth_sendTransaction", `[{"to":"0x9999999999999999999999999999999999999999","value":"0x1"}]`)

	firstSuspended := 0
	for i := 1; i <= 12; i++ {
		e.clock.Advance(10 * time.Second)
		r := e.call(t, token, probe)
		if r.Error == nil {
			t.Fatalf("attempt %d was allowed: %s", i, r.Result)
		}
		switch {
		case r.Error.Code == 4001 && firstSuspended == 0:
		case r.Error.Code == 4100:
			if r.Error.Message != service.CredentialSuspended || len(r.Error.Data) > 0 && string(r.Error.Data) != "null" {
				t.Errorf("attempt %d: the agent is told %q (data %s); want only %q", i, r.Error.Message, r.Error.Data, service.CredentialSuspended)
			}
			if firstSuspended == 0 {
				firstSuspended = i
			}
		default:
			t.Fatalf("attempt %d: code %d %q after the key was suspended at attempt %d", i, r.Error.Code, r.Error.Message, firstSuspended)
		}
	}
	if firstSuspended == 0 || firstSuspended > 9 {
		t.Fatalf("first 4100 at attempt %d; want the key suspended before the tenth", firstSuspended)
	}
	if firstSuspended != 6 {
		t.Errorf("first 4100 at attempt %d; want 6 (right after the fifth refusal)", firstSuspended)
	}

	ctx := context.Background()
	g, err := e.svc.GetGrant(ctx, keyID)
	if err != nil {
		t.Fatal(err)
	}
	if g.Status != service.StatusSuspended || !strings.Contains(g.SuspendReason, "refusal_burst") || !strings.Contains(g.SuspendReason, "5 refusals within 10m") {
		t.Errorf("owner's view: status %s, reason %q", g.Status, g.SuspendReason)
	}
	as, err := e.svc.Anomalies(ctx, service.AnomalyQuery{KeyID: keyID})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].Kind != service.AnomalyRefusalBurst || as[0].Response != "suspend" || len(as[0].Records) != 5 {
		t.Fatalf("anomalies %+v, want one suspending refusal burst linking five records", as)
	}

	// Suspended attempts raise nothing more; the owner resumes the key.
	if _, err := e.svc.Resume(ctx, keyID); err != nil {
		t.Fatal(err)
	}
	ok := e.call(t, token, request(2, "eth_sendTransaction", `[{"to":"0x2222222222222222222222222222222222222222","value":"0x1"}]`))
	if ok.Error != nil {
		t.Fatalf("after resume, an allowed payment: %d %s", ok.Error.Code, ok.Error.Message)
	}
	if r := e.call(t, token, probe); r.Error == nil || r.Error.Code != 4001 {
		t.Fatalf("after resume, a refused request: %+v, want 4001", r.Error)
	}
	if as, _ := e.svc.Anomalies(ctx, service.AnomalyQuery{KeyID: keyID}); len(as) != 1 {
		t.Errorf("%d anomalies after resume, want still 1", len(as))
	}
}
