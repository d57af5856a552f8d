package seed_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/seed"
	"github.com/agentkeys/agentkeys/internal/store"
	"github.com/agentkeys/agentkeys/internal/store/sqlite"
)

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const wallet = "0x1111111111111111111111111111111111111111"

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "seed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutKey(t.Context(), store.Key{ID: "w", Kind: store.KeyKindWallet, Address: wallet, Sealed: []byte("x"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSeed: the keys and records land in the store, in batches, after
// what it held; the log verifies; every record is a seeded key's request
// in the day before now, in time order; the keys' policy compiles and
// their statuses are mixed.
func TestSeed(t *testing.T) {
	st := open(t)
	ctx := t.Context()
	if _, err := st.AppendAudit(ctx, audit.Record{Time: now.Add(-48 * time.Hour), Method: "agentkeys_init", Decision: audit.DecisionAllow}); err != nil {
		t.Fatal(err)
	}
	var progress [][2]int
	res, err := seed.Run(ctx, st, seed.Options{Grants: 250, Records: 1234, ChainID: 31337, Address: wallet, SignerKeyID: "w", Now: now, Batch: 100,
		Progress: func(g, r int) { progress = append(progress, [2]int{g, r}) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Grants != 250 || res.Records != 1234 || res.Head.Seq != 1235 {
		t.Fatalf("result %+v, want 250 keys, 1234 records, head at 1235", res)
	}
	if len(progress) != 3+13 || progress[2] != [2]int{250, 0} || progress[len(progress)-1] != [2]int{250, 1234} {
		t.Errorf("progress %v, want one report per batch of 100", progress)
	}
	rep, head, err := store.VerifyAudit(ctx, st, 500)
	if err != nil || !rep.OK() || head.Seq != 1235 {
		t.Fatalf("VerifyAudit: %v, head %d, %v", rep, head.Seq, err)
	}

	gs, err := st.ListGrants(ctx, store.GrantFilter{})
	if err != nil || len(gs) != 250 {
		t.Fatalf("ListGrants: %d keys, %v", len(gs), err)
	}
	ids := map[string]bool{}
	statuses := map[string]int{}
	for _, g := range gs {
		ids[g.ID] = true
		statuses[g.Status(now)]++
		if !g.CreatedAt.Before(now.Add(-24*time.Hour)) || g.Meta["seeded"] == "" || g.Address != wallet {
			t.Fatalf("seeded key %+v", g)
		}
	}
	if statuses[store.StatusActive] != 225 || statuses[store.StatusRevoked] != 13 || statuses[store.StatusExpired] != 12 {
		t.Errorf("statuses %v, want 225 active, 13 revoked, 12 expired", statuses)
	}
	if _, err := policy.Parse(gs[0].Policy, policy.Options{}); err != nil {
		t.Errorf("a seeded key's policy does not compile: %v", err)
	}

	recs, err := st.AuditRecords(ctx, 1, 2000)
	if err != nil || len(recs) != 1234 {
		t.Fatalf("AuditRecords: %d, %v", len(recs), err)
	}
	denied := 0
	for i, r := range recs {
		if !ids[r.KeyID] || r.Time.Before(now.Add(-24*time.Hour)) || !r.Time.Before(now) || i > 0 && r.Time.Before(recs[i-1].Time) {
			t.Fatalf("record %d: key %s at %v", r.Seq, r.KeyID, r.Time)
		}
		if r.Decision == audit.DecisionDeny {
			denied++
		} else if !strings.HasPrefix(r.TxHash, "0x") || len(r.TxHash) != 66 {
			t.Fatalf("record %d: allowed without a transaction hash", r.Seq)
		}
	}
	if denied < 1234/100 || denied > 1234/25 {
		t.Errorf("%d refusals in 1234 records, want about one in fifty", denied)
	}
}

func TestSeedErrors(t *testing.T) {
	st := open(t)
	ok := seed.Options{Grants: 1, Records: 1, ChainID: 31337, Address: wallet, SignerKeyID: "w", Now: now}
	for _, c := range []struct {
		name string
		edit func(*seed.Options)
		want string
	}{
		{"negative grants", func(o *seed.Options) { o.Grants = -1 }, "--grants: expected 0 to"},
		{"too many records", func(o *seed.Options) { o.Records = seed.MaxRecords + 1 }, "--records: expected 0 to"},
		{"records without keys", func(o *seed.Options) { o.Grants = 0 }, "--records: the records are the seeded keys' requests"},
		{"unknown signer key", func(o *seed.Options) { o.SignerKeyID = "nope" }, `signer key "nope" does not exist`},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := ok
			c.edit(&o)
			if _, err := seed.Run(t.Context(), st, o); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}
