package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// manyGrants stores 23 grants, three to a creation time (so pages split
// ties, ordered by id), whose ids do not follow their creation: to alice
// and bob in turn, some revoked, some suspended, some pending (for an
// approval or a signature, one also suspended), some expiring early. It
// returns them in ListGrants' order.
func manyGrants(t *testing.T, s store.Store) []store.Grant {
	t.Helper()
	mustPutKey(t, s, "key-1")
	var gs []store.Grant
	for i := range 23 {
		g := grant(fmt.Sprintf("g%02d", (i*7)%23), "key-1")
		g.Agent = []string{"alice", "bob"}[i%2]
		g.CreatedAt = t0.Add(time.Duration(i/3) * time.Minute)
		g.ExpiresAt = g.CreatedAt.Add(time.Hour)
		if i%4 == 0 {
			g.ExpiresAt = g.CreatedAt.Add(10 * time.Minute)
		}
		if i%5 == 1 {
			at := g.CreatedAt.Add(time.Minute)
			g.RevokedAt = &at
		}
		if i%3 == 2 {
			at := g.CreatedAt.Add(2 * time.Minute)
			g.SuspendedAt, g.SuspendReason = &at, "test"
		}
		switch i % 7 {
		case 3:
			g.Pending = store.PendingApproval
		case 5:
			g.Pending = store.PendingSignature
		}
		if err := s.CreateGrant(ctx(t), g); err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
	}
	all, err := s.ListGrants(ctx(t), store.GrantFilter{})
	if err != nil || len(all) != len(gs) {
		t.Fatalf("ListGrants = %d grants, %v; want %d", len(all), err, len(gs))
	}
	return all
}

func grantIDs(gs []store.Grant) []string {
	ids := []string{}
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	return ids
}

// testListGrantsPages: paging with a limit and the last grant's cursor
// lists every grant once, in order, whatever the page size, the order
// and the filter.
func testListGrantsPages(t *testing.T, s store.Store) {
	all := manyGrants(t, s)
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.CreatedAt.After(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && a.ID >= b.ID {
			t.Fatalf("ListGrants order: %s (%v) before %s (%v)", a.ID, a.CreatedAt, b.ID, b.CreatedAt)
		}
	}
	filters := []struct {
		name string
		f    store.GrantFilter
	}{
		{"all", store.GrantFilter{}},
		{"agent", store.GrantFilter{Agent: "bob"}},
		{"active at", store.GrantFilter{ActiveAt: t0.Add(9 * time.Minute)}},
		{"status suspended", store.GrantFilter{Status: store.StatusSuspended, StatusAt: t0.Add(5 * time.Minute)}},
		{"status pending approval", store.GrantFilter{Status: store.StatusPendingApproval, StatusAt: t0.Add(5 * time.Minute)}},
	}
	for _, ft := range filters {
		whole, err := s.ListGrants(ctx(t), ft.f)
		if err != nil {
			t.Fatal(err)
		}
		for _, newest := range []bool{false, true} {
			want := grantIDs(whole)
			if newest {
				slices.Reverse(want)
			}
			for _, limit := range []int{1, 2, 3, 5, 22, 23, 100} {
				t.Run(fmt.Sprintf("%s/newest=%v/limit=%d", ft.name, newest, limit), func(t *testing.T) {
					f := ft.f
					f.Newest, f.Limit = newest, limit
					var got []string
					for pages := 0; ; pages++ {
						if pages > len(all)+1 {
							t.Fatalf("paging does not end: %v", got)
						}
						page, err := s.ListGrants(ctx(t), f)
						if err != nil {
							t.Fatal(err)
						}
						if len(page) > limit {
							t.Fatalf("page of %d grants, limit %d", len(page), limit)
						}
						got = append(got, grantIDs(page)...)
						if len(page) < limit {
							break
						}
						c := page[len(page)-1].Cursor()
						f.After = &c
					}
					if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
						t.Errorf("paged ids (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
	// A cursor need not name a stored grant: it is a position.
	at := t0.Add(2 * time.Minute)
	var after, before []string
	for _, g := range all {
		if g.CreatedAt.After(at) || g.CreatedAt.Equal(msUTC(at)) && g.ID > "g10" {
			after = append(after, g.ID)
		}
		if g.CreatedAt.Before(msUTC(at)) || g.CreatedAt.Equal(msUTC(at)) && g.ID < "g10" {
			before = append(before, g.ID)
		}
	}
	slices.Reverse(before)
	for _, tt := range []struct {
		name   string
		newest bool
		want   []string
	}{{"oldest first", false, after}, {"newest first", true, before}} {
		t.Run("cursor not stored/"+tt.name, func(t *testing.T) {
			page, err := s.ListGrants(ctx(t), store.GrantFilter{Newest: tt.newest, After: &store.GrantCursor{CreatedAt: at, ID: "g10"}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, grantIDs(page), cmpOpts); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

// testListGrantsStatus: the store selects by status exactly as
// Grant.Status computes it, at every moment of the grants' lives.
func testListGrantsStatus(t *testing.T, s store.Store) {
	all := manyGrants(t, s)
	seen := map[string]bool{}
	// t0+10m and t0+12m are the expiries of an active grant and of a
	// suspended one: at its expiry a grant is expired.
	for _, at := range []time.Time{t0, t0.Add(3 * time.Minute), t0.Add(9 * time.Minute), t0.Add(10 * time.Minute), t0.Add(12 * time.Minute),
		t0.Add(15 * time.Minute), t0.Add(2 * time.Hour)} {
		for _, status := range allStatuses {
			want := []string{}
			for _, g := range all {
				if g.Status(at) == status {
					want = append(want, g.ID)
				}
			}
			seen[status] = seen[status] || len(want) > 0
			got, err := s.ListGrants(ctx(t), store.GrantFilter{Status: status, StatusAt: at})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, grantIDs(got), cmpOpts); diff != "" {
				t.Errorf("status %s at %v (-want +got):\n%s", status, at.Sub(t0), diff)
			}
		}
	}
	for _, status := range allStatuses {
		if !seen[status] {
			t.Fatalf("the fixture does not cover status %s: %v", status, seen)
		}
	}
}

var allStatuses = []string{store.StatusActive, store.StatusSuspended, store.StatusExpired, store.StatusRevoked,
	store.StatusPendingApproval, store.StatusPendingSignature}

// testActivateGrant: a pending grant acts once activated for what it
// waits for, with its meta merged and the audit record appended in the
// same transaction; activating for the wrong reason, twice, or a revoked
// grant changes nothing.
func testActivateGrant(t *testing.T, s store.Store) {
	mustPutKey(t, s, "key-1")
	g := grant("p", "key-1")
	g.Pending, g.Meta, g.Seal = store.PendingSignature, map[string]string{"keep": "1", "drop": "x"}, []byte("s1")
	if err := s.CreateGrant(ctx(t), g); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetGrant(ctx(t), "p"); got.Pending != store.PendingSignature || got.Status(t0) != store.StatusPendingSignature || string(got.Seal) != "s1" {
		t.Fatalf("stored pending %q status %s seal %q; want signature, pending_signature, s1", got.Pending, got.Status(t0), got.Seal)
	}
	rec := func(m string) audit.Record {
		return audit.Record{Time: t0, KeyID: "p", Method: m, Decision: audit.DecisionAllow, Reasons: []string{}}
	}
	if done, err := s.ActivateGrant(ctx(t), "p", store.Activation{Pending: store.PendingApproval, Seal: []byte("s2"), Audit: rec("wrong")}); err != nil || done {
		t.Fatalf("activate for approval = %v, %v; want false: it waits for a signature", done, err)
	}
	done, err := s.ActivateGrant(ctx(t), "p", store.Activation{Pending: store.PendingSignature, Seal: []byte("s2"),
		Meta: map[string]string{"drop": "", "tx": "0xab"}, Audit: rec("activated")})
	if err != nil || !done {
		t.Fatalf("activate = %v, %v; want true", done, err)
	}
	got, err := s.GetGrant(ctx(t), "p")
	if err != nil {
		t.Fatal(err)
	}
	if got.Pending != "" || got.Status(t0) != store.StatusActive || string(got.Seal) != "s2" {
		t.Errorf("after activation pending %q status %s seal %q; want active with seal s2", got.Pending, got.Status(t0), got.Seal)
	}
	if diff := cmp.Diff(map[string]string{"keep": "1", "tx": "0xab"}, got.Meta); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	if done, err := s.ActivateGrant(ctx(t), "p", store.Activation{Pending: store.PendingSignature, Seal: []byte("s3"), Audit: rec("again")}); err != nil || done {
		t.Fatalf("second activation = %v, %v; want false", done, err)
	}
	var methods []string
	recs, err := s.AuditRecords(ctx(t), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		methods = append(methods, r.Method)
	}
	if diff := cmp.Diff([]string{"activated"}, methods); diff != "" {
		t.Errorf("audit methods (-want +got):\n%s", diff)
	}

	r := grant("r", "key-1")
	r.Pending = store.PendingApproval
	if err := s.CreateGrant(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeGrant(ctx(t), "r", t0); err != nil {
		t.Fatal(err)
	}
	if done, err := s.ActivateGrant(ctx(t), "r", store.Activation{Pending: store.PendingApproval, Seal: []byte("s2"), Audit: rec("revoked")}); err != nil || done {
		t.Fatalf("activating a revoked grant = %v, %v; want false", done, err)
	}
	_, err = s.ActivateGrant(ctx(t), "missing", store.Activation{Pending: store.PendingApproval, Seal: []byte("s"), Audit: rec("x")})
	wantErr(t, "ActivateGrant of a missing grant", err, store.ErrNotFound)
	_, err = s.ActivateGrant(ctx(t), "p", store.Activation{Pending: "later", Seal: []byte("s"), Audit: rec("x")})
	wantErr(t, "ActivateGrant for an unknown reason", err, store.ErrInvalid)
	_, err = s.ActivateGrant(ctx(t), "p", store.Activation{Pending: store.PendingApproval, Audit: rec("x")})
	wantErr(t, "ActivateGrant without a seal", err, store.ErrInvalid)
	bad := g
	bad.ID, bad.Pending = "bad", "later"
	wantErr(t, "CreateGrant with an unknown pending", s.CreateGrant(ctx(t), bad), store.ErrInvalid)
}

func testListGrantsInvalid(t *testing.T, s store.Store) {
	tests := []struct {
		name string
		f    store.GrantFilter
	}{
		{"unknown status", store.GrantFilter{Status: "live", StatusAt: t0}},
		{"status without time", store.GrantFilter{Status: store.StatusActive}},
		{"negative limit", store.GrantFilter{Limit: -1}},
		{"cursor without time", store.GrantFilter{After: &store.GrantCursor{ID: "g"}}},
		{"cursor without id", store.GrantFilter{After: &store.GrantCursor{CreatedAt: t0}}},
		{"cursor id too long", store.GrantFilter{After: &store.GrantCursor{CreatedAt: t0, ID: string(make([]byte, store.MaxGrantCursorID+1))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.ListGrants(ctx(t), tt.f)
			wantErr(t, "ListGrants", err, store.ErrInvalid)
		})
	}
}

func bulkOf(t *testing.T, s store.Store) store.Bulk {
	t.Helper()
	b, ok := s.(store.Bulk)
	if !ok {
		t.Fatalf("%T does not implement store.Bulk", s)
	}
	return b
}

func testBulkGrants(t *testing.T, s store.Store) {
	b := bulkOf(t, s)
	mustPutKey(t, s, "key-1")
	var gs []store.Grant
	for i := range 50 {
		g := grant(fmt.Sprintf("bulk-%02d", i), "key-1")
		g.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		gs = append(gs, g)
	}
	if err := b.CreateGrants(ctx(t), gs); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListGrants(ctx(t), store.GrantFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]store.Grant, len(gs))
	for i, g := range gs {
		want[i] = normGrant(g)
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("stored grants (-want +got):\n%s", diff)
	}

	// All or nothing.
	fresh := grant("bulk-new", "key-1")
	noKey := grant("bulk-nokey", "key-none")
	bad := grant("bulk-bad", "key-1")
	bad.Address = "nope"
	for _, tt := range []struct {
		name  string
		batch []store.Grant
		want  error
	}{
		{"existing id", []store.Grant{fresh, gs[3]}, store.ErrConflict},
		{"id twice", []store.Grant{fresh, fresh}, store.ErrConflict},
		{"invalid grant", []store.Grant{fresh, bad}, store.ErrInvalid},
		{"unknown signer key", []store.Grant{fresh, noKey}, store.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, "CreateGrants", b.CreateGrants(ctx(t), tt.batch), tt.want)
			if _, err := s.GetGrant(ctx(t), fresh.ID); err == nil {
				t.Errorf("%s was stored from a batch that failed", fresh.ID)
			}
		})
	}
}

// normGrant is g as a store returns it.
func normGrant(g store.Grant) store.Grant {
	g = g.Clone()
	g.CreatedAt, g.ExpiresAt = msUTC(g.CreatedAt), msUTC(g.ExpiresAt)
	return g
}

// testBulkAudit: records appended in bulk continue the chain after
// records appended one by one, verify, and later appends chain after
// them; an invalid record appends nothing.
func testBulkAudit(t *testing.T, s store.Store) {
	b := bulkOf(t, s)
	if _, err := s.AppendAudit(ctx(t), record("g", t0, audit.DecisionAllow)); err != nil {
		t.Fatal(err)
	}
	var batch []audit.Record
	for i := range 300 {
		r := record(fmt.Sprintf("k%d", i%7), t0.Add(time.Duration(i)*time.Millisecond), audit.DecisionAllow)
		r.Seq, r.Hash = 999, []byte("ignored")
		batch = append(batch, r)
	}
	head, err := b.AppendAudits(ctx(t), batch)
	if err != nil {
		t.Fatal(err)
	}
	if head.Seq != 301 {
		t.Fatalf("head after bulk = %d, want 301", head.Seq)
	}
	if stored, err := s.AuditHead(ctx(t)); err != nil || stored.Seq != head.Seq || !cmp.Equal(stored.Hash, head.Hash) {
		t.Fatalf("AuditHead = %v, %v; want %v", stored, err, head)
	}
	if _, err := s.AppendAudit(ctx(t), record("g", t0.Add(time.Second), audit.DecisionDeny)); err != nil {
		t.Fatal(err)
	}
	if empty, err := b.AppendAudits(ctx(t), nil); err != nil || empty.Seq != 302 {
		t.Fatalf("AppendAudits(none) = %v, %v; want the head at 302", empty, err)
	}
	bad := append([]audit.Record{record("g", t0, audit.DecisionAllow)}, audit.Record{Time: t0, Method: "m", Decision: "maybe"})
	_, err = b.AppendAudits(ctx(t), bad)
	wantErr(t, "AppendAudits", err, store.ErrInvalid)

	rep, head, err := store.VerifyAudit(ctx(t), s, 64)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != 302 || head.Seq != 302 {
		t.Fatalf("VerifyAudit = %v (head %d), want 302 records that verify", rep, head.Seq)
	}
	recs, err := s.AuditRecords(ctx(t), 1, 2)
	if err != nil || len(recs) != 2 || recs[0].KeyID != "k0" || recs[1].KeyID != "k1" || !recs[0].Time.Equal(msUTC(t0)) {
		t.Fatalf("records after the first = %+v, %v", recs, err)
	}
}

// testSealGrants: grants stored without a seal take one; a sealed grant
// keeps its own.
func testSealGrants(t *testing.T, s store.Store) {
	mustPutKey(t, s, "key-1")
	sealed := grant("sealed", "key-1")
	sealed.Seal = []byte("mine")
	for _, g := range []store.Grant{grant("a", "key-1"), grant("b", "key-1"), sealed} {
		if err := s.CreateGrant(ctx(t), g); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.SealGrants(ctx(t), map[string][]byte{"a": []byte("sa"), "b": []byte("sb"), "sealed": []byte("other")})
	if err != nil || n != 2 {
		t.Fatalf("SealGrants = %d, %v; want 2", n, err)
	}
	for id, want := range map[string]string{"a": "sa", "b": "sb", "sealed": "mine"} {
		if g, err := s.GetGrant(ctx(t), id); err != nil || string(g.Seal) != want {
			t.Errorf("grant %s seal %q, %v; want %q", id, g.Seal, err, want)
		}
	}
	_, err = s.SealGrants(ctx(t), map[string][]byte{"missing": []byte("x")})
	wantErr(t, "SealGrants of a missing grant", err, store.ErrNotFound)
	_, err = s.SealGrants(ctx(t), map[string][]byte{"a": nil})
	wantErr(t, "SealGrants with an empty seal", err, store.ErrInvalid)
}
