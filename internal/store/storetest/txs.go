package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// txHash is a distinct transaction hash per n, in mixed case so that
// stores are seen to normalise it.
func txHash(n int) string {
	return "0x" + strings.Repeat("Ab", 28) + fmt.Sprintf("%08x", n)
}

func txRecord(n int, grantID string, nonce uint64, at time.Time) store.TxRecord {
	return store.TxRecord{Hash: txHash(n), ChainID: chainID, Sender: wallet, Nonce: nonce, GrantID: grantID, Kind: store.TxKindAgent,
		Send: n%2 == 0, Raw: []byte{0x02, byte(n), 0xff}, State: store.TxSigned, CreatedAt: at}
}

// recordTx records r in a decision on grantID, with an audit record.
func recordTx(t *testing.T, s store.Store, grantID string, r store.TxRecord) {
	t.Helper()
	if err := s.Decide(ctx(t), grantID, func(ctx context.Context, tx store.DecideTx) error {
		if err := tx.RecordTx(ctx, r); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, audit.Record{Time: r.CreatedAt, Method: "eth_sendTransaction", Decision: audit.DecisionAllow, TxHash: r.Hash})
		return err
	}); err != nil {
		t.Fatalf("record %s: %v", r.Hash, err)
	}
}

func getTx(t *testing.T, s store.Store, hash string) store.TxRecord {
	t.Helper()
	r, err := s.GetTx(ctx(t), hash)
	if err != nil {
		t.Fatalf("GetTx(%s): %v", hash, err)
	}
	return r
}

// stored is what a store returns for a record it was given.
func stored(r store.TxRecord) store.TxRecord {
	r.Hash, r.Sender, r.Cancels = strings.ToLower(r.Hash), strings.ToLower(r.Sender), strings.ToLower(r.Cancels)
	r.CreatedAt = msUTC(r.CreatedAt)
	r.UpdatedAt = r.CreatedAt
	return r
}

// testTxLifecycle: a transaction recorded in a decision moves signed →
// broadcast → included, keeps everything it was recorded with, and a final
// state never changes.
func testTxLifecycle(t *testing.T, s store.Store) {
	setup(t, s, "g")
	r := txRecord(1, "g", 7, t0)
	recordTx(t, s, "g", r)
	want := stored(r)
	if diff := cmp.Diff(want, getTx(t, s, "0x"+strings.ToUpper(r.Hash[2:])), cmpOpts); diff != "" {
		t.Fatalf("GetTx after RecordTx (-want +got):\n%s", diff)
	}

	b1 := t0.Add(time.Second)
	got, err := s.UpdateTx(ctx(t), r.Hash, store.TxUpdate{State: store.TxBroadcast, At: b1})
	if err != nil {
		t.Fatal(err)
	}
	want.State, want.UpdatedAt, want.BroadcastAt = store.TxBroadcast, msUTC(b1), ptr(msUTC(b1))
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Fatalf("UpdateTx broadcast (-want +got):\n%s", diff)
	}
	// A rebroadcast moves only the times.
	b2 := t0.Add(time.Minute)
	if got, err = s.UpdateTx(ctx(t), r.Hash, store.TxUpdate{State: store.TxBroadcast, At: b2}); err != nil {
		t.Fatal(err)
	}
	want.UpdatedAt, want.BroadcastAt = msUTC(b2), ptr(msUTC(b2))
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Fatalf("UpdateTx rebroadcast (-want +got):\n%s", diff)
	}
	inc := t0.Add(2 * time.Minute)
	if got, err = s.UpdateTx(ctx(t), r.Hash, store.TxUpdate{State: store.TxIncluded, At: inc, Block: 12, Status: 1}); err != nil {
		t.Fatal(err)
	}
	want.State, want.UpdatedAt, want.Block, want.Status = store.TxIncluded, msUTC(inc), 12, 1
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Fatalf("UpdateTx included (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, getTx(t, s, r.Hash), cmpOpts); diff != "" {
		t.Fatalf("GetTx after included (-want +got):\n%s", diff)
	}
	for _, u := range []store.TxUpdate{
		{State: store.TxBroadcast, At: inc},
		{State: store.TxIncluded, At: inc, Block: 13, Status: 0},
		{State: store.TxReplaced, At: inc},
		{State: store.TxCancelled, At: inc},
		{State: store.TxDropped, At: inc},
	} {
		_, err := s.UpdateTx(ctx(t), r.Hash, u)
		wantErr(t, "update of an included transaction to "+u.State, err, store.ErrConflict)
	}
	if diff := cmp.Diff(want, getTx(t, s, r.Hash), cmpOpts); diff != "" {
		t.Fatalf("a final transaction changed (-want +got):\n%s", diff)
	}

	// signed may go straight to a final state (a transaction the agent
	// broadcast itself, seen only once mined).
	r2 := txRecord(2, "g", 8, t0)
	recordTx(t, s, "g", r2)
	if got, err := s.UpdateTx(ctx(t), r2.Hash, store.TxUpdate{State: store.TxReplaced, At: inc, ReplacedBy: txHash(9)}); err != nil ||
		got.State != store.TxReplaced || got.ReplacedBy != strings.ToLower(txHash(9)) || got.BroadcastAt != nil {
		t.Fatalf("signed → replaced = %+v, %v", got, err)
	}
	_, err = s.UpdateTx(ctx(t), txHash(99), store.TxUpdate{State: store.TxBroadcast, At: inc})
	wantErr(t, "UpdateTx of an unknown hash", err, store.ErrNotFound)
	_, err = s.GetTx(ctx(t), txHash(99))
	wantErr(t, "GetTx of an unknown hash", err, store.ErrNotFound)
}

func ptr[T any](v T) *T { return &v }

// testTxInvalid: malformed records, updates and filters are refused with
// ErrInvalid, duplicates with ErrConflict, and nothing is stored.
func testTxInvalid(t *testing.T, s store.Store) {
	setup(t, s, "g", "other")
	good := txRecord(1, "g", 0, t0)
	tests := []struct {
		name   string
		mutate func(*store.TxRecord)
	}{
		{"bad hash", func(r *store.TxRecord) { r.Hash = "0x1234" }},
		{"hash without 0x", func(r *store.TxRecord) { r.Hash = strings.Repeat("a", 66) }},
		{"chain id zero", func(r *store.TxRecord) { r.ChainID = 0 }},
		{"chain id beyond int64", func(r *store.TxRecord) { r.ChainID = 1 << 63 }},
		{"bad sender", func(r *store.TxRecord) { r.Sender = "0xnope" }},
		{"nonce beyond int64", func(r *store.TxRecord) { r.Nonce = 1<<63 - 1 }},
		{"unknown kind", func(r *store.TxRecord) { r.Kind = "gift" }},
		{"cancels without kind cancel", func(r *store.TxRecord) { r.Cancels = txHash(5) }},
		{"cancel inside a decision", func(r *store.TxRecord) { r.Kind, r.Cancels = store.TxKindCancel, txHash(5) }},
		{"no raw bytes", func(r *store.TxRecord) { r.Raw = nil }},
		{"not signed", func(r *store.TxRecord) { r.State = store.TxBroadcast }},
		{"zero time", func(r *store.TxRecord) { r.CreatedAt = time.Time{} }},
		{"another grant", func(r *store.TxRecord) { r.GrantID = "other" }},
		{"agent transaction without grant", func(r *store.TxRecord) { r.GrantID = "" }},
	}
	for _, tt := range tests {
		r := good
		tt.mutate(&r)
		err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error { return tx.RecordTx(ctx, r) })
		wantErr(t, tt.name, err, store.ErrInvalid)
	}
	// An owner transaction may carry no grant.
	owned := good
	owned.Hash, owned.Kind, owned.GrantID = txHash(2), store.TxKindOwner, ""
	recordTx(t, s, "g", owned)
	recordTx(t, s, "g", good)
	dup := good
	dup.Nonce = 3
	err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error { return tx.RecordTx(ctx, dup) })
	wantErr(t, "duplicate hash", err, store.ErrConflict)
	if got := getTx(t, s, good.Hash); got.Nonce != 0 {
		t.Errorf("duplicate overwrote the record: nonce %d", got.Nonce)
	}

	for _, u := range []store.TxUpdate{
		{State: store.TxSigned, At: t0},
		{State: "mined", At: t0},
		{State: store.TxBroadcast},
		{State: store.TxIncluded, At: t0},
		{State: store.TxIncluded, At: t0, Block: 1, Status: 2},
		{State: store.TxBroadcast, At: t0, Block: 1},
		{State: store.TxBroadcast, At: t0, ReplacedBy: txHash(3)},
		{State: store.TxReplaced, At: t0, ReplacedBy: "0x12"},
		{State: store.TxIncluded, At: t0, Block: 1, CancelledBy: txHash(3)},
	} {
		_, err := s.UpdateTx(ctx(t), good.Hash, u)
		wantErr(t, fmt.Sprintf("UpdateTx(%+v)", u), err, store.ErrInvalid)
	}
	_, err = s.UpdateTx(ctx(t), "0x12", store.TxUpdate{State: store.TxBroadcast, At: t0})
	wantErr(t, "UpdateTx of a malformed hash", err, store.ErrInvalid)
	_, err = s.GetTx(ctx(t), "nope")
	wantErr(t, "GetTx of a malformed hash", err, store.ErrInvalid)
	if got := getTx(t, s, good.Hash); got.State != store.TxSigned || !got.UpdatedAt.Equal(msUTC(t0)) {
		t.Errorf("refused updates changed the record: %+v", got)
	}
	for _, f := range []store.TxFilter{
		{State: "mined"},
		{State: store.TxSigned, NonFinal: true},
		{Sender: "0x12"},
		{ChainID: 1 << 63},
		{MinNonce: 1<<63 - 1},
		{Limit: -1},
	} {
		_, err := s.ListTxs(ctx(t), f)
		wantErr(t, fmt.Sprintf("ListTxs(%+v)", f), err, store.ErrInvalid)
	}
}

// testTxRollback: a transaction recorded in a decision that fails is not
// stored, like the decision's other writes.
func testTxRollback(t *testing.T, s store.Store) {
	setup(t, s, "g")
	boom := errors.New("boom")
	r := txRecord(1, "g", 0, t0)
	err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
		if err := tx.RecordTx(ctx, r); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "failing decision", err, boom)
	_, err = s.GetTx(ctx(t), r.Hash)
	wantErr(t, "GetTx after rollback", err, store.ErrNotFound)
	var done store.DecideTx
	if err := s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error { done = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RecordTx after the decision", done.RecordTx(ctx(t), r), store.ErrTxDone)
}

// testTxCancel: a cancel is recorded with its audit record and linked to
// the transaction it cancels; a second cancel, a cancel of a final
// transaction or of another nonce is refused and stores nothing.
func testTxCancel(t *testing.T, s store.Store) {
	setup(t, s, "g")
	orig := txRecord(1, "g", 4, t0)
	recordTx(t, s, "g", orig)
	at := t0.Add(3 * time.Minute)
	cancel := store.TxRecord{Hash: txHash(2), ChainID: chainID, Sender: strings.ToLower(wallet), Nonce: 4, GrantID: "g", Kind: store.TxKindCancel,
		Send: true, Cancels: "0x" + strings.ToUpper(orig.Hash[2:]), Raw: []byte{2, 1}, State: store.TxSigned, CreatedAt: at}
	rec := audit.Record{Time: at, Method: "agentkeys_txCancelled", Decision: audit.DecisionAllow, TxHash: cancel.Hash}

	headBefore, _ := s.AuditHead(ctx(t))
	for _, tt := range []struct {
		name   string
		mutate func(*store.TxRecord, *audit.Record)
		want   error
	}{
		{"other nonce", func(r *store.TxRecord, _ *audit.Record) { r.Nonce = 5 }, store.ErrInvalid},
		{"other sender", func(r *store.TxRecord, _ *audit.Record) { r.Sender = owner }, store.ErrInvalid},
		{"unknown original", func(r *store.TxRecord, _ *audit.Record) { r.Cancels = txHash(77) }, store.ErrNotFound},
		{"invalid audit record", func(_ *store.TxRecord, a *audit.Record) { a.Method = "" }, store.ErrInvalid},
		{"invalid record", func(r *store.TxRecord, _ *audit.Record) { r.Raw = nil }, store.ErrInvalid},
	} {
		r, a := cancel, rec
		tt.mutate(&r, &a)
		_, err := s.RecordTx(ctx(t), r, a)
		wantErr(t, tt.name, err, tt.want)
	}
	if h, _ := s.AuditHead(ctx(t)); h.Seq != headBefore.Seq {
		t.Fatalf("refused cancels moved the audit head from %d to %d", headBefore.Seq, h.Seq)
	}
	if _, err := s.GetTx(ctx(t), cancel.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused cancel was stored: %v", err)
	}

	out, err := s.RecordTx(ctx(t), cancel, rec)
	if err != nil {
		t.Fatal(err)
	}
	if out.Seq != headBefore.Seq+1 || out.TxHash != cancel.Hash || out.Method != "agentkeys_txCancelled" {
		t.Fatalf("RecordTx audit record = %+v", out)
	}
	if diff := cmp.Diff(stored(cancel), getTx(t, s, cancel.Hash), cmpOpts); diff != "" {
		t.Fatalf("stored cancel (-want +got):\n%s", diff)
	}
	o := getTx(t, s, orig.Hash)
	if o.State != store.TxSigned || o.CancelledBy != strings.ToLower(cancel.Hash) {
		t.Fatalf("original after the cancel = %+v; want signed, cancelled_by %s", o, cancel.Hash)
	}
	second := cancel
	second.Hash = txHash(3)
	_, err = s.RecordTx(ctx(t), second, rec)
	wantErr(t, "second cancel", err, store.ErrConflict)
	_, err = s.RecordTx(ctx(t), cancel, rec)
	wantErr(t, "same cancel again", err, store.ErrConflict)

	// Only the recorded cancel can be the one that cancelled it.
	_, err = s.UpdateTx(ctx(t), orig.Hash, store.TxUpdate{State: store.TxCancelled, At: at, CancelledBy: txHash(3)})
	wantErr(t, "cancelled by another transaction", err, store.ErrInvalid)
	got, err := s.UpdateTx(ctx(t), orig.Hash, store.TxUpdate{State: store.TxCancelled, At: at})
	if err != nil || got.State != store.TxCancelled || got.CancelledBy != strings.ToLower(cancel.Hash) {
		t.Fatalf("UpdateTx cancelled = %+v, %v", got, err)
	}
	third := cancel
	third.Hash = txHash(4)
	_, err = s.RecordTx(ctx(t), third, rec)
	wantErr(t, "cancel of a final transaction", err, store.ErrConflict)
}

// testListTxs: filters combine, results come oldest first and Limit keeps
// the oldest.
func testListTxs(t *testing.T, s store.Store) {
	setup(t, s, "a", "b")
	recs := []store.TxRecord{
		txRecord(1, "a", 0, t0),
		txRecord(2, "b", 1, t0),
		txRecord(3, "a", 2, t0.Add(time.Second)),
		txRecord(4, "a", 0, t0.Add(2*time.Second)),
	}
	recs[3].Sender, recs[3].ChainID = owner, 1
	for _, r := range recs {
		recordTx(t, s, r.GrantID, r)
	}
	if _, err := s.UpdateTx(ctx(t), recs[0].Hash, store.TxUpdate{State: store.TxIncluded, At: t0.Add(time.Minute), Block: 3, Status: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateTx(ctx(t), recs[1].Hash, store.TxUpdate{State: store.TxBroadcast, At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	hashes := func(idx ...int) []string {
		out := []string{}
		for _, i := range idx {
			out = append(out, strings.ToLower(recs[i].Hash))
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    store.TxFilter
		want []string
	}{
		{"all, oldest first", store.TxFilter{}, hashes(0, 1, 2, 3)},
		{"grant", store.TxFilter{GrantID: "a"}, hashes(0, 2, 3)},
		{"state", store.TxFilter{State: store.TxSigned}, hashes(2, 3)},
		{"non-final", store.TxFilter{NonFinal: true}, hashes(1, 2, 3)},
		{"sender in any case", store.TxFilter{Sender: "0x" + strings.ToUpper(wallet[2:])}, hashes(0, 1, 2)},
		{"chain", store.TxFilter{ChainID: 1}, hashes(3)},
		{"min nonce", store.TxFilter{MinNonce: 1}, hashes(1, 2)},
		{"combined", store.TxFilter{GrantID: "a", NonFinal: true, ChainID: chainID}, hashes(2)},
		{"limit keeps the oldest", store.TxFilter{NonFinal: true, Limit: 2}, hashes(1, 2)},
		{"none", store.TxFilter{GrantID: "nobody"}, []string{}},
	} {
		got, err := s.ListTxs(ctx(t), tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		gotHashes := []string{}
		for _, r := range got {
			gotHashes = append(gotHashes, r.Hash)
		}
		if diff := cmp.Diff(tt.want, gotHashes); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	// CountTxs counts one chain's transactions by state.
	counts, err := s.CountTxs(ctx(t), chainID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{store.TxIncluded: 1, store.TxBroadcast: 1, store.TxSigned: 1}, counts); diff != "" {
		t.Errorf("CountTxs (-want +got):\n%s", diff)
	}
	if counts, err := s.CountTxs(ctx(t), 424242); err != nil || len(counts) != 0 {
		t.Errorf("CountTxs of a chain with none = %v, %v; want empty", counts, err)
	}
	if _, err := s.CountTxs(ctx(t), 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("CountTxs(0): %v, want ErrInvalid", err)
	}
}

// testResetChainDropsTxs: a chain reset marks the chain's transactions not
// yet final dropped, reports them, and leaves final ones and other
// chains' alone.
func testResetChainDropsTxs(t *testing.T, s store.Store) {
	setup(t, s, "g")
	recs := []store.TxRecord{txRecord(1, "g", 0, t0), txRecord(2, "g", 1, t0), txRecord(3, "g", 2, t0), txRecord(4, "g", 0, t0)}
	recs[3].ChainID = 1
	for _, r := range recs {
		recordTx(t, s, "g", r)
	}
	if _, err := s.UpdateTx(ctx(t), recs[0].Hash, store.TxUpdate{State: store.TxIncluded, At: t0, Block: 1, Status: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateTx(ctx(t), recs[1].Hash, store.TxUpdate{State: store.TxBroadcast, At: t0}); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	res, err := s.ResetChain(ctx(t), store.ChainResetRequest{ChainID: chainID, At: at, RevokeReason: "gone",
		Audit: func(r store.ChainReset) audit.Record {
			return audit.Record{Time: at, Method: "agentkeys_chainReset", Decision: audit.DecisionAllow, Reasons: []string{fmt.Sprintf("%d dropped", len(r.Dropped))}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{strings.ToLower(recs[1].Hash), strings.ToLower(recs[2].Hash)}, res.Dropped); diff != "" {
		t.Errorf("Dropped (-want +got):\n%s", diff)
	}
	for i, want := range []string{store.TxIncluded, store.TxDropped, store.TxDropped, store.TxSigned} {
		got := getTx(t, s, recs[i].Hash)
		if got.State != want {
			t.Errorf("transaction %d after reset: %s, want %s", i, got.State, want)
		}
		if want == store.TxDropped && !got.UpdatedAt.Equal(msUTC(at)) {
			t.Errorf("transaction %d dropped at %v, want %v", i, got.UpdatedAt, msUTC(at))
		}
	}
}

// testNonces: the counters of one chain, by address.
func testNonces(t *testing.T, s store.Store) {
	setup(t, s, "g")
	for _, c := range []struct {
		chain uint64
		addr  string
		floor uint64
	}{{chainID, wallet, 5}, {chainID, owner, 0}, {1, wallet, 9}} {
		if _, err := nextNonce(t, s, "g", c.chain, c.addr, c.floor); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Nonces(ctx(t), chainID)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.NonceCounter{{Address: owner, Next: 1}, {Address: strings.ToLower(wallet), Next: 6}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Nonces (-want +got):\n%s", diff)
	}
	if got, err := s.Nonces(ctx(t), 5); err != nil || len(got) != 0 {
		t.Errorf("Nonces of a chain without counters = %v, %v", got, err)
	}
	_, err = s.Nonces(ctx(t), 0)
	wantErr(t, "Nonces(0)", err, store.ErrInvalid)
}
