package service_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/passkey"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
)

// addPasskey stores a passkey with its registration record, as a
// finished registration does (the WebAuthn ceremony itself runs in the
// browser tests).
func (h *harness) addPasskey() {
	h.t.Helper()
	call, _ := json.Marshal(passkey.Registered{PasskeyID: "pk_1", Name: "laptop", CredentialID: "AQID", PublicKey: "pQ", RPID: "localhost"})
	_, err := h.store.AddPasskey(h.ctx, store.Passkey{ID: "pk_1", Name: "laptop", CredentialID: []byte{1, 2, 3}, PublicKey: []byte{0xa5},
		Credential: json.RawMessage(`{"id":"AQID"}`), CreatedAt: h.clock.Now()},
		audit.Record{Time: h.clock.Now(), Method: passkey.MethodRegistered, Call: call, Decision: audit.DecisionAllow, Reasons: []string{}})
	if err != nil {
		h.t.Fatal(err)
	}
}

func pendingOf(t *testing.T, err error) service.PendingChange {
	t.Helper()
	var p *service.ApprovalPending
	if !errors.As(err, &p) {
		t.Fatalf("got %v, want *service.ApprovalPending", err)
	}
	if p.Change.Status != service.StatusPendingApproval || p.Change.State != store.ChangePending ||
		!strings.HasPrefix(p.Change.ApproveURL, "http://localhost:8646/ui/approvals/chg_") || len(p.Change.Challenge) != 64 {
		t.Fatalf("pending change %+v", p.Change)
	}
	return p.Change
}

// TestWideningWaitsForAPasskey: without a passkey a grant and a resume
// take effect at once; once the owner has one, a grant is stored pending
// (its key refused with 4100 "pending owner approval"), a resume and a
// new webhook wait, while suspend and revoke still act at once; a
// rejected grant's key is revoked, and a change nobody approves expires.
func TestWideningWaitsForAPasskey(t *testing.T) {
	h := newHarness(t)
	if err := h.svc.SetOwnerURL("http://127.0.0.1:8646"); err != nil {
		t.Fatal(err)
	}
	if got := h.svc.OwnerURL(); got != "http://localhost:8646" {
		t.Errorf("OwnerURL = %q, want the loopback IP as localhost", got)
	}
	_, free := h.grantPolicy("name: before\nchains: [31337]\n")
	if g, _ := h.svc.GetGrant(h.ctx, free); g.Status != service.StatusActive {
		t.Fatalf("without a passkey a grant is %s, want active", g.Status)
	}

	h.addPasskey()
	doc, err := h.svc.Document(h.ctx, service.GrantSpec{Agent: "bot", Profile: "full-access", DailyLimit: []string{"1ETH"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.Grant(h.ctx, service.GrantRequest{Agent: "bot", Doc: doc})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pending == nil || res.Grant.Status != service.StatusPendingApproval || res.Pending.KeyID != res.Grant.ID ||
		!strings.Contains(res.Pending.Summary, "Give agent bot a new wallet-mode key "+res.Grant.ID) {
		t.Fatalf("grant with a passkey: status %s, pending %+v", res.Grant.Status, res.Pending)
	}
	_, err = h.svc.Authenticate(h.ctx, res.Token.Reveal(), h.info("eth_accounts"))
	if got := credentialReason(t, err); got != service.CredentialPendingApproval {
		t.Errorf("a key pending approval is refused with %q, want %q", got, service.CredentialPendingApproval)
	}

	// Suspend narrows: at once. Resume widens: it waits.
	if g, err := h.svc.Suspend(h.ctx, free, ""); err != nil || g.Status != service.StatusSuspended {
		t.Fatalf("suspend = %s, %v", g.Status, err)
	}
	_, err = h.svc.Resume(h.ctx, free)
	resume := pendingOf(t, err)
	if g, _ := h.svc.GetGrant(h.ctx, free); g.Status != service.StatusSuspended {
		t.Errorf("after a resume waiting for approval the key is %s, want suspended", g.Status)
	}

	// A webhook waits, and is not stored meanwhile.
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	mk, err := secrets.DeriveKey([]byte("test"), kdf)
	if err != nil {
		t.Fatal(err)
	}
	withVault, err := service.New(service.Config{Store: h.store, Chain: h.client, ChainID: devchain.DefaultChainID, Wallet: signer.NewWallet(h.wallet), Vault: mk, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := withVault.SetOwnerURL("http://localhost:8646"); err != nil {
		t.Fatal(err)
	}
	_, err = withVault.AddAlertHook(h.ctx, service.AlertHookSpec{URL: "https://hooks.example.com/x", Name: "ops"})
	hook := pendingOf(t, err)
	if hs, _ := h.store.ListAlertHooks(h.ctx); len(hs) != 0 {
		t.Errorf("a webhook waiting for approval is stored: %+v", hs)
	}
	if !strings.Contains(hook.Summary, `webhook "ops" at https://hooks.example.com`) {
		t.Errorf("the webhook's change says %q", hook.Summary)
	}

	// An approval that signs nothing is refused, and changes nothing.
	if _, err := h.svc.FinishApproval(h.ctx, resume.ID, []byte(`{"id":"x"}`)); err == nil {
		t.Error("an approval without an assertion was accepted")
	}

	// Rejecting the grant revokes its key; a second decision is refused.
	if c, err := h.svc.RejectChange(h.ctx, res.Pending.ID); err != nil || c.State != store.ChangeRejected {
		t.Fatalf("reject = %+v, %v", c, err)
	}
	if g, _ := h.svc.GetGrant(h.ctx, res.Grant.ID); g.Status != service.StatusRevoked {
		t.Errorf("the rejected grant's key is %s, want revoked", g.Status)
	}
	if _, err := h.svc.RejectChange(h.ctx, res.Pending.ID); !errors.Is(err, service.ErrChangeDecided) {
		t.Errorf("rejecting twice: %v, want ErrChangeDecided", err)
	}

	// Revoke narrows: at once.
	if g, err := h.svc.Revoke(h.ctx, h.keyID); err != nil || g.Status != service.StatusRevoked {
		t.Errorf("revoke = %s, %v", g.Status, err)
	}

	// Nobody approves the resume or the webhook within a day: they expire.
	h.clock.Advance(service.DefaultChangeTTL + time.Minute)
	left, err := h.svc.Changes(h.ctx, store.ChangePending, 0)
	if err != nil || len(left) != 0 {
		t.Errorf("pending changes after their expiry: %+v, %v", left, err)
	}
	if c, err := h.svc.Change(h.ctx, resume.ID); err != nil || c.State != store.ChangeExpired {
		t.Errorf("the resume after its expiry: %+v, %v", c, err)
	}
	methods := strings.Join(h.methods(), " ")
	for _, want := range []string{passkey.MethodCreated, passkey.MethodRejected, passkey.MethodExpired} {
		if !strings.Contains(methods, want) {
			t.Errorf("no %s in the audit log: %s", want, methods)
		}
	}
}

// TestApprovalNeedsAnOrigin: with a passkey registered but no origin for
// the owner's pages, a grant is refused rather than applied unapproved;
// and an origin WebAuthn cannot use is refused with the reason.
func TestApprovalNeedsAnOrigin(t *testing.T) {
	h := newHarness(t)
	h.addPasskey()
	doc, err := h.svc.Document(h.ctx, service.GrantSpec{Agent: "bot", Profile: "read-only"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Grant(h.ctx, service.GrantRequest{Agent: "bot", Doc: doc}); !errors.Is(err, service.ErrNoOwnerURL) {
		t.Errorf("grant without an origin: %v, want ErrNoOwnerURL", err)
	}
	for _, bad := range []string{"http://192.0.2.1:8646", "http://agentkeys.example.com", "ftp://localhost", "https://[::1"} {
		var pe *service.ParamError
		if err := h.svc.SetOwnerURL(bad); !errors.As(err, &pe) || pe.Field != "owner_url" {
			t.Errorf("SetOwnerURL(%q) = %v, want a ParamError naming owner_url", bad, err)
		}
	}
	if err := h.svc.SetOwnerURL("https://agentkeys.example.com"); err != nil {
		t.Errorf("SetOwnerURL of an https host: %v", err)
	}
}
