package service

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
	"github.com/agentkeys/agentkeys/internal/store/sqlite"
)

// t0 is a Monday, 09:00 UTC: the detector reads each record's own time.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// rec is an agent's request as the audit log keeps it.
type rec struct {
	at       time.Duration // after t0
	ip       string
	decision string
	spend    string // native base units spent, "" for none
	method   string // default eth_sendTransaction
	key      string // default the test's key
	simulate bool   // an agent's simulation (Service.Simulate)
}

func (r rec) record(key string) audit.Record {
	m := r.method
	if m == "" {
		m = "eth_sendTransaction"
	}
	if r.key != "" {
		key = r.key
	}
	d := r.decision
	if d == "" {
		d = audit.DecisionAllow
	}
	ip := r.ip
	if ip == "" {
		ip = "10.0.0.1"
	}
	out := audit.Record{Time: t0.Add(r.at), KeyID: key, Method: m, Decision: d, CallerIP: ip, Reasons: []string{}}
	if r.spend != "" {
		// The record as the decision writes it: the value spent, and a
		// worst-case fee that never counts as a value.
		v, _ := new(big.Int).SetString(r.spend, 10)
		d := policy.Decision{Spend: []policy.Spend{{Asset: policy.Native, Decimals: 18, Amount: v},
			{Asset: policy.Native, Decimals: 18, Amount: big.NewInt(999_999_999), Fee: true}}}
		var extra map[string]any
		if r.simulate {
			extra = map[string]any{"simulate": true}
		}
		out.Call = callRecord(policy.Request{Kind: policy.KindTransaction}, d, extra)
	}
	if m == MethodKeySuspended || m == MethodKeyResumed {
		out.KeyID = ""
		out.Call = json.RawMessage(fmt.Sprintf(`{"key_id":%q,"reason":"test"}`, key))
	}
	return out
}

// detectEnv is a real SQLite store holding one key under a policy, and a
// feed with the detector on it.
type detectEnv struct {
	t    *testing.T
	st   *sqlite.Store
	path string
	doc  json.RawMessage // the keys' policy
	key  string
	feed *Feed
	det  *detector // the feed's
	logs []string
}

func newDetectEnv(t *testing.T, policyYAML string) *detectEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "detect.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := policy.Parse([]byte(policyYAML), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(p.Document())
	ctx := t.Context()
	if err := st.PutKey(ctx, store.Key{ID: "w", Kind: store.KeyKindWallet, Address: "0x1111111111111111111111111111111111111111", Sealed: []byte("x"), CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	e := &detectEnv{t: t, st: st, path: path, doc: doc, key: "k"}
	for _, id := range []string{"k", "other"} {
		e.grant(id, t0.Add(30*24*time.Hour))
	}
	e.feed = e.newFeed(st)
	return e
}

// grant stores key id, granted at t0 under the env's policy.
func (e *detectEnv) grant(id string, expires time.Time) {
	e.t.Helper()
	if err := e.st.CreateGrant(e.t.Context(), store.Grant{ID: id, Agent: "bot", Mode: store.ModeWallet, Chains: []uint64{31337}, Policy: e.doc,
		Address: "0x1111111111111111111111111111111111111111", SignerKeyID: "w", CredentialHash: []byte("h"), CreatedAt: t0, ExpiresAt: expires}); err != nil {
		e.t.Fatal(err)
	}
}

// newFeed is the feed and detector a (re)started daemon builds.
func (e *detectEnv) newFeed(st store.Store) *Feed {
	compile := func(g store.Grant) (*policy.Policy, error) { return policy.Parse(g.Policy, policy.Options{}) }
	log := func(msg string, args ...any) { e.logs = append(e.logs, fmt.Sprint(msg, args)) }
	f := newFeed(st, log)
	e.det = newDetector(st, compile, func() time.Time { return t0.Add(365 * 24 * time.Hour) }, log)
	f.Handle(e.det.handle)
	return f
}

func (e *detectEnv) append(rs ...rec) {
	e.t.Helper()
	for _, r := range rs {
		if _, err := e.st.AppendAudit(e.t.Context(), r.record(e.key)); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.feed.Sync(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
}

// found is an anomaly as the tests compare it.
type found struct {
	Kind     string
	Records  []int64
	Response string
}

func (e *detectEnv) anomalies() []found {
	e.t.Helper()
	as, err := e.st.ListAnomalies(e.t.Context(), store.AnomalyFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	out := []found{}
	for _, a := range as {
		out = append(out, found{a.Kind, a.Records, a.Response})
	}
	slices.Reverse(out) // oldest first
	return out
}

const basePolicy = "name: t\nchains: [31337]\n"

func TestDetectorKinds(t *testing.T) {
	deny := audit.DecisionDeny
	for _, tt := range []struct {
		name   string
		policy string
		recs   []rec
		want   []found
	}{
		{
			name:   "new_ip: the first use teaches, a new /24 or /64 raises",
			policy: basePolicy,
			recs: []rec{{ip: "10.0.0.1"}, {at: time.Second, ip: "10.0.0.200"}, {at: 2 * time.Second, ip: "10.0.1.5"},
				{at: 3 * time.Second, ip: "2001:db8::1"}, {at: 4 * time.Second, ip: "2001:db8::ffff"}, {at: 5 * time.Second, ip: "2001:db8:0:1::1"},
				{at: 6 * time.Second, ip: "10.0.1.9"}},
			want: []found{{AnomalyNewIP, []int64{3}, "alert"}, {AnomalyNewIP, []int64{4}, "alert"}, {AnomalyNewIP, []int64{6}, "alert"}},
		},
		{
			name:   "new_ip: another key's networks are not this key's",
			policy: basePolicy,
			recs:   []rec{{ip: "10.0.0.1", key: "other"}, {at: time.Second, ip: "10.9.9.9"}, {at: 2 * time.Second, ip: "10.0.0.1"}},
			want:   []found{{AnomalyNewIP, []int64{3}, "alert"}},
		},
		{
			name:   "refusal_burst: count refusals within the span, allowed requests between do not count",
			policy: basePolicy + "anomalies:\n  refusal_burst: {count: 3, within: 1m, on_anomaly: suspend}\n",
			recs: []rec{{decision: deny}, {at: 30 * time.Second, decision: deny}, {at: 40 * time.Second}, {at: 70 * time.Second, decision: deny},
				{at: 80 * time.Second, decision: deny}},
			want: []found{{AnomalyRefusalBurst, []int64{2, 4, 5}, "suspend"}},
		},
		{
			name:   "refusal_burst: refusals of a suspended key raise nothing until it is resumed",
			policy: basePolicy + "anomalies:\n  refusal_burst: {count: 2, within: 1m}\n",
			recs: []rec{{method: MethodKeySuspended}, {at: time.Second, decision: deny}, {at: 2 * time.Second, decision: deny},
				{at: 3 * time.Second, method: MethodKeyResumed}, {at: 4 * time.Second, decision: deny}, {at: 5 * time.Second, decision: deny}},
			want: []found{{AnomalyRefusalBurst, []int64{5, 6}, "alert"}},
		},
		{
			name:   "off_schedule: one anomaly per spell of attempts outside the hours",
			policy: basePolicy + "schedule: {timezone: UTC, hours: \"08:00-20:00\"}\nanomalies:\n  off_schedule: {}\n",
			recs: []rec{{}, {at: 12 * time.Hour, decision: deny}, {at: 12*time.Hour + 30*time.Minute, decision: deny},
				{at: 14 * time.Hour, decision: deny}, {at: 24 * time.Hour}},
			want: []found{{AnomalyOffSchedule, []int64{2}, "alert"}, {AnomalyOffSchedule, []int64{4}, "alert"}},
		},
		{
			name:   "value_outlier: above the multiple of the median of allowed values, refused attempts too",
			policy: basePolicy + "anomalies:\n  value_outlier: {min_history: 3, multiple: 10}\n",
			recs: []rec{{spend: "5000"}, {at: time.Second, spend: "100"}, {at: 2 * time.Second, spend: "120"}, // too little history for 5000
				{at: 3 * time.Second, spend: "110"}, {at: 4 * time.Second, spend: "100000", decision: deny}, {at: 5 * time.Second, spend: "1100"},
				{at: 6 * time.Second, spend: "1201"}},
			want: []found{{AnomalyValueOutlier, []int64{5}, "alert"}, {AnomalyValueOutlier, []int64{7}, "alert"}},
		},
		{
			name:   "value_outlier: simulated values never join the history a later value is compared with",
			policy: basePolicy + "anomalies:\n  value_outlier: {min_history: 3, multiple: 10}\n",
			recs: []rec{{spend: "100"}, {at: time.Second, spend: "110"}, {at: 2 * time.Second, spend: "120"},
				{at: 3 * time.Second, spend: "1000", simulate: true}, {at: 4 * time.Second, spend: "1000", simulate: true},
				{at: 5 * time.Second, spend: "1000", simulate: true}, {at: 6 * time.Second, spend: "1000", simulate: true},
				{at: 7 * time.Second, spend: "5000"}},
			want: []found{{AnomalyValueOutlier, []int64{8}, "alert"}},
		},
		{
			name:   "stale_key_used: idle since its grant, then since its last use",
			policy: basePolicy + "valid_for: 30d\nstale_after: 1h\n",
			recs:   []rec{{at: 59 * time.Minute}, {at: 2 * time.Hour}, {at: 3*time.Hour + time.Minute}, {at: 3*time.Hour + 2*time.Minute}},
			want:   []found{{AnomalyStaleKeyInUse, []int64{2}, "alert"}, {AnomalyStaleKeyInUse, []int64{3}, "alert"}},
		},
		{
			name:   "owner records naming the key are not its use",
			policy: basePolicy + "anomalies:\n  refusal_burst: {count: 2}\n",
			recs:   []rec{{method: "agentkeys_registerSession", decision: deny}, {at: time.Second, method: "agentkeys_fundSession", decision: deny, ip: "10.7.7.7"}},
			want:   []found{},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newDetectEnv(t, tt.policy)
			e.append(tt.recs...)
			if diff := cmp.Diff(tt.want, e.anomalies()); diff != "" {
				t.Errorf("anomalies (-want +got):\n%s", diff)
			}
		})
	}
}

// A rate spike: steady use for two hours, then a burst in one minute
// raises one anomaly (not one per request).
func TestDetectorRateSpike(t *testing.T) {
	e := newDetectEnv(t, basePolicy+"anomalies:\n  rate_spike: {multiple: 5, window: 5m, baseline: 1h, min_requests: 10}\n")
	var rs []rec
	for i := 0; i < 24; i++ { // one request every 5 minutes
		rs = append(rs, rec{at: time.Duration(i) * 5 * time.Minute})
	}
	burst := 2*time.Hour + 30*time.Second
	for i := 0; i < 20; i++ {
		rs = append(rs, rec{at: burst + time.Duration(i)*time.Second})
	}
	e.append(rs...)
	got := e.anomalies()
	if len(got) != 1 || got[0].Kind != AnomalyRateSpike {
		t.Fatalf("anomalies %+v, want one rate_spike", got)
	}
	// The 10th request in the window raises it: the baseline predicts
	// one request per 5 minutes, so the burst passes 5x that at once,
	// but min_requests waits for 10 (records 25 to 34).
	if diff := cmp.Diff([]int64{25, 26, 27, 28, 29, 30, 31, 32, 33, 34}, got[0].Records); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}

	// Steady use at the same pace raises nothing.
	e2 := newDetectEnv(t, basePolicy+"anomalies:\n  rate_spike: {multiple: 5, window: 5m, baseline: 1h, min_requests: 2}\n")
	rs = nil
	for i := 0; i < 60; i++ {
		rs = append(rs, rec{at: time.Duration(i) * time.Minute})
	}
	e2.append(rs...)
	if got := e2.anomalies(); len(got) != 0 {
		t.Errorf("steady use raised %+v", got)
	}
}

// Refusals of a revoked key are the revocation at work, not a burst.
func TestDetectorIgnoresRevokedKeys(t *testing.T) {
	e := newDetectEnv(t, basePolicy+"anomalies:\n  refusal_burst: {count: 2}\n")
	if err := e.st.RevokeGrant(t.Context(), "k", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.append(rec{decision: audit.DecisionDeny}, rec{at: 2 * time.Minute, decision: audit.DecisionDeny}, rec{at: 3 * time.Minute, decision: audit.DecisionDeny})
	if got := e.anomalies(); len(got) != 0 {
		t.Errorf("revoked key's refusals raised %+v", got)
	}
}

// Restarting replays the whole log through a new detector: nothing is
// stored, appended or suspended twice, and a key the owner resumed stays
// resumed; what is new after the restart is found.
func TestDetectorReplayAfterRestartIsIdempotent(t *testing.T) {
	e := newDetectEnv(t, basePolicy+"anomalies:\n  refusal_burst: {count: 3, within: 1m, on_anomaly: suspend}\n")
	deny := audit.DecisionDeny
	e.append(rec{ip: "10.0.0.1"}, rec{at: time.Second, ip: "10.0.5.1"},
		rec{at: 2 * time.Second, decision: deny}, rec{at: 3 * time.Second, decision: deny}, rec{at: 4 * time.Second, decision: deny})
	want := []found{{AnomalyNewIP, []int64{2}, "alert"}, {AnomalyRefusalBurst, []int64{3, 4, 5}, "suspend"}}
	if diff := cmp.Diff(want, e.anomalies()); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}
	g, _ := e.st.GetGrant(t.Context(), "k")
	if g.SuspendedAt == nil {
		t.Fatal("the burst did not suspend the key")
	}
	if _, err := e.st.ResumeGrant(t.Context(), "k", keyRecord(t0.Add(time.Hour), MethodKeyResumed, "k", "resumed by the owner")); err != nil {
		t.Fatal(err)
	}
	head, _ := e.st.AuditHead(t.Context())

	// Restart: a new store handle on the same file, a new feed and
	// detector, replaying from record 1.
	e.st.Close()
	st, err := sqlite.Open(t.Context(), e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e.st = st
	e.feed = e.newFeed(st)
	if err := e.feed.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, e.anomalies()); diff != "" {
		t.Errorf("after replay (-want +got):\n%s", diff)
	}
	if again, _ := st.AuditHead(t.Context()); again.Seq != head.Seq {
		t.Errorf("replay appended %d records", again.Seq-head.Seq)
	}
	if g, _ := st.GetGrant(t.Context(), "k"); g.SuspendedAt != nil {
		t.Error("replay suspended the resumed key again")
	}

	// After the restart, a new burst suspends it again.
	e.append(rec{at: 2 * time.Hour, decision: deny}, rec{at: 2*time.Hour + time.Second, decision: deny}, rec{at: 2*time.Hour + 2*time.Second, decision: deny})
	got := e.anomalies()
	if len(got) != 3 || got[2].Kind != AnomalyRefusalBurst {
		t.Fatalf("after the restart: %+v, want a second burst", got)
	}
	if g, _ := st.GetGrant(t.Context(), "k"); g.SuspendedAt == nil {
		t.Error("the second burst did not suspend the key")
	}
}

// sweepPolicy turns every kind a key's history feeds on, with spans
// short enough for a few days of records to cross them many times.
const sweepPolicy = basePolicy + "valid_for: 30d\nstale_after: 2d\nanomalies:\n" +
	"  rate_spike: {multiple: 3, window: 5m, baseline: 2h, min_requests: 5}\n" +
	"  refusal_burst: {count: 3, within: 10m, on_anomaly: suspend}\n" +
	"  value_outlier: {min_history: 3, multiple: 5}\n"

// sweepLog is twelve days of four keys' requests, in Time order: spells
// of use (bursts among them) from a few networks and now and then a new
// one, values of every width with outliers, runs of refusals, and idle
// spells of hours and days, longer than every span the detector looks
// back over; "short" expires on day 3 and "gone" is revoked on day 4,
// after which their attempts are refused. Each day starts with the
// owner resuming every key (a burst suspends one).
func sweepLog() [][]rec {
	rng := rand.New(rand.NewPCG(7, 11))
	keys := []string{"k", "other", "short", "gone"}
	end := map[string]time.Duration{"short": 3 * 24 * time.Hour, "gone": 4 * 24 * time.Hour}
	var days [][]rec
	for day := range 12 {
		var recs []rec
		for _, key := range keys {
			recs = append(recs, rec{at: time.Duration(day) * 24 * time.Hour, method: MethodKeyResumed, key: key})
			if day == 4 && key == "gone" {
				recs = append(recs, rec{at: end["gone"], method: methodRevoke, key: key})
			}
			if rng.IntN(3) == 0 {
				continue // a day idle
			}
			for range 1 + rng.IntN(3) {
				at := time.Duration(day)*24*time.Hour + time.Duration(rng.IntN(23*60))*time.Minute
				for range 1 + rng.IntN(30) {
					at += time.Duration(1+rng.IntN(90)) * time.Second
					r := rec{at: at, key: key, ip: fmt.Sprintf("10.%d.%d.9", len(key), rng.IntN(3))}
					if rng.IntN(50) == 0 {
						r.ip = fmt.Sprintf("10.200.%d.1", rng.IntN(250))
					}
					switch v := rng.IntN(100); {
					case v < 60:
						r.spend = randBig(rng, 20+rng.IntN(10)).String()
					case v < 63:
						r.spend = randBig(rng, 40+rng.IntN(200)).String()
					case v < 68:
						r.spend, r.simulate = randBig(rng, 30).String(), true
					}
					if rng.IntN(10) == 0 {
						r.decision = audit.DecisionDeny
					}
					if e, ok := end[key]; ok && r.at >= e {
						r.decision = audit.DecisionDeny // the key can no longer act
					}
					recs = append(recs, r)
				}
			}
		}
		slices.SortStableFunc(recs, func(a, b rec) int { return int((a.at - b.at) / time.Second) })
		days = append(days, recs)
	}
	return days
}

// The sweep forgets only what no later record reads: a detector that
// sweeps and one that never does raise the same anomalies, with the
// same records, summaries and suspensions (the two logs end with the
// same hash), over keys idle for days, expired and revoked; and the one
// that sweeps holds less.
func TestDetectorSweepChangesNothing(t *testing.T) {
	sweeps, never := newDetectEnv(t, sweepPolicy), newDetectEnv(t, sweepPolicy)
	never.det.sweepEvery = 0
	for _, e := range []*detectEnv{sweeps, never} {
		e.grant("short", t0.Add(3*24*time.Hour))
		e.grant("gone", t0.Add(30*24*time.Hour))
		if err := e.st.RevokeGrant(t.Context(), "gone", t0.Add(4*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	records := 0
	for _, day := range sweepLog() {
		sweeps.append(day...)
		never.append(day...)
		records += len(day)
	}

	list := func(e *detectEnv) []store.Anomaly {
		as, err := e.st.ListAnomalies(t.Context(), store.AnomalyFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	got, want := list(sweeps), list(never)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("anomalies with the sweep (-without +with):\n%s", diff)
	}
	kinds := map[string]int{}
	for _, a := range want {
		kinds[a.Kind]++
	}
	for _, k := range []string{AnomalyNewIP, AnomalyRateSpike, AnomalyRefusalBurst, AnomalyValueOutlier, AnomalyStaleKeyInUse} {
		if kinds[k] == 0 {
			t.Errorf("no %s among the %d anomalies of %d records (%v): the log does not exercise it", k, len(want), records, kinds)
		}
	}
	h1, _ := sweeps.st.AuditHead(t.Context())
	h2, _ := never.st.AuditHead(t.Context())
	if diff := cmp.Diff(h2, h1); diff != "" {
		t.Errorf("audit heads (-without +with):\n%s", diff)
	}

	// What the sweep forgot: the keys that can no longer act, and the
	// idle keys' request history.
	for _, id := range []string{"short", "gone"} {
		if _, ok := sweeps.det.keys[id]; ok {
			t.Errorf("the sweep kept %s, which can no longer act", id)
		}
		if _, ok := never.det.keys[id]; !ok {
			t.Errorf("without the sweep, %s is not held: the log never used it", id)
		}
	}
	if a, b := retained(sweeps.det), retained(never.det); a >= b {
		t.Errorf("%d entries held with the sweep, %d without: it forgot nothing", a, b)
	}
}

// retained counts the entries of the request history a detector holds.
func retained(d *detector) int {
	n := 0
	for _, st := range d.keys {
		n += len(st.minutes) + len(st.recent) + len(st.denies)
	}
	return n
}

// What the detector holds of a key is bounded however much the key is
// used: its minutes by the rate baseline and window, its latest records
// by recentSeqs, its values by valueHistory per asset (each at most four
// words); once the key is idle past those spans only its networks, its
// values and its times remain, and once it expired nothing.
func TestDetectorStateBounded(t *testing.T) {
	e := newDetectEnv(t, basePolicy+"anomalies:\n  rate_spike: {multiple: 5, window: 5m, baseline: 2h, min_requests: 10}\n")
	big200 := new(big.Int).Lsh(big.NewInt(1), 200)
	const perDay = 24 * 60
	for day := range 2 {
		var rs []rec
		for i := range perDay { // one request a minute, steady: no anomaly
			v := new(big.Int).Add(big200, big.NewInt(int64(i)))
			rs = append(rs, rec{at: time.Duration(day*perDay+i) * time.Minute, spend: v.String()})
		}
		e.append(rs...)
		st := e.det.keys["k"]
		if n := len(st.minutes); n > 5+120 {
			t.Errorf("day %d: %d minutes held, want at most the window and baseline (125)", day, n)
		}
		if n := len(st.recent); n > recentSeqs {
			t.Errorf("day %d: %d latest records held, want at most %d", day, n, recentSeqs)
		}
		if len(st.values) != 1 || st.values[0].len() != valueHistory || len(st.values[0].words) != valueHistory*4 {
			t.Errorf("day %d: values %d assets, want 1 holding %d values of 4 words", day, len(st.values), valueHistory)
		}
		if len(st.nets) != 1 {
			t.Errorf("day %d: %d networks, want 1", day, len(st.nets))
		}
	}
	if got := e.anomalies(); len(got) != 0 {
		t.Fatalf("steady use raised %+v", got)
	}

	// Another key's use a day later sweeps: k keeps only what outlives
	// any span.
	e.append(rec{at: 3 * 24 * time.Hour, key: "other"})
	st := e.det.keys["k"]
	if st == nil {
		t.Fatal("k forgotten while it may still act")
	}
	if n := len(st.minutes) + len(st.recent) + len(st.denies); n != 0 {
		t.Errorf("idle k holds %d entries of request history, want none", n)
	}
	if len(st.nets) != 1 || st.values[0].len() != valueHistory {
		t.Errorf("idle k holds %d networks and %d values, want 1 and %d", len(st.nets), st.values[0].len(), valueHistory)
	}

	// After k's expiry (t0+30d) and lateRecords, nothing of it.
	e.append(rec{at: 31 * 24 * time.Hour, key: "other", decision: audit.DecisionDeny})
	if _, ok := e.det.keys["k"]; ok {
		t.Error("k held after it expired")
	}
}
