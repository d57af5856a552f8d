package service_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/store"
)

// attacker opens the harness's database with plain SQL, as someone who can
// write the database but holds no master key would.
func (h *harness) attacker() *sql.DB {
	h.t.Helper()
	db, err := sql.Open("sqlite", h.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	return db
}

func (h *harness) exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(h.ctx, q, args...); err != nil {
		t.Fatal(err)
	}
}

// wantUnsealed: the key's next request is refused for its broken seal,
// before it can sign anything.
func (h *harness) wantUnsealed(t *testing.T, token string) {
	t.Helper()
	_, err := h.svc.Authenticate(h.ctx, token, h.info("eth_sendTransaction"))
	var ce *service.CredentialError
	if !errors.As(err, &ce) || ce.Reason != service.CredentialUnsealed {
		t.Errorf("Authenticate = %v; want the credential refused with %q", err, service.CredentialUnsealed)
	}
}

// TestGrantSealRefusesDatabaseWrites: a database writer without the
// master key can neither widen a grant, nor make one, nor let a pending
// one act; the owner's narrowing (revoke) still works on a sealed grant.
func TestGrantSealRefusesDatabaseWrites(t *testing.T) {
	h := newHarness(t)
	db := h.attacker()
	doc, err := h.svc.Document(h.ctx, service.GrantSpec{Agent: "small", Profile: "full-access", DailyLimit: []string{"1ETH"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.Grant(h.ctx, service.GrantRequest{Agent: "small", Doc: doc})
	if err != nil {
		t.Fatal(err)
	}
	token := res.Token.Reveal()
	if _, err := h.svc.Authenticate(h.ctx, token, h.info("eth_accounts")); err != nil {
		t.Fatalf("a sealed grant: %v", err)
	}
	stored, err := h.store.GetGrant(h.ctx, res.Grant.ID)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("widened policy", func(t *testing.T) {
		// The policy of a key the owner granted 1000 ETH a day.
		h.grantToken(t, "big")
		h.exec(t, db, `UPDATE grants SET policy = (SELECT policy FROM grants WHERE agent = 'big') WHERE id = ?`, stored.ID)
		if g, _ := h.store.GetGrant(h.ctx, stored.ID); !strings.Contains(string(g.Policy), "1000") {
			t.Fatalf("the attacker's write did not widen the policy (%s): the test would prove nothing", g.Policy)
		}
		h.wantUnsealed(t, token)
		h.exec(t, db, `UPDATE grants SET policy = ? WHERE id = ?`, string(stored.Policy), stored.ID)
		if _, err := h.svc.Authenticate(h.ctx, token, h.info("eth_accounts")); err != nil {
			t.Fatalf("the grant as sealed again: %v", err)
		}
	})
	t.Run("extended expiry", func(t *testing.T) {
		h.exec(t, db, `UPDATE grants SET expires_at = expires_at + 86400000 WHERE id = ?`, stored.ID)
		h.wantUnsealed(t, token)
		h.exec(t, db, `UPDATE grants SET expires_at = expires_at - 86400000 WHERE id = ?`, stored.ID)
	})
	t.Run("credential hash replaced", func(t *testing.T) {
		// The attacker's own secret under the key's id: the credential
		// would check, were the grant not sealed with the owner's hash.
		mine, err := secrets.NewCredential()
		if err != nil {
			t.Fatal(err)
		}
		token := strings.Replace(mine.Reveal(), mine.ID(), stored.ID, 1)
		h.exec(t, db, `UPDATE grants SET credential_hash = ? WHERE id = ?`, mine.Hash(), stored.ID)
		h.wantUnsealed(t, token)
		h.exec(t, db, `UPDATE grants SET credential_hash = ? WHERE id = ?`, stored.CredentialHash, stored.ID)
	})
	t.Run("grant inserted", func(t *testing.T) {
		for _, seal := range [][]byte{nil, stored.Seal} {
			cred, err := secrets.NewCredential()
			if err != nil {
				t.Fatal(err)
			}
			forged := stored.Clone()
			forged.ID, forged.CredentialHash, forged.Seal = cred.ID(), cred.Hash(), seal
			if err := h.store.CreateGrant(h.ctx, forged); err != nil {
				t.Fatal(err)
			}
			h.wantUnsealed(t, cred.Reveal())
		}
	})
	t.Run("pending grant let act", func(t *testing.T) {
		cred, err := secrets.NewCredential()
		if err != nil {
			t.Fatal(err)
		}
		pending := stored.Clone()
		pending.ID, pending.CredentialHash, pending.Pending = cred.ID(), cred.Hash(), store.PendingApproval
		if pending.Seal, err = testVault.Seal(store.GrantSealID(pending), nil); err != nil {
			t.Fatal(err)
		}
		if err := h.store.CreateGrant(h.ctx, pending); err != nil {
			t.Fatal(err)
		}
		_, err = h.svc.Authenticate(h.ctx, cred.Reveal(), h.info("eth_accounts"))
		var ce *service.CredentialError
		if !errors.As(err, &ce) || ce.Reason != service.CredentialPendingApproval {
			t.Fatalf("pending key: %v; want %q", err, service.CredentialPendingApproval)
		}
		h.exec(t, db, `UPDATE grants SET pending = '' WHERE id = ?`, pending.ID)
		h.wantUnsealed(t, cred.Reveal())
		h.exec(t, db, `UPDATE grants SET pending = ? WHERE id = ?`, store.PendingApproval, pending.ID)

		rec := audit.Record{Time: h.clock.Now(), Method: "agentkeys_test_activate", Decision: audit.DecisionAllow, Reasons: []string{}}
		if done, err := service.ActivatePending(h.svc, h.ctx, pending.ID, store.PendingSignature, nil, rec); err != nil || done {
			t.Fatalf("Activate for the wrong reason = %v, %v; want false", done, err)
		}
		if done, err := service.ActivatePending(h.svc, h.ctx, pending.ID, store.PendingApproval, nil, rec); err != nil || !done {
			t.Fatalf("Activate = %v, %v; want true", done, err)
		}
		if _, err := h.svc.Authenticate(h.ctx, cred.Reveal(), h.info("eth_accounts")); err != nil {
			t.Fatalf("activated by the service: %v", err)
		}
	})
	t.Run("revoke needs no seal", func(t *testing.T) {
		if _, err := h.svc.Revoke(h.ctx, stored.ID); err != nil {
			t.Fatal(err)
		}
		_, err := h.svc.Authenticate(h.ctx, token, h.info("eth_accounts"))
		var ce *service.CredentialError
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Reason, "credential revoked") {
			t.Fatalf("revoked key: %v", err)
		}
	})
}

// TestSealGrantsOnce: a home's grants made before grants were sealed are
// sealed at the first start and act; grants written without a seal after
// that stay refused, even if the marker is removed later.
func TestSealGrantsOnce(t *testing.T) {
	h := newHarness(t)
	db := h.attacker()
	token := h.grantToken(t, "old")
	h.exec(t, db, `UPDATE grants SET seal = NULL`)
	h.exec(t, db, `DELETE FROM meta WHERE key = 'grant_seals'`)
	h.wantUnsealed(t, token)

	n, err := h.svc.SealGrants(h.ctx)
	if err != nil || n != 2 { // the harness's key and "old"
		t.Fatalf("SealGrants = %d, %v; want 2", n, err)
	}
	if _, err := h.svc.Authenticate(h.ctx, token, h.info("eth_accounts")); err != nil {
		t.Fatalf("a grant sealed at start: %v", err)
	}
	if n, err := h.svc.SealGrants(h.ctx); err != nil || n != 0 {
		t.Fatalf("second SealGrants = %d, %v; want 0", n, err)
	}

	later := h.grantToken(t, "later")
	h.exec(t, db, `UPDATE grants SET seal = NULL WHERE agent = 'later'`)
	h.exec(t, db, `DELETE FROM meta WHERE key = 'grant_seals'`)
	if n, err := h.svc.SealGrants(h.ctx); err != nil || n != 0 {
		t.Fatalf("SealGrants beside sealed grants = %d, %v; want 0", n, err)
	}
	h.wantUnsealed(t, later)
}

// grantToken grants agent a key with 1 ETH a day (1000 for "big") and
// returns its credential.
func (h *harness) grantToken(t *testing.T, agent string) string {
	t.Helper()
	limit := "1ETH"
	if agent == "big" {
		limit = "1000ETH"
	}
	doc, err := h.svc.Document(h.ctx, service.GrantSpec{Agent: agent, Profile: "full-access", DailyLimit: []string{limit}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.Grant(h.ctx, service.GrantRequest{Agent: agent, Doc: doc})
	if err != nil {
		t.Fatal(err)
	}
	return res.Token.Reveal()
}
