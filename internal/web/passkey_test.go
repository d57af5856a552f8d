package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	_ "modernc.org/sqlite"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/passkey"
	"github.com/agentkeys/agentkeys/internal/service"
)

// passkeyDash is the dashboard driven at http://localhost:PORT, the
// origin WebAuthn accepts (Chromium refuses an IP address as relying
// party id; localhost over plain http is a secure context), with a
// virtual platform authenticator that verifies its user.
type passkeyDash struct {
	*dash
	base  string // http://localhost:PORT
	api   *admin.Client
	authn webauthn.AuthenticatorID
}

func startPasskeyDash(t *testing.T) *passkeyDash {
	t.Helper()
	d := startDash(t)
	base := strings.Replace(d.sb.Info.AdminURL, "127.0.0.1", "localhost", 1)
	if got := d.sb.Service.OwnerURL(); got != base {
		t.Fatalf("the owner's pages are at %q, want %q", got, base)
	}
	d.ui = base + "/ui"
	if _, err := chromedp.Call(d.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(d.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
		HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return &passkeyDash{dash: d, base: base, api: &admin.Client{URL: d.sb.Info.AdminURL, Token: d.sb.AdminToken}, authn: res.AuthenticatorID}
}

// register registers a passkey through the one-time link the CLI's
// `owner passkey add` prints, opened in the browser.
func (p *passkeyDash) register(name string) {
	p.t.Helper()
	var e service.Enrollment
	if err := p.api.Do(context.Background(), "POST", "/v1/owner/passkeys/enroll", nil, &e); err != nil {
		p.t.Fatalf("owner passkey add: %v", err)
	}
	if !strings.HasPrefix(e.URL, p.base+"/ui/enroll#") {
		p.t.Fatalf("the registration link is %q, want one under %s/ui/enroll#", e.URL, p.base)
	}
	p.run("open the link", chromedp.Navigate(e.URL), chromedp.WaitVisible(chromedp.ID("enroll-button")))
	p.checkPage("enroll")
	p.run("register a passkey", chromedp.SetValue(chromedp.ID("passkey-name"), name), chromedp.Click(chromedp.ID("enroll-button")),
		chromedp.WaitVisible(chromedp.CSS(`#enroll-status[data-done]`)))
	if msg := get(p.dash, "read the registration", chromedp.Text(chromedp.ID("enroll-status"))); !strings.Contains(msg, "registered") {
		p.t.Fatalf("registration says %q", msg)
	}
}

// waitLocation waits until the tab's address contains want: the page
// navigates by itself (after an approval), which ends any wait running in
// the page it leaves.
func (p *dash) waitLocation(want string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.Contains(loc, want) {
			return
		}
		select {
		case <-ctx.Done():
			p.failed("wait for "+want, fmt.Errorf("the tab is at %q: %v", loc, err))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *dash) signIn() {
	p.t.Helper()
	p.run("sign in", chromedp.Navigate(p.ui+"/signin"), chromedp.WaitVisible(chromedp.ID("credential")),
		chromedp.SendKeys(chromedp.ID("credential"), p.sb.AdminToken), chromedp.Submit(chromedp.ID("credential")),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Main"]`)))
}

// grant grants a swap-only key through the admin API, as `agentkeys key
// grant -o json` does, and checks it answers pending approval.
func (p *passkeyDash) grant(agent string) admin.GrantView {
	p.t.Helper()
	return p.grantMode(agent, service.ModeWallet)
}

func (p *passkeyDash) grantMode(agent, mode string) admin.GrantView {
	p.t.Helper()
	info := p.sb.Info
	var v admin.GrantView
	err := p.api.Do(context.Background(), "POST", "/v1/grants", service.GrantSpec{Agent: agent, Mode: mode, Profile: "swap-only", Routers: []string{info.Router},
		DailyLimit: []string{"0.1ETH", "100USDC"}, TTL: "24h"}, &v)
	if err != nil {
		p.t.Fatalf("grant: %v", err)
	}
	if v.Status != service.StatusPendingApproval || v.ChangeID == "" || v.ApproveURL != p.base+"/ui/approvals/"+v.ChangeID || !strings.HasPrefix(v.Token, "ak_") {
		p.t.Fatalf("grant answered status %q change %q approve_url %q; want pending_approval with an approval URL under %s and the credential",
			v.Status, v.ChangeID, v.ApproveURL, p.base)
	}
	return v
}

// swap has the agent with token swap 0.01 ETH for USDC; it returns the
// error code and message (0 and the hash on success).
func (p *dash) swap(token string) (int, string) {
	p.t.Helper()
	info := p.sb.Info
	router, usdc, weth, owner := common.HexToAddress(info.Router), common.HexToAddress(info.Tokens["USDC"]), common.HexToAddress(info.WETH), common.HexToAddress(info.Owner)
	data := calldata(p.t, "swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, owner, big.NewInt(4_000_000_000))
	var hash common.Hash
	err := p.agent(token).CallContext(context.Background(), &hash, "eth_sendTransaction", txObj{To: &router, Value: (*hexutil.Big)(big.NewInt(1e16)), Data: data})
	if err != nil {
		return rpcCode(err)
	}
	waitMined(p.t, p.sb, hash)
	return 0, hash.Hex()
}

// TestPasskeyApprovalInBrowser drives the owner's passkeys in a real
// headless Chromium with its virtual authenticator (DevTools WebAuthn
// domain): a passkey registered from the CLI's one-time link; a key
// granted through the admin API, pending approval, refused with 4100
// "pending owner approval" until the owner approves it on its page with
// the passkey, after which it swaps; the wallet's EIP-7702 delegation
// and a 7702 key, each waiting for the passkey (the session key funded
// on chain only once approved); a key whose stored policy is altered
// after its approval's challenge was signed, refused; a revoke that needs
// no passkey; and the audit log, whose approvals verify against the
// registration in it.
func TestPasskeyApprovalInBrowser(t *testing.T) {
	p := startPasskeyDash(t)
	ctx := context.Background()
	info := p.sb.Info

	p.register("test laptop")
	var list struct{ Passkeys []service.Passkey }
	if err := p.api.Do(ctx, "GET", "/v1/owner/passkeys", nil, &list); err != nil || len(list.Passkeys) != 1 || list.Passkeys[0].Name != "test laptop" {
		t.Fatalf("owner passkey list = %+v, %v; want the one registered", list, err)
	}
	p.signIn()
	p.run("open the passkeys page", chromedp.Navigate(p.ui+"/passkeys"), chromedp.WaitVisible(chromedp.ID("add-passkey")))
	if shown := p.text(); !strings.Contains(shown, "test laptop") || !strings.Contains(shown, list.Passkeys[0].ID) {
		t.Errorf("the passkeys page does not show the passkey:\n%s", shown)
	}
	p.checkPage("passkeys")
	p.shot("passkeys")

	// A key granted from the dashboard's form waits too: its credential
	// is shown once, with a link to its approval.
	p.run("grant from the form", chromedp.Navigate(p.ui+"/grant"), chromedp.WaitVisible(chromedp.ID("agent")),
		chromedp.SendKeys(chromedp.ID("agent"), "formbot"), chromedp.SetValue(chromedp.ID("profile"), "read-only"),
		chromedp.Click(chromedp.CSS(`form[action="/ui/grant"] button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("pending")))
	if msg := get(p.dash, "read the pending notice", chromedp.Text(chromedp.ID("pending"))); !strings.Contains(msg, "refused with “pending owner approval”") {
		t.Errorf("the granted page says %q", msg)
	}
	p.checkPage("granted pending approval")

	// A grant now waits for the passkey; its key is refused meanwhile.
	v := p.grant("trader")
	if code, msg := p.swap(v.Token); code != 4100 || !strings.Contains(msg, service.CredentialPendingApproval) {
		t.Fatalf("a key pending approval answered %d %q; want 4100 %q", code, msg, service.CredentialPendingApproval)
	}

	// The approval page says what the key may do, in plain words.
	p.run("open the approval", chromedp.Navigate(v.ApproveURL), chromedp.WaitVisible(chromedp.ID("approve-button")))
	shown := p.text()
	for _, want := range []string{"Give agent trader", v.KeyID, "call swapExactETHForTokens(", "Cap on ETH: 0.1 ETH per 24h", "pending_approval"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the approval page does not show %q:\n%s", want, shown)
		}
	}
	p.checkPage("approval")
	p.shot("approval")
	p.run("approve with the passkey", chromedp.Click(chromedp.ID("approve-button")))
	p.waitLocation("?done=approved")
	p.waitFor("the approval", "Approved with your passkey")
	p.shot("approved")
	p.run("open the approvals", chromedp.Navigate(p.ui+"/approvals"), chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/approvals/`+v.ChangeID+`"]`)))
	p.checkPage("approvals")
	g, err := p.sb.Service.GetGrant(ctx, v.KeyID)
	if err != nil || g.Status != service.StatusActive {
		t.Fatalf("after approval the key is %q, %v; want active", g.Status, err)
	}
	if code, msg := p.swap(v.Token); code != 0 {
		t.Fatalf("the approved key's swap answered %d %q", code, msg)
	}

	// Delegating the wallet (EIP-7702) waits for the passkey too.
	var st service.WalletStatus
	err = p.api.Do(ctx, "POST", "/v1/wallet/upgrade", nil, &st)
	var pending *admin.PendingError
	if !errors.As(err, &pending) || pending.Change.Kind != service.KindWalletUpgrade || pending.Change.Status != service.StatusPendingApproval {
		t.Fatalf("wallet upgrade with a passkey = %+v, %v; want a change pending approval", st, err)
	}
	if w, err := p.sb.Service.Wallet(ctx); err != nil || w.Delegated {
		t.Fatalf("before approval the owner is delegated: %+v, %v", w, err)
	}
	p.run("approve the upgrade", chromedp.Navigate(pending.Change.ApproveURL), chromedp.WaitVisible(chromedp.ID("approve-button")))
	if shown := p.text(); !strings.Contains(shown, "Delegate the owner account "+info.Owner) {
		t.Errorf("the upgrade's page says:\n%s", shown)
	}
	p.run("approve the upgrade with the passkey", chromedp.Click(chromedp.ID("approve-button")))
	p.waitLocation("?done=approved")
	if w, err := p.sb.Service.Wallet(ctx); err != nil || !w.Delegated || w.Delegate != w.Expected {
		t.Fatalf("after approval the owner's delegation is %+v, %v", w, err)
	}

	// In 7702 mode the session key is registered and funded on chain
	// only once the grant is approved.
	v7 := p.grantMode("onchain", service.Mode7702)
	session := common.HexToAddress(v7.Session)
	if bal, err := p.sb.Chain.Client().BalanceAt(ctx, session, nil); err != nil || bal.Sign() != 0 {
		t.Fatalf("a 7702 session pending approval holds %v, %v; want nothing yet", bal, err)
	}
	p.run("open the 7702 approval", chromedp.Navigate(v7.ApproveURL), chromedp.WaitVisible(chromedp.ID("approve-button")),
		chromedp.Click(chromedp.ID("approve-button")))
	p.waitLocation("?done=approved")
	if bal, err := p.sb.Chain.Client().BalanceAt(ctx, session, nil); err != nil || bal.Cmp(service.DefaultGasStipend) != 0 {
		t.Fatalf("the approved 7702 session holds %v, %v; want its gas stipend %v", bal, err, service.DefaultGasStipend)
	}
	if code, msg := p.swap(v7.Token); code != 0 {
		t.Fatalf("the approved 7702 key's swap answered %d %q", code, msg)
	}

	// A change altered after its challenge was signed is refused: the
	// browser signs the challenge of the key as granted, then the key's
	// stored policy is raised (as a writer of the database could), then
	// the signed approval arrives.
	v2 := p.grant("second")
	p.run("open the second approval", chromedp.Navigate(v2.ApproveURL), chromedp.WaitVisible(chromedp.ID("approve-button")))
	p.run("sign the challenge", chromedp.Evaluate[chromedp.Void](`(async () => {
  const csrf = document.querySelector('#approve input[name="csrf"]').value;
  const r = await fetch(location.pathname + "/begin", {method: "POST", body: new URLSearchParams({csrf})});
  const opts = await r.json();
  const cred = await navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(opts.publicKey)});
  window.signed = JSON.stringify(cred.toJSON());
})()`, chromedp.EvalAwaitPromise))
	raiseStoredCaps(t, p.sb.Info.Home, v2.KeyID)
	answer := get(p.dash, "send the signed approval", chromedp.Evaluate[string](`(async () => {
  const csrf = document.querySelector('#approve input[name="csrf"]').value;
  const r = await fetch(location.pathname + "/finish", {method: "POST", body: new URLSearchParams({csrf, credential: window.signed})});
  return r.status + " " + await r.text();
})()`, chromedp.EvalAwaitPromise))
	if !strings.HasPrefix(answer, "400 ") || !strings.Contains(answer, "the change was altered after it was shown") {
		t.Errorf("the approval of an altered change answered %s; want 400 naming the alteration", answer)
	}
	if g, err := p.sb.Service.GetGrant(ctx, v2.KeyID); err != nil || g.Status != service.StatusPendingApproval {
		t.Errorf("after the refused approval the key is %q, %v; want still pending_approval", g.Status, err)
	}
	if code, _ := p.swap(v2.Token); code != 4100 {
		t.Errorf("the key of the refused approval answered %d, want 4100", code)
	}

	// Revoking narrows: no passkey, at once.
	var revoked admin.GrantView
	if err := p.api.Do(ctx, "POST", "/v1/grants/"+v.KeyID+"/revoke", nil, &revoked); err != nil || revoked.Status != service.StatusRevoked {
		t.Fatalf("revoke = %q, %v; want revoked without a passkey", revoked.Status, err)
	}
	if code, msg := p.swap(v.Token); code != 4100 || !strings.Contains(msg, "revoked") {
		t.Errorf("the revoked key answered %d %q; want 4100 revoked", code, msg)
	}

	// The audit log verifies, its approval checked against the passkey's
	// registration in the same log.
	log, err := home.OpenAuditLog(ctx, p.sb.Info.Home)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	rep, _, err := log.Verify(ctx, 0)
	if err != nil || !rep.OK() {
		t.Fatalf("audit verify: %v %v", rep, err)
	}
	recs, err := log.Records(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	approvals := 0
	for _, r := range recs {
		if r.Method != passkey.MethodApproved {
			continue
		}
		approvals++
		var a passkey.Approved
		if err := json.Unmarshal(r.Call, &a); err != nil || (a.KeyID != v.KeyID && a.KeyID != v7.KeyID && a.Kind != service.KindWalletUpgrade) || a.Signature == "" || a.AuthenticatorData == "" ||
			a.ClientDataJSON == "" || a.CredentialID != list.Passkeys[0].CredentialID {
			t.Errorf("approval record %d = %s; want the key, the passkey's credential id and the assertion", r.Seq, r.Call)
		}
	}
	if approvals != 3 {
		t.Errorf("%d approval records, want 3 (the altered change's was refused)", approvals)
	}
}

// raiseStoredCaps rewrites, behind the daemon's back, the stored policy
// of key id: every cap becomes 1000 units.
func raiseStoredCaps(t *testing.T, dir, id string) {
	t.Helper()
	db := openDB(t, dir)
	var raw string
	if err := db.QueryRow(`SELECT policy FROM grants WHERE id = ?`, id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	limits, _ := doc["limits"].([]any)
	if len(limits) == 0 {
		t.Fatalf("the stored policy has no limits to raise: %s", raw)
	}
	for _, l := range limits {
		l.(map[string]any)["per_period"] = "1000"
	}
	b, _ := json.Marshal(doc)
	if _, err := db.Exec(`UPDATE grants SET policy = ? WHERE id = ?`, string(b), id); err != nil {
		t.Fatal(err)
	}
}

// TestPasskeyDatabaseWriterApprovesNothing: someone who can write the
// database but holds no passkey inserts a passkey row of their own (its
// key in the browser's authenticator, the owner's removed) pointing at
// the owner's registration record; its approval is refused, since the
// row is not the passkey that record registered. Then they rewrite the
// owner's approval record in the audit log and rebuild the hash chain
// after it: audit verify still fails, naming the approval whose
// signature does not verify against the registered key.
func TestPasskeyDatabaseWriterApprovesNothing(t *testing.T) {
	p := startPasskeyDash(t)
	ctx := context.Background()
	p.register("owner's laptop")
	p.signIn()
	v := p.grant("trader")
	p.run("open the approval", chromedp.Navigate(v.ApproveURL), chromedp.WaitVisible(chromedp.ID("approve-button")))
	p.run("approve with the owner's passkey", chromedp.Click(chromedp.ID("approve-button")))
	p.waitLocation("?done=approved")
	owners, err := p.sb.Service.Passkeys(ctx)
	if err != nil || len(owners) != 1 {
		t.Fatalf("passkeys = %v, %v", owners, err)
	}

	// The attacker's passkey: a row in the database, and its key in the
	// only authenticator the browser has.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	credID := []byte("attacker-credential-0001")
	creds, err := chromedp.Call(p.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: p.authn})
	if err != nil || len(creds.Credentials) != 1 {
		t.Fatalf("the authenticator holds %v, %v; want the owner's passkey", creds, err)
	}
	if _, err := chromedp.Call(p.ctx, webauthn.RemoveCredential, webauthn.RemoveCredentialParams{AuthenticatorID: p.authn, CredentialID: creds.Credentials[0].CredentialID}); err != nil {
		t.Fatal(err)
	}
	// cdproto's Credential always sends generateCmtgKeyOnNextOperation,
	// which Chromium refuses for an authenticator without that extension:
	// the command is sent with only the fields that matter.
	type credential struct {
		CredentialID         []byte `json:"credentialId"`
		IsResidentCredential bool   `json:"isResidentCredential"`
		RpID                 string `json:"rpId"`
		PrivateKey           []byte `json:"privateKey"`
		UserHandle           []byte `json:"userHandle"`
		SignCount            int    `json:"signCount"`
	}
	type addCredential struct {
		AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
		Credential      credential               `json:"credential"`
	}
	add := cdp.Command[addCredential, cdp.Empty]{Method: webauthn.CommandAddCredential}
	if _, err := chromedp.Call(p.ctx, add, addCredential{AuthenticatorID: p.authn, Credential: credential{
		CredentialID: credID, IsResidentCredential: true, RpID: "localhost", PrivateKey: pkcs8, UserHandle: []byte("agentkeys-owner")}}); err != nil {
		t.Fatal(err)
	}
	cose := coseKey(t, &key.PublicKey)
	credJSON, _ := json.Marshal(map[string]any{"id": credID, "publicKey": cose, "attestationType": "none", "flags": map[string]bool{"userPresent": true, "userVerified": true}})
	db := openDB(t, p.sb.Info.Home)
	if _, err := db.Exec(`INSERT INTO owner_passkeys (id, name, credential_id, public_key, credential, created_at, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		"pk_attacker", "attacker", credID, cose, string(credJSON), epoch.UnixMilli(), owners[0].AuditSeq); err != nil {
		t.Fatal(err)
	}

	v2 := p.grant("thief")
	p.run("open the second approval", chromedp.Navigate(v2.ApproveURL), chromedp.WaitVisible(chromedp.ID("approve-button")))
	p.run("approve with the inserted passkey", chromedp.Click(chromedp.ID("approve-button")), chromedp.WaitVisible(chromedp.CSS(`#approve-status[data-done]`)))
	if msg := get(p.dash, "read the refusal", chromedp.Text(chromedp.ID("approve-status"))); !strings.Contains(msg, "does not match its registration in the audit log") {
		t.Errorf("the inserted passkey's approval says %q; want a refusal naming its registration", msg)
	}
	p.shot("inserted-passkey-refused")
	if code, _ := p.swap(v2.Token); code != 4100 {
		t.Errorf("the key approved by an inserted passkey answered %d, want 4100", code)
	}

	// Rewrite the owner's approval (its signature) and rebuild the chain.
	rows, err := db.Query(`SELECT seq, call FROM audit_records WHERE method = ?`, passkey.MethodApproved)
	if err != nil {
		t.Fatal(err)
	}
	var seq int64
	var call []byte
	for rows.Next() {
		if err := rows.Scan(&seq, &call); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()
	var a passkey.Approved
	if err := json.Unmarshal(call, &a); err != nil {
		t.Fatal(err)
	}
	sig, _ := passkey.B64.DecodeString(a.Signature)
	sig[len(sig)/2] ^= 0xff
	a.Signature = passkey.B64.EncodeToString(sig)
	forged, _ := json.Marshal(a)
	if _, err := db.Exec(`UPDATE audit_records SET call = ? WHERE seq = ?`, forged, seq); err != nil {
		t.Fatal(err)
	}
	log, err := home.OpenAuditLog(ctx, p.sb.Info.Home)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	recs, err := log.Records(ctx, seq-1, 100000)
	if err != nil {
		t.Fatal(err)
	}
	prev := recs[0].PrevHash
	for _, r := range recs {
		r = audit.Chain(prev, r)
		if _, err := db.Exec(`UPDATE audit_records SET prev_hash = ?, hash = ? WHERE seq = ?`, r.PrevHash, r.Hash, r.Seq); err != nil {
			t.Fatal(err)
		}
		prev = r.Hash
	}
	if _, err := db.Exec(`UPDATE audit_head SET hash = ? WHERE id = 1`, prev); err != nil {
		t.Fatal(err)
	}
	rep, _, err := log.Verify(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != passkey.ProblemPasskey || rep.Problems[0].Seq != seq ||
		!strings.Contains(rep.Problems[0].Detail, "does not verify: the signature does not verify with the registered public key") {
		t.Errorf("audit verify after the rewrite: %s; want one passkey problem at record %d", rep, seq)
	}
}

func openDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, home.DBFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// coseKey is pub as a COSE_Key (EC2, ES256), as an authenticator
// registers it.
func coseKey(t *testing.T, pub *ecdsa.PublicKey) []byte {
	t.Helper()
	raw, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	b, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey),
		Algorithm: int64(webauthncose.AlgES256)}, Curve: int64(webauthncose.P256), XCoord: raw[1:33], YCoord: raw[33:]})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPasskeySecondNeedsTheFirst: a second passkey registered from a new
// link is only a pending change until the first passkey approves it (so
// a stolen admin credential cannot add its own); once approved it is
// listed and the audit log verifies the chain of registrations. Removing
// one of two passkeys is immediate; removing the last waits for a
// passkey, after which grants no longer wait.
func TestPasskeySecondNeedsTheFirst(t *testing.T) {
	p := startPasskeyDash(t)
	ctx := context.Background()
	p.register("first")
	p.signIn()
	first, err := chromedp.Call(p.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: p.authn})
	if err != nil || len(first.Credentials) != 1 {
		t.Fatalf("the first authenticator holds %v, %v", first, err)
	}

	// A second device: another authenticator (the first one refuses to
	// register twice for the owner, as the options exclude its passkey).
	if _, err := chromedp.Call(p.ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: p.authn}); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Call(p.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
		HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatal(err)
	}
	p.authn = res.AuthenticatorID
	var e service.Enrollment
	if err := p.api.Do(ctx, "POST", "/v1/owner/passkeys/enroll", nil, &e); err != nil {
		t.Fatal(err)
	}
	p.run("register the second passkey", chromedp.Navigate(e.URL), chromedp.WaitVisible(chromedp.ID("enroll-button")),
		chromedp.SetValue(chromedp.ID("passkey-name"), "second"), chromedp.Click(chromedp.ID("enroll-button")),
		chromedp.WaitVisible(chromedp.CSS(`#enroll-status[data-done="pending"]`)))
	if ps, _ := p.sb.Service.Passkeys(ctx); len(ps) != 1 {
		t.Fatalf("before approval the owner has %d passkeys, want 1", len(ps))
	}
	changes, err := p.sb.Service.Changes(ctx, "pending", 0)
	if err != nil || len(changes) != 1 || changes[0].Kind != passkey.KindPasskeyAdd || !strings.Contains(changes[0].Summary, `"second"`) {
		t.Fatalf("pending changes %+v, %v; want the second passkey's", changes, err)
	}

	// The first passkey (its key moved to this device) approves it.
	c := first.Credentials[0]
	type credential struct {
		CredentialID         []byte `json:"credentialId"`
		IsResidentCredential bool   `json:"isResidentCredential"`
		RpID                 string `json:"rpId"`
		PrivateKey           []byte `json:"privateKey"`
		UserHandle           []byte `json:"userHandle"`
		SignCount            int    `json:"signCount"`
	}
	type addCredential struct {
		AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
		Credential      credential               `json:"credential"`
	}
	// Not resident: the authenticator keeps one resident credential per
	// user and site, and the second passkey is that one. The approval
	// names the first in allowCredentials, which is all it needs.
	add := cdp.Command[addCredential, cdp.Empty]{Method: webauthn.CommandAddCredential}
	if _, err := chromedp.Call(p.ctx, add, addCredential{AuthenticatorID: p.authn, Credential: credential{CredentialID: c.CredentialID,
		IsResidentCredential: false, RpID: "localhost", PrivateKey: c.PrivateKey, UserHandle: c.UserHandle, SignCount: int(c.SignCount)}}); err != nil {
		t.Fatal(err)
	}
	p.run("approve the second passkey", chromedp.Navigate(p.ui+"/approvals/"+changes[0].ID), chromedp.WaitVisible(chromedp.ID("approve-button")),
		chromedp.Click(chromedp.ID("approve-button")))
	p.waitLocation("?done=approved")
	ps, err := p.sb.Service.Passkeys(ctx)
	if err != nil || len(ps) != 2 || ps[0].Name == ps[1].Name {
		t.Fatalf("after approval the passkeys are %+v, %v; want first and second", ps, err)
	}

	// One of two goes at once; the last waits for a passkey.
	var removed map[string]string
	if err := p.api.Do(ctx, "DELETE", "/v1/owner/passkeys/"+ps[0].ID, nil, &removed); err != nil || removed["removed"] != ps[0].ID {
		t.Fatalf("remove one of two = %v, %v", removed, err)
	}
	err = p.api.Do(ctx, "DELETE", "/v1/owner/passkeys/"+ps[1].ID, nil, &removed)
	var pending *admin.PendingError
	if !errors.As(err, &pending) || pending.Change.Status != service.StatusPendingApproval {
		t.Fatalf("remove the last passkey = %v; want a change pending approval", err)
	}
	p.run("approve removing the last passkey", chromedp.Navigate(pending.Change.ApproveURL), chromedp.WaitVisible(chromedp.ID("approve-button")),
		chromedp.Click(chromedp.ID("approve-button")))
	p.waitLocation("?done=approved")
	if ps, _ := p.sb.Service.Passkeys(ctx); len(ps) != 0 {
		t.Fatalf("after the approved removal the owner has %d passkeys", len(ps))
	}
	var g admin.GrantView
	if err := p.api.Do(ctx, "POST", "/v1/grants", service.GrantSpec{Agent: "later", Profile: "read-only"}, &g); err != nil || g.Status != service.StatusActive {
		t.Errorf("a grant with no passkey left = %q, %v; want active at once", g.Status, err)
	}

	log, err := home.OpenAuditLog(ctx, p.sb.Info.Home)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	if rep, _, err := log.Verify(ctx, 0); err != nil || !rep.OK() {
		t.Errorf("audit verify: %v %v", rep, err)
	}
}
