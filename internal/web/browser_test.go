package web_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/web"
)

// EnvChromium names the Chromium binary; default /usr/bin/chromium
// (Debian's chromium package, which .ci/run installs).
const EnvChromium = "AGENTKEYS_CHROMIUM"

// EnvArtifacts is where the browser tests save their screenshots; by
// default a new directory under the system's temp directory, kept after
// the test. The paths are printed with t.Log.
const EnvArtifacts = "AGENTKEYS_TEST_ARTIFACTS"

// chromium returns the browser to drive. Without one the test is skipped,
// except in CI (CI=true), where every test must run.
func chromium(t *testing.T) string {
	t.Helper()
	p := os.Getenv(EnvChromium)
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("the dashboard's browser tests need Chromium at %s (apt-get install chromium, or set %s): %v", p, EnvChromium, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// artifacts is the directory for this test's screenshots.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(EnvArtifacts)
	var err error
	if dir == "" {
		dir, err = os.MkdirTemp("", "agentkeys-dashboard-")
	} else {
		dir = filepath.Join(dir, t.Name())
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// epoch is when the test's clock starts; the daemon and the dev chain
// both read it, so nothing depends on today's date.
var epoch = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type dash struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	clock  *clock.Fake
	ui     string // the dashboard's base URL, like http://127.0.0.1:1234/ui
	shots  string
	ctx    context.Context // the browser tab
	dialog atomic.Value    // the last confirmation the page asked (string)
}

// startSandbox starts a dev chain with the daemon in front, on a fake
// clock at epoch, until the test ends.
func startSandbox(t *testing.T) (*sandbox.Sandbox, *clock.Fake) {
	t.Helper()
	return startSandboxAs(t, common.Address{})
}

// startSandboxAs is startSandbox for a home without the owner's key when
// owner is set (the owner-offline mode: owner holds its key elsewhere).
func startSandboxAs(t *testing.T, owner common.Address) (*sandbox.Sandbox, *clock.Fake) {
	t.Helper()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10 // a cheap passphrase KDF: this home holds play money
	c := clock.NewFake(epoch)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Config{Home: t.TempDir(), Passphrase: []byte("dashboard test passphrase"), KDF: &kdf,
		Now: c.Now, Log: slog.New(slog.DiscardHandler), OwnerAddress: owner})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb, c
}

func startDash(t *testing.T) *dash {
	t.Helper()
	return startDashAs(t, common.Address{})
}

// startDashAs is startDash on startSandboxAs(owner).
func startDashAs(t *testing.T, owner common.Address) *dash {
	t.Helper()
	exec := chromium(t)
	sb, c := startSandboxAs(t, owner)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exec), chromedp.WindowSize(1280, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to sandbox itself as root
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	d := &dash{t: t, sb: sb, clock: c, ui: sb.Info.AdminURL + "/ui", shots: artifacts(t), ctx: bctx}
	d.dialog.Store("")
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	// Accept every confirmation, and remember what it asked.
	dialogs := chromedp.Events(bctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			d.dialog.Store(ev.Message)
			if _, err := chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				return
			}
		}
	}()
	return d
}

// run runs browser actions with a deadline; every wait in them is on a
// selector or a condition, never on time.
func (d *dash) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		d.failed(what, err)
	}
}

// failed ends the test with a screenshot and the page's address and text.
func (d *dash) failed(what string, err error) {
	d.t.Helper()
	d.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
	ctx, cancel := context.WithTimeout(d.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	d.t.Fatalf("%s: %v\npage %s:\n%s", what, err, loc, body)
}

// shot saves a full-page screenshot of the current page.
func (d *dash) shot(name string) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		d.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(d.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.t.Logf("screenshot: %s", p)
}

// get runs an action that returns a value, with a deadline.
func get[T any](d *dash, what string, a chromedp.Action[T]) T {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		d.failed(what, err)
	}
	return v
}

// text is the visible text of the page's main element.
func (d *dash) text() string {
	d.t.Helper()
	return get(d, "read the page", chromedp.Text(chromedp.CSS("main")))
}

// waitFor waits until the page's main text contains want.
func (d *dash) waitFor(what, want string) {
	d.t.Helper()
	get(d, what, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector("main") !== null && document.querySelector("main").innerText.includes(%q)`, want)))
}

// checkPage checks what every page must: each form control has a label
// and nothing overflows the window sideways (at 1280px and at phone
// width).
func (d *dash) checkPage(name string) {
	d.t.Helper()
	unlabelled := get(d, "check labels of "+name, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("input, select, textarea"))
		.filter(e => e.type !== "hidden" && e.labels.length === 0 && !e.getAttribute("aria-label"))
		.map(e => e.name || e.id)`))
	if len(unlabelled) > 0 {
		d.t.Errorf("%s: form controls without a label: %v", name, unlabelled)
	}
	if get(d, "check width of "+name, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)) {
		d.t.Errorf("%s: the page is wider than the window", name)
	}
	// Keyboard: every link and button has a name a screen reader reads and
	// is reached by Tab in document order (no tabindex that reorders or
	// removes it).
	if bad := get(d, "check keyboard access of "+name, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("a[href], button, input, select, textarea"))
		.filter(e => e.type !== "hidden" && (e.tabIndex !== 0 || ((e.tagName === "A" || e.tagName === "BUTTON") && !(e.innerText || e.getAttribute("aria-label") || "").trim())))
		.map(e => e.outerHTML.slice(0, 80))`)); len(bad) > 0 {
		d.t.Errorf("%s: controls out of the keyboard's reach or without a name: %v", name, bad)
	}
	// Contrast: text is at least 4.5:1 against its background (3:1 when
	// large), WCAG 2 AA.
	if bad := get(d, "check contrast of "+name, chromedp.Evaluate[[]string](contrastJS)); len(bad) > 0 {
		d.t.Errorf("%s: text below WCAG AA contrast: %v", name, bad)
	}
}

// contrastJS lists the visible text whose color is below WCAG AA contrast
// against the nearest opaque background behind it.
const contrastJS = `(() => {
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = c => (c /= 255) <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bg = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const e = n.parentElement, text = n.textContent.trim();
    if (!text || !e || e.closest("svg") || !e.getClientRects().length) continue;
    const st = getComputedStyle(e);
    if (st.visibility === "hidden" || Number(st.opacity) === 0) continue;
    const a = lum(rgb(st.color)), b = lum(bg(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push(text.slice(0, 40) + " (" + ratio.toFixed(2) + ":1)");
  }
  return out;
})()`

// phone redraws the current page at phone width, checks and shoots it,
// and goes back to 1280px.
func (d *dash) phone(name string) {
	d.t.Helper()
	d.run("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main")))
	d.checkPage(name + " at phone width")
	d.shot(name + "-phone")
	d.run("desktop width", chromedp.EmulateViewport(1280, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main")))
}

// agentUA is the agents' User-Agent, which the dashboard shows.
const agentUA = "trader-bot/1.0"

// agent is a JSON-RPC client holding only the key's credential.
func (d *dash) agent(token string) *gethrpc.Client {
	d.t.Helper()
	c, err := gethrpc.DialOptions(context.Background(), d.sb.Info.RPCURL, gethrpc.WithHeader("Authorization", "Bearer "+token),
		gethrpc.WithHeader("User-Agent", agentUA))
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(c.Close)
	return c
}

type txObj struct {
	To    *common.Address `json:"to,omitempty"`
	Value *hexutil.Big    `json:"value,omitempty"`
	Data  hexutil.Bytes   `json:"data,omitempty"`
}

func calldata(t *testing.T, sig string, args ...any) hexutil.Bytes {
	t.Helper()
	fn, err := policy.ParseSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	data, err := fn.Calldata(args...)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// rpcCode is a JSON-RPC error's code and message, with data.reasons.
func rpcCode(err error) (int, string) {
	var ec gethrpc.Error
	if !errors.As(err, &ec) {
		return 0, fmt.Sprint(err)
	}
	msg := ec.Error()
	var de gethrpc.DataError
	if errors.As(err, &de) {
		msg += fmt.Sprint(" ", de.ErrorData())
	}
	return ec.ErrorCode(), msg
}

// TestDashboardInBrowser drives the dashboard in a real headless Chromium
// against a real daemon and dev chain: sign-in (a wrong credential
// refused), a key granted from the form with its credential shown once,
// an agent's swap and its spend on the key page, a refusal arriving in
// the live feed, and a one-click revoke (confirmed) after which the
// agent's next request is refused with 4100.
func TestDashboardInBrowser(t *testing.T) {
	d := startDash(t)
	info := d.sb.Info
	router, usdc, weth, owner := common.HexToAddress(info.Router), common.HexToAddress(info.Tokens["USDC"]), common.HexToAddress(info.WETH), common.HexToAddress(info.Owner)

	// Signed out, the dashboard sends you to sign in; a wrong credential
	// is refused.
	d.run("open the dashboard", chromedp.Navigate(d.ui+"/"), chromedp.WaitVisible(chromedp.ID("credential")))
	d.checkPage("sign-in")
	d.shot("signin")
	d.run("sign in wrongly", chromedp.SendKeys(chromedp.ID("credential"), "akadm_wrong_credential"), chromedp.Submit(chromedp.ID("credential")), chromedp.WaitVisible(chromedp.CSS(`p.error[role="alert"]`)))
	d.waitFor("the refusal", "That is not the admin credential")
	d.shot("signin-refused")
	d.run("sign in", chromedp.SendKeys(chromedp.ID("credential"), d.sb.AdminToken),
		chromedp.Submit(chromedp.ID("credential")), chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Main"]`)))
	d.waitFor("the keys page", "No keys")
	d.shot("keys-empty")

	// Grant a swap-only key from the form.
	d.run("open the grant form", chromedp.Navigate(d.ui+"/grant"), chromedp.WaitVisible(chromedp.ID("agent")))
	d.checkPage("grant form")
	d.phone("grant")
	d.run("fill the grant form",
		chromedp.SendKeys(chromedp.ID("agent"), "trader"),
		chromedp.SetValue(chromedp.ID("profile"), "swap-only"),
		chromedp.SendKeys(chromedp.ID("routers"), info.Router),
		chromedp.SendKeys(chromedp.ID("daily_limit"), "0.1ETH\n100USDC"),
		chromedp.SetValue(chromedp.ID("ttl"), "24h"))
	d.shot("grant")
	d.run("grant", chromedp.Click(chromedp.CSS(`form[action="/ui/grant"] button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("token")))
	token := get(d, "read the credential", chromedp.Value(chromedp.ID("token")))
	if !strings.HasPrefix(token, "ak_") {
		t.Fatalf("the grant page shows %q, not an agent credential", token)
	}
	d.waitFor("the once-only warning", "This is the only time the credential is shown")
	d.checkPage("granted")
	d.shot("granted")
	keyID := get(d, "read the key id", chromedp.Text(chromedp.CSS(`main a[href^="/ui/keys/"] code`)))
	g, err := d.sb.Service.GetGrant(context.Background(), keyID)
	if err != nil || g.Agent != "trader" || g.Status != service.StatusActive || g.Policy.Document().Profile != "swap-only" {
		t.Fatalf("the granted key %s: %+v, %v", keyID, g, err)
	}

	// The agent swaps ETH for USDC on the router.
	agent := d.agent(token)
	ctx := context.Background()
	eth := func(x int64) *hexutil.Big { return (*hexutil.Big)(new(big.Int).Mul(big.NewInt(x), big.NewInt(1e16))) } // hundredths of ETH
	swap := calldata(t, "swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, owner, big.NewInt(4_000_000_000))
	var hash common.Hash
	for _, hundredths := range []int64{2, 3} { // two swaps, 20 minutes apart by the daemon's clock
		d.clock.Advance(20 * time.Minute)
		if err := agent.CallContext(ctx, &hash, "eth_sendTransaction", txObj{To: &router, Value: eth(hundredths), Data: swap}); err != nil {
			t.Fatalf("swap: %v", err)
		}
		waitMined(t, d.sb, hash)
	}

	// The key page shows the spend, exactly as the service counts it.
	budget, err := d.sb.Service.Budget(ctx, keyID)
	if err != nil {
		t.Fatal(err)
	}
	d.run("open the key page", chromedp.Navigate(d.ui+"/keys/"+keyID), chromedp.WaitVisible(chromedp.ID("spend-h")))
	shown := d.text()
	for _, b := range budget {
		if b.Asset != "native" {
			continue
		}
		if b.RawPending == "0" && b.RawSpent == "0" {
			t.Fatalf("the service counts no ETH spend after the swap: %+v", b)
		}
		for _, want := range []string{b.Spent + " spent", b.Pending + " pending", b.Remaining + " left"} {
			if !strings.Contains(shown, want) {
				t.Errorf("the key page does not show %q:\n%s", want, shown)
			}
		}
	}
	h := hash.Hex()
	for _, want := range []string{"swapExactETHForTokens(uint256,address[],address,uint256)", "call swapExactETHForTokens(", "on contract " + info.Router,
		"It may not", "tx " + h[:8] + "…" + h[len(h)-4:], "signed in all", "via " + agentUA} {
		if !strings.Contains(shown, want) {
			t.Errorf("the key page does not show %q:\n%s", want, shown)
		}
	}
	if points := get(d, "read the chart", chromedp.Evaluate[int](`document.querySelectorAll("figure.chart circle.dot").length`)); points != 2 {
		t.Errorf("the spend chart has %d points, want 2, one per swap", points)
	}
	d.checkPage("key")
	d.shot("key")
	d.phone("key")

	d.run("open the keys page", chromedp.Navigate(d.ui+"/keys"), chromedp.WaitVisible(chromedp.ID("key-"+keyID)))
	if bars := get(d, "count the usage bars", chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll("#key-%s svg.bar").length`, keyID))); bars != 2 {
		t.Errorf("the keys page draws %d usage bars for the key, want 2 (ETH and USDC)", bars)
	}
	d.checkPage("keys")
	d.shot("keys")
	d.phone("keys")

	// A refused transfer arrives in the live feed, with its reason.
	d.run("open the live feed", chromedp.Navigate(d.ui+"/feed"), chromedp.WaitVisible(chromedp.ID("feed")))
	d.waitFor("the live feed to connect", "Live.")
	transfer := calldata(t, "transfer(address,uint256)", common.HexToAddress("0x9999999999999999999999999999999999999999"), big.NewInt(1_000_000))
	err = agent.CallContext(ctx, &hash, "eth_sendTransaction", txObj{To: &usdc, Data: transfer})
	if code, msg := rpcCode(err); code != 4001 {
		t.Fatalf("a token transfer: code %d (%s), want 4001", code, msg)
	}
	get(d, "the refusal in the live feed", chromedp.Poll[bool](`Array.from(document.querySelectorAll("#feed li.decision-deny")).some(li => li.innerText.includes("profile swap-only blocks token transfers"))`))
	// Four more refused transfers make a refusal burst (five within the
	// default ten minutes): the detector raises an anomaly, which arrives
	// in the live feed and is listed on the key's page.
	for i := 0; i < 4; i++ {
		err = agent.CallContext(ctx, &hash, "eth_sendTransaction", txObj{To: &usdc, Data: transfer})
		if code, msg := rpcCode(err); code != 4001 {
			t.Fatalf("token transfer %d: code %d (%s), want 4001", i+2, code, msg)
		}
	}
	get(d, "the anomaly in the live feed", chromedp.Poll[bool](`Array.from(document.querySelectorAll("#feed li.is-anomaly")).some(li => li.innerText.includes("5 refusals within 10m"))`))
	d.checkPage("feed")
	d.shot("feed")
	d.phone("feed")
	d.run("open the key page", chromedp.Navigate(d.ui+"/keys/"+keyID), chromedp.WaitVisible(chromedp.ID("anomalies-h")))
	if shown := get(d, "read the anomalies", chromedp.Text(chromedp.CSS(`section[aria-labelledby="anomalies-h"]`))); !strings.Contains(shown, "refusal_burst") ||
		!strings.Contains(shown, "5 refusals within 10m") || !strings.Contains(strings.ToLower(shown), "anomaly · critical") {
		t.Errorf("the key page's anomalies: %q", shown)
	}

	// The week's review on one page: what the agent did, what looked
	// wrong, which keys should go (none: the key is active and in use),
	// and the audit log verified.
	d.run("open the review", chromedp.Navigate(d.ui+"/review"), chromedp.WaitVisible(chromedp.ID("audit-ok")))
	shown = d.text()
	for _, want := range []string{"Verified: ", "refusal_burst 5 refusals within 10m", "target\t5\t", "profile swap-only blocks token transfers",
		"127.0.0.1 (7)", "trader-bot/1.0 (7)"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the review page does not show %q:\n%s", want, shown)
		}
	}
	if row := get(d, "read the key's row", chromedp.Text(chromedp.ID("review-"+keyID))); !strings.Contains(row, "7\t5\t1") && !strings.Contains(row, "7 5 1") {
		t.Errorf("the key's row in the review (7 requests, 5 refused, 1 anomaly): %q", row)
	}
	d.checkPage("review")
	d.shot("review")
	d.phone("review")

	// Revoke in one click, confirmed; the agent's next request is refused.
	d.run("open the key page", chromedp.Navigate(d.ui+"/keys/"+keyID), chromedp.WaitVisible(chromedp.ID("revoke-"+keyID)))
	d.run("revoke", chromedp.Click(chromedp.ID("revoke-"+keyID)), chromedp.WaitVisible(chromedp.CSS(`p.notice[role="status"]`)))
	d.waitFor("the revocation", "The key is revoked")
	if q := d.dialog.Load().(string); !strings.Contains(q, "Revoke key "+keyID) {
		t.Errorf("the revoke button asked %q, want a confirmation naming the key", q)
	}
	d.shot("key-revoked")
	var n hexutil.Uint64
	err = agent.CallContext(ctx, &n, "eth_blockNumber")
	if code, msg := rpcCode(err); code != 4100 || !strings.Contains(msg, "revoked") {
		t.Fatalf("after revoking, the agent's request: code %d (%s), want 4100 credential revoked", code, msg)
	}
	if g, _ := d.sb.Service.GetGrant(ctx, keyID); g.Status != service.StatusRevoked {
		t.Errorf("after the click the key is %s", g.Status)
	}

	// The credential was shown once: no page shows it again.
	owner2 := signIn(t, d.sb)
	for _, p := range []string{"/keys", "/keys/" + keyID, "/feed", "/grant"} {
		if _, body := owner2.get(p); strings.Contains(body, token) || strings.Contains(body, strings.TrimPrefix(token, "ak_")) {
			t.Errorf("%s shows the agent's credential again", p)
		}
	}
}

// waitMined waits for the transaction's receipt and checks it succeeded.
func waitMined(t *testing.T, sb *sandbox.Sandbox, hash common.Hash) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		r, err := sb.Chain.Client().TransactionReceipt(ctx, hash)
		if err == nil {
			if r.Status != 1 {
				t.Fatalf("transaction %s reverted", hash.Hex())
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no receipt for %s: %v", hash.Hex(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// owner is a plain HTTP client of the dashboard with a cookie jar.
type owner struct {
	t    *testing.T
	base string
	c    *http.Client
	last http.Header // the headers of the last response
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newOwner(t *testing.T, sb *sandbox.Sandbox) *owner {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &owner{t: t, base: sb.Info.AdminURL + "/ui", c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (o *owner) get(path string) (int, string) {
	o.t.Helper()
	return o.do("GET", path, nil, nil)
}

func (o *owner) post(path string, form url.Values, header map[string]string) (int, string) {
	o.t.Helper()
	return o.do("POST", path, form, header)
}

// do sends a request (a form post when form is not nil) and returns the
// status and body; redirects are not followed.
func (o *owner) do(method, path string, form url.Values, header map[string]string) (int, string) {
	o.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, o.base+path, body)
	if err != nil {
		o.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := o.c.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	o.last = resp.Header
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		o.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// csrf reads the CSRF token of the page at path.
func (o *owner) csrf(path string) string {
	o.t.Helper()
	code, body := o.get(path)
	m := csrfField.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		o.t.Fatalf("GET %s: HTTP %d, no CSRF token in the page", path, code)
	}
	return m[1]
}

// signInAs posts the sign-in form with credential and returns the HTTP
// status (303 when signed in).
func (o *owner) signInAs(credential string) int {
	o.t.Helper()
	code, _ := o.post("/signin", url.Values{"csrf": {o.csrf("/signin")}, "credential": {credential}}, nil)
	return code
}

func signIn(t *testing.T, sb *sandbox.Sandbox) *owner {
	t.Helper()
	o := newOwner(t, sb)
	if code := o.signInAs(sb.AdminToken); code != http.StatusSeeOther {
		t.Fatalf("sign in: HTTP %d, want 303", code)
	}
	return o
}

// TestDashboardRefusesForgedForms: a form posted without this session's
// CSRF token, with a wrong one, or from another origin is refused with
// 403 and changes nothing; the sign-in form needs its token too; and
// after DefaultSignInLimit wrong credentials from one address even the
// right one is refused, until the window passes by the daemon's clock.
func TestDashboardRefusesForgedForms(t *testing.T) {
	sb, c := startSandbox(t)
	ctx := context.Background()
	res, err := sb.Service.GrantFrom(ctx, service.GrantSpec{Agent: "bot", Profile: "read-only", TTL: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Grant.ID

	o := signIn(t, sb)
	token := o.csrf("/keys")
	evil := map[string]string{"Origin": "http://evil.example"}
	for _, tc := range []struct {
		name   string
		form   url.Values
		header map[string]string
	}{
		{"no token", url.Values{"confirm": {"yes"}}, nil},
		{"a wrong token", url.Values{"confirm": {"yes"}, "csrf": {token[:len(token)-1] + "x"}}, nil},
		{"another session's token", url.Values{"confirm": {"yes"}, "csrf": {signIn(t, sb).csrf("/keys")}}, nil},
		{"another origin", url.Values{"confirm": {"yes"}, "csrf": {token}}, evil},
	} {
		for _, path := range []string{"/keys/" + id + "/revoke", "/revoke-all"} {
			if code, body := o.post(path, tc.form, tc.header); code != http.StatusForbidden || !strings.Contains(body, "refused") {
				t.Errorf("POST %s with %s: HTTP %d, want 403", path, tc.name, code)
			}
		}
		if code, _ := o.post("/grant", url.Values{"agent": {"forged"}, "profile": {"read-only"}, "csrf": tc.form["csrf"]}, tc.header); code != http.StatusForbidden {
			t.Errorf("POST /grant with %s: HTTP %d, want 403", tc.name, code)
		}
	}
	if g, err := sb.Service.GetGrant(ctx, id); err != nil || g.Status != service.StatusActive {
		t.Fatalf("after forged posts the key is %s (%v), want active", g.Status, err)
	}
	if gs, _ := sb.Service.FindGrants(ctx, service.GrantQuery{}); len(gs.Keys) != 1 {
		t.Fatalf("a forged grant form made a key: %d keys", len(gs.Keys))
	}
	// A bad field shows the form again, saying which and keeping what was
	// typed; nothing is granted.
	code, body := o.post("/grant", url.Values{"csrf": {token}, "agent": {"typo-bot"}, "profile": {"read-only"}, "ttl": {"soon"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(body, `ttl: expected a positive duration like 1h or 7d, got &#34;soon&#34;`) ||
		!strings.Contains(body, `value="typo-bot"`) {
		t.Errorf("a grant with a bad ttl: HTTP %d, want 400 naming the field in the form:\n%s", code, body)
	}
	if gs, _ := sb.Service.FindGrants(ctx, service.GrantQuery{}); len(gs.Keys) != 1 {
		t.Fatalf("a refused grant form made a key: %d keys", len(gs.Keys))
	}
	// Signed out, even the right token is refused.
	anon := newOwner(t, sb)
	if code, _ := anon.post("/revoke-all", url.Values{"confirm": {"yes"}, "csrf": {token}}, nil); code != http.StatusForbidden {
		t.Errorf("POST /revoke-all signed out: HTTP %d, want 403", code)
	}
	// The sign-in form needs the token its page set.
	if code, _ := anon.post("/signin", url.Values{"credential": {sb.AdminToken}}, nil); code != http.StatusForbidden {
		t.Errorf("sign-in without its form's token: HTTP %d, want 403", code)
	}
	// With the token and without confirm=yes, the server asks first.
	if code, body := o.post("/keys/"+id+"/revoke", url.Values{"csrf": {token}}, nil); code != http.StatusOK || !strings.Contains(body, "Yes, revoke") {
		t.Errorf("an unconfirmed revoke: HTTP %d, want the confirmation page", code)
	}
	if g, _ := sb.Service.GetGrant(ctx, id); g.Status != service.StatusActive {
		t.Fatalf("an unconfirmed revoke revoked the key")
	}
	// The real thing works, and is audited like the CLI's.
	if code, _ := o.post("/keys/"+id+"/revoke", url.Values{"csrf": {token}, "confirm": {"yes"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("a confirmed revoke with the session's token: HTTP %d, want 303", code)
	}
	if g, _ := sb.Service.GetGrant(ctx, id); g.Status != service.StatusRevoked {
		t.Errorf("after a confirmed revoke the key is %s", g.Status)
	}
	if _, body := o.get("/keys/" + id); !strings.Contains(body, "agentkeys_revoke") {
		t.Errorf("the key's activity shows no audit record of its revocation:\n%s", body)
	}

	// A live feed reconnecting with Last-Event-ID is first sent what it
	// missed, in order, then goes live.
	ids := replay(t, o, "1")
	for i, id := range ids {
		if id != strconv.Itoa(i+2) {
			t.Fatalf("replay after record 1: ids %v, want 2, 3, … in order", ids)
		}
	}
	if len(ids) == 0 {
		t.Fatal("replay after record 1 sent nothing; the revocation came after it")
	}
	if after := replay(t, o, ids[len(ids)-1]); len(after) != 0 {
		t.Errorf("replay after the newest record: ids %v, want none", after)
	}

	// Wrong credentials: refused, then rate-limited.
	limited := newOwner(t, sb)
	for i := range web.DefaultSignInLimit {
		if code := limited.signInAs("akadm_not_the_credential"); code != http.StatusUnauthorized {
			t.Fatalf("wrong credential #%d: HTTP %d, want 401", i+1, code)
		}
	}
	if code := limited.signInAs(sb.AdminToken); code != http.StatusTooManyRequests {
		t.Fatalf("the right credential after %d failures: HTTP %d, want 429", web.DefaultSignInLimit, code)
	}
	c.Advance(web.DefaultSignInWindow)
	if code := limited.signInAs(sb.AdminToken); code != http.StatusSeeOther {
		t.Fatalf("the right credential once the window passed: HTTP %d, want 303", code)
	}

	// Sessions end by the daemon's clock.
	c.Advance(web.DefaultSessionIdle)
	if code, _ := o.get("/keys"); code != http.StatusSeeOther {
		t.Errorf("a session idle for %s: HTTP %d, want 303 to sign in", web.DefaultSessionIdle, code)
	}
}

// replay opens the live feed as a browser reconnecting after record
// lastID and returns the ids of the records it is sent before it goes
// live.
func replay(t *testing.T, o *owner, lastID string) []string {
	t.Helper()
	req, err := http.NewRequest("GET", o.base+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Last-Event-ID", lastID)
	resp, err := o.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("live feed: HTTP %d", resp.StatusCode)
	}
	var ids []string
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		switch l := lines.Text(); {
		case l == ": live":
			return ids
		case strings.HasPrefix(l, "id: "):
			ids = append(ids, strings.TrimPrefix(l, "id: "))
		}
	}
	t.Fatalf("the live feed ended before going live: %v", lines.Err())
	return nil
}

// The session cookie is HttpOnly, SameSite=Strict and scoped to /ui, with
// a fresh random id at every sign-in; every page forbids framing, foreign
// scripts and caching.
func TestDashboardCookieAndHeaders(t *testing.T) {
	sb, _ := startSandbox(t)
	sessionCookie := func() *http.Cookie {
		t.Helper()
		o := newOwner(t, sb)
		if code := o.signInAs(sb.AdminToken); code != http.StatusSeeOther {
			t.Fatalf("sign in: HTTP %d", code)
		}
		resp := http.Response{Header: o.last}
		for _, c := range resp.Cookies() {
			if c.Name == "agentkeys_session" {
				return c
			}
		}
		t.Fatalf("sign-in set no session cookie: %v", o.last["Set-Cookie"])
		return nil
	}
	a, b := sessionCookie(), sessionCookie()
	if !a.HttpOnly || a.SameSite != http.SameSiteStrictMode || a.Path != "/ui" || a.Secure || len(a.Value) < 43 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/ui, not Secure without TLS, 256 random bits", a)
	}
	if a.Value == b.Value {
		t.Error("two sign-ins got the same session id")
	}

	resp, err := http.Get(sb.Info.AdminURL + "/ui/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(h); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	// The assets are embedded and served by the daemon itself.
	for _, asset := range []string{"/ui/static/app.css", "/ui/static/app.js"} {
		resp, err := http.Get(sb.Info.AdminURL + asset)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) < 100 {
			t.Errorf("%s: HTTP %d, %d bytes", asset, resp.StatusCode, len(body))
		}
	}
}

// A suspended key shows its status and the reason given to the owner, can
// still be revoked, and is resumed from its resume button after a
// confirmation.
func TestDashboardSuspendedKey(t *testing.T) {
	sb, _ := startSandbox(t)
	ctx := context.Background()
	res, err := sb.Service.GrantFrom(ctx, service.GrantSpec{Agent: "prober", Profile: "read-only", TTL: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Grant.ID
	if _, err := sb.Service.Suspend(ctx, id, "9 refusals in 1m"); err != nil {
		t.Fatal(err)
	}
	o := signIn(t, sb)
	for _, path := range []string{"/keys/" + id, "/keys?status=suspended"} {
		code, body := o.get(path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d", path, code)
		}
		for _, want := range []string{`status-suspended`, "9 refusals in 1m", `id="revoke-` + id + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s does not show %q", path, want)
			}
		}
		if !strings.Contains(body, `id="resume-`+id+`"`) {
			t.Errorf("GET %s has no resume button for the suspended key", path)
		}
	}
	if _, body := o.get("/keys?status=active"); strings.Contains(body, id) {
		t.Error("the suspended key is listed as active")
	}
	// The review recommends revoking it, with its revoke button.
	if _, body := o.get("/review"); !strings.Contains(body, `id="recommend-`+id+`"`) || !strings.Contains(body, "suspended: 9 refusals in 1m") ||
		!strings.Contains(body, `id="revoke-`+id+`"`) {
		t.Errorf("the review page does not recommend revoking the suspended key:\n%s", body)
	}

	// Resume asks first (without JavaScript, a confirmation page), then
	// resumes: the key is active again, with no resume button.
	token := o.csrf("/keys/" + id)
	code, body := o.post("/keys/"+id+"/resume", url.Values{"csrf": {token}}, nil)
	if code != http.StatusOK || !strings.Contains(body, "Resume key "+id+" of agent prober?") {
		t.Fatalf("unconfirmed resume: HTTP %d\n%s", code, body)
	}
	if g, _ := sb.Service.GetGrant(ctx, id); g.Status != service.StatusSuspended {
		t.Fatalf("an unconfirmed resume changed the key: %s", g.Status)
	}
	if code, _ := o.post("/keys/"+id+"/resume", url.Values{"csrf": {token}, "confirm": {"yes"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("confirmed resume: HTTP %d", code)
	}
	if g, _ := sb.Service.GetGrant(ctx, id); g.Status != service.StatusActive || g.SuspendedAt != nil {
		t.Errorf("after resume the key is %s", g.Status)
	}
	if _, body := o.get("/keys/" + id + "?done=resumed"); !strings.Contains(body, "The key is resumed") || strings.Contains(body, `id="resume-`) {
		t.Errorf("the key page after resume:\n%s", body)
	}
}

// TestDashboardKeysPages: the keys page shows the newest keys a page at
// a time, with a link to the older ones while any remain and one back to
// the newest; a forged cursor is refused.
func TestDashboardKeysPages(t *testing.T) {
	sb, c := startSandbox(t)
	ctx := context.Background()
	var ids []string // oldest first
	for i := range 51 {
		c.Advance(time.Second)
		res, err := sb.Service.GrantFrom(ctx, service.GrantSpec{Agent: fmt.Sprintf("bot-%d", i), Profile: "read-only", TTL: "24h"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Grant.ID)
	}
	o := signIn(t, sb)
	keyCard := regexp.MustCompile(`<li class="card key" id="key-([a-z0-9]+)"`)
	shown := func(body string) []string {
		var out []string
		for _, m := range keyCard.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	older := regexp.MustCompile(`href="([^"]+)" id="older-keys"`)

	code, body := o.get("/keys")
	if code != http.StatusOK {
		t.Fatalf("GET /keys: HTTP %d", code)
	}
	want := slices.Clone(ids[1:])
	slices.Reverse(want)
	if got := shown(body); !slices.Equal(got, want) {
		t.Fatalf("the first page shows %v, want the 50 newest keys, newest first", got)
	}
	if strings.Contains(body, `id="newest-keys"`) {
		t.Error("the first page links to itself")
	}
	m := older.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the first page has no link to the older keys")
	}
	code, body = o.get(strings.TrimPrefix(html.UnescapeString(m[1]), "/ui"))
	if code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", m[1], code)
	}
	if got := shown(body); !slices.Equal(got, ids[:1]) {
		t.Errorf("the second page shows %v, want the oldest key", got)
	}
	if older.MatchString(body) || !strings.Contains(body, `id="newest-keys"`) {
		t.Error("the last page links to older keys, or not back to the newest")
	}
	if code, _ := o.get("/keys?cursor=forged"); code != http.StatusBadRequest {
		t.Errorf("a forged cursor: HTTP %d, want 400", code)
	}
}
