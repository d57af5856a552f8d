package service_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/store"
)

// grantPolicy grants a key under a policy written as YAML and returns its
// token.
func (h *harness) grantPolicy(src string) (token, id string) {
	h.t.Helper()
	doc, err := policy.ParseDocument([]byte(src))
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := h.svc.Grant(h.ctx, service.GrantRequest{Agent: "bot", Doc: doc})
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Token.Reveal(), res.Grant.ID
}

func (h *harness) methods() []string {
	h.t.Helper()
	recs, err := h.store.AuditRecords(h.ctx, 0, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Method)
	}
	return out
}

// The owner suspends a key: its next request is refused with only
// "credential suspended", the owner's view says why, and resuming lets
// it act again; both steps are audited.
func TestOwnerSuspendsAndResumes(t *testing.T) {
	h := newHarness(t)
	token, id := h.grantPolicy("name: s\nchains: [31337]\n")
	g, err := h.svc.Suspend(h.ctx, id, "looking into it")
	if err != nil {
		t.Fatal(err)
	}
	if g.Status != service.StatusSuspended || g.SuspendReason != "looking into it" || g.SuspendedAt == nil {
		t.Errorf("suspended view: %s %q %v", g.Status, g.SuspendReason, g.SuspendedAt)
	}
	_, err = h.svc.Authenticate(h.ctx, token, h.info("eth_chainId"))
	if got := credentialReason(t, err); got != service.CredentialSuspended {
		t.Errorf("agent told %q, want only %q", got, service.CredentialSuspended)
	}
	if ks, err := h.svc.FindGrants(h.ctx, service.GrantQuery{Status: service.StatusSuspended}); err != nil || len(ks.Keys) != 1 || ks.Keys[0].ID != id {
		t.Errorf("FindGrants(suspended) = %v, %v", ks, err)
	}
	if _, err := h.svc.Resume(h.ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Authenticate(h.ctx, token, h.info("eth_chainId")); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	ms := strings.Join(h.methods(), " ")
	if !strings.Contains(ms, service.MethodKeySuspended+" eth_chainId "+service.MethodKeyResumed) {
		t.Errorf("audit log %s: want the suspension, the refused request, the resumption", ms)
	}
	if _, err := h.svc.Suspend(h.ctx, "nope", ""); !errors.Is(err, service.ErrNoKey) {
		t.Errorf("suspending an unknown key: %v", err)
	}
	if _, err := h.svc.Suspend(h.ctx, id, strings.Repeat("x", 501)); err == nil {
		t.Error("an unbounded reason was accepted")
	}
}

// A key unused for its stale_after is revoked by the watcher's pass,
// with its reason and an audit record; a key used lately is kept.
func TestStaleKeysAreRevoked(t *testing.T) {
	h := newHarness(t)
	stale, staleID := h.grantPolicy("name: s\nchains: [31337]\nvalid_for: 30d\nstale_after: 14d\n")
	busy, busyID := h.grantPolicy("name: b\nchains: [31337]\nvalid_for: 30d\nstale_after: 14d\n")
	h.clock.Advance(10 * 24 * time.Hour)
	if _, err := h.svc.Authenticate(h.ctx, busy, h.info("eth_chainId")); err != nil {
		t.Fatal(err)
	}
	sess, err := h.svc.Authenticate(h.ctx, busy, h.info("eth_chainId"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Read(h.ctx, sess, h.info("eth_chainId")); err != nil {
		t.Fatal(err)
	}
	if got, err := h.svc.RevokeStale(h.ctx); err != nil || len(got) != 0 {
		t.Fatalf("after 10 days: revoked %v, %v", got, err)
	}
	h.clock.Advance(4*24*time.Hour + time.Minute)
	got, err := h.svc.RevokeStale(h.ctx)
	if err != nil || len(got) != 1 || got[0] != staleID {
		t.Fatalf("after 14 days: revoked %v, %v; want only %s", got, err, staleID)
	}
	_, err = h.svc.Authenticate(h.ctx, stale, h.info("eth_chainId"))
	if r := credentialReason(t, err); !strings.Contains(r, "credential revoked") || !strings.Contains(r, "stale_after 14d") {
		t.Errorf("stale key refused with %q", r)
	}
	if g, _ := h.svc.GetGrant(h.ctx, busyID); g.Status != service.StatusActive {
		t.Errorf("the used key is %s", g.Status)
	}
	if again, _ := h.svc.RevokeStale(h.ctx); len(again) != 0 {
		t.Errorf("revoked again: %v", again)
	}
	var staleRecords int
	recs, _ := h.store.AuditRecords(h.ctx, 0, 1000)
	for _, r := range recs {
		if r.Method == service.MethodRevokeStale && strings.Contains(string(r.Call), staleID) && r.Decision == audit.DecisionAllow {
			staleRecords++
		}
	}
	if staleRecords != 1 {
		t.Errorf("%d stale revocation records, want 1", staleRecords)
	}
}

// With more active keys than one pass looks at, RevokeStale goes through
// them a batch at a time, continuing where the last pass stopped and
// starting over after the newest: every stale key is found, none twice.
func TestStaleScanContinuesAcrossPasses(t *testing.T) {
	h := newHarness(t) // its key, the oldest, has no stale_after
	src := "name: s\nchains: [31337]\nvalid_for: 30d\nstale_after: 14d\n"
	h.clock.Advance(time.Second)
	_, first := h.grantPolicy(src)
	// 1,000 keys without stale_after after it, then another stale one:
	// the first pass ends before the last key.
	plain, err := policy.Parse([]byte("name: p\nchains: [31337]\nvalid_for: 30d\n"), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(plain.Document())
	var gs []store.Grant
	for i := range 1000 {
		at := h.clock.Now().Add(time.Duration(i+1) * time.Millisecond)
		gs = append(gs, store.Grant{ID: fmt.Sprintf("plain-%04d", i), Agent: "plain", Mode: store.ModeWallet, Chains: []uint64{31337}, Policy: doc,
			Address: h.wallet.Address().Hex(), SignerKeyID: "wallet", CredentialHash: []byte("never shown"), CreatedAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour)})
	}
	if err := h.store.CreateGrants(h.ctx, gs); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Second)
	_, last := h.grantPolicy(src)
	h.clock.Advance(15 * 24 * time.Hour)

	for i, want := range [][]string{{first}, {last}, nil} {
		got, err := h.svc.RevokeStale(h.ctx)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("pass %d: revoked %v, %v; want %v", i+1, got, err, want)
		}
	}
}
