package cli

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/service"
)

// hookSink is a webhook receiver on a real HTTP server.
type hookSink struct {
	mu   sync.Mutex
	reqs []hookReq
}

type hookReq struct {
	header http.Header
	body   []byte
}

func (s *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.reqs = append(s.reqs, hookReq{header: r.Header.Clone(), body: b})
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *hookSink) got() []hookReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hookReq(nil), s.reqs...)
}

// waitFor polls until the sink has n requests.
func (s *hookSink) waitFor(t *testing.T, n int, what string) []hookReq {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got := s.got(); len(got) >= n {
			return got
		}
	}
	t.Fatalf("%s: the webhook got %d requests, want %d", what, len(s.got()), n)
	return nil
}

// appendAnomaly appends an anomaly record to the served home's log from
// this process, as the detector of another replica would; the daemon's
// feed finds it by polling.
func appendAnomaly(t *testing.T, dir, id, severity string) {
	t.Helper()
	st, err := home.OpenStore(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().UTC()
	call, _ := json.Marshal(service.AnomalyEvent{ID: id, KeyID: "ak_" + id, Kind: service.AnomalyRefusalBurst, Severity: severity,
		Summary: "9 refusals in 2m", At: at, Records: []int64{1}, Response: "alert"})
	if _, err := st.AppendAudit(t.Context(), audit.Record{Time: at, KeyID: "ak_" + id, Method: service.MethodAnomaly, Call: call, Decision: audit.DecisionAllow}); err != nil {
		t.Fatal(err)
	}
}

func checkSigned(t *testing.T, r hookReq, secret string) map[string]any {
	t.Helper()
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(r.header.Get("X-AgentKeys-Timestamp") + "." + string(r.body)))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); r.header.Get("X-AgentKeys-Signature") != want {
		t.Errorf("signature %q, want %q", r.header.Get("X-AgentKeys-Signature"), want)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	return body
}

// TestAlertCommands drives agentkeys alert against a served daemon: add a
// signed webhook from an environment variable, test it, see an anomaly
// delivered and listed, no delivery repeated after a restart, bad input
// refused, and the secret and the URL's token never printed.
func TestAlertCommands(t *testing.T) {
	dir, cred, owner := testHome(t)
	chain, err := devchain.Start(context.Background(), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	s := runServe(t, dir, chain.URL())
	sink := &hookSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	const secret, token = "cli-alert-secret-0123456789abcdef", "URLTOKEN31337"
	t.Setenv("OPS_HOOK_SECRET", secret)
	var printed strings.Builder
	cli := func(args ...string) (string, string, int) {
		t.Helper()
		out, errOut, code := s.cli(t, cred, dir, args...)
		printed.WriteString(out + errOut)
		return out, errOut, code
	}

	// Bad input is refused before the daemon is asked.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"alert", "add", "ftp://hooks.example/x"}, `URL: expected an http:// or https:// URL, got scheme "ftp"`},
		{[]string{"alert", "add", "https://me:" + secret + "@hooks.example/"}, "URL: must not carry user information"},
		{[]string{"alert", "add", srv.URL, "--secret-env", "NO_SUCH_VAR_FOR_ALERTS"}, "--secret-env: $NO_SUCH_VAR_FOR_ALERTS is not set or empty"},
		{[]string{"alert", "add", srv.URL, "--secret-env", "NOT A NAME"}, "--secret-env: expected the name of an environment variable"},
		{[]string{"alert", "add", srv.URL, "--min-severity", "urgent"}, `--min-severity: expected info, warning or critical, got "urgent"`},
		{[]string{"alert", "deliveries", "--state", "lost"}, `--state: expected pending, delivered or failed, got "lost"`},
		{[]string{"alert", "test", "hook_nope"}, "alert test: " + service.ErrNoAlertHook.Error()},
	} {
		out, errOut, code := cli(tt.args...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to contain %q (stdout %q)", tt.args, code, errOut, tt.want, out)
		}
	}
	t.Setenv("SHORT_SECRET", "short")
	if _, errOut, code := cli("alert", "add", srv.URL, "--secret-env", "SHORT_SECRET"); code == 0 || !strings.Contains(errOut, "$SHORT_SECRET holds 5 bytes; a signing secret needs at least 16") {
		t.Errorf("short secret: exit %d, %s", code, errOut)
	}

	out, errOut, code := cli("alert", "add", srv.URL+"/in/"+token+"?k="+token, "--secret-env", "OPS_HOOK_SECRET", "--min-severity", "warning", "--name", "ops", "-o", "json")
	if code != 0 {
		t.Fatalf("alert add: exit %d: %s", code, errOut)
	}
	var hook service.AlertHook
	if err := json.Unmarshal([]byte(out), &hook); err != nil {
		t.Fatal(err)
	}
	if !hook.Signed || hook.Name != "ops" || hook.MinSeverity != "warning" || hook.URL != srv.URL+"/…" {
		t.Fatalf("alert add: %+v", hook)
	}

	out, errOut, code = cli("alert", "test", hook.ID)
	if code != 0 || !strings.Contains(out, "delivered after 1 attempt(s)") {
		t.Fatalf("alert test: exit %d: %s %s", code, out, errOut)
	}
	reqs := sink.got()
	if len(reqs) != 1 {
		t.Fatalf("alert test made %d requests", len(reqs))
	}
	if body := checkSigned(t, reqs[0], secret); body["test"] != true || body["type"] != "test" {
		t.Errorf("test body: %v", body)
	}

	// A webhook that refuses the test: the command says so and fails, in
	// either format.
	refuser := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer refuser.Close()
	out, errOut, code = cli("alert", "add", refuser.URL, "-o", "json")
	var bad service.AlertHook
	if code != 0 || json.Unmarshal([]byte(out), &bad) != nil || bad.Signed || !strings.Contains(bad.Warning, "not signed") {
		t.Fatalf("alert add without a secret: exit %d: %s %s", code, out, errOut)
	}
	for _, format := range []string{"text", "json"} {
		out, errOut, code = cli("alert", "test", bad.ID, "-o", format)
		if code == 0 || !strings.Contains(errOut, "the webhook did not accept the test delivery (HTTP 500)") || !strings.Contains(out, "pending") {
			t.Errorf("alert test -o %s of a refusing webhook: exit %d: %s %s", format, code, out, errOut)
		}
	}
	if out, errOut, code = cli("alert", "remove", bad.ID); code != 0 {
		t.Fatalf("alert remove: exit %d: %s %s", code, out, errOut)
	}

	// An info anomaly stays below the hook's minimum; a critical one is
	// delivered by the daemon's dispatcher.
	appendAnomaly(t, dir, "an_info", service.SeverityInfo)
	appendAnomaly(t, dir, "an_crit", service.SeverityCritical)
	reqs = sink.waitFor(t, 2, "critical anomaly")
	body := checkSigned(t, reqs[1], secret)
	if body["kind"] != service.AnomalyRefusalBurst || body["severity"] != "critical" || body["key_id"] != "ak_an_crit" || body["hint"] != "agentkeys audit tail --key ak_an_crit" {
		t.Errorf("anomaly body: %v", body)
	}
	// The webhook has the request a moment before the dispatcher records
	// its answer: poll (up to 10s) until the delivery shows delivered.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, errOut, code = cli("alert", "list")
		if code == 0 && strings.Contains(out, "delivered") || time.Now().After(deadline) {
			break
		}
	}
	if code != 0 || !strings.Contains(out, hook.ID) || !strings.Contains(out, "refusal_burst") || !strings.Contains(out, "delivered") || !strings.Contains(out, srv.URL+"/…") {
		t.Errorf("alert list: exit %d: %s %s", code, out, errOut)
	}
	var ds []service.AlertDelivery
	out, _, code = cli("alert", "deliveries", "--hook", hook.ID, "-o", "json")
	if code != 0 || json.Unmarshal([]byte(out), &ds) != nil || len(ds) != 2 || ds[0].State != "delivered" || ds[0].Kind != service.AnomalyRefusalBurst || !ds[1].Test {
		t.Fatalf("alert deliveries: exit %d: %s", code, out)
	}
	if out, _, _ = cli("alert", "deliveries"); !strings.Contains(out, "refusal_burst") || !strings.Contains(out, "ak_an_crit") {
		t.Errorf("alert deliveries (text): %s", out)
	}
	if n := strings.Count(s.errOut.String(), `"msg":"anomaly"`); n != 2 {
		t.Errorf("the daemon logged %d anomalies, want 2 (info included):\n%s", n, s.errOut.String())
	}
	// /metrics counts the anomalies and the delivery attempts.
	// (The attempt is counted just after its state is stored: poll.)
	fams := scrapeMetrics(t, s.adminURL, cred.Reveal())
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if v, _ := metricValue(fams, "agentkeys_alert_deliveries_total", map[string]string{"state": "delivered"}); v >= 2 {
			break
		}
		fams = scrapeMetrics(t, s.adminURL, cred.Reveal())
	}
	if v, _ := metricValue(fams, "agentkeys_alert_deliveries_total", map[string]string{"state": "delivered"}); v < 2 { // the test delivery and the anomaly
		t.Errorf("delivered attempts in /metrics: %v, want 2", v)
	}
	if v, _ := metricValue(fams, "agentkeys_anomalies_total", map[string]string{"kind": service.AnomalyRefusalBurst, "severity": "critical"}); v != 1 {
		t.Errorf("critical anomalies in /metrics: %v, want 1", v)
	}

	// A restart replays the log: nothing is delivered twice. A new anomaly
	// is delivered after the replay (the feed goes in order), so by then
	// every old one was seen again.
	s.stop()
	printed.WriteString(s.out.String() + s.errOut.String())
	s = runServe(t, dir, chain.URL())
	appendAnomaly(t, dir, "an_after", service.SeverityWarning)
	reqs = sink.waitFor(t, 3, "anomaly after the restart")
	if len(reqs) != 3 || !strings.Contains(string(reqs[2].body), "an_after") {
		t.Fatalf("after the restart the webhook got %d requests, the last %s", len(reqs), reqs[len(reqs)-1].body)
	}
	if n := strings.Count(s.errOut.String(), `"msg":"anomaly"`); n != 1 {
		t.Errorf("after the restart the daemon logged %d anomalies, want only the new one:\n%s", n, s.errOut.String())
	}

	out, errOut, code = cli("alert", "remove", hook.ID)
	if code != 0 || !strings.Contains(out, "removed webhook "+hook.ID) {
		t.Fatalf("alert remove: exit %d: %s %s", code, out, errOut)
	}
	if out, _, _ = cli("alert", "list"); !strings.Contains(out, "no webhooks") {
		t.Errorf("alert list after remove: %s", out)
	}

	s.stop()
	all := printed.String() + s.out.String() + s.errOut.String()
	for _, bad := range []string{secret, token} {
		if strings.Contains(all, bad) {
			t.Errorf("%q was printed:\n%s", bad, all)
		}
	}
}
