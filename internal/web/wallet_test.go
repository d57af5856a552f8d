package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
)

// walletProvider is an EIP-1193 provider injected into every page before
// its scripts run, as a wallet extension injects window.ethereum: it
// offers the owner's account, and hands eth_signTypedData_v4 to the test
// (a DevTools binding), which signs the typed data exactly as received,
// with go-ethereum's EIP-712 encoding, as a wallet would.
const walletProvider = `(function () {
  var pending = {};
  var next = 0;
  window.__akWalletAnswer = function (id, sig, err) {
    var p = pending[id];
    delete pending[id];
    if (err) p.reject(new Error(err)); else p.resolve(sig);
  };
  window.ethereum = {
    request: function (req) {
      if (req.method === "eth_requestAccounts" || req.method === "eth_accounts") return Promise.resolve([%q]);
      if (req.method !== "eth_signTypedData_v4") return Promise.reject(new Error("unsupported method " + req.method));
      return new Promise(function (resolve, reject) {
        var id = String(next++);
        pending[id] = { resolve: resolve, reject: reject };
        akWallet(JSON.stringify({ id: id, params: req.params }));
      });
    }
  };
})();`

// TestOwnerOfflineWalletSignsInBrowser: in the owner-offline mode a 7702
// key waits for the owner's signature; its dashboard page asks the
// browser wallet (EIP-1193 eth_signTypedData_v4) for it. A wallet signing
// with a key that is not the owner's is refused and nothing is sent; the
// owner's signature activates the key, which then swaps within its grant.
func TestOwnerOfflineWalletSignsInBrowser(t *testing.T) {
	owner, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	d := startDashAs(t, owner.Address())
	ctx := context.Background()
	sb := d.sb
	if !sb.Service.OwnerOffline() {
		t.Fatal("the sandbox home holds the owner's key")
	}
	// The owner delegates its account with its own wallet, once.
	if _, err := sb.Chain.DelegateAs(ctx, owner, sb.Chain.AgentKeyDelegate()); err != nil {
		t.Fatal(err)
	}
	res, err := sb.Service.GrantFrom(ctx, service.GrantSpec{Agent: "trader", Mode: service.Mode7702, Profile: "swap-only",
		Routers: []string{sb.Info.Router}, DailyLimit: []string{"0.1ETH", "100USDC"}, TTL: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	id, token := res.Grant.ID, res.Token.Reveal()
	if res.Grant.Status != service.StatusPendingSignature {
		t.Fatalf("granted key is %s, want %s", res.Grant.Status, service.StatusPendingSignature)
	}
	if code, msg := d.swap(token); code != 4100 || !strings.HasPrefix(msg, service.CredentialPendingSignature) {
		t.Fatalf("swap while pending: %d %q; want 4100 %q", code, msg, service.CredentialPendingSignature)
	}

	// The wallet: which key signs is the test's to choose.
	var signer atomic.Pointer[secrets.PrivateKey]
	signer.Store(stranger)
	var asked atomic.Int32
	bindings := chromedp.Events(d.ctx, runtime.BindingCalled)
	go func() {
		for e, err := range bindings {
			if err != nil {
				return
			}
			if e.Name != "akWallet" {
				continue
			}
			asked.Add(1)
			id, sig, werr := signTypedRequest(e.Payload, signer.Load())
			js := fmt.Sprintf("window.__akWalletAnswer(%q, %q, %q)", id, sig, werr)
			if _, err := chromedp.Run(d.ctx, chromedp.Evaluate[any](js)); err != nil {
				t.Errorf("answer the page: %v", err)
			}
		}
	}()
	if _, err := chromedp.Call(d.ctx, runtime.AddBinding, runtime.AddBindingParams{Name: "akWallet"}); err != nil {
		t.Fatalf("Runtime.addBinding: %v", err)
	}
	if _, err := chromedp.Call(d.ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(walletProvider, owner.Address().Hex())}); err != nil {
		t.Fatalf("Page.addScriptToEvaluateOnNewDocument: %v", err)
	}
	d.signIn()
	// A waiting key can be revoked like any other.
	d.run("open the key", chromedp.Navigate(d.ui+"/keys/"+id), chromedp.WaitVisible(chromedp.ID("wallet-sign-button")),
		chromedp.WaitVisible(chromedp.ID("revoke-"+id)))
	d.checkPage("key-pending-signature")
	if shown := d.text(); !strings.Contains(shown, "Waiting for the owner's signature") || !strings.Contains(shown, owner.Address().Hex()) {
		t.Fatalf("the key page does not ask for the owner's signature:\n%s", shown)
	}

	// A wallet that signs with another key: refused before anything is sent.
	d.run("sign with the wrong key", chromedp.Click(chromedp.ID("wallet-sign-button")),
		chromedp.WaitVisible(chromedp.CSS(`#wallet-status[data-done="refused"]`)))
	if msg := get(d, "read the refusal", chromedp.Text(chromedp.ID("wallet-status"))); !strings.Contains(msg, "not the owner") {
		t.Fatalf("a stranger's signature: the page says %q", msg)
	}
	if g, _ := sb.Service.GetGrant(ctx, id); g.Status != service.StatusPendingSignature {
		t.Fatalf("after a stranger's signature the key is %s", g.Status)
	}

	// The owner's wallet: the key is registered on chain and acts.
	signer.Store(owner)
	d.run("sign as the owner", chromedp.Navigate(d.ui+"/keys/"+id), chromedp.WaitVisible(chromedp.ID("wallet-sign-button")),
		chromedp.Click(chromedp.ID("wallet-sign-button")))
	d.waitLocation("done=activated")
	d.run("see the key active", chromedp.WaitVisible(chromedp.CSS(`.status-active`)))
	if asked.Load() != 2 {
		t.Errorf("the wallet was asked %d times, want 2", asked.Load())
	}
	if g, _ := sb.Service.GetGrant(ctx, id); g.Status != service.StatusActive {
		t.Fatalf("after the owner's signature the key is %s", g.Status)
	}
	if code, msg := d.swap(token); code != 0 {
		t.Fatalf("swap after activation: %d %s", code, msg)
	}
}

// signTypedRequest signs what eth_signTypedData_v4 was asked, as a wallet
// does: params are [address, typed data as JSON text].
func signTypedRequest(payload string, key *secrets.PrivateKey) (id, sig, errText string) {
	var req struct {
		ID     string   `json:"id"`
		Params []string `json:"params"`
	}
	if err := json.Unmarshal([]byte(payload), &req); err != nil || len(req.Params) != 2 {
		return req.ID, "", fmt.Sprintf("bad request %q: %v", payload, err)
	}
	var td apitypes.TypedData
	if err := json.Unmarshal([]byte(req.Params[1]), &td); err != nil {
		return req.ID, "", "typed data: " + err.Error()
	}
	digest, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		return req.ID, "", "typed data: " + err.Error()
	}
	s, err := crypto.Sign(digest, key.ECDSA())
	if err != nil {
		return req.ID, "", err.Error()
	}
	s[64] += 27
	return req.ID, hexutil.Encode(s), ""
}
