package storetest

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

var bigCmp = cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })

func charged(t *testing.T, s store.Store, grantID, asset string, since time.Time) store.Charged {
	t.Helper()
	var out store.Charged
	if err := s.Decide(ctx(t), grantID, func(ctx context.Context, tx store.DecideTx) error {
		var err error
		out, err = tx.Spent(ctx, asset, since)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantCharged(t *testing.T, what string, got store.Charged, spent, pending int64) {
	t.Helper()
	if got.Spent == nil || got.Pending == nil || got.Spent.Cmp(big.NewInt(spent)) != 0 || got.Pending.Cmp(big.NewInt(pending)) != 0 {
		t.Errorf("%s: Spent = %v spent, %v pending; want %d, %d", what, got.Spent, got.Pending, spent, pending)
	}
}

func reserveTx(t *testing.T, s store.Store, grantID string, at time.Time, hash string, spends ...store.Spend) {
	t.Helper()
	if err := s.Decide(ctx(t), grantID, func(ctx context.Context, tx store.DecideTx) error {
		return tx.ReserveTx(ctx, at, hash, spends)
	}); err != nil {
		t.Fatal(err)
	}
}

func native(v int64) store.Spend { return store.Spend{Asset: store.AssetNative, Amount: big.NewInt(v)} }

func nativeFee(v int64) store.Spend {
	return store.Spend{Asset: store.AssetNative, Amount: big.NewInt(v), Fee: true}
}

func releaseReq(hash string, at time.Time) store.TxRelease {
	return store.TxRelease{Hash: hash, At: at, Audit: func(r store.TxReleased) audit.Record {
		return audit.Record{Time: at, KeyID: r.GrantID, Method: "agentkeys_txReleased", Decision: audit.DecisionAllow,
			Reasons: []string{fmt.Sprintf("released %d assets of %s", len(r.Released), r.Hash)}}
	}}
}

// testLedgerTotals: Spent answers the same whether the period's running
// total is read, built or bypassed, and every kind of reservation moves it.
func testLedgerTotals(t *testing.T, s store.Store) {
	setup(t, s, "g", "other")
	since := t0
	wantCharged(t, "empty", charged(t, s, "g", "native", since), 0, 0)
	reserve(t, s, "g", t0.Add(-time.Minute), native(1000)) // before the period
	reserve(t, s, "g", t0, native(1))                      // at its start: counts
	reserveTx(t, s, "g", t0.Add(time.Minute), txHash(1), native(10), nativeFee(3))
	reserveTx(t, s, "other", t0.Add(time.Minute), txHash(2), native(500))
	reserve(t, s, "g", t0.Add(time.Hour), store.Spend{Asset: token, Amount: big.NewInt(7)}, store.Spend{Asset: "FEES", Amount: big.NewInt(4)})
	wantCharged(t, "running total", charged(t, s, "g", "native", since), 1, 13)
	wantCharged(t, "token", charged(t, s, "g", token, since), 7, 0)
	wantCharged(t, "fees asset", charged(t, s, "g", "fees", since), 4, 0)
	wantCharged(t, "other grant", charged(t, s, "other", "native", since), 0, 500)
	// An older period is answered from the reservations...
	wantCharged(t, "older period", charged(t, s, "g", "native", t0.Add(-time.Hour)), 1001, 13)
	// ...and leaves the current total as it was.
	reserve(t, s, "g", t0.Add(2*time.Hour), native(100))
	wantCharged(t, "after a reservation", charged(t, s, "g", "native", since), 101, 13)

	// Hundreds of reservations later, the total is still exact.
	var pending int64 = 13
	for i := range 300 {
		reserveTx(t, s, "g", t0.Add(3*time.Hour+time.Duration(i)*time.Second), txHash(1000+i), native(int64(i)), nativeFee(1))
		pending += int64(i) + 1
	}
	wantCharged(t, "after 300 transactions", charged(t, s, "g", "native", since), 101, pending)
}

// testLedgerPeriods: a newer period start begins a new total that counts
// only reservations since then; what the totals say never depends on the
// order periods were asked about.
func testLedgerPeriods(t *testing.T, s store.Store) {
	setup(t, s, "g")
	day := 24 * time.Hour
	reserve(t, s, "g", t0, native(1))
	reserveTx(t, s, "g", t0.Add(time.Hour), txHash(1), native(10))
	wantCharged(t, "day 1", charged(t, s, "g", "native", t0), 1, 10)
	reserveTx(t, s, "g", t0.Add(day), txHash(2), native(100)) // day 2 starts; reserved before anyone asked
	wantCharged(t, "day 1 still", charged(t, s, "g", "native", t0), 1, 110)
	wantCharged(t, "day 2", charged(t, s, "g", "native", t0.Add(day)), 0, 100)
	reserve(t, s, "g", t0.Add(day+time.Hour), native(1000))
	// A settlement and a release of day 1 leave day 2's total alone.
	if err := s.SettleTx(ctx(t), txHash(1), big.NewInt(0)); err != nil {
		t.Fatal(err)
	}
	wantCharged(t, "day 2 after settling day 1", charged(t, s, "g", "native", t0.Add(day)), 1000, 100)
	wantCharged(t, "day 1 from the reservations", charged(t, s, "g", "native", t0), 1011, 100)
	if _, err := s.ReleaseTx(ctx(t), releaseReq(txHash(2), t0.Add(day+2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	wantCharged(t, "day 2 after the release", charged(t, s, "g", "native", t0.Add(day)), 1000, 0)
	wantCharged(t, "day 3", charged(t, s, "g", "native", t0.Add(2*day)), 0, 0)
}

func testReserveTx(t *testing.T, s store.Store) {
	setup(t, s, "g", "other")
	h := txHash(1)
	for _, tt := range []struct {
		name  string
		at    time.Time
		hash  string
		spend store.Spend
		want  error
	}{
		{"empty hash", t0, "", native(1), store.ErrInvalid},
		{"short hash", t0, h[:65], native(1), store.ErrInvalid},
		{"not hex", t0, "0x" + strings.Repeat("z", 64), native(1), store.ErrInvalid},
		{"zero time", time.Time{}, h, native(1), store.ErrInvalid},
		{"negative", t0, h, native(-1), store.ErrInvalid},
		{"bad asset", t0, h, store.Spend{Asset: "ETH", Amount: big.NewInt(1)}, store.ErrInvalid},
	} {
		err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
			return tx.ReserveTx(ctx, tt.at, tt.hash, []store.Spend{tt.spend})
		})
		wantErr(t, tt.name, err, tt.want)
	}
	err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
		return tx.Reserve(ctx, t0, []store.Spend{nativeFee(1)})
	})
	wantErr(t, "a fee without its transaction", err, store.ErrInvalid)

	// Any case of the hash is the same transaction, and one transaction
	// belongs to one grant.
	reserveTx(t, s, "g", t0, strings.ToUpper("0x"+h[2:]), native(5))
	err = s.Decide(ctx(t), "other", func(ctx context.Context, tx store.DecideTx) error {
		return tx.ReserveTx(ctx, t0, h, []store.Spend{native(1)})
	})
	wantErr(t, "another grant's transaction", err, store.ErrConflict)
	wantCharged(t, "after refusals", charged(t, s, "g", "native", t0), 0, 5)
	wantCharged(t, "other grant after refusal", charged(t, s, "other", "native", t0), 0, 0)
}

// testSettleTx: settling makes a transaction's reservations spent and
// puts the actual fee in place of the worst case, idempotently.
func testSettleTx(t *testing.T, s store.Store) {
	setup(t, s, "g")
	h1, h2 := txHash(1), txHash(2)
	reserveTx(t, s, "g", t0, h1, native(100), nativeFee(50), store.Spend{Asset: token, Amount: big.NewInt(9)})
	reserveTx(t, s, "g", t0, h2, native(1), nativeFee(20))
	reserve(t, s, "g", t0, native(1000))
	wantCharged(t, "before", charged(t, s, "g", "native", t0), 1000, 171)

	for i := range 2 { // settling again changes nothing
		if err := s.SettleTx(ctx(t), strings.ToUpper("0x"+h1[2:]), big.NewInt(30)); err != nil {
			t.Fatal(err)
		}
		wantCharged(t, fmt.Sprintf("settled %d times", i+1), charged(t, s, "g", "native", t0), 1130, 21)
		wantCharged(t, "its token", charged(t, s, "g", token, t0), 9, 0)
		wantCharged(t, "from the reservations", charged(t, s, "g", "native", t0.Add(-time.Hour)), 1130, 21)
	}
	if err := s.SettleTx(ctx(t), txHash(99), big.NewInt(5)); err != nil {
		t.Errorf("settling a transaction that reserved nothing: %v", err)
	}
	for _, tt := range []struct {
		name string
		hash string
		fee  *big.Int
	}{
		{"bad hash", "0x12", big.NewInt(1)},
		{"nil fee", h2, nil},
		{"negative fee", h2, big.NewInt(-1)},
		{"fee beyond 2^256-1", h2, new(big.Int).Lsh(big.NewInt(1), 256)},
	} {
		wantErr(t, tt.name, s.SettleTx(ctx(t), tt.hash, tt.fee), store.ErrInvalid)
	}
	wantCharged(t, "after refused settlements", charged(t, s, "g", "native", t0), 1130, 21)

	// A released transaction that lands after all is charged again.
	if _, err := s.ReleaseTx(ctx(t), releaseReq(h2, t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	wantCharged(t, "released", charged(t, s, "g", "native", t0), 1130, 0)
	if err := s.SettleTx(ctx(t), h2, big.NewInt(15)); err != nil {
		t.Fatal(err)
	}
	wantCharged(t, "landed after release", charged(t, s, "g", "native", t0), 1146, 0)
}

// testReleaseTx: releasing drops a transaction's pending reservations
// from the totals, records the release in the same transaction, and is
// idempotent; a settled transaction is not released.
func testReleaseTx(t *testing.T, s store.Store) {
	setup(t, s, "g")
	h1, h2 := txHash(1), txHash(2)
	reserveTx(t, s, "g", t0, h1, native(100), nativeFee(50), store.Spend{Asset: token, Amount: big.NewInt(9)})
	reserveTx(t, s, "g", t0, h2, native(1))
	wantCharged(t, "before", charged(t, s, "g", "native", t0), 0, 151)
	head, _ := s.AuditHead(ctx(t))

	at := t0.Add(time.Hour)
	var seen store.TxReleased
	req := releaseReq(strings.ToUpper("0x"+h1[2:]), at)
	build := req.Audit
	req.Audit = func(r store.TxReleased) audit.Record { seen = r; return build(r) }
	got, err := s.ReleaseTx(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	want := store.TxReleased{Hash: strings.ToLower(h1), GrantID: "g", Released: []store.ReleasedSpend{
		{GrantID: "g", Asset: strings.ToLower(token), Amount: big.NewInt(9), Reservations: 1},
		{GrantID: "g", Asset: "native", Amount: big.NewInt(150), Reservations: 2},
	}}
	if diff := cmp.Diff(want, got, cmpOpts, bigCmp); diff != "" {
		t.Errorf("ReleaseTx (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(got, seen, cmpOpts, bigCmp); diff != "" {
		t.Errorf("Audit saw another result (-returned +seen):\n%s", diff)
	}
	wantCharged(t, "after release", charged(t, s, "g", "native", t0), 0, 1)
	wantCharged(t, "token after release", charged(t, s, "g", token, t0), 0, 0)
	wantCharged(t, "from the reservations", charged(t, s, "g", "native", t0.Add(-time.Hour)), 0, 1)
	recs, err := s.AuditRecords(ctx(t), head.Seq, 10)
	if err != nil || len(recs) != 1 || recs[0].KeyID != "g" || recs[0].Method != "agentkeys_txReleased" {
		t.Fatalf("audit after release = %+v, %v; want one release record of g", recs, err)
	}

	// Again: nothing left to release, no record.
	again, err := s.ReleaseTx(ctx(t), releaseReq(h1, at.Add(time.Hour)))
	if err != nil || len(again.Released) != 0 {
		t.Errorf("second release = %+v, %v; want nothing released", again, err)
	}
	if h, _ := s.AuditHead(ctx(t)); h.Seq != head.Seq+1 {
		t.Errorf("second release appended to the audit log (head %d, want %d)", h.Seq, head.Seq+1)
	}
	if r, err := s.ReleaseTx(ctx(t), releaseReq(txHash(99), at)); err != nil || len(r.Released) != 0 || r.GrantID != "" {
		t.Errorf("releasing an unknown transaction = %+v, %v; want nothing", r, err)
	}

	// A transaction that landed keeps its spend.
	if err := s.SettleTx(ctx(t), h2, big.NewInt(0)); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReleaseTx(ctx(t), releaseReq(h2, at))
	wantErr(t, "release of a settled transaction", err, store.ErrConflict)
	wantCharged(t, "after refused release", charged(t, s, "g", "native", t0), 1, 0)
}

// testReleaseTxInvalid: a release with a bad argument, or whose audit
// record is invalid, changes nothing.
func testReleaseTxInvalid(t *testing.T, s store.Store) {
	setup(t, s, "g")
	h := txHash(1)
	reserveTx(t, s, "g", t0, h, native(7))
	head, _ := s.AuditHead(ctx(t))
	for _, tt := range []struct {
		name   string
		mutate func(*store.TxRelease)
	}{
		{"bad hash", func(r *store.TxRelease) { r.Hash = "0x1" }},
		{"zero time", func(r *store.TxRelease) { r.At = time.Time{} }},
		{"no audit", func(r *store.TxRelease) { r.Audit = nil }},
		{"invalid audit record", func(r *store.TxRelease) {
			r.Audit = func(store.TxReleased) audit.Record { return audit.Record{Time: t0, Decision: audit.DecisionAllow} }
		}},
	} {
		req := releaseReq(h, t0.Add(time.Hour))
		tt.mutate(&req)
		_, err := s.ReleaseTx(ctx(t), req)
		wantErr(t, tt.name, err, store.ErrInvalid)
	}
	if got, _ := s.AuditHead(ctx(t)); got.Seq != head.Seq {
		t.Errorf("audit head moved from %d to %d", head.Seq, got.Seq)
	}
	wantCharged(t, "after failed releases", charged(t, s, "g", "native", t0), 0, 7)
}
