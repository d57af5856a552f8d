package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

func pkRecord(method string) audit.Record {
	return audit.Record{Time: t0, Method: method, Call: json.RawMessage(`{}`), Decision: audit.DecisionAllow, Reasons: []string{}}
}

func auditMethods(t *testing.T, s store.Store) []string {
	t.Helper()
	recs, err := s.AuditRecords(ctx(t), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Method)
	}
	return out
}

func passkey(id string, cred byte) store.Passkey {
	return store.Passkey{ID: id, Name: "laptop " + id, CredentialID: []byte{cred, 1, 2, 3}, PublicKey: []byte{0xa5, cred},
		Credential: json.RawMessage(`{"id":"x"}`), CreatedAt: t0}
}

// testPasskeys: a passkey is stored with its registration record, whose
// seq it keeps; ids and credential ids are unique; removal appends its
// record; invalid passkeys store nothing.
func testPasskeys(t *testing.T, s store.Store) {
	got, err := s.ListPasskeys(ctx(t))
	if err != nil || len(got) != 0 {
		t.Fatalf("ListPasskeys of an empty store = %v, %v", got, err)
	}
	a, err := s.AddPasskey(ctx(t), passkey("pk_a", 1), pkRecord("register a"))
	if err != nil {
		t.Fatal(err)
	}
	if a.AuditSeq != 1 {
		t.Errorf("first passkey's AuditSeq = %d, want 1", a.AuditSeq)
	}
	b := passkey("pk_b", 2)
	b.CreatedAt = t0.Add(time.Second)
	if _, err := s.AddPasskey(ctx(t), b, pkRecord("register b")); err != nil {
		t.Fatal(err)
	}
	_, err = s.AddPasskey(ctx(t), passkey("pk_a", 3), pkRecord("dup id"))
	wantErr(t, "AddPasskey with a stored id", err, store.ErrConflict)
	_, err = s.AddPasskey(ctx(t), passkey("pk_c", 1), pkRecord("dup credential"))
	wantErr(t, "AddPasskey with a stored credential id", err, store.ErrConflict)
	bad := passkey("pk_d", 4)
	bad.PublicKey = nil
	_, err = s.AddPasskey(ctx(t), bad, pkRecord("bad"))
	wantErr(t, "AddPasskey without a public key", err, store.ErrInvalid)
	_, err = s.AddPasskey(ctx(t), passkey("pk_e", 5), audit.Record{})
	wantErr(t, "AddPasskey with an invalid record", err, store.ErrInvalid)

	got, err = s.ListPasskeys(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Passkey{passkey("pk_a", 1), b}
	want[0].CreatedAt, want[1].CreatedAt = msUTC(t0), msUTC(b.CreatedAt)
	want[0].AuditSeq, want[1].AuditSeq = 1, 2
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("passkeys (-want +got):\n%s", diff)
	}
	if err := s.RemovePasskey(ctx(t), "pk_a", pkRecord("remove a")); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RemovePasskey of a removed passkey", s.RemovePasskey(ctx(t), "pk_a", pkRecord("again")), store.ErrNotFound)
	if got, _ := s.ListPasskeys(ctx(t)); len(got) != 1 || got[0].ID != "pk_b" {
		t.Errorf("after removal: %+v, want only pk_b", got)
	}
	if diff := cmp.Diff([]string{"register a", "register b", "remove a"}, auditMethods(t, s)); diff != "" {
		t.Errorf("audit methods (-want +got):\n%s", diff)
	}
}

// testEnrollments: a one-time link is usable once, before its expiry,
// and only by its hash; of many concurrent uses exactly one succeeds.
func testEnrollments(t *testing.T, s store.Store) {
	h := sha256.Sum256([]byte("secret"))
	e := store.Enrollment{TokenHash: h[:], CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	if err := s.PutEnrollment(ctx(t), e); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "PutEnrollment twice", s.PutEnrollment(ctx(t), e), store.ErrConflict)
	wantErr(t, "PutEnrollment of a short hash", s.PutEnrollment(ctx(t), store.Enrollment{TokenHash: []byte{1}, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}), store.ErrInvalid)
	got, err := s.CheckEnrollment(ctx(t), h[:], t0.Add(time.Minute))
	if err != nil || !bytes.Equal(got.TokenHash, h[:]) || !got.ExpiresAt.Equal(msUTC(e.ExpiresAt)) {
		t.Fatalf("CheckEnrollment = %+v, %v", got, err)
	}
	if got.Ceremony != nil {
		t.Errorf("a link not begun has ceremony %q", got.Ceremony)
	}
	// The ceremony begun with the link is there for any process to finish;
	// beginning again replaces it.
	for _, c := range []string{`{"challenge":"one"}`, `{"challenge":"two"}`} {
		if err := s.BeginEnrollment(ctx(t), h[:], []byte(c), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.CheckEnrollment(ctx(t), h[:], t0.Add(2*time.Minute)); err != nil || string(got.Ceremony) != c {
			t.Fatalf("CheckEnrollment after BeginEnrollment = %q, %v; want %s", got.Ceremony, err, c)
		}
	}
	wantErr(t, "BeginEnrollment without a ceremony", s.BeginEnrollment(ctx(t), h[:], nil, t0), store.ErrInvalid)
	wantErr(t, "BeginEnrollment at its expiry", s.BeginEnrollment(ctx(t), h[:], []byte("x"), t0.Add(10*time.Minute)), store.ErrNotFound)
	_, err = s.CheckEnrollment(ctx(t), h[:], t0.Add(10*time.Minute))
	wantErr(t, "CheckEnrollment at its expiry", err, store.ErrNotFound)
	other := sha256.Sum256([]byte("other"))
	_, err = s.CheckEnrollment(ctx(t), other[:], t0)
	wantErr(t, "CheckEnrollment of an unknown hash", err, store.ErrNotFound)
	wantErr(t, "UseEnrollment at its expiry", s.UseEnrollment(ctx(t), h[:], t0.Add(10*time.Minute)), store.ErrNotFound)

	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Go(func() {
			if err := s.UseEnrollment(ctx(t), h[:], t0.Add(time.Minute)); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d concurrent uses of one enrollment succeeded, want 1", ok)
	}
	_, err = s.CheckEnrollment(ctx(t), h[:], t0.Add(time.Minute))
	wantErr(t, "CheckEnrollment after use", err, store.ErrNotFound)
	wantErr(t, "BeginEnrollment after use", s.BeginEnrollment(ctx(t), h[:], []byte("x"), t0.Add(time.Minute)), store.ErrNotFound)
}

func change(id string, at time.Time) store.Change {
	return store.Change{ID: id, Kind: "grant", KeyID: "key-" + id, Body: json.RawMessage(`{"b":1,"a":[2]}`),
		Nonce: bytes.Repeat([]byte{7}, 32), State: store.ChangePending, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
}

// testChanges: a change is stored as given (its body byte for byte) with
// its record; it settles once, with its record, however many try; lists
// are newest first and filter by state.
func testChanges(t *testing.T, s store.Store) {
	c1, c2 := change("c1", t0), change("c2", t0.Add(time.Second))
	c2.Body = json.RawMessage(`{"z": 1,   "a": "spaces kept"}`)
	for _, c := range []store.Change{c1, c2} {
		if err := s.CreateChange(ctx(t), c, pkRecord("create "+c.ID)); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, "CreateChange twice", s.CreateChange(ctx(t), c1, pkRecord("dup")), store.ErrConflict)
	bad := change("c3", t0)
	bad.State = store.ChangeApproved
	wantErr(t, "CreateChange of a settled change", s.CreateChange(ctx(t), bad, pkRecord("bad")), store.ErrInvalid)
	bad = change("c4", t0)
	bad.Nonce = []byte{1}
	wantErr(t, "CreateChange with a short nonce", s.CreateChange(ctx(t), bad, pkRecord("bad")), store.ErrInvalid)

	got, err := s.GetChange(ctx(t), "c2")
	if err != nil {
		t.Fatal(err)
	}
	want := c2
	want.CreatedAt, want.ExpiresAt = msUTC(c2.CreatedAt), msUTC(c2.ExpiresAt)
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("stored change (-want +got):\n%s", diff)
	}
	_, err = s.GetChange(ctx(t), "missing")
	wantErr(t, "GetChange of a missing change", err, store.ErrNotFound)

	rec := pkRecord("approve c1")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 6 {
		wg.Go(func() {
			done, err := s.SettleChange(ctx(t), "c1", store.ChangeSettlement{To: store.ChangeApproved, At: t0.Add(time.Minute), Audit: &rec})
			if err != nil {
				t.Error(err)
			}
			if done {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d settlements of one change succeeded, want 1", wins)
	}
	if done, err := s.SettleChange(ctx(t), "c1", store.ChangeSettlement{To: store.ChangeRejected, At: t0.Add(time.Minute)}); err != nil || done {
		t.Errorf("rejecting an approved change = %v, %v; want false", done, err)
	}
	_, err = s.SettleChange(ctx(t), "c2", store.ChangeSettlement{To: store.ChangePending, At: t0})
	wantErr(t, "SettleChange to pending", err, store.ErrInvalid)
	_, err = s.SettleChange(ctx(t), "missing", store.ChangeSettlement{To: store.ChangeRejected, At: t0})
	wantErr(t, "SettleChange of a missing change", err, store.ErrNotFound)
	if done, err := s.SettleChange(ctx(t), "c2", store.ChangeSettlement{To: store.ChangeRejected, At: t0.Add(2 * time.Minute), Detail: "not mine"}); err != nil || !done {
		t.Fatalf("reject c2 = %v, %v", done, err)
	}
	got, err = s.GetChange(ctx(t), "c2")
	if err != nil || got.State != store.ChangeRejected || got.Detail != "not mine" || got.DecidedAt == nil || !got.DecidedAt.Equal(msUTC(t0.Add(2*time.Minute))) {
		t.Errorf("rejected c2 = %+v, %v", got, err)
	}

	all, err := s.ListChanges(ctx(t), store.ChangeFilter{})
	if err != nil || len(all) != 2 || all[0].ID != "c2" || all[1].ID != "c1" {
		t.Fatalf("ListChanges = %+v, %v; want c2, c1", all, err)
	}
	approved, err := s.ListChanges(ctx(t), store.ChangeFilter{State: store.ChangeApproved})
	if err != nil || len(approved) != 1 || approved[0].ID != "c1" {
		t.Errorf("approved changes = %+v, %v; want c1", approved, err)
	}
	if one, err := s.ListChanges(ctx(t), store.ChangeFilter{Limit: 1}); err != nil || len(one) != 1 || one[0].ID != "c2" {
		t.Errorf("ListChanges limit 1 = %+v, %v; want c2", one, err)
	}
	_, err = s.ListChanges(ctx(t), store.ChangeFilter{State: "bogus"})
	wantErr(t, "ListChanges of an unknown state", err, store.ErrInvalid)
	if diff := cmp.Diff([]string{"create c1", "create c2", "approve c1"}, auditMethods(t, s)); diff != "" {
		t.Errorf("audit methods (-want +got):\n%s", diff)
	}
}
