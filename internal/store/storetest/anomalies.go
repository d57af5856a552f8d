package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

func ownerRecord(method string, at time.Time) audit.Record {
	return audit.Record{Time: at, Method: method, Call: []byte(`{"key_id":"g"}`), Decision: audit.DecisionAllow}
}

func anomaly(id, keyID, kind string, at time.Time, records ...int64) store.Anomaly {
	return store.Anomaly{ID: id, KeyID: keyID, Kind: kind, Severity: "warning", At: at, Summary: "5 refusals within 10m",
		Records: records, Response: "alert"}
}

func auditSeq(t *testing.T, s store.Store) int64 {
	t.Helper()
	h, err := s.AuditHead(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return h.Seq
}

// testRecordAnomaly: an anomaly is stored with its audit record in one
// transaction, once per (key, kind, trigger), and can suspend its key.
func testRecordAnomaly(t *testing.T, s store.Store) {
	setup(t, s, "g", "h")
	for i := 0; i < 3; i++ {
		if _, err := s.AppendAudit(ctx(t), record("g", t0.Add(time.Duration(i)*time.Second), audit.DecisionDeny)); err != nil {
			t.Fatal(err)
		}
	}
	a := anomaly("an-1", "g", "refusal_burst", t0.Add(time.Minute+123456), 1, 2, 3)
	got, added, err := s.RecordAnomaly(ctx(t), store.AnomalyRequest{Anomaly: a, Audit: ownerRecord("agentkeys_anomaly", a.At)})
	if err != nil || !added {
		t.Fatalf("RecordAnomaly = %v, %v; want stored", added, err)
	}
	want := a
	want.At, want.AuditSeq = msUTC(a.At), 4
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored anomaly (-want +got):\n%s", diff)
	}
	if seq := auditSeq(t, s); seq != 4 {
		t.Errorf("audit head %d after one anomaly, want 4", seq)
	}

	// Raised again for the same trigger (a replay after a restart):
	// nothing stored, nothing appended, nothing suspended.
	again := anomaly("an-1", "g", "refusal_burst", t0.Add(time.Hour), 1, 2, 3)
	sp := &store.Suspension{At: t0.Add(time.Hour), Reason: "refusal burst", Audit: ownerRecord("agentkeys_keySuspended", t0.Add(time.Hour))}
	got2, added, err := s.RecordAnomaly(ctx(t), store.AnomalyRequest{Anomaly: again, Audit: ownerRecord("agentkeys_anomaly", again.At), Suspend: sp})
	if err != nil || added {
		t.Fatalf("RecordAnomaly again = %v, %v; want the stored one, not added", added, err)
	}
	if diff := cmp.Diff(want, got2); diff != "" {
		t.Errorf("second raise returns the stored anomaly (-want +got):\n%s", diff)
	}
	if seq := auditSeq(t, s); seq != 4 {
		t.Errorf("audit head %d after a replayed anomaly, want 4", seq)
	}
	if g, _ := s.GetGrant(ctx(t), "g"); g.SuspendedAt != nil {
		t.Error("a replayed anomaly suspended the key")
	}

	// Another id for the same (key, kind, trigger) is the same anomaly;
	// the same id for another trigger is a conflict.
	if _, added, err := s.RecordAnomaly(ctx(t), store.AnomalyRequest{Anomaly: anomaly("an-other", "g", "refusal_burst", t0, 3), Audit: ownerRecord("agentkeys_anomaly", t0)}); err != nil || added {
		t.Errorf("same key, kind and trigger under another id: added %v, err %v; want not added", added, err)
	}
	_, _, err = s.RecordAnomaly(ctx(t), store.AnomalyRequest{Anomaly: anomaly("an-1", "g", "new_ip", t0, 2), Audit: ownerRecord("agentkeys_anomaly", t0)})
	wantErr(t, "RecordAnomaly id reused", err, store.ErrConflict)

	// A new trigger with a suspension: stored, and the key suspended with
	// both records appended.
	b := anomaly("an-2", "g", "refusal_burst", t0.Add(2*time.Minute), 2, 3)
	b.Records = []int64{1, 2, 3, 4}
	b.Response = "suspend"
	sp.At = b.At
	if _, added, err := s.RecordAnomaly(ctx(t), store.AnomalyRequest{Anomaly: b, Audit: ownerRecord("agentkeys_anomaly", b.At), Suspend: sp}); err != nil || !added {
		t.Fatalf("RecordAnomaly with suspension = %v, %v", added, err)
	}
	g, _ := s.GetGrant(ctx(t), "g")
	if g.SuspendedAt == nil || !g.SuspendedAt.Equal(msUTC(b.At)) || g.SuspendReason != "refusal burst" {
		t.Errorf("grant after a suspending anomaly: suspended %v, reason %q", g.SuspendedAt, g.SuspendReason)
	}
	recs, _ := allRecords(t, s, 10)
	if n := len(recs); n != 6 || recs[4].Method != "agentkeys_anomaly" || recs[5].Method != "agentkeys_keySuspended" {
		t.Errorf("records after the suspending anomaly: %d, want anomaly then suspension at 5 and 6", n)
	}

	// A suspension naming no grant stores nothing.
	c := anomaly("an-3", "nope", "refusal_burst", t0, 1)
	_, _, err = s.RecordAnomaly(ctx(t), store.AnomalyRequest{Anomaly: c, Audit: ownerRecord("agentkeys_anomaly", t0), Suspend: sp})
	wantErr(t, "RecordAnomaly suspending an unknown grant", err, store.ErrNotFound)
	if seq := auditSeq(t, s); seq != 6 {
		t.Errorf("audit head %d after a failed anomaly, want 6", seq)
	}
	if l, _ := s.ListAnomalies(ctx(t), store.AnomalyFilter{KeyID: "nope"}); len(l) != 0 {
		t.Errorf("failed anomaly was stored: %v", l)
	}
}

func testRecordAnomalyInvalid(t *testing.T, s store.Store) {
	setup(t, s, "g")
	ok := anomaly("an", "g", "new_ip", t0, 1)
	rec := ownerRecord("agentkeys_anomaly", t0)
	for _, tt := range []struct {
		name string
		req  store.AnomalyRequest
	}{
		{"no id", store.AnomalyRequest{Anomaly: func() store.Anomaly { a := ok; a.ID = ""; return a }(), Audit: rec}},
		{"no key", store.AnomalyRequest{Anomaly: func() store.Anomaly { a := ok; a.KeyID = ""; return a }(), Audit: rec}},
		{"zero time", store.AnomalyRequest{Anomaly: func() store.Anomaly { a := ok; a.At = time.Time{}; return a }(), Audit: rec}},
		{"no records", store.AnomalyRequest{Anomaly: func() store.Anomaly { a := ok; a.Records = nil; return a }(), Audit: rec}},
		{"records not ascending", store.AnomalyRequest{Anomaly: func() store.Anomaly { a := ok; a.Records = []int64{3, 2}; return a }(), Audit: rec}},
		{"summary too long", store.AnomalyRequest{Anomaly: func() store.Anomaly { a := ok; a.Summary = string(make([]byte, 501)); return a }(), Audit: rec}},
		{"bad record", store.AnomalyRequest{Anomaly: ok, Audit: audit.Record{Time: t0, Method: "m", Decision: "maybe"}}},
		{"bad suspension", store.AnomalyRequest{Anomaly: ok, Audit: rec, Suspend: &store.Suspension{At: t0, Audit: rec}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.RecordAnomaly(ctx(t), tt.req)
			wantErr(t, "RecordAnomaly", err, store.ErrInvalid)
		})
	}
	if seq := auditSeq(t, s); seq != 0 {
		t.Errorf("invalid anomalies appended %d records", seq)
	}
	_, err := s.ListAnomalies(ctx(t), store.AnomalyFilter{Limit: -1})
	wantErr(t, "ListAnomalies negative limit", err, store.ErrInvalid)
}

func testListAnomalies(t *testing.T, s store.Store) {
	setup(t, s, "g", "h")
	for i := 0; i < 4; i++ {
		if _, err := s.AppendAudit(ctx(t), record("g", t0, audit.DecisionDeny)); err != nil {
			t.Fatal(err)
		}
	}
	add := func(id, key string, at time.Time, trigger int64) {
		t.Helper()
		if _, _, err := s.RecordAnomaly(ctx(t), store.AnomalyRequest{Anomaly: anomaly(id, key, "new_ip", at, trigger), Audit: ownerRecord("agentkeys_anomaly", at)}); err != nil {
			t.Fatal(err)
		}
	}
	add("a1", "g", t0, 1)
	add("a2", "h", t0.Add(time.Hour), 2)
	add("a3", "g", t0.Add(2*time.Hour), 3)
	add("a4", "g", t0.Add(2*time.Hour), 4) // same time as a3: the later record comes first
	ids := func(f store.AnomalyFilter) []string {
		t.Helper()
		as, err := s.ListAnomalies(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    store.AnomalyFilter
		want []string
	}{
		{"all, newest first", store.AnomalyFilter{}, []string{"a4", "a3", "a2", "a1"}},
		{"one key", store.AnomalyFilter{KeyID: "g"}, []string{"a4", "a3", "a1"}},
		{"since (inclusive)", store.AnomalyFilter{Since: t0.Add(time.Hour)}, []string{"a4", "a3", "a2"}},
		{"limit keeps the newest", store.AnomalyFilter{KeyID: "g", Limit: 2}, []string{"a4", "a3"}},
		{"unknown key", store.AnomalyFilter{KeyID: "zz"}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ids(tt.f)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func testSuspendResume(t *testing.T, s store.Store) {
	setup(t, s, "g", "other")
	at := t0.Add(time.Hour + 123456)
	sp := store.Suspension{At: at, Reason: "by the owner", Audit: ownerRecord("agentkeys_keySuspended", at)}
	if done, err := s.SuspendGrant(ctx(t), "g", sp); err != nil || !done {
		t.Fatalf("SuspendGrant = %v, %v", done, err)
	}
	if done, err := s.SuspendGrant(ctx(t), "g", sp); err != nil || done {
		t.Errorf("SuspendGrant twice = %v, %v; want false, nil", done, err)
	}
	g, _ := s.GetGrant(ctx(t), "g")
	if g.SuspendedAt == nil || !g.SuspendedAt.Equal(msUTC(at)) || g.SuspendReason != "by the owner" {
		t.Errorf("suspended grant: at %v reason %q", g.SuspendedAt, g.SuspendReason)
	}
	if o, _ := s.GetGrant(ctx(t), "other"); o.SuspendedAt != nil {
		t.Error("suspending one grant suspended another")
	}
	if seq := auditSeq(t, s); seq != 1 {
		t.Errorf("%d records after one suspension (and a repeat), want 1", seq)
	}
	if done, err := s.ResumeGrant(ctx(t), "g", ownerRecord("agentkeys_keyResumed", at)); err != nil || !done {
		t.Fatalf("ResumeGrant = %v, %v", done, err)
	}
	if done, err := s.ResumeGrant(ctx(t), "g", ownerRecord("agentkeys_keyResumed", at)); err != nil || done {
		t.Errorf("ResumeGrant twice = %v, %v; want false, nil", done, err)
	}
	g, _ = s.GetGrant(ctx(t), "g")
	if g.SuspendedAt != nil || g.SuspendReason != "" {
		t.Errorf("resumed grant still suspended: %v %q", g.SuspendedAt, g.SuspendReason)
	}
	if seq := auditSeq(t, s); seq != 2 {
		t.Errorf("%d records after suspend and resume, want 2", seq)
	}
	_, err := s.SuspendGrant(ctx(t), "nope", sp)
	wantErr(t, "SuspendGrant missing", err, store.ErrNotFound)
	_, err = s.ResumeGrant(ctx(t), "nope", ownerRecord("agentkeys_keyResumed", at))
	wantErr(t, "ResumeGrant missing", err, store.ErrNotFound)
	_, err = s.SuspendGrant(ctx(t), "g", store.Suspension{At: at, Audit: sp.Audit})
	wantErr(t, "SuspendGrant without reason", err, store.ErrInvalid)
	_, err = s.SuspendGrant(ctx(t), "g", store.Suspension{Reason: "x", Audit: sp.Audit})
	wantErr(t, "SuspendGrant zero time", err, store.ErrInvalid)
	_, err = s.ResumeGrant(ctx(t), "g", audit.Record{Method: "x", Decision: audit.DecisionAllow})
	wantErr(t, "ResumeGrant bad record", err, store.ErrInvalid)
	if seq := auditSeq(t, s); seq != 2 {
		t.Errorf("failed calls appended records: head %d, want 2", seq)
	}
}

func testRevokeGrantFor(t *testing.T, s store.Store) {
	setup(t, s, "g")
	at := t0.Add(15 * 24 * time.Hour)
	done, err := s.RevokeGrantFor(ctx(t), "g", at, "unused for 14d (stale_after)", ownerRecord("agentkeys_revoke", at))
	if err != nil || !done {
		t.Fatalf("RevokeGrantFor = %v, %v", done, err)
	}
	g, _ := s.GetGrant(ctx(t), "g")
	if g.RevokedAt == nil || !g.RevokedAt.Equal(msUTC(at)) || g.Meta[store.MetaRevokedReason] != "unused for 14d (stale_after)" || g.Meta["team"] != "research" {
		t.Errorf("revoked grant: at %v meta %v", g.RevokedAt, g.Meta)
	}
	if done, err := s.RevokeGrantFor(ctx(t), "g", at.Add(time.Hour), "again", ownerRecord("agentkeys_revoke", at)); err != nil || done {
		t.Errorf("RevokeGrantFor a revoked grant = %v, %v; want false, nil", done, err)
	}
	if g, _ := s.GetGrant(ctx(t), "g"); g.Meta[store.MetaRevokedReason] != "unused for 14d (stale_after)" || !g.RevokedAt.Equal(msUTC(at)) {
		t.Error("revoking again changed the first revocation")
	}
	if seq := auditSeq(t, s); seq != 1 {
		t.Errorf("%d records, want 1 (the first revocation)", seq)
	}
	_, err = s.RevokeGrantFor(ctx(t), "nope", at, "r", ownerRecord("agentkeys_revoke", at))
	wantErr(t, "RevokeGrantFor missing", err, store.ErrNotFound)
	_, err = s.RevokeGrantFor(ctx(t), "g", at, "", ownerRecord("agentkeys_revoke", at))
	wantErr(t, "RevokeGrantFor without reason", err, store.ErrInvalid)
}
