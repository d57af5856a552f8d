package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/gethtest"
	"github.com/agentkeys/agentkeys/internal/service"
)

// TestOwnerSideOnGethDev: the owner's side in front of a real go-ethereum
// node, not the sandbox. serve on `geth --dev`; a key that suspends on a
// refusal burst makes a payment that is mined, then probes its box until
// it gets 4100; anomaly list, review and /metrics say so. After a restart
// on the same home the anomaly is not raised twice, the counters are
// rebuilt from the log, and resume lets the key pay again.
func TestOwnerSideOnGethDev(t *testing.T) {
	node := gethtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, cred, owner := testHome(t)
	node.Fund(t, new(big.Int).Mul(big.NewInt(10), big.NewInt(1e18)), owner)
	s := runServe(t, dir, node.URL)

	payee := common.HexToAddress("0x00000000000000000000000000000000000beef1")
	stranger := common.HexToAddress("0x00000000000000000000000000000000000beef2")
	policyFile := filepath.Join(t.TempDir(), "pay.yaml")
	pol := fmt.Sprintf(`name: pay-one-address
chains: [%d]
valid_for: 1h
limits:
  - { asset: native, per_tx: 0.01, per_period: 0.1, period: 24h }
allow:
  - contract: "%s"
    functions: [{ sig: "receive" }]
anomalies:
  refusal_burst: { on_anomaly: suspend, count: 3, within: 10m }
`, node.ChainID, payee.Hex())
	if err := os.WriteFile(policyFile, []byte(pol), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := s.cli(t, cred, dir, "key", "grant", "--agent", "payer", "--policy", policyFile, "-o", "json")
	var g admin.GrantView
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil || g.Token == "" {
		t.Fatalf("grant on geth: exit %d, %s %s", code, out, errOut)
	}
	agent, err := rpc.DialOptions(ctx, s.agentURL+"/rpc", rpc.WithHeader("Authorization", "Bearer "+g.Token), rpc.WithHeader("User-Agent", "payer-bot/1"))
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	pay := (*hexutil.Big)(big.NewInt(1e15))
	var hash common.Hash
	if err := agent.CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{"to": payee, "value": pay}); err != nil {
		t.Fatalf("allowed payment: %v", err)
	}
	if _, err := node.Wait(ctx, hash); err != nil {
		t.Fatalf("allowed payment not mined: %v", err)
	}
	// The hijacked agent probes: refused, until the burst suspends it.
	codes := []int{}
	for i := 0; i < 6; i++ {
		err := agent.CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{"to": stranger, "value": pay})
		var rerr rpc.Error
		if !errors.As(err, &rerr) {
			t.Fatalf("payment %d to a stranger: %v", i+1, err)
		}
		codes = append(codes, rerr.ErrorCode())
	}
	if fmt.Sprint(codes) != "[4001 4001 4001 4100 4100 4100]" {
		t.Errorf("codes of the probes: %v, want three refusals and then 4100 credential suspended", codes)
	}

	anomalies := func() []service.AnomalyEvent {
		t.Helper()
		out, errOut, code := s.cli(t, cred, dir, "anomaly", "list", "--key", g.KeyID, "-o", "json")
		var as []service.AnomalyEvent
		if code != 0 || json.Unmarshal([]byte(out), &as) != nil {
			t.Fatalf("anomaly list: exit %d, %s %s", code, out, errOut)
		}
		return as
	}
	if as := anomalies(); len(as) != 1 || as[0].Kind != service.AnomalyRefusalBurst || as[0].Response != "suspend" {
		t.Fatalf("anomalies on geth: %+v", as)
	}
	review := func() service.Review {
		t.Helper()
		out, errOut, code := s.cli(t, cred, dir, "review", "-o", "json")
		var rv service.Review
		if code != 0 || json.Unmarshal([]byte(out), &rv) != nil {
			t.Fatalf("review: exit %d, %s %s", code, out, errOut)
		}
		return rv
	}
	// Seven requests, six refused: the three 4100s are refusals of the
	// key's credential, recorded under the key too.
	rv := review()
	if !rv.Audit.OK() || len(rv.Anomalies) != 1 || len(rv.Recommend) != 1 || rv.Recommend[0].KeyID != g.KeyID ||
		len(rv.Keys) != 1 || rv.Keys[0].Status != service.StatusSuspended || rv.Keys[0].Requests != 7 || rv.Keys[0].Refused != 6 ||
		len(rv.Keys[0].Agents) != 1 || rv.Keys[0].Agents[0].Value != "payer-bot/1" {
		t.Errorf("review on geth: %+v", rv)
	}
	metric := func(labels map[string]string) float64 {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			v, _ := metricValue(scrapeMetrics(t, s.adminURL, cred.Reveal()), "agentkeys_requests_total", labels)
			if v > 0 || time.Now().After(deadline) {
				return v
			}
		}
	}
	allowed := map[string]string{"method": "eth_sendTransaction", "decision": "allow"}
	if v := metric(allowed); v != 1 {
		t.Errorf("allowed sends in /metrics: %v, want 1", v)
	}

	// A restart on the same home: nothing raised twice, counters rebuilt.
	s.stop()
	s = runServe(t, dir, node.URL)
	if v := metric(allowed); v != 1 {
		t.Errorf("allowed sends in /metrics after a restart: %v, want 1", v)
	}
	if as := anomalies(); len(as) != 1 {
		t.Errorf("anomalies after a restart: %d, want the one", len(as))
	}
	if out, errOut, code := s.cli(t, cred, dir, "key", "resume", g.KeyID); code != 0 {
		t.Fatalf("resume: exit %d, %s %s", code, out, errOut)
	}
	agent, err = rpc.DialOptions(ctx, s.agentURL+"/rpc", rpc.WithHeader("Authorization", "Bearer "+g.Token)) // the restarted daemon's port
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	if err := agent.CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{"to": payee, "value": pay}); err != nil {
		t.Fatalf("payment after resume: %v", err)
	}
	if _, err := node.Wait(ctx, hash); err != nil {
		t.Fatalf("payment after resume not mined: %v", err)
	}
	if as := anomalies(); len(as) != 1 {
		t.Errorf("anomalies after resume and a payment: %d, want still the one", len(as))
	}
	if rv := review(); !rv.Audit.OK() || len(rv.Keys) != 1 || rv.Keys[0].Status != service.StatusActive {
		t.Errorf("review after resume: audit %v, key %+v", rv.Audit.OK(), rv.Keys)
	}
}
