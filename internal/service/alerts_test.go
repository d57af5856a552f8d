package service_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

const alertPassphrase = "alerts test passphrase"

// alertEnv is a service over a real home (SQLite store, master key) and
// dev chain, on a fake clock, logging JSON lines to log.
type alertEnv struct {
	dir   string
	home  *home.Home
	chain *devchain.Chain
	clk   *clock.Fake
	svc   *service.Service
	log   *syncbuf.Buffer
}

func newAlertEnv(t *testing.T) *alertEnv {
	t.Helper()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	e := &alertEnv{dir: filepath.Join(t.TempDir(), "home"), clk: clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))}
	h, _, err := home.Init(t.Context(), e.dir, home.InitOptions{Passphrase: []byte(alertPassphrase), KDF: &kdf})
	if err != nil {
		t.Fatal(err)
	}
	e.home = h
	t.Cleanup(func() { e.home.Close() })
	wallet, err := h.WalletKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if e.chain, err = devchain.Start(t.Context(), devchain.Config{Fund: []common.Address{wallet.Address()}, Now: e.clk.Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.chain.Close() })
	e.start(t)
	return e
}

// start builds a new service over the home, as a daemon does at each
// start: its feed replays the whole log.
func (e *alertEnv) start(t *testing.T) {
	t.Helper()
	wallet, err := e.home.WalletKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e.log = &syncbuf.Buffer{}
	e.svc, err = service.New(service.Config{Store: e.home.Store, Chain: e.chain.Client(), ChainID: e.chain.ChainID().Uint64(),
		Wallet: signer.NewWallet(wallet), WalletKeyID: e.home.Config.WalletKeyID, Vault: e.home.Master, Now: e.clk.Now,
		Log: slog.New(slog.NewJSONHandler(e.log, nil)), AlertAttempts: 3, AlertBackoff: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
}

// restart closes the home and opens it again (a new store connection and
// master key) under a new service.
func (e *alertEnv) restart(t *testing.T) {
	t.Helper()
	if err := e.home.Close(); err != nil {
		t.Fatal(err)
	}
	h, err := home.Open(t.Context(), e.dir, []byte(alertPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	e.home = h
	e.start(t)
}

// anomaly appends an anomaly record as the detector does and returns its
// seq.
func (e *alertEnv) anomaly(t *testing.T, id, kind, severity string) int64 {
	t.Helper()
	ev := service.AnomalyEvent{ID: id, KeyID: "key_" + id, Kind: kind, Severity: severity, Summary: "first use from 203.0.113.0/24",
		At: e.clk.Now(), Records: []int64{1, 2}, Response: "alert"}
	call, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.home.Store.AppendAudit(t.Context(), audit.Record{Time: e.clk.Now(), KeyID: ev.KeyID, Method: service.MethodAnomaly, Call: call,
		Decision: audit.DecisionAllow})
	if err != nil {
		t.Fatal(err)
	}
	return r.Seq
}

func (e *alertEnv) sync(t *testing.T) {
	t.Helper()
	if err := e.svc.Feed().Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func (e *alertEnv) deliver(t *testing.T) service.DeliveryReport {
	t.Helper()
	rep, err := e.svc.DeliverDue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (e *alertEnv) addHook(t *testing.T, spec service.AlertHookSpec) service.AlertHook {
	t.Helper()
	h, err := e.svc.AddAlertHook(t.Context(), spec)
	if err != nil {
		t.Fatalf("add hook: %v", err)
	}
	return h
}

func (e *alertEnv) deliveries(t *testing.T, hookID string) []service.AlertDelivery {
	t.Helper()
	ds, err := e.svc.AlertDeliveries(t.Context(), service.AlertDeliveryQuery{HookID: hookID})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// anomalyLines counts the daemon log's lines for anomalies.
func (e *alertEnv) anomalyLines() int {
	return strings.Count(e.log.String(), `"msg":"anomaly"`)
}

// receiver is a webhook endpoint on a real HTTP server: it records every
// request and answers with the next scripted status (then 204).
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	statuses []int
	got      []received
	hold     chan struct{} // if set, each request waits for it
	arrived  chan struct{}
}

type received struct {
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses, arrived: make(chan struct{}, 100)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{path: r.URL.RequestURI(), header: r.Header.Clone(), body: body})
		status := http.StatusNoContent
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		hold := rc.hold
		rc.mu.Unlock()
		rc.arrived <- struct{}{}
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// verify checks a request's signature as a receiver would, with its own
// HMAC, and returns the body.
func verify(t *testing.T, r received, secret string) service.AlertBody {
	t.Helper()
	ts := r.header.Get("X-AgentKeys-Timestamp")
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + string(r.body)))
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := r.header.Get("X-AgentKeys-Signature"); !hmac.Equal([]byte(got), []byte(want)) {
		t.Errorf("signature %q does not verify (want %q)", got, want)
	}
	var b service.AlertBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if b.DeliveryID != r.header.Get("X-AgentKeys-Delivery") {
		t.Errorf("body's delivery id %s, header's %s", b.DeliveryID, r.header.Get("X-AgentKeys-Delivery"))
	}
	return b
}

// A warning anomaly reaches a warning hook: the feed handler only stores
// the delivery; the dispatcher posts it signed, retries after a 500 with
// backoff by the injected clock, and succeeds; the log has one line for
// the anomaly.
func TestAlertSignedRetriedDelivered(t *testing.T) {
	e := newAlertEnv(t)
	rc := newReceiver(t, http.StatusInternalServerError)
	const secret = "receiver-shared-secret-0123456789"
	h := e.addHook(t, service.AlertHookSpec{URL: rc.srv.URL + "/hooks/agentkeys", Secret: service.AlertSecret(secret), MinSeverity: "warning", Name: "ops"})
	if !h.Signed || h.MinSeverity != "warning" || h.Name != "ops" || h.URL != "http://127.0.0.1:"+strings.Split(rc.srv.URL, ":")[2]+"/…" {
		t.Fatalf("hook added as %+v", h)
	}

	seq := e.anomaly(t, "an_1", service.AnomalyNewIP, service.SeverityWarning)
	e.sync(t)
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("the feed handler posted %d requests itself; it must only store deliveries", n)
	}
	ds := e.deliveries(t, h.ID)
	if len(ds) != 1 || ds[0].State != "pending" || ds[0].AuditSeq != seq || ds[0].Kind != service.AnomalyNewIP || ds[0].Test {
		t.Fatalf("deliveries after the anomaly: %+v", ds)
	}
	if n := e.anomalyLines(); n != 1 {
		t.Fatalf("%d anomaly log lines, want 1:\n%s", n, e.log.String())
	}

	start := e.clk.Now()
	if rep := e.deliver(t); rep != (service.DeliveryReport{Retrying: 1}) {
		t.Fatalf("first attempt: %+v", rep)
	}
	d := e.deliveries(t, h.ID)[0]
	if d.Attempts != 1 || d.LastStatus != 500 || d.LastError != "HTTP 500" || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("after a 500: %+v", d)
	}
	e.clk.Advance(59 * time.Second)
	if rep := e.deliver(t); rep != (service.DeliveryReport{}) || len(rc.requests()) != 1 {
		t.Fatalf("attempted before its backoff ended: %+v, %d requests", rep, len(rc.requests()))
	}
	e.clk.Advance(time.Second)
	if rep := e.deliver(t); rep != (service.DeliveryReport{Delivered: 1}) {
		t.Fatalf("second attempt: %+v", rep)
	}
	d = e.deliveries(t, h.ID)[0]
	if d.State != "delivered" || d.Attempts != 2 || d.LastStatus != 204 || d.LastError != "" || d.NextAttemptAt != nil {
		t.Fatalf("after delivery: %+v", d)
	}

	reqs := rc.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		if r.path != "/hooks/agentkeys" || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d: path %s, content type %s", i, r.path, r.header.Get("Content-Type"))
		}
		wantTS := strconv.FormatInt(start.Add(time.Duration(i)*time.Minute).Unix(), 10)
		if ts := r.header.Get("X-AgentKeys-Timestamp"); ts != wantTS {
			t.Errorf("request %d timestamp %s, want %s (the injected clock at the attempt)", i, ts, wantTS)
		}
		b := verify(t, r, secret)
		want := service.AlertBody{Type: "anomaly", DeliveryID: d.ID, EventID: "an_1", Kind: service.AnomalyNewIP, Severity: "warning",
			KeyID: "key_an_1", Summary: "first use from 203.0.113.0/24", At: start, AuditSeq: seq, Records: []int64{1, 2}, Response: "alert",
			ChainID: e.chain.ChainID().Uint64(), Account: e.svc.Address().Hex(), Hook: "ops", Hint: "agentkeys audit tail --key key_an_1"}
		if diff := cmp.Diff(want, b); diff != "" {
			t.Errorf("request %d body (-want +got):\n%s", i, diff)
		}
	}
	if reqs[0].header.Get("X-AgentKeys-Delivery") != reqs[1].header.Get("X-AgentKeys-Delivery") {
		t.Error("a retry must carry the same delivery id, so the receiver can drop duplicates")
	}
	// A tampered body does not verify under the same headers.
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(reqs[1].header.Get("X-AgentKeys-Timestamp") + "." + strings.Replace(string(reqs[1].body), "warning", "info", 1)))
	if "sha256="+hex.EncodeToString(m.Sum(nil)) == reqs[1].header.Get("X-AgentKeys-Signature") {
		t.Error("the signature does not cover the body")
	}
}

// A hook that keeps failing is tried AlertAttempts times, with the
// backoff doubling, then failed and never tried again.
func TestAlertGivesUpAfterAttempts(t *testing.T) {
	e := newAlertEnv(t)
	rc := newReceiver(t, 500, 502, 503, 500, 500)
	h := e.addHook(t, service.AlertHookSpec{URL: rc.srv.URL, Secret: service.AlertSecret("another-secret-0123456789")})
	e.anomaly(t, "an_1", service.AnomalyRefusalBurst, service.SeverityCritical)
	e.sync(t)

	e.deliver(t)               // attempt 1 fails: next in 1m
	e.clk.Advance(time.Minute) //
	e.deliver(t)               // attempt 2 fails: next in 2m
	e.clk.Advance(time.Minute + 59*time.Second)
	if rep := e.deliver(t); rep != (service.DeliveryReport{}) {
		t.Fatalf("attempt 3 came before the doubled backoff: %+v", rep)
	}
	e.clk.Advance(time.Second)
	if rep := e.deliver(t); rep != (service.DeliveryReport{Failed: 1}) {
		t.Fatalf("attempt 3: %+v", rep)
	}
	d := e.deliveries(t, h.ID)[0]
	if d.State != "failed" || d.Attempts != 3 || d.LastStatus != 503 || d.LastError != "HTTP 503" || d.NextAttemptAt != nil {
		t.Fatalf("after giving up: %+v", d)
	}
	e.clk.Advance(24 * time.Hour)
	if rep := e.deliver(t); rep != (service.DeliveryReport{}) || len(rc.requests()) != 3 {
		t.Fatalf("a failed delivery was tried again: %+v, %d requests", rep, len(rc.requests()))
	}
	hooks, err := e.svc.AlertHooks(t.Context())
	if err != nil || len(hooks) != 1 || hooks[0].Failed != 1 || hooks[0].Pending != 0 || hooks[0].Last == nil || hooks[0].Last.State != "failed" {
		t.Fatalf("alert list: %+v, %v", hooks, err)
	}
	if failed, err := e.svc.AlertDeliveries(t.Context(), service.AlertDeliveryQuery{State: "failed"}); err != nil || len(failed) != 1 {
		t.Fatalf("failed deliveries: %+v, %v", failed, err)
	}
}

// Min severity filters; a new service over the same store replays the
// whole log and creates no delivery nor log line for anomalies already
// alerted, and a hook added later never receives old anomalies.
func TestAlertSeverityFilterAndReplay(t *testing.T) {
	e := newAlertEnv(t)
	rc := newReceiver(t)
	all := e.addHook(t, service.AlertHookSpec{URL: rc.srv.URL + "/all", Secret: service.AlertSecret("secret-for-all-hooks-01")})
	crit := e.addHook(t, service.AlertHookSpec{URL: rc.srv.URL + "/critical", Secret: service.AlertSecret("secret-for-critical-hooks"), MinSeverity: "critical"})
	e.anomaly(t, "info", service.AnomalyNewIP, service.SeverityInfo)
	e.anomaly(t, "warn", service.AnomalyRateSpike, service.SeverityWarning)
	e.anomaly(t, "crit", service.AnomalyRefusalBurst, service.SeverityCritical)
	if _, err := e.home.Store.AppendAudit(t.Context(), audit.Record{Time: e.clk.Now(), Method: "eth_chainId", Decision: audit.DecisionAllow}); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	if n, m := len(e.deliveries(t, all.ID)), len(e.deliveries(t, crit.ID)); n != 3 || m != 1 {
		t.Fatalf("deliveries: %d to the info hook (want 3), %d to the critical hook (want 1)", n, m)
	}
	if rep := e.deliver(t); rep != (service.DeliveryReport{Delivered: 4}) {
		t.Fatalf("deliver: %+v", rep)
	}
	if n := e.anomalyLines(); n != 3 {
		t.Fatalf("%d anomaly log lines, want 3", n)
	}
	for _, r := range rc.requests() {
		if r.path == "/critical" && !strings.Contains(string(r.body), `"severity":"critical"`) {
			t.Errorf("the critical hook got %s", r.body)
		}
	}

	late := e.addHook(t, service.AlertHookSpec{URL: rc.srv.URL + "/late", Secret: service.AlertSecret("secret-for-the-late-hook")})
	e.restart(t)
	e.sync(t)
	e.clk.Advance(time.Hour)
	if rep := e.deliver(t); rep != (service.DeliveryReport{}) {
		t.Fatalf("after the replay: %+v", rep)
	}
	if n, m, l := len(e.deliveries(t, all.ID)), len(e.deliveries(t, crit.ID)), len(e.deliveries(t, late.ID)); n != 3 || m != 1 || l != 0 {
		t.Fatalf("the replay made deliveries: %d, %d, %d to the info, critical and late hooks", n, m, l)
	}
	if n := len(rc.requests()); n != 4 {
		t.Fatalf("%d requests after the replay, want the same 4", n)
	}
	if n := e.anomalyLines(); n != 0 {
		t.Fatalf("the replay logged %d anomalies again:\n%s", n, e.log.String())
	}

	// What comes after the restart is news, to every hook it reaches.
	e.anomaly(t, "again", service.AnomalyOffSchedule, service.SeverityWarning)
	e.sync(t)
	if rep := e.deliver(t); rep != (service.DeliveryReport{Delivered: 2}) {
		t.Fatalf("deliver after the restart: %+v", rep)
	}
	if n := e.anomalyLines(); n != 1 {
		t.Fatalf("%d anomaly log lines after the restart, want 1", n)
	}
}

// A webhook that hangs holds up neither the feed nor the service: the
// handler only stores rows while the dispatcher waits on the hook, and the
// client's timeout ends the attempt as a failure to retry.
func TestAlertSlowWebhookBlocksNothing(t *testing.T) {
	e := newAlertEnv(t)
	rc := newReceiver(t)
	rc.hold = make(chan struct{})
	defer close(rc.hold)
	wallet, err := e.home.WalletKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = service.New(service.Config{Store: e.home.Store, Chain: e.chain.Client(), ChainID: e.chain.ChainID().Uint64(),
		Wallet: signer.NewWallet(wallet), Vault: e.home.Master, Now: e.clk.Now, Log: slog.New(slog.NewJSONHandler(e.log, nil)),
		AlertHTTP: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	h := e.addHook(t, service.AlertHookSpec{URL: rc.srv.URL})
	e.anomaly(t, "an_1", service.AnomalyNewIP, service.SeverityWarning)
	e.sync(t)
	type result struct {
		rep service.DeliveryReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := e.svc.DeliverDue(context.Background())
		done <- result{rep, err}
	}()
	<-rc.arrived // the dispatcher is now waiting on the hook

	e.anomaly(t, "an_2", service.AnomalyNewIP, service.SeverityWarning)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := e.svc.Feed().Sync(ctx); err != nil {
		t.Fatalf("the feed waited on the webhook: %v", err)
	}
	if _, err := e.svc.Usage(ctx, "key_an_2"); err != nil && !errors.Is(err, service.ErrNoKey) {
		t.Fatalf("the service waited on the webhook: %v", err)
	}
	if n := len(e.deliveries(t, h.ID)); n != 2 {
		t.Fatalf("%d deliveries stored while the hook hangs, want 2", n)
	}
	r := <-done
	if r.err != nil || r.rep != (service.DeliveryReport{Retrying: 1}) {
		t.Fatalf("a hung hook: %+v, %v", r.rep, r.err)
	}
	for _, d := range e.deliveries(t, h.ID) {
		if d.Attempts == 1 && (d.State != "pending" || !strings.Contains(d.LastError, "Timeout")) {
			t.Errorf("timed-out attempt recorded as %+v", d)
		}
	}
}

// The test delivery is marked as one, signed, and attempted at once.
func TestAlertTestDelivery(t *testing.T) {
	e := newAlertEnv(t)
	rc := newReceiver(t)
	const secret = "test-delivery-secret-0123"
	h := e.addHook(t, service.AlertHookSpec{URL: rc.srv.URL + "/x", Secret: service.AlertSecret(secret)})
	d, err := e.svc.TestAlertHook(t.Context(), h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Test || d.State != "delivered" || d.Attempts != 1 || d.Kind != "test" {
		t.Fatalf("test delivery: %+v", d)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	b := verify(t, reqs[0], secret)
	if !b.Test || b.Type != "test" || b.KeyID != "" || b.AuditSeq != 0 || b.DeliveryID != d.ID {
		t.Errorf("test body: %+v", b)
	}
	if n := e.anomalyLines(); n != 0 {
		t.Errorf("a test delivery logged an anomaly")
	}
	_, err = e.svc.TestAlertHook(t.Context(), "hook_nope")
	if !errors.Is(err, service.ErrNoAlertHook) {
		t.Errorf("test of an unknown hook: %v", err)
	}
	// Removing the hook removes its deliveries and is audited.
	if _, err := e.svc.RemoveAlertHook(t.Context(), h.ID); err != nil {
		t.Fatal(err)
	}
	if hs, _ := e.svc.AlertHooks(t.Context()); len(hs) != 0 {
		t.Errorf("hooks after remove: %+v", hs)
	}
	if _, err := e.svc.RemoveAlertHook(t.Context(), h.ID); !errors.Is(err, service.ErrNoAlertHook) {
		t.Errorf("removing again: %v", err)
	}
	recs, err := e.home.Store.AuditRecords(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var methods []string
	for _, r := range recs {
		methods = append(methods, r.Method)
	}
	if !cmp.Equal(methods, []string{"agentkeys_alertAdd", "agentkeys_alertTest", "agentkeys_alertRemove"}) {
		t.Errorf("audited %v", methods)
	}
}

// The secret, and the path and query of the hook's URL, appear in no log
// line, error, listing, audit record or stored byte.
func TestAlertSecretNeverShown(t *testing.T) {
	e := newAlertEnv(t)
	rc := newReceiver(t, 500)
	const secret = "SECRET-never-to-be-seen-42"
	const pathToken, queryToken = "PATHTOKEN9876", "QUERYTOKEN5432"
	h := e.addHook(t, service.AlertHookSpec{URL: rc.srv.URL + "/services/" + pathToken + "?token=" + queryToken, Secret: service.AlertSecret(secret)})
	// A second hook on a closed port: net/http's error quotes the URL.
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	h2 := e.addHook(t, service.AlertHookSpec{URL: closedURL + "/" + pathToken + "?token=" + queryToken, Secret: service.AlertSecret(secret)})
	e.anomaly(t, "an_1", service.AnomalyNewIP, service.SeverityWarning)
	e.sync(t)
	e.deliver(t)
	td, err := e.svc.TestAlertHook(t.Context(), h2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if td.State != "pending" || td.LastError == "" {
		t.Fatalf("a delivery to a closed port: %+v", td)
	}
	_, errBadUser := e.svc.AddAlertHook(t.Context(), service.AlertHookSpec{URL: "https://user:" + secret + "@hooks.example/" + pathToken})
	if errBadUser == nil {
		t.Fatal("a URL with user information was accepted")
	}

	var seen strings.Builder
	seen.WriteString(e.log.String())
	seen.WriteString(errBadUser.Error())
	seen.WriteString(td.LastError)
	for _, v := range []any{h, h2, td} {
		b, _ := json.Marshal(v)
		seen.Write(b)
	}
	hooks, err := e.svc.AlertHooks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ds, err := e.svc.AlertDeliveries(t.Context(), service.AlertDeliveryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{hooks, ds} {
		b, _ := json.Marshal(v)
		seen.Write(b)
	}
	recs, err := e.home.Store.AuditRecords(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		seen.Write(r.Call)
		seen.WriteString(strings.Join(r.Reasons, " "))
	}
	seen.WriteString(service.AlertSecret(secret).String())
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		seen.WriteString(fmt.Sprintf(f, service.AlertSecret(secret)) + fmt.Sprintf(f, []any{service.AlertSecret(secret)}))
	}
	for _, bad := range []string{secret, pathToken, queryToken} {
		if strings.Contains(seen.String(), bad) {
			t.Errorf("%q was shown:\n%s", bad, seen.String())
		}
	}
	if !strings.Contains(e.log.String(), "alert delivery failed") {
		t.Errorf("failures were not logged:\n%s", e.log.String())
	}
	// At rest: neither the secret nor the URL's tokens are in the
	// database's bytes.
	if err := e.home.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(e.dir, home.DBFile+suffix))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for _, bad := range []string{secret, pathToken, queryToken} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s holds %q in the clear", home.DBFile+suffix, bad)
			}
		}
	}
	e.home, err = home.Open(t.Context(), e.dir, []byte(alertPassphrase))
	if err != nil {
		t.Fatal(err)
	}
}

// Bad input is refused with the field named and nothing secret quoted.
func TestAlertBadInput(t *testing.T) {
	e := newAlertEnv(t)
	tests := []struct {
		name string
		spec service.AlertHookSpec
		want string
	}{
		{"ftp", service.AlertHookSpec{URL: "ftp://hooks.example/x"}, `url: expected an http:// or https:// URL, got scheme "ftp"`},
		{"relative", service.AlertHookSpec{URL: "hooks.example/x"}, "url: expected an absolute http:// or https:// URL"},
		{"no host", service.AlertHookSpec{URL: "https:///x"}, "url: expected an http:// or https:// URL with a host"},
		{"userinfo", service.AlertHookSpec{URL: "https://u:hunter2-password@hooks.example/x"}, "url: must not carry user information"},
		{"too long", service.AlertHookSpec{URL: "https://hooks.example/" + strings.Repeat("a", 3000)}, "url: expected a URL of at most 2048 characters, got 3022"},
		{"severity", service.AlertHookSpec{URL: "https://hooks.example/", MinSeverity: "urgent"}, `min_severity: expected info, warning or critical, got "urgent"`},
		{"short secret", service.AlertHookSpec{URL: "https://hooks.example/", Secret: service.AlertSecret("short")}, "secret: expected 16 to 1024 bytes, got 5"},
		{"name", service.AlertHookSpec{URL: "https://hooks.example/", Name: "bad\nname"}, "name: expected up to 64 printable characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.AddAlertHook(t.Context(), tt.spec)
			var pe *service.ParamError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a ParamError containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "short\"") {
				t.Errorf("error quotes a secret: %v", err)
			}
		})
	}
	if _, err := e.svc.AlertDeliveries(t.Context(), service.AlertDeliveryQuery{State: "lost"}); err == nil || !strings.Contains(err.Error(), "state: expected pending, delivered or failed") {
		t.Errorf("bad state: %v", err)
	}
	if _, err := e.svc.AlertDeliveries(t.Context(), service.AlertDeliveryQuery{HookID: "hook_nope"}); !errors.Is(err, service.ErrNoAlertHook) {
		t.Errorf("deliveries of an unknown hook: %v", err)
	}
	// Plain http beyond this machine and an unsigned hook are allowed,
	// with a warning.
	h, err := e.svc.AddAlertHook(t.Context(), service.AlertHookSpec{URL: "http://hooks.example/in"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.Warning, "plain http") || !strings.Contains(h.Warning, "not signed") || h.Signed || h.Name != "hooks.example" || h.MinSeverity != "info" {
		t.Errorf("hook %+v", h)
	}
}

// A dispatcher stopped mid-request (the daemon closing) does not count the
// attempt against the webhook: the delivery stays due, untouched.
func TestAlertStoppedDispatcherCountsNoAttempt(t *testing.T) {
	e := newAlertEnv(t)
	rc := newReceiver(t)
	rc.hold = make(chan struct{})
	defer close(rc.hold)
	h := e.addHook(t, service.AlertHookSpec{URL: rc.srv.URL})
	e.anomaly(t, "an_1", service.AnomalyNewIP, service.SeverityWarning)
	e.sync(t)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := e.svc.DeliverDue(ctx)
		errc <- err
	}()
	<-rc.arrived
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("DeliverDue stopped mid-request: %v", err)
	}
	d := e.deliveries(t, h.ID)[0]
	if d.State != "pending" || d.Attempts != 0 || d.LastError != "" || d.NextAttemptAt == nil || d.NextAttemptAt.After(e.clk.Now()) {
		t.Fatalf("after a stop mid-request: %+v", d)
	}
}

// With no webhook at all, an anomaly still makes its one log line, and
// nothing is left to deliver.
func TestAlertLogsWithoutWebhooks(t *testing.T) {
	e := newAlertEnv(t)
	seq := e.anomaly(t, "an_1", service.AnomalyStaleKeyInUse, service.SeverityWarning)
	e.sync(t)
	e.sync(t)
	if n := e.anomalyLines(); n != 1 {
		t.Fatalf("%d anomaly log lines, want 1:\n%s", n, e.log.String())
	}
	for _, want := range []string{`"kind":"stale_key_used"`, `"severity":"warning"`, `"key_id":"key_an_1"`, `"audit_seq":` + strconv.FormatInt(seq, 10), `"webhooks":0`} {
		if !strings.Contains(e.log.String(), want) {
			t.Errorf("the log line lacks %s:\n%s", want, e.log.String())
		}
	}
	if rep := e.deliver(t); rep != (service.DeliveryReport{}) {
		t.Errorf("deliveries without webhooks: %+v", rep)
	}
}
