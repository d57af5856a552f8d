package store

import (
	"testing"
	"time"
)

// TestGrantSealID: every field that says what a grant allows changes the
// record id its seal is made under; the owner's narrowing and the store's
// bookkeeping (revocation, suspension, meta) do not.
func TestGrantSealID(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	base := Grant{ID: "g1", Agent: "bot", Mode: ModeWallet, Chains: []uint64{1}, Policy: []byte(`{"a":1}`),
		Address: "0x00000000000000000000000000000000000000aa", SignerKeyID: "w", CredentialHash: []byte{1, 2},
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	id := GrantSealID(base)
	changed := map[string]func(*Grant){
		"id":              func(g *Grant) { g.ID = "g2" },
		"agent":           func(g *Grant) { g.Agent = "other" },
		"mode":            func(g *Grant) { g.Mode = Mode7702 },
		"chains":          func(g *Grant) { g.Chains = []uint64{1, 2} },
		"policy":          func(g *Grant) { g.Policy = []byte(`{"a":2}`) },
		"address":         func(g *Grant) { g.Address = "0x00000000000000000000000000000000000000bb" },
		"signer key":      func(g *Grant) { g.SignerKeyID = "s" },
		"credential hash": func(g *Grant) { g.CredentialHash = []byte{1, 3} },
		"created":         func(g *Grant) { g.CreatedAt = t0.Add(time.Millisecond) },
		"expiry":          func(g *Grant) { g.ExpiresAt = t0.Add(2 * time.Hour) },
		"pending":         func(g *Grant) { g.Pending = PendingApproval },
		// Field boundaries are kept: moving bytes from one field to the
		// next is another grant.
		"agent into mode": func(g *Grant) { g.Agent, g.Mode = "botw", "allet" },
	}
	for name, change := range changed {
		g := base.Clone()
		change(&g)
		if GrantSealID(g) == id {
			t.Errorf("changing the %s keeps the seal id", name)
		}
	}
	at := t0.Add(time.Minute)
	same := map[string]func(*Grant){
		"revocation":    func(g *Grant) { g.RevokedAt = &at },
		"suspension":    func(g *Grant) { g.SuspendedAt, g.SuspendReason = &at, "owner" },
		"meta":          func(g *Grant) { g.Meta = map[string]string{"k": "v"} },
		"seal":          func(g *Grant) { g.Seal = []byte{9} },
		"address case":  func(g *Grant) { g.Address = "0x00000000000000000000000000000000000000AA" },
		"time location": func(g *Grant) { g.CreatedAt = t0.In(time.FixedZone("x", 3600)) },
	}
	for name, change := range same {
		g := base.Clone()
		change(&g)
		if GrantSealID(g) != id {
			t.Errorf("changing the %s changes the seal id", name)
		}
	}
}
