package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// The detector is a feed handler: it reads every audit record in Seq
// order and keeps, per key, what the key's history looks like (networks
// it came from, requests per minute, recent refusals, values it moved).
// It uses each record's own Time, never the clock, and the feed replays
// the log from its start on every start, so its state is rebuilt the same
// way each time and raises an anomaly for the same trigger record each
// time; the store keeps one anomaly per (key, kind, trigger), so a replay
// stores, appends and suspends nothing. What it keeps per key is compact
// and bounded (detectstate.go), and sweep forgets what no later record
// can read: the keys that can no longer act, and the request history of
// idle keys.

const (
	// maxNets bounds the source networks remembered per key; past it,
	// every network not remembered counts as new.
	maxNets = 4096
	// valueHistory is how many earlier values per asset value_outlier
	// compares with.
	valueHistory = 50
	// recentSeqs is how many of a key's latest records a rate spike
	// links to.
	recentSeqs = 32
	// offScheduleQuiet is how long after an off_schedule anomaly further
	// attempts outside the schedule raise nothing (one anomaly per spell).
	offScheduleQuiet = time.Hour
	// lateRecords is how much earlier than the latest agent's record
	// read before it an agent's record's Time may be. A record's Time is taken when its
	// request is decided, inside the store transaction that appends it,
	// so records come in Time order but for the commit's own delay and,
	// with replicas sharing a store, their clocks' skew: seconds. The
	// sweep forgets only what no record within lateRecords of the latest
	// could read.
	lateRecords = time.Hour
	// sweepEvery is how often, in records' Time, the detector sweeps.
	sweepEvery = 10 * time.Minute
)

type detector struct {
	st      store.Store
	compile func(store.Grant) (*policy.Policy, error)
	now     func() time.Time
	log     func(msg string, args ...any)
	keys    map[string]*keyState // only the feed's goroutine touches it
	// responds holds one copy of each distinct Respond map (there are at
	// most 2^len(policy.AnomalyKinds)), shared by the keys' rules.
	responds map[string]map[string]string
	// rules holds one copy of each distinct keyRules of the keys without
	// a schedule (most keys share their policy's defaults).
	rules map[rulesKey]*keyRules
	// docs is the rules of the policy documents compiled last, by the
	// document's hash, so that keys sharing a policy compile it once
	// (a replay over 100,000 keys would compile each otherwise); at most
	// maxDocs, emptied when full.
	docs map[[sha256.Size]byte]*keyRules
	// assets holds one copy of each asset name a key's values are kept
	// under.
	assets map[string]string

	latest     time.Time     // the latest Time of an agent's record read
	nextSweep  time.Time     // sweep when latest reaches it
	sweepEvery time.Duration // the default sweepEvery; 0 never (tests comparing with and without)
}

// keyState is what the detector remembers of one key. It keeps neither
// the key's compiled policy nor its policy document (the service's
// cache bounds those), only what detection reads of them, in the
// compact forms of detectstate.go.
type keyState struct {
	id      string
	created nanos
	expires nanos
	revoked nanos     // never: not revoked, as the detector last read the grant
	rules   *keyRules // nil: the stored policy does not compile; the key refuses everything, nothing is detected

	used      bool  // the key made a request before
	suspended bool  // between a MethodKeySuspended and a MethodKeyResumed record
	lastUse   nanos // its latest request

	nets netSet

	firstUse  nanos        // never before its first request
	minutes   minuteCounts // requests per minute, trimmed to the baseline and window
	recent    []seqAt      // the latest recentSeqs records, oldest first
	lastSpike nanos        // never before its first spike

	denies []seqAt // refusals within the burst window

	lastOffSchedule nanos // never before its first off_schedule

	values []valueRing // per asset, sorted by asset
}

// setGrant takes what the detector keeps of g: its id and times.
func (st *keyState) setGrant(g store.Grant) {
	st.id, st.created, st.expires, st.revoked = g.ID, nanosOf(g.CreatedAt), nanosOf(g.ExpiresAt), never
	if g.RevokedAt != nil {
		st.revoked = nanosOf(*g.RevokedAt)
	}
}

// end is when the key stopped being able to act, as far as the
// detector knows: its revocation or its expiry.
func (st *keyState) end() nanos {
	if st.revoked != never && st.revoked < st.expires {
		return st.revoked
	}
	return st.expires
}

// ended reports whether g could not act at t.
func ended(g store.Grant, t time.Time) bool {
	return g.RevokedAt != nil && !t.Before(*g.RevokedAt) || !t.Before(g.ExpiresAt)
}

// keyRules is what detection needs of a key's policy.
type keyRules struct {
	anomalies  policy.Anomalies // Respond shared through detector.responds
	staleAfter time.Duration
	// scheduled is the compiled policy of a key with a schedule (for
	// InSchedule and ScheduleText), nil for the keys without one.
	scheduled *policy.Policy
}

// rulesKey is a keyRules without a schedule, comparable.
type rulesKey struct {
	respond                  string
	rateMultiple             float64
	rateWindow, rateBaseline time.Duration
	rateMinRequests          int
	burstCount               int
	burstWithin              time.Duration
	valueMultiple            float64
	valueMinHistory          int
	staleAfter               time.Duration
}

func (k *keyRules) inSchedule(t time.Time) bool {
	return k.scheduled == nil || k.scheduled.InSchedule(t)
}

func (k *keyRules) scheduleText() string {
	if k.scheduled == nil {
		return ""
	}
	return k.scheduled.ScheduleText()
}

// rulesOf takes from p what the detector needs of it.
func (d *detector) rulesOf(p *policy.Policy) *keyRules {
	r := &keyRules{anomalies: p.Anomalies(), staleAfter: p.StaleAfter()}
	if p.ScheduleText() != "" {
		r.scheduled = p
	}
	kinds := make([]string, 0, len(r.anomalies.Respond))
	for k, v := range r.anomalies.Respond {
		kinds = append(kinds, k+"="+v)
	}
	slices.Sort(kinds)
	name := strings.Join(kinds, ",")
	if shared, ok := d.responds[name]; ok {
		r.anomalies.Respond = shared
	} else {
		d.responds[name] = r.anomalies.Respond
	}
	if r.scheduled != nil {
		return r
	}
	a := &r.anomalies
	k := rulesKey{respond: name, rateMultiple: a.RateMultiple, rateWindow: a.RateWindow, rateBaseline: a.RateBaseline, rateMinRequests: a.RateMinRequests,
		burstCount: a.BurstCount, burstWithin: a.BurstWithin, valueMultiple: a.ValueMultiple, valueMinHistory: a.ValueMinHistory, staleAfter: r.staleAfter}
	if shared, ok := d.rules[k]; ok {
		return shared
	}
	if len(d.rules) >= maxDocs {
		clear(d.rules)
	}
	d.rules[k] = r
	return r
}

// assetName returns the detector's one copy of asset.
func (d *detector) assetName(asset string) string {
	if s, ok := d.assets[asset]; ok {
		return s
	}
	d.assets[asset] = asset
	return asset
}

func newDetector(st store.Store, compile func(store.Grant) (*policy.Policy, error), now func() time.Time, log func(string, ...any)) *detector {
	return &detector{st: st, compile: compile, now: now, log: log, keys: map[string]*keyState{},
		responds: map[string]map[string]string{}, rules: map[rulesKey]*keyRules{}, docs: map[[sha256.Size]byte]*keyRules{}, assets: map[string]string{}, sweepEvery: sweepEvery}
}

// agentRecord reports whether r is a request an agent made with its key:
// owner actions naming a key (a 7702 session's registration) and the
// owner-side records (anomalies, suspensions) are not.
func agentRecord(r audit.Record) bool {
	return r.KeyID != "" && (!strings.HasPrefix(r.Method, "agentkeys_") || r.Method == "agentkeys_getPermissions")
}

// keyCall is the Call of a suspension or resumption record.
type keyCall struct {
	KeyID  string `json:"key_id"`
	Reason string `json:"reason,omitempty"`
}

// handle is the detector's FeedHandler.
func (d *detector) handle(ctx context.Context, r audit.Record) error {
	err := d.read(ctx, r)
	if agentRecord(r) && r.Time.After(d.latest) {
		d.latest = r.Time
	}
	if d.sweepEvery > 0 && !d.latest.IsZero() && !d.latest.Before(d.nextSweep) {
		d.sweep(d.latest.Add(-lateRecords))
		d.nextSweep = d.latest.Add(d.sweepEvery)
	}
	return err
}

func (d *detector) read(ctx context.Context, r audit.Record) error {
	switch r.Method {
	case MethodKeySuspended, MethodKeyResumed:
		var c keyCall
		if err := json.Unmarshal(r.Call, &c); err != nil || c.KeyID == "" {
			return fmt.Errorf("record %d: %s names no key", r.Seq, r.Method)
		}
		if st, ok := d.keys[c.KeyID]; ok {
			st.suspended = r.Method == MethodKeySuspended
			return nil
		}
		if r.Method == MethodKeyResumed {
			return nil
		}
		g, err := d.grant(ctx, c.KeyID)
		if err != nil || g == nil || ended(*g, r.Time) {
			// A key that can no longer act needs no state: its
			// requests are refused before anything reads it.
			return err
		}
		d.newState(*g).suspended = true
		return nil
	case methodRevoke, MethodRevokeStale:
		// Learn the revocation of a key the detector holds, so the sweep
		// forgets it once it can no longer act.
		var c keyCall
		if json.Unmarshal(r.Call, &c) != nil {
			return nil
		}
		if st, ok := d.keys[c.KeyID]; ok {
			g, err := d.grant(ctx, c.KeyID)
			if err != nil || g == nil {
				return err
			}
			st.setGrant(*g)
		}
		return nil
	}
	if !agentRecord(r) {
		return nil
	}
	st, known := d.keys[r.KeyID]
	if known && (st.rules == nil || st.suspended) {
		// A suspended key's attempts are refused as such; they raise
		// nothing more until the owner resumes it.
		return nil
	}
	if r.Decision == audit.DecisionDeny {
		// A refusal may be a revoked or expired key's: re-read the grant
		// (revocation never changes once stored, so a replay decides the
		// same) and leave a key that could not act alone.
		g, err := d.grant(ctx, r.KeyID)
		if err != nil || g == nil {
			return err
		}
		if known {
			st.setGrant(*g)
		}
		if ended(*g, r.Time) {
			return nil
		}
		if !known {
			st = d.newState(*g)
		}
	} else if !known {
		g, err := d.grant(ctx, r.KeyID)
		if err != nil || g == nil {
			return err
		}
		st = d.newState(*g)
	}
	if st.rules == nil || st.suspended {
		return nil
	}
	var errs []error
	for _, f := range []func(*keyState, audit.Record) *store.Anomaly{
		d.staleUse, d.newNetwork, d.rateSpike, d.refusalBurst, d.offSchedule, d.valueOutlier,
	} {
		if a := f(st, r); a != nil {
			if err := d.raise(ctx, st, *a); err != nil {
				errs = append(errs, err)
			}
		}
	}
	st.used, st.lastUse = true, nanosOf(r.Time)
	return errors.Join(errs...)
}

// methodRevoke is the audit method of the owner's revocation of one key.
const methodRevoke = "agentkeys_revoke"

// grant reads key id's grant; nil for a key the store does not hold.
func (d *detector) grant(ctx context.Context, id string) (*store.Grant, error) {
	g, err := d.st.GetGrant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("detect: read key %s: %w", id, err)
	}
	return &g, nil
}

// newState starts the detector's state of the key of g.
func (d *detector) newState(g store.Grant) *keyState {
	st := &keyState{lastUse: never, firstUse: never, lastSpike: never, lastOffSchedule: never}
	st.setGrant(g)
	st.rules = d.rulesOfGrant(g)
	d.keys[st.id] = st
	return st
}

// maxDocs bounds detector.docs.
const maxDocs = 1024

// rulesOfGrant is what detection needs of g's policy; nil if it does not
// compile. A policy compiles the same from the same document, whatever
// the grant.
func (d *detector) rulesOfGrant(g store.Grant) *keyRules {
	sum := sha256.Sum256(g.Policy)
	if r, ok := d.docs[sum]; ok {
		return r
	}
	var r *keyRules
	if p, err := d.compile(g); err == nil {
		r = d.rulesOf(p)
	}
	if len(d.docs) >= maxDocs {
		clear(d.docs)
	}
	d.docs[sum] = r
	return r
}

// sweep forgets what no record with a Time at or after horizon can read
// (lateRecords before the latest record read, so every record still to
// come), which is therefore unobservable: the same records raise the
// same anomalies with or without a sweep (TestDetectorSweepChangesNothing).
//
//   - A key that ended (revoked or expired) at or before horizon is
//     forgotten whole. Every later record of it is a refusal at a time
//     the key could not act (a request is decided, and its record timed,
//     while the key is active, or refused), and read tells such a
//     refusal from the grant alone, before it would look at any state;
//     a suspension of such a key needs no state either. A revocation
//     the detector has not read (the owner's revokeAll) leaves the key
//     until its expiry.
//   - Of a key that may still act, the parts of its history kept for a
//     span of time: minutes counted before the rate baseline of every
//     later request (count would drop them before counting), its latest
//     records more than the rate window old (only those within it are
//     linked to a spike, and they are the oldest of them, so the latest
//     recentSeqs of what remains link the same), its refusals more than
//     the burst span old (they never count again).
//
// What a key keeps however long it is idle (its networks, its latest
// values per asset, its last use and first use) is what new_ip,
// value_outlier and stale_key_used compare a request with however old
// it is: forgetting it would change what they raise, so an idle key
// costs its networks, its values and its fixed part (about 300 bytes),
// not its request history.
func (d *detector) sweep(horizon time.Time) {
	minute := unixMinute(horizon)
	for id, st := range d.keys {
		if nanosOf(horizon) >= st.end() {
			delete(d.keys, id)
			continue
		}
		if st.rules == nil {
			continue
		}
		a := &st.rules.anomalies
		st.minutes.forget(minute, max(int64(a.RateWindow/time.Minute), 1), int64(a.RateBaseline/time.Minute))
		st.minutes = fit(st.minutes)
		drop := 0
		for drop < len(st.recent) && !st.recent[drop].within(horizon, a.RateWindow) {
			drop++
		}
		st.recent = fit(st.recent[drop:])
		st.denies = fit(slices.DeleteFunc(st.denies, func(x seqAt) bool { return !x.within(horizon, a.BurstWithin) }))
		st.nets = fit(st.nets)
		for i := range st.values {
			st.values[i].words = fit(st.values[i].words)
		}
	}
}

// fit returns s, in an array of its own size if its array is much
// bigger; nil if it is empty.
func fit[S ~[]E, E any](s S) S {
	switch {
	case len(s) == 0:
		return nil
	case cap(s) > len(s)+len(s)/4+1:
		return slices.Clone(s)
	}
	return s
}

// anomalyID names the anomaly of kind raised by the record trigger of a
// key: the same on every replay.
func anomalyID(keyID, kind string, trigger int64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", keyID, kind, trigger))
	return "an_" + hex.EncodeToString(sum[:10])
}

func (d *detector) anomaly(st *keyState, kind, severity string, r audit.Record, records []int64, summary string) *store.Anomaly {
	return &store.Anomaly{ID: anomalyID(st.id, kind, r.Seq), KeyID: st.id, Kind: kind, Severity: severity, At: r.Time,
		Summary: bound.Text(summary, store.MaxAnomalySummary), Records: records, Response: st.rules.anomalies.Respond[kind]}
}

// raise stores a (once) with its audit record, suspending the key if its
// policy says so.
func (d *detector) raise(ctx context.Context, st *keyState, a store.Anomaly) error {
	ev := AnomalyEvent{ID: a.ID, KeyID: a.KeyID, Kind: a.Kind, Severity: a.Severity, Summary: a.Summary, At: a.At, Records: a.Records, Response: a.Response}
	call, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	now := d.now().UTC()
	req := store.AnomalyRequest{Anomaly: a, Audit: audit.Record{Time: now, Method: MethodAnomaly, Call: call, Decision: audit.DecisionAllow, Reasons: []string{}}}
	if a.Response == policy.RespondSuspend {
		reason := bound.Text(fmt.Sprintf("anomaly %s: %s", a.Kind, a.Summary), store.MaxAnomalySummary)
		rc, _ := json.Marshal(keyCall{KeyID: a.KeyID, Reason: reason})
		req.Suspend = &store.Suspension{At: now, Reason: reason,
			Audit: audit.Record{Time: now, Method: MethodKeySuspended, Call: rc, Decision: audit.DecisionAllow, Reasons: []string{}}}
	}
	stored, added, err := d.st.RecordAnomaly(ctx, req)
	if err != nil {
		return fmt.Errorf("detect: record %s anomaly of %s: %w", a.Kind, a.KeyID, err)
	}
	if added {
		d.log("anomaly", "key", stored.KeyID, "kind", stored.Kind, "severity", stored.Severity, "summary", stored.Summary, "response", stored.Response)
	}
	return nil
}

// network is the source network of an address: its /24 (IPv4) or /64
// (IPv6).
func network(ip string) (netip.Prefix, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

// newNetwork: a request from a network the key was never used from. The
// key's very first request only teaches the detector its first network:
// every key is new somewhere once.
func (d *detector) newNetwork(st *keyState, r audit.Record) *store.Anomaly {
	n, ok := network(r.CallerIP)
	if !ok {
		return nil
	}
	k := netKeyOf(n)
	if st.nets.has(k) {
		return nil
	}
	first := !st.used && len(st.nets) == 0
	st.nets.add(k)
	if first {
		return nil
	}
	return d.anomaly(st, AnomalyNewIP, SeverityWarning, r, []int64{r.Seq}, "first use from "+n.String())
}

// rateSpike: more requests in the window than a multiple of what the
// key's trailing baseline predicts, counted by the minute.
func (d *detector) rateSpike(st *keyState, r audit.Record) *store.Anomaly {
	a := &st.rules.anomalies
	if len(st.recent) == recentSeqs {
		st.recent = append(st.recent[:0], st.recent[1:]...)
	}
	st.recent = append(st.recent, seqAtOf(r.Seq, r.Time))
	if st.firstUse == never {
		st.firstUse = nanosOf(r.Time)
	}
	winMin := max(int64(a.RateWindow/time.Minute), 1)
	baseMin := int64(a.RateBaseline / time.Minute)
	inWindow, inBase := st.minutes.count(unixMinute(r.Time), winMin, baseMin)
	// A young key's baseline is what it has: from its first request to
	// the window. Without a window's worth of history there is nothing to
	// compare with.
	span := min(a.RateBaseline, r.Time.Sub(st.firstUse.time())-a.RateWindow)
	if span < a.RateWindow || inWindow < a.RateMinRequests || st.lastSpike != never && r.Time.Sub(st.lastSpike.time()) < a.RateWindow {
		return nil
	}
	expected := float64(inBase) * float64(a.RateWindow) / float64(span)
	if float64(inWindow) <= a.RateMultiple*expected {
		return nil
	}
	st.lastSpike = nanosOf(r.Time)
	var seqs []int64
	for _, s := range st.recent {
		if s.within(r.Time, a.RateWindow) {
			seqs = append(seqs, s.seq)
		}
	}
	return d.anomaly(st, AnomalyRateSpike, SeverityWarning, r, seqs,
		fmt.Sprintf("%d requests in %s, %.1f expected from the trailing %s", inWindow, policy.FormatDuration(a.RateWindow), expected, policy.FormatDuration(span.Round(time.Minute))))
}

// refusalBurst: the policy's count of refusals within its span, the
// signature of an agent probing what its key may do. The refusals that
// raised one do not count toward the next.
func (d *detector) refusalBurst(st *keyState, r audit.Record) *store.Anomaly {
	if r.Decision != audit.DecisionDeny {
		return nil
	}
	a := &st.rules.anomalies
	keep := st.denies[:0]
	for _, x := range st.denies {
		if x.within(r.Time, a.BurstWithin) {
			keep = append(keep, x)
		}
	}
	st.denies = append(keep, seqAtOf(r.Seq, r.Time))
	if len(st.denies) < a.BurstCount {
		return nil
	}
	seqs := make([]int64, len(st.denies))
	for i, x := range st.denies {
		seqs[i] = x.seq
	}
	st.denies = st.denies[:0]
	return d.anomaly(st, AnomalyRefusalBurst, SeverityCritical, r, seqs,
		fmt.Sprintf("%d refusals within %s", len(seqs), policy.FormatDuration(a.BurstWithin)))
}

// offSchedule: an attempt outside the key's schedule (which the policy
// refuses); one anomaly per spell of such attempts.
func (d *detector) offSchedule(st *keyState, r audit.Record) *store.Anomaly {
	if st.rules.inSchedule(r.Time) || st.lastOffSchedule != never && r.Time.Sub(st.lastOffSchedule.time()) < offScheduleQuiet {
		return nil
	}
	st.lastOffSchedule = nanosOf(r.Time)
	return d.anomaly(st, AnomalyOffSchedule, SeverityWarning, r, []int64{r.Seq},
		fmt.Sprintf("attempt at %s, outside the schedule %s", r.Time.UTC().Format(time.RFC3339), st.rules.scheduleText()))
}

// spendOf reads what a decision record says the request spends, per
// asset, leaving out fees, and whether it is an agent's simulation
// (Service.Simulate): a simulation moves nothing, so it is judged like
// any request but never joins the values a later one is compared with
// (else an agent could raise the median by simulating large values).
func spendOf(call json.RawMessage) (spend map[string]*big.Int, simulate bool) {
	var c struct {
		Spend []struct {
			Asset string `json:"asset"`
			Raw   string `json:"raw"`
			Fee   bool   `json:"fee"`
		} `json:"spend"`
		Simulate bool `json:"simulate"`
	}
	if len(call) == 0 || json.Unmarshal(call, &c) != nil {
		return nil, false
	}
	out := map[string]*big.Int{}
	for _, s := range c.Spend {
		v, ok := new(big.Int).SetString(s.Raw, 10)
		if s.Fee || !ok || v.Sign() <= 0 {
			continue
		}
		if out[s.Asset] == nil {
			out[s.Asset] = new(big.Int)
		}
		out[s.Asset].Add(out[s.Asset], v)
	}
	return out, c.Simulate
}

// valueOutlier: a request (allowed or not) moving more of an asset than
// a multiple of the median of the key's earlier allowed values of it.
func (d *detector) valueOutlier(st *keyState, r audit.Record) *store.Anomaly {
	spend, simulate := spendOf(r.Call)
	if len(spend) == 0 {
		return nil
	}
	a := &st.rules.anomalies
	assets := make([]string, 0, len(spend))
	for asset := range spend {
		assets = append(assets, asset)
	}
	slices.Sort(assets)
	var found []string
	keep := r.Decision == audit.DecisionAllow && !simulate
	for _, asset := range assets {
		v := spend[asset]
		i, ok := slices.BinarySearchFunc(st.values, asset, func(h valueRing, name string) int { return strings.Compare(h.asset, name) })
		if ok {
			if hist := &st.values[i]; hist.len() >= a.ValueMinHistory {
				median := hist.median()
				limit := new(big.Float).SetInt(median)
				limit.Mul(limit, big.NewFloat(a.ValueMultiple))
				if new(big.Float).SetInt(v).Cmp(limit) > 0 {
					found = append(found, fmt.Sprintf("%s base units of %s, over %gx the median %s of its last %d", v, asset, a.ValueMultiple, median, hist.len()))
				}
			}
		}
		if keep {
			if !ok {
				st.values = slices.Insert(st.values, i, valueRing{asset: d.assetName(asset)})
			}
			st.values[i].push(v)
		}
	}
	if len(found) == 0 {
		return nil
	}
	return d.anomaly(st, AnomalyValueOutlier, SeverityWarning, r, []int64{r.Seq}, strings.Join(found, "; "))
}

// staleUse: a request from a key idle for longer than its stale_after,
// which the watcher had not revoked yet.
func (d *detector) staleUse(st *keyState, r audit.Record) *store.Anomaly {
	after := st.rules.staleAfter
	if after <= 0 {
		return nil
	}
	idle := st.created.time()
	if st.used {
		idle = st.lastUse.time()
	}
	if r.Time.Sub(idle) < after {
		return nil
	}
	return d.anomaly(st, AnomalyStaleKeyInUse, SeverityWarning, r, []int64{r.Seq},
		fmt.Sprintf("used after %s idle (stale_after %s)", policy.FormatDuration(r.Time.Sub(idle).Round(time.Minute)), policy.FormatDuration(after)))
}
