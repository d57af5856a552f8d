package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/daemon"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

func newHome(t *testing.T) *home.Home {
	t.Helper()
	h, _ := newHomeWithAdmin(t)
	return h
}

// newHomeWithAdmin is a new home and its admin credential.
func newHomeWithAdmin(t *testing.T) (*home.Home, string) {
	t.Helper()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	now := func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }
	h, admin, err := home.Init(t.Context(), t.TempDir(), home.InitOptions{Passphrase: []byte("daemon test passphrase"), KDF: &kdf, Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, admin.Reveal()
}

// fundedChain starts a dev chain on a free port funding owner, closed
// when the test ends.
func fundedChain(t *testing.T, owner common.Address) *devchain.Chain {
	t.Helper()
	chain, err := devchain.Start(t.Context(), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	return chain
}

// Start wires a home to a node: the delegate is looked up for the node's
// chain, Prepare sees the service before it serves, the server answers,
// and Close stops it.
func TestStartServesAndCloses(t *testing.T) {
	h := newHome(t)
	owner := common.HexToAddress(h.Config.WalletAddress)
	chain := fundedChain(t, owner)
	var askedFor uint64
	prepared := false
	d, err := daemon.Start(t.Context(), daemon.Config{Home: h, UpstreamURL: chain.URL(), Listen: "127.0.0.1:0",
		Delegate: func(id uint64) (common.Address, error) { askedFor = id; return chain.AgentKeyDelegate(), nil },
		Prepare: func(_ context.Context, svc *service.Service) error {
			prepared = svc != nil
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if askedFor != devchain.DefaultChainID || !prepared {
		t.Errorf("delegate asked for chain %d, prepared %v; want %d, true", askedFor, prepared, devchain.DefaultChainID)
	}
	if d.Delegate() != chain.AgentKeyDelegate() || d.Service.Address() != owner || d.Service.ChainID() != devchain.DefaultChainID {
		t.Errorf("delegate %s owner %s chain %d; want %s, %s, %d", d.Delegate().Hex(), d.Service.Address().Hex(), d.Service.ChainID(),
			chain.AgentKeyDelegate().Hex(), owner.Hex(), devchain.DefaultChainID)
	}
	resp, err := http.Get(d.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		OK      bool   `json:"ok"`
		ChainID uint64 `json:"chain_id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || !health.OK || health.ChainID != devchain.DefaultChainID {
		t.Errorf("healthz: %+v, %v; want ok on chain %d", health, err, devchain.DefaultChainID)
	}
	url := d.URL()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("the server still answers after Close")
	}
}

// A node that cannot be reached fails Start with an error naming only the
// URL's scheme and host: the path may carry a provider's API key.
func TestStartUnreachableNodeRedactsURL(t *testing.T) {
	h := newHome(t)
	_, err := daemon.Start(t.Context(), daemon.Config{Home: h, UpstreamURL: "http://127.0.0.1:1/v3/s3cr3tapikey", Listen: "127.0.0.1:0"})
	if err == nil {
		t.Fatal("Start succeeded with no node")
	}
	if strings.Contains(err.Error(), "s3cr3tapikey") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error %q: want the host and not the key", err)
	}
}

// A failing Prepare stops Start; nothing is left serving.
func TestStartPrepareErrorStops(t *testing.T) {
	h := newHome(t)
	chain, err := devchain.Start(t.Context(), devchain.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	boom := errors.New("prepare failed")
	_, err = daemon.Start(t.Context(), daemon.Config{Home: h, UpstreamURL: chain.URL(), Listen: "127.0.0.1:0",
		Prepare: func(context.Context, *service.Service) error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("Start error %v, want the Prepare error", err)
	}
}

// The daemon runs the alert dispatcher: an anomaly appended to the log
// (by another process, found by the feed's poll) is posted to a webhook
// without any call from the test, and Close stops the dispatcher.
func TestStartRunsTheAlertDispatcher(t *testing.T) {
	h := newHome(t)
	owner := common.HexToAddress(h.Config.WalletAddress)
	chain := fundedChain(t, owner)
	got := make(chan string, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- string(body)
	}))
	defer hook.Close()
	var logs syncbuf.Buffer
	d, err := daemon.Start(t.Context(), daemon.Config{Home: h, UpstreamURL: chain.URL(), Listen: "127.0.0.1:0",
		FeedPoll: 10 * time.Millisecond, DispatchEvery: time.Hour, Log: daemon.Logger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Service.AddAlertHook(t.Context(), service.AlertHookSpec{URL: hook.URL + "/in", Secret: service.AlertSecret("daemon-test-secret-0123")}); err != nil {
		t.Fatal(err)
	}
	call, _ := json.Marshal(service.AnomalyEvent{ID: "an_1", KeyID: "key_1", Kind: service.AnomalyRefusalBurst, Severity: service.SeverityCritical,
		Summary: "9 refusals in 1m", At: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Records: []int64{1}})
	if _, err := h.Store.AppendAudit(t.Context(), audit.Record{Time: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), KeyID: "key_1",
		Method: service.MethodAnomaly, Call: call, Decision: audit.DecisionAllow}); err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-got:
		if !strings.Contains(body, `"kind":"refusal_burst"`) || !strings.Contains(body, `"key_id":"key_1"`) {
			t.Errorf("webhook got %s", body)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no delivery; log:\n%s", logs.String())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"msg":"anomaly"`) || !strings.Contains(logs.String(), `"summary":"9 refusals in 1m"`) {
		t.Errorf("the anomaly is not in the daemon's log:\n%s", logs.String())
	}
}

// With a listener of its own, the admin side (the API and the dashboard)
// is served there and not to agents; the dashboard shows what the log
// held before the daemon started (its index is built from the whole log,
// so it must be wired before the feed runs); and a dashboard's live feed
// held open does not keep Close waiting.
func TestDashboardOnTheAdminListener(t *testing.T) {
	h, admin := newHomeWithAdmin(t)
	owner := common.HexToAddress(h.Config.WalletAddress)
	chain := fundedChain(t, owner)
	// A first run grants a key.
	before, err := daemon.Start(t.Context(), daemon.Config{Home: h, UpstreamURL: chain.URL(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	granted, err := before.Service.GrantFrom(t.Context(), service.GrantSpec{Agent: "before-restart", Profile: "read-only", TTL: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := daemon.Start(t.Context(), daemon.Config{Home: h, UpstreamURL: chain.URL(), Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			d.Close()
		}
	})
	if d.AdminURL() == d.URL() {
		t.Fatalf("one listener for agents and admin: %s", d.URL())
	}
	status := func(url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(d.AdminURL() + "/ui/signin"); got != http.StatusOK {
		t.Errorf("the dashboard's sign-in on the admin listener: HTTP %d", got)
	}
	if got := status(d.URL() + "/ui/signin"); got != http.StatusNotFound {
		t.Errorf("the dashboard on the agents' listener: HTTP %d, want 404", got)
	}

	// Sign in and open the live feed.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(d.AdminURL() + "/ui/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the sign-in page:\n%s", page)
	}
	resp, err = c.PostForm(d.AdminURL()+"/ui/signin", url.Values{"csrf": {string(m[1])}, "credential": {admin}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: HTTP %d, want 303", resp.StatusCode)
	}
	resp, err = c.Get(d.AdminURL() + "/ui/keys/" + granted.Grant.ID)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "agentkeys_grant") {
		t.Errorf("the key page after a restart: HTTP %d, want its grant record in the activity:\n%s", resp.StatusCode, page)
	}
	stream, err := c.Get(d.AdminURL() + "/ui/events")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if ct := stream.Header.Get("Content-Type"); stream.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("live feed: HTTP %d, %s", stream.StatusCode, ct)
	}
	first, err := bufio.NewReader(stream.Body).ReadString('\n')
	if err != nil || first != ": live\n" {
		t.Fatalf("live feed starts with %q, %v", first, err)
	}
	// Close shuts the listeners down gracefully; an open stream would make
	// that fail at its deadline.
	closed = true
	if err := d.Close(); err != nil {
		t.Fatalf("Close with a live feed open: %v", err)
	}
}
