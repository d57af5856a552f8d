package store

import (
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/secrets"
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

// BenchmarkGrantSealCheck is what checking a grant's seal costs a request
// (done twice: at authentication and inside the decision): the digest of
// a grant with a 2 kB policy and the master key's open of its seal.
func BenchmarkGrantSealCheck(b *testing.B) {
	p, err := secrets.NewKDFParams()
	if err != nil {
		b.Fatal(err)
	}
	p.N = 1 << 4
	key, err := secrets.DeriveKey([]byte("bench"), p)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	g := Grant{ID: "g1", Agent: "bot", Mode: ModeWallet, Chains: []uint64{1}, Policy: []byte(`{"p":"` + strings.Repeat("x", 2000) + `"}`),
		Address: "0x00000000000000000000000000000000000000aa", SignerKeyID: "w", CredentialHash: make([]byte, 32),
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if g.Seal, err = key.Seal(GrantSealID(g), nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := key.Open(GrantSealID(g), g.Seal); err != nil {
			b.Fatal(err)
		}
	}
}
