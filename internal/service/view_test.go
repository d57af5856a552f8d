package service_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
)

// A key's status comes from one function and the service's clock: active,
// then expired when its window ends, and revoked once revoked.
func TestGrantInfoStatus(t *testing.T) {
	h := newHarness(t)
	doc, err := h.svc.Document(h.ctx, service.GrantSpec{Agent: "timed", Profile: "full-access", DailyLimit: []string{"1ETH"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.Grant(h.ctx, service.GrantRequest{Agent: "timed", Doc: doc, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Grant.ID
	// The one limit view: the daily cap in whole and base units.
	want := []service.LimitLine{{Asset: "native", Symbol: "ETH", PerPeriod: "1", Period: "24h", RawPeriod: "1000000000000000000"}}
	if diff := cmp.Diff(want, res.Grant.Limits); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
	if res.Grant.Status != service.StatusActive || res.Grant.Mode != service.ModeWallet || res.Grant.Policy == nil {
		t.Fatalf("new key: status %q mode %q policy %v; want active, wallet, a policy", res.Grant.Status, res.Grant.Mode, res.Grant.Policy)
	}
	status := func() string {
		t.Helper()
		g, err := h.svc.GetGrant(h.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return g.Status
	}
	h.clock.Advance(59 * time.Minute)
	if got := status(); got != service.StatusActive {
		t.Errorf("before expiry: status %q, want %q", got, service.StatusActive)
	}
	h.clock.Advance(time.Minute)
	if got := status(); got != service.StatusExpired {
		t.Errorf("at expiry: status %q, want %q", got, service.StatusExpired)
	}
	g, err := h.svc.Revoke(h.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if g.Status != service.StatusRevoked || g.RevokedAt == nil {
		t.Errorf("revoke returned status %q revoked_at %v, want revoked with a time", g.Status, g.RevokedAt)
	}
	if got := status(); got != service.StatusRevoked {
		t.Errorf("after revoke: status %q, want %q", got, service.StatusRevoked)
	}
	all, err := h.svc.FindGrants(h.ctx, service.GrantQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range all.Keys {
		if g.ID == id && g.Status != service.StatusRevoked {
			t.Errorf("FindGrants: status %q, want %q", g.Status, service.StatusRevoked)
		}
	}
	if _, err := h.svc.GetGrant(h.ctx, "ak_nosuchkey"); !errors.Is(err, service.ErrNoKey) {
		t.Errorf("unknown key: error %v, want ErrNoKey", err)
	}
}

// A wallet-mode session acts as, and signs as, the owner.
func TestSessionWalletMode(t *testing.T) {
	h := newHarness(t)
	if got := h.sess.Mode(); got != service.ModeWallet {
		t.Errorf("Mode() = %q, want %q", got, service.ModeWallet)
	}
	if h.sess.Owner() != h.wallet.Address() || h.sess.SignerAddress() != h.wallet.Address() {
		t.Errorf("Owner() %s, SignerAddress() %s; want both %s", h.sess.Owner().Hex(), h.sess.SignerAddress().Hex(), h.wallet.Address().Hex())
	}
	if h.sess.KeyID() != h.keyID {
		t.Errorf("KeyID() = %q, want %q", h.sess.KeyID(), h.keyID)
	}
}

// A policy's field error reaches transports as the one field-error type,
// with its line and field, worded as the policy package words it.
func TestPolicyFieldErrorIsParamError(t *testing.T) {
	h := newHarness(t)
	src := "name: x\nchains: [31337]\nbogus: 1\n"
	_, err := h.svc.Document(h.ctx, service.GrantSpec{Agent: "bot", Policy: src})
	var pe *service.ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("Document error %T %v, want a *service.ParamError", err, err)
	}
	_, perr := policy.ParseDocument([]byte(src))
	if pe.Line != 3 || pe.Field != "bogus" || pe.Error() != perr.Error() {
		t.Errorf("ParamError line %d field %q text %q; want line 3, field bogus, text %q", pe.Line, pe.Field, pe.Error(), perr.Error())
	}
}
