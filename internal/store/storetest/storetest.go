// Package storetest is the conformance suite every store.Store
// implementation must pass. Implementations call Run from their own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { … a new, empty store … })
//	}
//
// The suite observes stores only through the store.Store interface and
// assumes nothing about the backend (no SQL, no file layout), so the SQLite
// and PostgreSQL backends run the very same checks. Only tests import it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Run runs every conformance test as a subtest. open must return a new,
// empty store for each call and close it when t ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Keys", testKeys},
		{"KeysInvalid", testKeysInvalid},
		{"Grants", testGrants},
		{"GrantsInvalid", testGrantsInvalid},
		{"ListGrants", testListGrants},
		{"ListGrantsPages", testListGrantsPages},
		{"ListGrantsStatus", testListGrantsStatus},
		{"ActivateGrant", testActivateGrant},
		{"SealGrants", testSealGrants},
		{"ListGrantsInvalid", testListGrantsInvalid},
		{"BulkGrants", testBulkGrants},
		{"BulkAudit", testBulkAudit},
		{"ReturnedValuesAreCopies", testCopies},
		{"RevokeGrant", testRevokeGrant},
		{"RevokeAll", testRevokeAll},
		{"Meta", testMeta},
		{"BigAmounts", testBigAmounts},
		{"ReserveInvalid", testReserveInvalid},
		{"SpentWindow", testSpentWindow},
		{"Requests", testRequests},
		{"KeyUsage", testKeyUsage},
		{"NextNonce", testNextNonce},
		{"LedgerTotals", testLedgerTotals},
		{"LedgerPeriods", testLedgerPeriods},
		{"ReserveTx", testReserveTx},
		{"SettleTx", testSettleTx},
		{"ReleaseTx", testReleaseTx},
		{"ReleaseTxInvalid", testReleaseTxInvalid},
		{"ResetChain", testResetChain},
		{"ResetChainInvalid", testResetChainInvalid},
		{"DecideRollbackOnError", testDecideRollback},
		{"Owner", testOwner},
		{"DecideRollbackOnPanic", testDecidePanic},
		{"DecideCancelledContext", testDecideCancelled},
		{"DecideNotFound", testDecideNotFound},
		{"DecideSeesRevocation", testDecideSeesRevocation},
		{"DecideTxDone", testDecideTxDone},
		{"AuditChain", testAuditChain},
		{"AuditInDecide", testAuditInDecide},
		{"AuditInvalid", testAuditInvalid},
		{"ConcurrentDecideCap", testConcurrentCap},
		{"ConcurrentSharedNonce", testConcurrentSharedNonce},
		{"TxLifecycle", testTxLifecycle},
		{"TxInvalid", testTxInvalid},
		{"TxRollback", testTxRollback},
		{"TxCancel", testTxCancel},
		{"ListTxs", testListTxs},
		{"ResetChainDropsTxs", testResetChainDropsTxs},
		{"Nonces", testNonces},
		{"AlertHooks", testAlertHooks},
		{"RecordAlert", testRecordAlert},
		{"AlertDeliveryLifecycle", testAlertDeliveryLifecycle},
		{"RecordAnomaly", testRecordAnomaly},
		{"RecordAnomalyInvalid", testRecordAnomalyInvalid},
		{"ListAnomalies", testListAnomalies},
		{"SuspendResume", testSuspendResume},
		{"RevokeGrantFor", testRevokeGrantFor},
		{"Passkeys", testPasskeys},
		{"Enrollments", testEnrollments},
		{"Changes", testChanges},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// t0 has sub-millisecond digits on purpose: stores keep milliseconds.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 6_789_123, time.UTC)

const (
	owner   = "0x1111111111111111111111111111111111111111"
	wallet  = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"
	token   = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
	chainID = 31337
)

var cmpOpts = cmp.Options{cmpopts.EquateEmpty()}

func ctx(t *testing.T) context.Context { return t.Context() }

// msUTC is what a store returns for t.
func msUTC(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

func mustPutKey(t *testing.T, s store.Store, id string) store.Key {
	t.Helper()
	k := store.Key{ID: id, Kind: store.KeyKindWallet, Address: wallet, Sealed: []byte("sealed:" + id), CreatedAt: t0}
	if err := s.PutKey(ctx(t), k); err != nil {
		t.Fatalf("PutKey(%s): %v", id, err)
	}
	return k
}

func grant(id, keyID string) store.Grant {
	return store.Grant{
		ID:             id,
		Agent:          "bot-" + id,
		Mode:           store.ModeWallet,
		Chains:         []uint64{chainID, 1},
		Policy:         []byte(`{"name":"swap-only","limits":[{"asset":"native","per_tx":"100"}]}`),
		Address:        wallet,
		SignerKeyID:    keyID,
		CredentialHash: []byte("0123456789abcdef0123456789abcdef"),
		CreatedAt:      t0,
		ExpiresAt:      t0.Add(24 * time.Hour),
		Meta:           map[string]string{"team": "research"},
	}
}

// setup stores a key and the grants named.
func setup(t *testing.T, s store.Store, ids ...string) []store.Grant {
	t.Helper()
	mustPutKey(t, s, "key-1")
	var out []store.Grant
	for _, id := range ids {
		g := grant(id, "key-1")
		if err := s.CreateGrant(ctx(t), g); err != nil {
			t.Fatalf("CreateGrant(%s): %v", id, err)
		}
		out = append(out, g)
	}
	return out
}

// normalised is what a store returns for g.
func normalised(g store.Grant) store.Grant {
	g.CreatedAt, g.ExpiresAt = msUTC(g.CreatedAt), msUTC(g.ExpiresAt)
	if g.RevokedAt != nil {
		r := msUTC(*g.RevokedAt)
		g.RevokedAt = &r
	}
	return g
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

func testKeys(t *testing.T, s store.Store) {
	k2 := store.Key{ID: "key-2", Kind: store.KeyKindSession, Address: owner, Sealed: []byte{0, 1, 2, 0xff}, CreatedAt: t0.Add(-time.Hour)}
	k1 := mustPutKey(t, s, "key-1")
	if err := s.PutKey(ctx(t), k2); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKey(ctx(t), "key-1")
	if err != nil {
		t.Fatal(err)
	}
	k1.CreatedAt = msUTC(k1.CreatedAt)
	if diff := cmp.Diff(k1, got, cmpOpts); diff != "" {
		t.Errorf("GetKey (-want +got):\n%s", diff)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
	}

	list, err := s.ListKeys(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	k2.CreatedAt = msUTC(k2.CreatedAt)
	if diff := cmp.Diff([]store.Key{k2, k1}, list, cmpOpts); diff != "" {
		t.Errorf("ListKeys (-want +got):\n%s", diff)
	}

	dup := k1
	dup.Sealed = []byte("other")
	wantErr(t, "PutKey duplicate", s.PutKey(ctx(t), dup), store.ErrConflict)
	if got, _ := s.GetKey(ctx(t), "key-1"); string(got.Sealed) != "sealed:key-1" {
		t.Error("duplicate PutKey overwrote the key")
	}
	_, err = s.GetKey(ctx(t), "nope")
	wantErr(t, "GetKey missing", err, store.ErrNotFound)
}

func testKeysInvalid(t *testing.T, s store.Store) {
	good := store.Key{ID: "k", Kind: "wallet", Address: wallet, Sealed: []byte{1}, CreatedAt: t0}
	tests := []struct {
		name   string
		mutate func(*store.Key)
	}{
		{"no id", func(k *store.Key) { k.ID = "" }},
		{"no kind", func(k *store.Key) { k.Kind = "" }},
		{"bad address", func(k *store.Key) { k.Address = "0x123" }},
		{"no sealed bytes", func(k *store.Key) { k.Sealed = nil }},
		{"zero time", func(k *store.Key) { k.CreatedAt = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := good
			tt.mutate(&k)
			wantErr(t, "PutKey", s.PutKey(ctx(t), k), store.ErrInvalid)
		})
	}
	if list, _ := s.ListKeys(ctx(t)); len(list) != 0 {
		t.Errorf("invalid keys were stored: %v", list)
	}
}

func testGrants(t *testing.T, s store.Store) {
	mustPutKey(t, s, "key-1")
	revoked := t0.Add(time.Minute)
	tests := []struct {
		name string
		g    store.Grant
	}{
		{"full", grant("full", "key-1")},
		{"minimal", store.Grant{
			ID: "minimal", Mode: store.Mode7702, Address: owner, SignerKeyID: "key-1",
			CredentialHash: []byte{1}, CreatedAt: t0, ExpiresAt: t0.Add(time.Second),
		}},
		{"created revoked", func() store.Grant {
			g := grant("created-revoked", "key-1")
			g.RevokedAt = &revoked
			return g
		}()},
		{"huge chain id", func() store.Grant {
			g := grant("huge-chain", "key-1")
			g.Chains = []uint64{1<<63 - 1}
			return g
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.CreateGrant(ctx(t), tt.g); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetGrant(ctx(t), tt.g.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(normalised(tt.g), got, cmpOpts); diff != "" {
				t.Errorf("GetGrant (-want +got):\n%s", diff)
			}
			dup := tt.g
			dup.Agent = "someone else"
			wantErr(t, "CreateGrant duplicate", s.CreateGrant(ctx(t), dup), store.ErrConflict)
			if again, _ := s.GetGrant(ctx(t), tt.g.ID); again.Agent != tt.g.Agent {
				t.Error("duplicate CreateGrant overwrote the grant")
			}
		})
	}
	_, err := s.GetGrant(ctx(t), "nope")
	wantErr(t, "GetGrant missing", err, store.ErrNotFound)
}

func testGrantsInvalid(t *testing.T, s store.Store) {
	mustPutKey(t, s, "key-1")
	zero := time.Time{}
	tests := []struct {
		name   string
		mutate func(*store.Grant)
	}{
		{"no id", func(g *store.Grant) { g.ID = "" }},
		{"unknown mode", func(g *store.Grant) { g.Mode = "custodial" }},
		{"bad address", func(g *store.Grant) { g.Address = "alice.eth" }},
		{"no signer", func(g *store.Grant) { g.SignerKeyID = "" }},
		{"signer key missing", func(g *store.Grant) { g.SignerKeyID = "key-404" }},
		{"no credential hash", func(g *store.Grant) { g.CredentialHash = nil }},
		{"zero created", func(g *store.Grant) { g.CreatedAt = time.Time{} }},
		{"zero expiry", func(g *store.Grant) { g.ExpiresAt = time.Time{} }},
		{"policy not json", func(g *store.Grant) { g.Policy = []byte("name: x") }},
		{"chain id zero", func(g *store.Grant) { g.Chains = []uint64{0} }},
		{"chain id beyond int64", func(g *store.Grant) { g.Chains = []uint64{1 << 63} }},
		{"zero revocation time", func(g *store.Grant) { g.RevokedAt = &zero }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := grant("g", "key-1")
			tt.mutate(&g)
			wantErr(t, "CreateGrant", s.CreateGrant(ctx(t), g), store.ErrInvalid)
		})
	}
	if list, _ := s.ListGrants(ctx(t), store.GrantFilter{}); len(list) != 0 {
		t.Errorf("invalid grants were stored: %v", list)
	}
}

func testListGrants(t *testing.T, s store.Store) {
	mustPutKey(t, s, "key-1")
	mk := func(id, agent string, created time.Duration, life time.Duration) store.Grant {
		g := grant(id, "key-1")
		g.Agent = agent
		g.CreatedAt = t0.Add(created)
		g.ExpiresAt = g.CreatedAt.Add(life)
		return g
	}
	gs := []store.Grant{
		mk("b", "alice", 2*time.Minute, time.Hour),
		mk("a", "alice", 2*time.Minute, time.Hour), // same time: ordered by id
		mk("c", "bob", time.Minute, time.Hour),
		mk("d", "bob", 3*time.Minute, 10*time.Minute), // expires t0+13m
		mk("e", "alice", 4*time.Minute, time.Hour),    // revoked below
	}
	for _, g := range gs {
		if err := s.CreateGrant(ctx(t), g); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeGrant(ctx(t), "e", t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    store.GrantFilter
		want []string
	}{
		{"all", store.GrantFilter{}, []string{"c", "a", "b", "d", "e"}},
		{"agent", store.GrantFilter{Agent: "alice"}, []string{"a", "b", "e"}},
		{"unknown agent", store.GrantFilter{Agent: "carol"}, nil},
		{"active", store.GrantFilter{ActiveAt: t0.Add(6 * time.Minute)}, []string{"c", "a", "b", "d"}},
		{"active after d expired", store.GrantFilter{ActiveAt: t0.Add(13 * time.Minute)}, []string{"c", "a", "b"}},
		{"active alice", store.GrantFilter{Agent: "alice", ActiveAt: t0.Add(6 * time.Minute)}, []string{"a", "b"}},
		{"active after all expired", store.GrantFilter{ActiveAt: t0.Add(48 * time.Hour)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := s.ListGrants(ctx(t), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, g := range list {
				ids = append(ids, g.ID)
			}
			if diff := cmp.Diff(tt.want, ids, cmpOpts); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func testCopies(t *testing.T, s store.Store) {
	g := setup(t, s, "g")[0]
	want := normalised(grant("g", "key-1"))
	// Mutating the input after CreateGrant must not matter.
	g.Meta["team"] = "changed"
	g.Chains[0] = 99
	g.Policy[0] = '['

	got, _ := s.GetGrant(ctx(t), "g")
	got.Meta["team"] = "changed"
	got.Chains[0] = 99
	got.CredentialHash[0] = 'X'
	again, _ := s.GetGrant(ctx(t), "g")
	if diff := cmp.Diff(want, again, cmpOpts); diff != "" {
		t.Errorf("stored grant changed through aliasing (-want +got):\n%s", diff)
	}
	err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
		a := tx.Grant()
		a.Meta["team"] = "changed"
		a.Chains[0] = 99
		if diff := cmp.Diff(want, tx.Grant(), cmpOpts); diff != "" {
			t.Errorf("DecideTx.Grant changed through aliasing (-want +got):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testRevokeGrant(t *testing.T, s store.Store) {
	setup(t, s, "g", "other")
	first := t0.Add(time.Hour + 123456789)
	if err := s.RevokeGrant(ctx(t), "g", first); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeGrant(ctx(t), "g", first.Add(time.Hour)); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	got, _ := s.GetGrant(ctx(t), "g")
	if got.RevokedAt == nil || !got.RevokedAt.Equal(msUTC(first)) {
		t.Errorf("RevokedAt = %v, want the first revocation %v", got.RevokedAt, msUTC(first))
	}
	if got.Active(t0) {
		t.Error("revoked grant is active")
	}
	if o, _ := s.GetGrant(ctx(t), "other"); o.RevokedAt != nil {
		t.Error("revoking one grant revoked another")
	}
	wantErr(t, "RevokeGrant missing", s.RevokeGrant(ctx(t), "nope", t0), store.ErrNotFound)
	wantErr(t, "RevokeGrant zero time", s.RevokeGrant(ctx(t), "other", time.Time{}), store.ErrInvalid)
}

func testRevokeAll(t *testing.T, s store.Store) {
	setup(t, s, "a", "b", "c")
	early := t0.Add(time.Minute)
	if err := s.RevokeGrant(ctx(t), "b", early); err != nil {
		t.Fatal(err)
	}
	n, err := s.RevokeAll(ctx(t), t0.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("RevokeAll = %d, %v; want 2", n, err)
	}
	if n, err := s.RevokeAll(ctx(t), t0.Add(2*time.Hour)); err != nil || n != 0 {
		t.Errorf("second RevokeAll = %d, %v; want 0", n, err)
	}
	want := map[string]time.Time{"a": msUTC(t0.Add(time.Hour)), "b": msUTC(early), "c": msUTC(t0.Add(time.Hour))}
	for id, at := range want {
		g, _ := s.GetGrant(ctx(t), id)
		if g.RevokedAt == nil || !g.RevokedAt.Equal(at) {
			t.Errorf("grant %s RevokedAt = %v, want %v", id, g.RevokedAt, at)
		}
	}
	if list, _ := s.ListGrants(ctx(t), store.GrantFilter{ActiveAt: t0}); len(list) != 0 {
		t.Errorf("active grants after RevokeAll: %d", len(list))
	}
	_, err = s.RevokeAll(ctx(t), time.Time{})
	wantErr(t, "RevokeAll zero time", err, store.ErrInvalid)
}

func testMeta(t *testing.T, s store.Store) {
	_, err := s.GetMeta(ctx(t), "kdf")
	wantErr(t, "GetMeta missing", err, store.ErrNotFound)
	for _, v := range []string{`{"kdf":"scrypt"}`, "", "second"} {
		if err := s.SetMeta(ctx(t), "kdf", v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetMeta(ctx(t), "kdf"); err != nil || got != v {
			t.Errorf("GetMeta = %q, %v; want %q", got, err, v)
		}
	}
	wantErr(t, "SetMeta empty key", s.SetMeta(ctx(t), "", "x"), store.ErrInvalid)
}

func big2(exp uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), exp) }

func testBigAmounts(t *testing.T, s store.Store) {
	setup(t, s, "g")
	max256 := new(big.Int).Sub(big2(256), big.NewInt(1))
	oneEth, _ := new(big.Int).SetString("1000000000000000000", 10)
	tests := []struct {
		name    string
		amounts []*big.Int
	}{
		{"zero", []*big.Int{big.NewInt(0)}},
		{"one wei", []*big.Int{big.NewInt(1)}},
		{"one ether", []*big.Int{oneEth}},
		{"2^63 (beyond int64)", []*big.Int{big2(63)}},
		{"2^64+1", []*big.Int{new(big.Int).Add(big2(64), big.NewInt(1))}},
		{"2^256-1", []*big.Int{max256}},
		{"two times 2^256-1", []*big.Int{max256, max256}},
		{"mixed", []*big.Int{max256, big.NewInt(1), oneEth}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One asset per case keeps sums apart.
			asset := fmt.Sprintf("0x%040x", i+1)
			want := new(big.Int)
			var spends []store.Spend
			for _, a := range tt.amounts {
				want.Add(want, a)
				spends = append(spends, store.Spend{Asset: asset, Amount: new(big.Int).Set(a)})
			}
			var got *big.Int
			err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
				if err := tx.Reserve(ctx, t0, spends); err != nil {
					return err
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
				c, err := tx.Spent(ctx, asset, t0)
				got = c.Total()
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.Cmp(want) != 0 {
				t.Errorf("Spent = %s, want %s", got, want)
			}
		})
	}
}

func testReserveInvalid(t *testing.T, s store.Store) {
	setup(t, s, "g")
	tests := []struct {
		name   string
		at     time.Time
		spends []store.Spend
	}{
		{"negative", t0, []store.Spend{{Asset: "native", Amount: big.NewInt(-1)}}},
		{"2^256", t0, []store.Spend{{Asset: "native", Amount: big2(256)}}},
		{"nil amount", t0, []store.Spend{{Asset: "native"}}},
		{"empty asset", t0, []store.Spend{{Asset: "", Amount: big.NewInt(1)}}},
		{"symbol not address", t0, []store.Spend{{Asset: "USDC", Amount: big.NewInt(1)}}},
		{"short address", t0, []store.Spend{{Asset: "0xa0b8", Amount: big.NewInt(1)}}},
		{"zero time", time.Time{}, []store.Spend{{Asset: "native", Amount: big.NewInt(1)}}},
		{"valid then invalid", t0, []store.Spend{{Asset: "native", Amount: big.NewInt(1)}, {Asset: "native", Amount: big.NewInt(-5)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
				err := tx.Reserve(ctx, tt.at, tt.spends)
				wantErr(t, "Reserve", err, store.ErrInvalid)
				// The callback may carry on after a refused Reserve; nothing of it was stored.
				spent, err := tx.Spent(ctx, "native", time.Time{}.Add(time.Hour))
				if err != nil || spent.Total().Sign() != 0 {
					t.Errorf("Spent after refused Reserve = %v, %v; want 0", spent, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
		_, err := tx.Spent(ctx, "ETH", t0)
		return err
	})
	wantErr(t, "Spent with bad asset", err, store.ErrInvalid)
}

func reserve(t *testing.T, s store.Store, grantID string, at time.Time, spends ...store.Spend) {
	t.Helper()
	if err := s.Decide(ctx(t), grantID, func(ctx context.Context, tx store.DecideTx) error {
		return tx.Reserve(ctx, at, spends)
	}); err != nil {
		t.Fatal(err)
	}
}

func spent(t *testing.T, s store.Store, grantID, asset string, since time.Time) *big.Int {
	t.Helper()
	var out *big.Int
	if err := s.Decide(ctx(t), grantID, func(ctx context.Context, tx store.DecideTx) error {
		c, err := tx.Spent(ctx, asset, since)
		out = c.Total()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func testSpentWindow(t *testing.T, s store.Store) {
	setup(t, s, "g", "other")
	n := func(v int64) store.Spend { return store.Spend{Asset: "native", Amount: big.NewInt(v)} }
	tok := func(addr string, v int64) store.Spend { return store.Spend{Asset: addr, Amount: big.NewInt(v)} }
	reserve(t, s, "g", t0, n(1), tok(token, 1000))
	reserve(t, s, "g", t0.Add(time.Hour), n(10), tok(strings.ToLower(token), 2000))
	reserve(t, s, "g", t0.Add(2*time.Hour), n(100))
	reserve(t, s, "other", t0.Add(2*time.Hour), n(7), tok(token, 5))

	tests := []struct {
		name, grant, asset string
		since              time.Time
		want               int64
	}{
		{"all native", "g", "native", t0.Add(-time.Hour), 111},
		{"since is inclusive", "g", "native", t0.Add(time.Hour), 110},
		{"since just after", "g", "native", t0.Add(time.Hour + time.Millisecond), 100},
		{"since sub-millisecond is truncated", "g", "native", msUTC(t0.Add(time.Hour)).Add(999 * time.Microsecond), 110},
		{"future", "g", "native", t0.Add(3 * time.Hour), 0},
		{"asset case does not matter", "g", strings.ToUpper("0x" + token[2:]), t0, 3000},
		{"lowercase token", "g", strings.ToLower(token), t0.Add(time.Minute), 2000},
		{"native case", "g", "NATIVE", t0.Add(2 * time.Hour), 100},
		{"other grant", "other", "native", t0, 7},
		{"other grant token", "other", token, t0, 5},
		{"unused asset", "g", "0x" + strings.Repeat("0", 40), t0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spent(t, s, tt.grant, tt.asset, tt.since); got.Cmp(big.NewInt(tt.want)) != 0 {
				t.Errorf("Spent = %s, want %d", got, tt.want)
			}
		})
	}
}

func record(keyID string, at time.Time, decision string) audit.Record {
	return audit.Record{
		Time: at, KeyID: keyID, Method: "eth_sendTransaction",
		Call:     []byte(`{"to":"0x7a250d5630b4cf539739df2c5dacb4c659f2488d","value":"0x0","data":"0x38ed1739"}`),
		Decision: decision, Reasons: []string{"allowed by rule uniswap"},
		TxHash: "0xabc", CallerIP: "127.0.0.1", RequestID: "req", UserAgent: "agent-sdk/1.0",
	}
}

func testRequests(t *testing.T, s store.Store) {
	setup(t, s, "g", "other")
	for i, at := range []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)} {
		if _, err := s.AppendAudit(ctx(t), record("g", at, audit.DecisionAllow)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendAudit(ctx(t), record("other", at, audit.DecisionDeny)); err != nil {
			t.Fatal(err)
		}
		_ = i
	}
	if _, err := s.AppendAudit(ctx(t), record("", t0, audit.DecisionDeny)); err != nil {
		t.Fatal(err)
	}
	err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
		for _, c := range []struct {
			since time.Time
			want  int
		}{{t0.Add(-time.Hour), 3}, {t0.Add(time.Minute), 2}, {t0.Add(time.Minute + time.Millisecond), 1}, {t0.Add(time.Hour), 0}} {
			if n, err := tx.Requests(ctx, c.since, 10); err != nil || n != c.want {
				t.Errorf("Requests(since %v) = %d, %v; want %d", c.since, n, err, c.want)
			}
			if n, err := tx.Requests(ctx, c.since, 2); err != nil || n != min(c.want, 2) {
				t.Errorf("Requests(since %v, at most 2) = %d, %v; want %d", c.since, n, err, min(c.want, 2))
			}
		}
		if _, err := tx.Requests(ctx, t0, 0); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Requests at most 0: %v; want ErrInvalid", err)
		}
		if _, err := tx.AppendAudit(ctx, record("g", t0.Add(3*time.Minute), audit.DecisionDeny)); err != nil {
			return err
		}
		if n, err := tx.Requests(ctx, t0.Add(time.Minute), 10); err != nil || n != 3 {
			t.Errorf("Requests after an append in the same transaction = %d, %v; want 3", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testKeyUsage(t *testing.T, s store.Store) {
	setup(t, s, "g", "other", "idle")
	if u, err := s.KeyUsage(ctx(t), "g", t0); err != nil || u != (store.KeyUsage{}) {
		t.Errorf("KeyUsage of a key with no records = %+v, %v; want the zero value", u, err)
	}
	add := func(keyID string, at time.Time, decision, ip string) {
		t.Helper()
		r := record(keyID, at, decision)
		r.CallerIP, r.UserAgent = ip, "ua-"+ip
		if _, err := s.AppendAudit(ctx(t), r); err != nil {
			t.Fatal(err)
		}
	}
	add("g", t0, audit.DecisionAllow, "10.0.0.1")
	add("g", t0.Add(time.Minute), audit.DecisionDeny, "10.0.0.2")
	add("g", t0.Add(2*time.Minute), audit.DecisionError, "10.0.0.3")
	add("g", t0.Add(3*time.Minute), audit.DecisionDeny, "10.0.0.4")
	add("other", t0.Add(time.Hour), audit.DecisionDeny, "10.9.9.9") // newer, another key's
	add("", t0.Add(time.Hour), audit.DecisionAllow, "10.8.8.8")     // an owner action: no key's use

	last := t0.Add(3 * time.Minute).Truncate(time.Millisecond)
	for _, c := range []struct {
		since            time.Time
		requests, denied int
	}{
		{time.Time{}, 4, 2},
		{t0.Add(-time.Hour), 4, 2},
		{t0.Add(time.Minute), 3, 2},
		{t0.Add(time.Minute + time.Millisecond), 2, 1},
		{t0.Add(time.Hour), 0, 0},
	} {
		u, err := s.KeyUsage(ctx(t), "g", c.since)
		if err != nil {
			t.Fatalf("KeyUsage(since %v): %v", c.since, err)
		}
		want := store.KeyUsage{LastUsed: last, LastIP: "10.0.0.4", LastUserAgent: "ua-10.0.0.4", LastDecision: audit.DecisionDeny, Requests: c.requests, Denied: c.denied}
		if !u.LastUsed.Equal(want.LastUsed) {
			t.Errorf("KeyUsage(since %v).LastUsed = %v; want %v", c.since, u.LastUsed, want.LastUsed)
		}
		u.LastUsed = want.LastUsed
		if u != want {
			t.Errorf("KeyUsage(since %v) = %+v; want %+v", c.since, u, want)
		}
	}
	if u, err := s.KeyUsage(ctx(t), "idle", t0); err != nil || u != (store.KeyUsage{}) {
		t.Errorf("KeyUsage of an unused key = %+v, %v; want the zero value", u, err)
	}
	if u, err := s.KeyUsage(ctx(t), "never-stored", t0); err != nil || u != (store.KeyUsage{}) {
		t.Errorf("KeyUsage of an unknown key = %+v, %v; want the zero value", u, err)
	}
	if _, err := s.KeyUsage(ctx(t), "", t0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("KeyUsage of an empty key id: err = %v; want ErrInvalid", err)
	}
}

func nextNonce(t *testing.T, s store.Store, grantID string, chain uint64, addr string, floor uint64) (uint64, error) {
	t.Helper()
	var n uint64
	err := s.Decide(ctx(t), grantID, func(ctx context.Context, tx store.DecideTx) error {
		var err error
		n, err = tx.NextNonce(ctx, chain, addr, floor)
		return err
	})
	return n, err
}

func testNextNonce(t *testing.T, s store.Store) {
	setup(t, s, "g")
	steps := []struct {
		name  string
		chain uint64
		addr  string
		floor uint64
		want  uint64
	}{
		{"first", chainID, wallet, 0, 0},
		{"second", chainID, wallet, 0, 1},
		{"lowercase address shares the counter", chainID, strings.ToLower(wallet), 0, 2},
		{"floor below counter is ignored", chainID, wallet, 1, 3},
		{"floor above counter wins", chainID, wallet, 10, 10},
		{"counter continues after floor", chainID, wallet, 0, 11},
		{"other chain has its own counter", 1, wallet, 0, 0},
		{"other address has its own counter", chainID, owner, 5, 5},
		{"large chain id", 1<<63 - 1, wallet, 1 << 40, 1 << 40},
		{"first counter unaffected", chainID, wallet, 0, 12},
	}
	for _, st := range steps {
		n, err := nextNonce(t, s, "g", st.chain, st.addr, st.floor)
		if err != nil || n != st.want {
			t.Errorf("%s: NextNonce = %d, %v; want %d", st.name, n, err, st.want)
		}
	}
	bad := []struct {
		name  string
		chain uint64
		addr  string
		floor uint64
	}{
		{"chain id zero", 0, wallet, 0},
		{"chain id beyond int64", 1 << 63, wallet, 0},
		{"bad address", chainID, "0x12", 0},
		{"floor beyond int64", chainID, wallet, 1 << 63},
	}
	for _, b := range bad {
		_, err := nextNonce(t, s, "g", b.chain, b.addr, b.floor)
		wantErr(t, b.name, err, store.ErrInvalid)
	}
	if n, _ := nextNonce(t, s, "g", chainID, wallet, 0); n != 13 {
		t.Errorf("refused calls moved the counter: next = %d, want 13", n)
	}
}

var errRefused = errors.New("policy says no")

// peekNonce returns the nonce NextNonce would hand out, without taking it
// (the Decide is rolled back).
func peekNonce(t *testing.T, s store.Store, grantID string, chain uint64, addr string) uint64 {
	t.Helper()
	errPeek := errors.New("peek")
	var n uint64
	err := s.Decide(ctx(t), grantID, func(ctx context.Context, tx store.DecideTx) error {
		var err error
		if n, err = tx.NextNonce(ctx, chain, addr, 0); err != nil {
			return err
		}
		return errPeek
	})
	if !errors.Is(err, errPeek) {
		t.Fatalf("peek nonce: %v", err)
	}
	return n
}

// decideEverything reserves, takes a nonce and audits inside one Decide,
// then returns ret.
func decideEverything(ctx context.Context, tx store.DecideTx, ret error) error {
	if err := tx.Reserve(ctx, t0, []store.Spend{{Asset: "native", Amount: big.NewInt(5)}}); err != nil {
		return err
	}
	if _, err := tx.NextNonce(ctx, chainID, wallet, 0); err != nil {
		return err
	}
	if _, err := tx.AppendAudit(ctx, record("", t0, audit.DecisionAllow)); err != nil {
		return err
	}
	return ret
}

// assertNothingStored checks that no reservation, nonce or audit record of
// an aborted Decide remains, and that the store still works.
func assertNothingStored(t *testing.T, s store.Store) {
	t.Helper()
	if got := spent(t, s, "g", "native", t0.Add(-time.Hour)); got.Sign() != 0 {
		t.Errorf("reservation survived rollback: spent %s", got)
	}
	if n := peekNonce(t, s, "g", chainID, wallet); n != 0 {
		t.Errorf("nonce survived rollback: next = %d; want 0", n)
	}
	recs, err := s.AuditRecords(ctx(t), 0, 10)
	if err != nil || len(recs) != 0 {
		t.Errorf("audit record survived rollback: %d records, %v", len(recs), err)
	}
	head, err := s.AuditHead(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(audit.GenesisHead(), head); diff != "" {
		t.Errorf("audit head moved on rollback (-want +got):\n%s", diff)
	}
}

// testOwner: an owner transaction shares the account's nonce counter with
// decisions, keeps the KeyID it is given (or none), and stores nothing when
// its callback fails.
func testOwner(t *testing.T, s store.Store) {
	setup(t, s, "g")
	if n, err := nextNonce(t, s, "g", chainID, wallet, 0); err != nil || n != 0 {
		t.Fatalf("agent nonce = %d, %v", n, err)
	}
	err := s.Owner(ctx(t), func(ctx context.Context, tx store.OwnerTx) error {
		_, err := tx.NextNonce(ctx, chainID, wallet, 0)
		wantErr(t, "nonce", err, nil)
		_, err = tx.AppendAudit(ctx, record("", t0, audit.DecisionAllow))
		wantErr(t, "audit without a key", err, nil)
		return errRefused
	})
	wantErr(t, "failed Owner", err, errRefused)
	if n := peekNonce(t, s, "g", chainID, wallet); n != 1 {
		t.Errorf("a failed owner transaction moved the nonce: next = %d, want 1", n)
	}
	if recs, _ := s.AuditRecords(ctx(t), 0, 10); len(recs) != 0 {
		t.Errorf("a failed owner transaction left %d audit records", len(recs))
	}

	var got uint64
	err = s.Owner(ctx(t), func(ctx context.Context, tx store.OwnerTx) error {
		var err error
		if got, err = tx.NextNonce(ctx, chainID, wallet, 0); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, record("", t0, audit.DecisionAllow)); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, record("g", t0, audit.DecisionAllow))
		return err
	})
	if err != nil || got != 1 {
		t.Fatalf("Owner: nonce %d, %v; want 1 (after the agent's 0)", got, err)
	}
	if n, _ := nextNonce(t, s, "g", chainID, wallet, 0); n != 2 {
		t.Errorf("agent nonce after the owner's = %d, want 2", n)
	}
	recs, err := s.AuditRecords(ctx(t), 0, 10)
	if err != nil || len(recs) != 2 || recs[0].KeyID != "" || recs[1].KeyID != "g" {
		t.Fatalf("owner audit records = %+v, %v; want key ids \"\" and \"g\"", recs, err)
	}
	var kept store.OwnerTx
	if err := s.Owner(ctx(t), func(ctx context.Context, tx store.OwnerTx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	_, err = kept.NextNonce(ctx(t), chainID, wallet, 0)
	wantErr(t, "NextNonce after Owner returned", err, store.ErrTxDone)
}

func testDecideRollback(t *testing.T, s store.Store) {
	setup(t, s, "g")
	err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
		return decideEverything(ctx, tx, errRefused)
	})
	wantErr(t, "Decide", err, errRefused)
	assertNothingStored(t, s)
}

func testDecidePanic(t *testing.T, s store.Store) {
	setup(t, s, "g")
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the callback's panic", p)
			}
		}()
		_ = s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
			if err := decideEverything(ctx, tx, nil); err != nil {
				t.Error(err)
			}
			panic("boom")
		})
	}()
	assertNothingStored(t, s)
}

func testDecideCancelled(t *testing.T, s store.Store) {
	setup(t, s, "g")
	c, cancel := context.WithCancel(ctx(t))
	err := s.Decide(c, "g", func(ctx context.Context, tx store.DecideTx) error {
		err := decideEverything(ctx, tx, nil)
		cancel() // the request is abandoned after the work but before commit
		return err
	})
	if err == nil {
		t.Fatal("Decide committed although its context was cancelled")
	}
	assertNothingStored(t, s)

	// Already cancelled: fn may not even run; either way nothing is stored.
	err = s.Decide(c, "g", func(ctx context.Context, tx store.DecideTx) error {
		return decideEverything(ctx, tx, nil)
	})
	wantErr(t, "Decide with cancelled context", err, context.Canceled)
	assertNothingStored(t, s)
}

func testDecideNotFound(t *testing.T, s store.Store) {
	setup(t, s, "g")
	called := false
	err := s.Decide(ctx(t), "nope", func(context.Context, store.DecideTx) error {
		called = true
		return nil
	})
	wantErr(t, "Decide on missing grant", err, store.ErrNotFound)
	if called {
		t.Error("callback ran for a missing grant")
	}
}

func testDecideSeesRevocation(t *testing.T, s store.Store) {
	want := normalised(setup(t, s, "g")[0])
	check := func(want store.Grant) {
		t.Helper()
		err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
			if diff := cmp.Diff(want, tx.Grant(), cmpOpts); diff != "" {
				t.Errorf("DecideTx.Grant (-want +got):\n%s", diff)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check(want)
	at := t0.Add(time.Minute)
	if err := s.RevokeGrant(ctx(t), "g", at); err != nil {
		t.Fatal(err)
	}
	want.RevokedAt = &at
	check(normalised(want))
}

func testDecideTxDone(t *testing.T, s store.Store) {
	setup(t, s, "g")
	for _, ret := range []error{nil, errRefused} {
		var kept store.DecideTx
		_ = s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
			kept = tx
			return ret
		})
		c := ctx(t)
		_, err := kept.Spent(c, "native", t0)
		wantErr(t, "Spent after Decide", err, store.ErrTxDone)
		_, err = kept.Requests(c, t0, 1)
		wantErr(t, "Requests after Decide", err, store.ErrTxDone)
		wantErr(t, "Reserve after Decide", kept.Reserve(c, t0, []store.Spend{{Asset: "native", Amount: big.NewInt(1)}}), store.ErrTxDone)
		_, err = kept.NextNonce(c, chainID, wallet, 0)
		wantErr(t, "NextNonce after Decide", err, store.ErrTxDone)
		_, err = kept.AppendAudit(c, record("g", t0, audit.DecisionAllow))
		wantErr(t, "AppendAudit after Decide", err, store.ErrTxDone)
	}
	assertNothingStored(t, s)
}

// allRecords reads the head, then every record up to it, page by page.
func allRecords(t *testing.T, s store.Store, page int) ([]audit.Record, audit.Head) {
	t.Helper()
	head, err := s.AuditHead(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	after := int64(0)
	for {
		recs, err := s.AuditRecords(ctx(t), after, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > page {
			t.Fatalf("AuditRecords returned %d records, limit %d", len(recs), page)
		}
		if len(recs) == 0 {
			return out, head
		}
		out = append(out, recs...)
		after = recs[len(recs)-1].Seq
	}
}

func testAuditChain(t *testing.T, s store.Store) {
	setup(t, s, "g")
	recs, head := allRecords(t, s, 10)
	if len(recs) != 0 || !audit.Verify(recs, &head).OK() || head.Seq != 0 {
		t.Fatalf("empty log: %d records, head %+v", len(recs), head)
	}

	inputs := []audit.Record{
		record("g", t0, audit.DecisionAllow),
		{Time: t0.Add(time.Second), Method: "eth_sendTransaction", Decision: audit.DecisionDeny, Reasons: []string{"unknown credential"}, CallerIP: "203.0.113.9"},
		{Time: t0.Add(2 * time.Second), KeyID: "g", Method: "personal_sign", Decision: audit.DecisionError, Reasons: []string{"store: timeout", "ünïcödé ✓"}},
		{Time: t0.Add(3 * time.Second), KeyID: "g", Method: "eth_accounts", Decision: audit.DecisionAllow, Call: []byte(`{ "spaced" : [1, 2] }`)},
		{Time: t0.Add(4 * time.Second), KeyID: "g", Method: "eth_accounts", Decision: audit.DecisionAllow, Reasons: []string{}, Call: []byte{}},
	}
	var want []audit.Record
	for i, in := range inputs {
		in.Seq, in.PrevHash, in.Hash = 999, []byte("ignored"), []byte("ignored")
		out, err := s.AppendAudit(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		if out.Seq != int64(i+1) {
			t.Errorf("record %d got Seq %d", i+1, out.Seq)
		}
		prev := audit.GenesisHash()
		if i > 0 {
			prev = want[i-1].Hash
		}
		in.Seq = out.Seq
		if diff := cmp.Diff(audit.Chain(prev, in), out, cmpOpts); diff != "" {
			t.Errorf("AppendAudit result (-want +got):\n%s", diff)
		}
		want = append(want, out)
	}

	for _, page := range []int{1, 2, 100} {
		got, head := allRecords(t, s, page)
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Errorf("page size %d: records (-want +got):\n%s", page, diff)
		}
		if rep := audit.Verify(got, &head); !rep.OK() {
			t.Errorf("page size %d: %s", page, rep)
		}
		if head.Seq != 5 || !slices.Equal(head.Hash, want[4].Hash) {
			t.Errorf("head = %+v, want seq 5 hash %x", head, want[4].Hash)
		}
	}
	if got, err := s.AuditRecords(ctx(t), 3, 100); err != nil || len(got) != 2 || got[0].Seq != 4 {
		t.Errorf("AuditRecords(after 3) = %d records, %v", len(got), err)
	}
	if got, err := s.AuditRecords(ctx(t), 5, 100); err != nil || got == nil || len(got) != 0 {
		t.Errorf("AuditRecords past the end = %#v, %v; want an empty slice", got, err)
	}
}

func testAuditInDecide(t *testing.T, s store.Store) {
	setup(t, s, "g", "other")
	if _, err := s.AppendAudit(ctx(t), record("", t0, audit.DecisionDeny)); err != nil {
		t.Fatal(err)
	}
	var inTx audit.Record
	err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
		_, err := tx.AppendAudit(ctx, record("other", t0, audit.DecisionAllow))
		wantErr(t, "AppendAudit naming another grant", err, store.ErrInvalid)
		inTx, err = tx.AppendAudit(ctx, record("", t0, audit.DecisionAllow))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if inTx.KeyID != "g" || inTx.Seq != 2 {
		t.Errorf("record appended in Decide: KeyID %q Seq %d; want g, 2", inTx.KeyID, inTx.Seq)
	}
	if _, err := s.AppendAudit(ctx(t), record("other", t0, audit.DecisionDeny)); err != nil {
		t.Fatal(err)
	}
	recs, head := allRecords(t, s, 100)
	if rep := audit.Verify(recs, &head); !rep.OK() || len(recs) != 3 {
		t.Errorf("%d records: %s", len(recs), rep)
	}
}

func testAuditInvalid(t *testing.T, s store.Store) {
	setup(t, s, "g")
	bad := []audit.Record{
		{Time: t0, Method: "eth_sendTransaction", Decision: "maybe"},
		{Time: t0, Decision: audit.DecisionAllow},
		{Method: "eth_sendTransaction", Decision: audit.DecisionAllow},
		// Over audit.MaxRecordBytes: no record may be that large.
		{Time: t0, Method: "eth_sendTransaction", Decision: audit.DecisionDeny, Reasons: []string{strings.Repeat("x", audit.MaxRecordBytes)}},
	}
	for _, r := range bad {
		_, err := s.AppendAudit(ctx(t), r)
		wantErr(t, "AppendAudit invalid", err, store.ErrInvalid)
		err = s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
			_, err := tx.AppendAudit(ctx, r)
			return err
		})
		wantErr(t, "DecideTx.AppendAudit invalid", err, store.ErrInvalid)
	}
	for _, c := range []struct {
		after int64
		limit int
	}{{0, 0}, {0, -1}, {-1, 10}} {
		_, err := s.AuditRecords(ctx(t), c.after, c.limit)
		wantErr(t, fmt.Sprintf("AuditRecords(%d, %d)", c.after, c.limit), err, store.ErrInvalid)
	}
	assertNothingStored(t, s)
}

// capDecide is the shape of the daemon's decision: read what was spent,
// refuse (and audit the refusal) if one more unit would pass the cap,
// otherwise reserve, take a nonce and audit the allowance. It reports the
// nonce through *nonce, valid only if Decide then returns nil.
func capDecide(ctx context.Context, tx store.DecideTx, limit int64, nonce *uint64, allowed *bool) error {
	spent, err := tx.Spent(ctx, store.AssetNative, t0)
	if err != nil {
		return err
	}
	if new(big.Int).Add(spent.Total(), big.NewInt(1)).Cmp(big.NewInt(limit)) > 0 {
		r := record("", t0, audit.DecisionDeny)
		r.Reasons = []string{"cap reached"}
		_, err := tx.AppendAudit(ctx, r)
		return err
	}
	if err := tx.Reserve(ctx, t0, []store.Spend{{Asset: store.AssetNative, Amount: big.NewInt(1)}}); err != nil {
		return err
	}
	n, err := tx.NextNonce(ctx, chainID, wallet, 0)
	if err != nil {
		return err
	}
	r := record("", t0, audit.DecisionAllow)
	r.TxHash = fmt.Sprintf("nonce-%d", n)
	if _, err := tx.AppendAudit(ctx, r); err != nil {
		return err
	}
	*nonce, *allowed = n, true
	return nil
}

// assertContiguous checks nonces are exactly 0..len-1, each once.
func assertContiguous(t *testing.T, nonces []uint64) {
	t.Helper()
	slices.Sort(nonces)
	for i, n := range nonces {
		if n != uint64(i) {
			t.Fatalf("nonces are not distinct and contiguous from 0: %v", nonces)
		}
	}
}

func testConcurrentCap(t *testing.T, s store.Store) {
	const (
		workers = 200
		limit   = 50
	)
	setup(t, s, "g")
	var (
		mu     sync.Mutex
		nonces []uint64
		denied int
		wg     sync.WaitGroup
	)
	start := make(chan struct{})
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var n uint64
			var allowed bool
			err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
				allowed = false
				return capDecide(ctx, tx, limit, &n, &allowed)
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("Decide: %v", err)
			case allowed:
				nonces = append(nonces, n)
			default:
				denied++
			}
		}()
	}
	close(start)
	wg.Wait()

	if len(nonces) != limit || denied != workers-limit {
		t.Errorf("%d allowed, %d denied; want %d and %d", len(nonces), denied, limit, workers-limit)
	}
	assertContiguous(t, nonces)
	if got := spent(t, s, "g", "native", t0); got.Cmp(big.NewInt(limit)) != 0 {
		t.Errorf("Spent = %s, want exactly the cap %d", got, limit)
	}
	if n, _ := nextNonce(t, s, "g", chainID, wallet, 0); n != limit {
		t.Errorf("next nonce = %d, want %d", n, limit)
	}
	recs, head := allRecords(t, s, 64)
	if rep := audit.Verify(recs, &head); !rep.OK() || len(recs) != workers {
		t.Errorf("audit after concurrent decisions: %d records: %s", len(recs), rep)
	}
	allow := 0
	for _, r := range recs {
		if r.Decision == audit.DecisionAllow {
			allow++
		}
	}
	if allow != limit {
		t.Errorf("%d allow records, want %d", allow, limit)
	}
}

func testConcurrentSharedNonce(t *testing.T, s store.Store) {
	const perGrant = 100
	setup(t, s, "g1", "g2") // both act as the same wallet address
	var (
		mu     sync.Mutex
		nonces []uint64
		wg     sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range 2 * perGrant {
		id := []string{"g1", "g2"}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var n uint64
			err := s.Decide(ctx(t), id, func(ctx context.Context, tx store.DecideTx) error {
				var err error
				// Mixed-case spellings of one address share one counter.
				addr := wallet
				if id == "g2" {
					addr = strings.ToLower(wallet)
				}
				n, err = tx.NextNonce(ctx, chainID, addr, 0)
				if err != nil {
					return err
				}
				_, err = tx.AppendAudit(ctx, record("", t0, audit.DecisionAllow))
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("Decide(%s): %v", id, err)
				return
			}
			nonces = append(nonces, n)
		}()
	}
	close(start)
	wg.Wait()
	if len(nonces) != 2*perGrant {
		t.Fatalf("%d nonces, want %d", len(nonces), 2*perGrant)
	}
	assertContiguous(t, nonces)
	recs, head := allRecords(t, s, 1000)
	if rep := audit.Verify(recs, &head); !rep.OK() {
		t.Error(rep)
	}
}

// resetSetup stores grants on the chain and off it, with reservations and
// nonce counters, for the ResetChain tests:
//
//	wallet  wallet mode, chains [chainID, 1]
//	s7702   7702 mode, chain [chainID], with a label
//	gone    7702 mode, chain [chainID], revoked before the reset
//	elsewhere  7702 mode, chain [1] only
func resetSetup(t *testing.T, s store.Store) {
	t.Helper()
	mustPutKey(t, s, "key-1")
	add := func(id, mode string, chains []uint64, meta map[string]string) {
		g := grant(id, "key-1")
		g.Mode, g.Chains, g.Meta = mode, chains, meta
		if err := s.CreateGrant(ctx(t), g); err != nil {
			t.Fatalf("CreateGrant(%s): %v", id, err)
		}
	}
	add("wallet", store.ModeWallet, []uint64{chainID, 1}, nil)
	add("s7702", store.Mode7702, []uint64{chainID}, map[string]string{"session": owner})
	add("gone", store.Mode7702, []uint64{chainID}, nil)
	add("elsewhere", store.Mode7702, []uint64{1}, nil)
	if err := s.RevokeGrant(ctx(t), "gone", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	n := func(v int64) store.Spend { return store.Spend{Asset: "native", Amount: big.NewInt(v)} }
	reserve(t, s, "wallet", t0, n(1), store.Spend{Asset: token, Amount: big.NewInt(1000)})
	reserve(t, s, "wallet", t0.Add(time.Hour), n(10))
	reserve(t, s, "s7702", t0, n(5))
	reserve(t, s, "elsewhere", t0, n(7))
	for _, c := range []struct {
		chain uint64
		addr  string
		floor uint64
	}{{chainID, wallet, 20}, {chainID, owner, 3}, {1, wallet, 9}} {
		if _, err := nextNonce(t, s, "wallet", c.chain, c.addr, c.floor); err != nil {
			t.Fatal(err)
		}
	}
	// Running totals exist for the periods the checks below ask about, so
	// a reset that left them behind would be seen.
	for _, g := range []string{"wallet", "s7702", "elsewhere"} {
		spent(t, s, g, "native", t0.Add(-time.Hour))
	}
	spent(t, s, "wallet", token, t0.Add(-time.Hour))
}

// testResetChain: a reset forgets the chain's nonce counters and the
// reservations of grants on it, revokes its live 7702 grants with the
// reason, leaves everything of other chains alone, and records itself in
// the audit log in the same transaction.
func testResetChain(t *testing.T, s store.Store) {
	resetSetup(t, s)
	at := t0.Add(2 * time.Hour)
	const reason = "the chain was replaced"
	var seen store.ChainReset
	got, err := s.ResetChain(ctx(t), store.ChainResetRequest{ChainID: chainID, At: at, RevokeReason: reason,
		Audit: func(r store.ChainReset) audit.Record {
			seen = r
			return audit.Record{Time: at, Method: "agentkeys_chainReset", Decision: audit.DecisionAllow, Reasons: []string{fmt.Sprintf("%d counters", len(r.Nonces))}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := store.ChainReset{
		ChainID: chainID,
		Nonces:  []store.NonceCounter{{Address: owner, Next: 4}, {Address: strings.ToLower(wallet), Next: 21}},
		// Grants in creation order (all at t0, so by id), then assets.
		Released: []store.ReleasedSpend{
			{GrantID: "s7702", Asset: "native", Amount: big.NewInt(5), Reservations: 1},
			{GrantID: "wallet", Asset: strings.ToLower(token), Amount: big.NewInt(1000), Reservations: 1},
			{GrantID: "wallet", Asset: "native", Amount: big.NewInt(11), Reservations: 2},
		},
		Revoked: []string{"s7702"},
	}
	bigCmp := cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })
	if diff := cmp.Diff(want, got, cmpOpts, bigCmp); diff != "" {
		t.Errorf("ResetChain (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(got, seen, cmpOpts, bigCmp); diff != "" {
		t.Errorf("Audit saw another result (-returned +seen):\n%s", diff)
	}

	head, err := s.AuditHead(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.AuditRecords(ctx(t), head.Seq-1, 1)
	if err != nil || len(recs) != 1 || recs[0].Method != "agentkeys_chainReset" || recs[0].Reasons[0] != "2 counters" {
		t.Fatalf("last audit record = %+v, %v; want the reset's", recs, err)
	}

	for _, tt := range []struct {
		grant, asset string
		want         int64
	}{
		{"wallet", "native", 0}, {"wallet", token, 0}, {"s7702", "native", 0}, {"elsewhere", "native", 7},
	} {
		if got := spent(t, s, tt.grant, tt.asset, t0.Add(-time.Hour)); got.Cmp(big.NewInt(tt.want)) != 0 {
			t.Errorf("Spent(%s, %s) after reset = %s, want %d", tt.grant, tt.asset, got, tt.want)
		}
	}
	for _, tt := range []struct {
		name        string
		chain       uint64
		addr        string
		floor, want uint64
	}{
		{"reset counter starts at the floor", chainID, wallet, 1, 1},
		{"and counts on", chainID, wallet, 0, 2},
		{"other address too", chainID, owner, 0, 0},
		{"other chain keeps its counter", 1, wallet, 0, 10},
	} {
		if n, err := nextNonce(t, s, "wallet", tt.chain, tt.addr, tt.floor); err != nil || n != tt.want {
			t.Errorf("%s: NextNonce = %d, %v; want %d", tt.name, n, err, tt.want)
		}
	}

	g, _ := s.GetGrant(ctx(t), "s7702")
	wantMeta := map[string]string{"session": owner, store.MetaRevokedReason: reason}
	if g.RevokedAt == nil || !g.RevokedAt.Equal(msUTC(at)) || !cmp.Equal(g.Meta, wantMeta) {
		t.Errorf("7702 grant after reset: revoked %v, meta %v; want revoked at %v with %v", g.RevokedAt, g.Meta, msUTC(at), wantMeta)
	}
	if g, _ := s.GetGrant(ctx(t), "gone"); g.RevokedAt == nil || !g.RevokedAt.Equal(msUTC(t0.Add(time.Minute))) || g.Meta[store.MetaRevokedReason] != "" {
		t.Errorf("grant revoked earlier: revoked %v, meta %v; want untouched", g.RevokedAt, g.Meta)
	}
	if g, _ := s.GetGrant(ctx(t), "wallet"); g.RevokedAt != nil {
		t.Error("reset revoked a wallet-mode grant")
	}
	if g, _ := s.GetGrant(ctx(t), "elsewhere"); g.RevokedAt != nil {
		t.Error("reset revoked a grant of another chain")
	}

	// A second reset finds nothing left of the chain.
	again, err := s.ResetChain(ctx(t), store.ChainResetRequest{ChainID: chainID, At: at.Add(time.Hour), RevokeReason: reason,
		Audit: func(r store.ChainReset) audit.Record {
			return audit.Record{Time: at, Method: "agentkeys_chainReset", Decision: audit.DecisionAllow}
		}})
	wantAgain := store.ChainReset{ChainID: chainID, Nonces: []store.NonceCounter{{Address: owner, Next: 1}, {Address: strings.ToLower(wallet), Next: 3}}}
	if err != nil || !cmp.Equal(wantAgain, again, cmpOpts, bigCmp) {
		t.Errorf("second reset = %+v, %v; want %+v", again, err, wantAgain)
	}
}

// testResetChainInvalid: a reset with a bad argument, or whose audit record
// is invalid, changes nothing.
func testResetChainInvalid(t *testing.T, s store.Store) {
	resetSetup(t, s)
	good := store.ChainResetRequest{ChainID: chainID, At: t0.Add(time.Hour), RevokeReason: "replaced",
		Audit: func(store.ChainReset) audit.Record {
			return audit.Record{Time: t0, Method: "agentkeys_chainReset", Decision: audit.DecisionAllow}
		}}
	headBefore, _ := s.AuditHead(ctx(t))
	tests := []struct {
		name   string
		mutate func(*store.ChainResetRequest)
	}{
		{"chain id zero", func(r *store.ChainResetRequest) { r.ChainID = 0 }},
		{"chain id beyond int64", func(r *store.ChainResetRequest) { r.ChainID = 1 << 63 }},
		{"zero time", func(r *store.ChainResetRequest) { r.At = time.Time{} }},
		{"no reason", func(r *store.ChainResetRequest) { r.RevokeReason = "" }},
		{"no audit", func(r *store.ChainResetRequest) { r.Audit = nil }},
		{"invalid audit record", func(r *store.ChainResetRequest) {
			r.Audit = func(store.ChainReset) audit.Record { return audit.Record{Time: t0, Decision: audit.DecisionAllow} }
		}},
	}
	for _, tt := range tests {
		req := good
		tt.mutate(&req)
		_, err := s.ResetChain(ctx(t), req)
		wantErr(t, tt.name, err, store.ErrInvalid)
	}
	if h, _ := s.AuditHead(ctx(t)); h.Seq != headBefore.Seq {
		t.Errorf("audit head moved from %d to %d", headBefore.Seq, h.Seq)
	}
	if got := spent(t, s, "wallet", "native", t0.Add(-time.Hour)); got.Cmp(big.NewInt(11)) != 0 {
		t.Errorf("Spent after failed resets = %s, want 11", got)
	}
	if g, _ := s.GetGrant(ctx(t), "s7702"); g.RevokedAt != nil {
		t.Error("a failed reset revoked a grant")
	}
	if n, err := nextNonce(t, s, "wallet", chainID, wallet, 0); err != nil || n != 21 {
		t.Errorf("NextNonce after failed resets = %d, %v; want 21", n, err)
	}
}
