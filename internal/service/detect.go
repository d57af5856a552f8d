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
// stores, appends and suspends nothing.

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
}

// keyState is what the detector remembers of one key. It keeps neither
// the key's compiled policy nor its policy document (the service's
// cache bounds those), only what detection reads of them.
type keyState struct {
	grant store.Grant // only ID and the times: see keyGrant
	rules *keyRules   // nil: the stored policy does not compile; the key refuses everything, nothing is detected

	used      bool      // the key made a request before
	lastUse   time.Time // its latest request
	suspended bool      // between a MethodKeySuspended and a MethodKeyResumed record

	nets map[netip.Prefix]bool

	firstUse  time.Time
	perMinute map[int64]int // requests by Unix minute, trimmed to the baseline and window
	recent    []seqAt       // the latest recentSeqs records
	lastSpike time.Time

	denies []seqAt // refusals within the burst window

	lastOffSchedule time.Time

	values map[string][]*big.Int // asset → the latest allowed values, oldest first
}

// keyRules is what detection needs of a key's policy.
type keyRules struct {
	anomalies  policy.Anomalies // Respond shared through detector.responds
	staleAfter time.Duration
	// scheduled is the compiled policy of a key with a schedule (for
	// InSchedule and ScheduleText), nil for the keys without one.
	scheduled *policy.Policy
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
	return r
}

// keyGrant is what the detector keeps of a grant: its id and times.
func keyGrant(g store.Grant) store.Grant {
	return store.Grant{ID: g.ID, CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt, RevokedAt: g.RevokedAt}
}

type seqAt struct {
	seq int64
	at  time.Time
}

func newDetector(st store.Store, compile func(store.Grant) (*policy.Policy, error), now func() time.Time, log func(string, ...any)) *detector {
	return &detector{st: st, compile: compile, now: now, log: log, keys: map[string]*keyState{}, responds: map[string]map[string]string{}}
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
	if r.Method == MethodKeySuspended || r.Method == MethodKeyResumed {
		var c keyCall
		if err := json.Unmarshal(r.Call, &c); err != nil || c.KeyID == "" {
			return fmt.Errorf("record %d: %s names no key", r.Seq, r.Method)
		}
		if st, ok := d.keys[c.KeyID]; ok {
			st.suspended = r.Method == MethodKeySuspended
		} else if r.Method == MethodKeySuspended {
			st, err := d.state(ctx, c.KeyID)
			if err != nil {
				return err
			}
			if st != nil {
				st.suspended = true
			}
		}
		return nil
	}
	if !agentRecord(r) {
		return nil
	}
	st, err := d.state(ctx, r.KeyID)
	if err != nil || st == nil || st.rules == nil || st.suspended {
		// A suspended key's attempts are refused as such; they raise
		// nothing more until the owner resumes it.
		return err
	}
	if r.Decision == audit.DecisionDeny {
		// A refusal may be a revoked or expired key's: re-read the grant
		// (revocation never changes once stored, so a replay decides the
		// same) and leave a key that could not act alone.
		g, err := d.st.GetGrant(ctx, r.KeyID)
		if err != nil {
			return fmt.Errorf("detect: read key %s: %w", r.KeyID, err)
		}
		st.grant = keyGrant(g)
		if g.RevokedAt != nil && !r.Time.Before(*g.RevokedAt) || !r.Time.Before(g.ExpiresAt) {
			return nil
		}
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
	st.used, st.lastUse = true, r.Time
	return errors.Join(errs...)
}

// state returns what the detector knows of key id, reading the grant
// the first time; nil for a key the store does not hold.
func (d *detector) state(ctx context.Context, id string) (*keyState, error) {
	if st, ok := d.keys[id]; ok {
		return st, nil
	}
	g, err := d.st.GetGrant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("detect: read key %s: %w", id, err)
	}
	st := &keyState{grant: keyGrant(g), nets: map[netip.Prefix]bool{}, perMinute: map[int64]int{}, values: map[string][]*big.Int{}}
	if p, err := d.compile(g); err == nil {
		st.rules = d.rulesOf(p)
	}
	d.keys[id] = st
	return st, nil
}

// anomalyID names the anomaly of kind raised by the record trigger of a
// key: the same on every replay.
func anomalyID(keyID, kind string, trigger int64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", keyID, kind, trigger))
	return "an_" + hex.EncodeToString(sum[:10])
}

func (d *detector) anomaly(st *keyState, kind, severity string, r audit.Record, records []int64, summary string) *store.Anomaly {
	return &store.Anomaly{ID: anomalyID(st.grant.ID, kind, r.Seq), KeyID: st.grant.ID, Kind: kind, Severity: severity, At: r.Time,
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
	if !ok || st.nets[n] {
		return nil
	}
	first := !st.used && len(st.nets) == 0
	if len(st.nets) < maxNets {
		st.nets[n] = true
	}
	if first {
		return nil
	}
	return d.anomaly(st, AnomalyNewIP, SeverityWarning, r, []int64{r.Seq}, "first use from "+n.String())
}

// rateSpike: more requests in the window than a multiple of what the
// key's trailing baseline predicts, counted by the minute.
func (d *detector) rateSpike(st *keyState, r audit.Record) *store.Anomaly {
	a := &st.rules.anomalies
	minute := r.Time.Unix() / 60
	st.perMinute[minute]++
	st.recent = append(st.recent, seqAt{r.Seq, r.Time})
	if len(st.recent) > recentSeqs {
		st.recent = st.recent[len(st.recent)-recentSeqs:]
	}
	if st.firstUse.IsZero() {
		st.firstUse = r.Time
	}
	winMin := int64(a.RateWindow / time.Minute)
	baseMin := int64(a.RateBaseline / time.Minute)
	if winMin < 1 {
		winMin = 1
	}
	var inWindow, inBase int
	for m, n := range st.perMinute {
		switch {
		case m > minute-winMin:
			inWindow += n
		case m > minute-winMin-baseMin:
			inBase += n
		default:
			delete(st.perMinute, m)
		}
	}
	// A young key's baseline is what it has: from its first request to
	// the window. Without a window's worth of history there is nothing to
	// compare with.
	span := min(a.RateBaseline, r.Time.Sub(st.firstUse)-a.RateWindow)
	if span < a.RateWindow || inWindow < a.RateMinRequests || r.Time.Sub(st.lastSpike) < a.RateWindow {
		return nil
	}
	expected := float64(inBase) * float64(a.RateWindow) / float64(span)
	if float64(inWindow) <= a.RateMultiple*expected {
		return nil
	}
	st.lastSpike = r.Time
	var seqs []int64
	for _, s := range st.recent {
		if r.Time.Sub(s.at) < a.RateWindow {
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
		if r.Time.Sub(x.at) < a.BurstWithin {
			keep = append(keep, x)
		}
	}
	st.denies = append(keep, seqAt{r.Seq, r.Time})
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
	if st.rules.inSchedule(r.Time) || !st.lastOffSchedule.IsZero() && r.Time.Sub(st.lastOffSchedule) < offScheduleQuiet {
		return nil
	}
	st.lastOffSchedule = r.Time
	return d.anomaly(st, AnomalyOffSchedule, SeverityWarning, r, []int64{r.Seq},
		fmt.Sprintf("attempt at %s, outside the schedule %s", r.Time.UTC().Format(time.RFC3339), st.rules.scheduleText()))
}

// spendOf reads what a decision record says the request spends, per
// asset, leaving out fees.
func spendOf(call json.RawMessage) map[string]*big.Int {
	var c struct {
		Spend []struct {
			Asset string `json:"asset"`
			Raw   string `json:"raw"`
			Fee   bool   `json:"fee"`
		} `json:"spend"`
	}
	if len(call) == 0 || json.Unmarshal(call, &c) != nil {
		return nil
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
	return out
}

// simulated reports whether a record's Call is an agent's simulation
// (Service.Simulate): it moves nothing, so it is judged like any request
// but never joins the values a later one is compared with (else an agent
// could raise the median by simulating large values).
func simulated(call json.RawMessage) bool {
	var c struct {
		Simulate bool `json:"simulate"`
	}
	return len(call) > 0 && json.Unmarshal(call, &c) == nil && c.Simulate
}

// valueOutlier: a request (allowed or not) moving more of an asset than
// a multiple of the median of the key's earlier allowed values of it.
func (d *detector) valueOutlier(st *keyState, r audit.Record) *store.Anomaly {
	spend := spendOf(r.Call)
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
	for _, asset := range assets {
		v, hist := spend[asset], st.values[asset]
		if len(hist) >= a.ValueMinHistory {
			sorted := slices.SortedFunc(slices.Values(hist), (*big.Int).Cmp)
			median := new(big.Float).SetInt(sorted[len(sorted)/2])
			limit := median.Mul(median, big.NewFloat(a.ValueMultiple))
			if new(big.Float).SetInt(v).Cmp(limit) > 0 {
				found = append(found, fmt.Sprintf("%s base units of %s, over %gx the median %s of its last %d", v, asset, a.ValueMultiple, sorted[len(sorted)/2], len(hist)))
			}
		}
		if r.Decision == audit.DecisionAllow && !simulated(r.Call) {
			hist = append(hist, v)
			if len(hist) > valueHistory {
				hist = hist[len(hist)-valueHistory:]
			}
			st.values[asset] = hist
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
	idle := st.grant.CreatedAt
	if st.used {
		idle = st.lastUse
	}
	if r.Time.Sub(idle) < after {
		return nil
	}
	return d.anomaly(st, AnomalyStaleKeyInUse, SeverityWarning, r, []int64{r.Seq},
		fmt.Sprintf("used after %s idle (stale_after %s)", policy.FormatDuration(r.Time.Sub(idle).Round(time.Minute)), policy.FormatDuration(after)))
}
