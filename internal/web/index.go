package web

import (
	"context"
	"encoding/json"
	"math/big"
	"regexp"
	"sync"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/lru"
	"github.com/agentkeys/agentkeys/internal/service"
)

// How much of the log the dashboard keeps in memory: the newest records
// of each key, of its refusals and of its anomalies, for the keepKeys
// keys used most recently; the newest records of the whole log (the live
// feed's first screen and its replay after a reconnect); and the newest
// points of each key's spend per asset. The running spend totals
// themselves are exact whatever the log's length, for a key kept since
// its first record.
const (
	keepKeys      = 10_000
	keepPerKey    = 50
	keepFeed      = 100
	keepPoints    = 240
	maxReasons    = 8
	maxReasonLen  = 300
	maxCalls      = 8
	maxTextLen    = 80
	maxSpendItems = 8
)

// entry is one audit record as the dashboard shows it: bounded, and with
// nothing the log does not already show the owner.
type entry struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id,omitempty"`
	Method    string    `json:"method"`
	Decision  string    `json:"decision"`
	Reasons   []string  `json:"reasons,omitempty"`
	TxHash    string    `json:"tx_hash,omitempty"`
	CallerIP  string    `json:"caller_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	// Calls are the functions a transaction called (decoded by the
	// policy, so their names come from its ABI, not the agent).
	Calls   []string       `json:"calls,omitempty"`
	Spend   []spendItem    `json:"spend,omitempty"`
	Anomaly *anomalySketch `json:"anomaly,omitempty"`
}

// spendItem is one asset an allowed decision charged.
type spendItem struct {
	Asset    string `json:"asset"`
	Symbol   string `json:"symbol,omitempty"`
	Decimals uint8  `json:"decimals"`
	Raw      string `json:"raw"`
	Amount   string `json:"amount"`
	Fee      bool   `json:"fee,omitempty"`
}

// anomalySketch is what the dashboard shows of a service.AnomalyEvent.
type anomalySketch struct {
	Kind     string  `json:"kind"`
	Severity string  `json:"severity"`
	Summary  string  `json:"summary"`
	Response string  `json:"response,omitempty"`
	Records  []int64 `json:"records,omitempty"` // Seq of the records that raised it
}

// point is the running total of one asset's spend after one decision.
type point struct {
	Time  time.Time
	Seq   int64
	Delta *big.Int
	Total *big.Int
}

// series is one asset's spend by one key.
type series struct {
	Asset    string
	Symbol   string
	Decimals uint8
	Total    *big.Int
	Points   []point // the newest keepPoints
}

// keyLog is what the index keeps of one key.
type keyLog struct {
	timeline  []entry
	refusals  []entry
	anomalies []entry
	spend     map[string]*series
	order     []string // assets in the order they were first spent
}

// index follows the audit log through the service's feed and keeps, per
// key, what its page shows. It is rebuilt from the whole log at every
// start (the feed starts at record 1), so it never disagrees with the log.
// It keeps the keys whose records came last, at most keepKeys of them
// (the key used longest ago is dropped for a new one), so its memory is
// bounded however many keys the home holds.
type index struct {
	mu      sync.RWMutex
	keys    *lru.Cache[string, *keyLog] // recency is the key's last record, not its page being read
	maxKeys int
	feed    []entry
}

func newIndex() *index { return newIndexOf(keepKeys) }

func newIndexOf(maxKeys int) *index {
	return &index{keys: lru.New[string, *keyLog](maxKeys), maxKeys: maxKeys}
}

// add is the feed handler: it never fails, so no record is skipped.
func (x *index) add(_ context.Context, r audit.Record) error {
	e := entryOf(r)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.feed = keep(x.feed, e, keepFeed)
	if e.KeyID == "" {
		return nil
	}
	k, _ := x.keys.Get(e.KeyID, func() (*keyLog, error) { return &keyLog{spend: map[string]*series{}}, nil })
	k.timeline = keep(k.timeline, e, keepPerKey)
	if e.Anomaly != nil {
		k.anomalies = keep(k.anomalies, e, keepPerKey)
		return nil
	}
	if e.Decision == audit.DecisionDeny {
		k.refusals = keep(k.refusals, e, keepPerKey)
	}
	if e.Decision != audit.DecisionAllow {
		return nil
	}
	// One point per asset and decision: a transaction's value and its fee
	// in the same asset add up.
	var assets []string
	delta := map[string]*big.Int{}
	for _, sp := range e.Spend {
		amount, ok := new(big.Int).SetString(sp.Raw, 10)
		if !ok || amount.Sign() <= 0 {
			continue
		}
		if k.spend[sp.Asset] == nil {
			k.spend[sp.Asset] = &series{Asset: sp.Asset, Symbol: sp.Symbol, Decimals: sp.Decimals, Total: new(big.Int)}
			k.order = append(k.order, sp.Asset)
		}
		if delta[sp.Asset] == nil {
			delta[sp.Asset] = new(big.Int)
			assets = append(assets, sp.Asset)
		}
		delta[sp.Asset].Add(delta[sp.Asset], amount)
	}
	for _, a := range assets {
		s := k.spend[a]
		s.Total = new(big.Int).Add(s.Total, delta[a])
		s.Points = keep(s.Points, point{Time: e.Time, Seq: e.Seq, Delta: delta[a], Total: s.Total}, keepPoints)
	}
	return nil
}

// keep appends v to s, of which the newest n count (newest): s grows to
// 2n before it is cut back to the newest n in place, so an append costs
// the same however long the log, instead of a copy of n each.
func keep[T any](s []T, v T, n int) []T {
	s = append(s, v)
	if len(s) >= 2*n {
		s = append(s[:0], s[len(s)-n:]...)
	}
	return s
}

// newest is the newest n of s.
func newest[T any](s []T, n int) []T { return s[max(len(s)-n, 0):] }

// keyView is a copy of what the index holds of a key, newest first.
type keyView struct {
	Timeline, Refusals, Anomalies []entry
	Spend                         []series
	// Partial says the index dropped keys it could not keep (more than
	// keepKeys were used): this key's records before it was last dropped,
	// if it was, are not here but in the audit log.
	Partial bool
	Kept    int // how many keys the index keeps
}

func (x *index) key(id string) keyView {
	x.mu.RLock()
	defer x.mu.RUnlock()
	v := keyView{Partial: x.keys.Stats().Evictions > 0, Kept: x.maxKeys}
	k, ok := x.keys.Peek(id)
	if !ok {
		return v
	}
	v.Timeline = newestFirst(newest(k.timeline, keepPerKey))
	v.Refusals = newestFirst(newest(k.refusals, keepPerKey))
	v.Anomalies = newestFirst(newest(k.anomalies, keepPerKey))
	for _, a := range k.order {
		s := *k.spend[a]
		s.Points = append([]point(nil), newest(s.Points, keepPoints)...)
		v.Spend = append(v.Spend, s)
	}
	return v
}

// recent returns the feed's records after seq, oldest first.
func (x *index) recent(after int64) []entry {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []entry
	for _, e := range newest(x.feed, keepFeed) {
		if e.Seq > after {
			out = append(out, e)
		}
	}
	return out
}

func newestFirst(s []entry) []entry {
	out := make([]entry, len(s))
	for i, e := range s {
		out[len(s)-1-i] = e
	}
	return out
}

// keyIDPattern is what a key id looks like; anything else read from a
// record's call is ignored rather than shown.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// entryOf reads what the dashboard shows of r. A record names its key in
// KeyID (the key's own requests) or in its call (the owner's actions on
// it, anomalies, suspensions).
func entryOf(r audit.Record) entry {
	e := entry{Seq: r.Seq, Time: r.Time.UTC(), KeyID: r.KeyID, Method: bound.Text(r.Method, maxTextLen), Decision: r.Decision,
		TxHash: bound.Text(r.TxHash, 80), CallerIP: bound.Text(r.CallerIP, 64), UserAgent: bound.Text(r.UserAgent, 200)}
	for i, reason := range r.Reasons {
		if i == maxReasons {
			e.Reasons = append(e.Reasons, "…")
			break
		}
		e.Reasons = append(e.Reasons, bound.Text(reason, maxReasonLen))
	}
	var call struct {
		KeyID string `json:"key_id"`
		Calls []struct {
			Function string `json:"function"`
			Selector string `json:"selector"`
		} `json:"calls"`
		Spend []spendItem `json:"spend"`
	}
	_ = json.Unmarshal(r.Call, &call) // a record without a call, or another shape, shows without them
	if e.KeyID == "" && keyIDPattern.MatchString(call.KeyID) {
		e.KeyID = call.KeyID
	}
	for i, c := range call.Calls {
		if i == maxCalls {
			e.Calls = append(e.Calls, "…")
			break
		}
		name := c.Function
		if name == "" {
			name = c.Selector
		}
		if name != "" {
			e.Calls = append(e.Calls, bound.Text(name, maxTextLen))
		}
	}
	for i, sp := range call.Spend {
		if i == maxSpendItems {
			break
		}
		sp.Asset, sp.Symbol, sp.Raw, sp.Amount = bound.Text(sp.Asset, 64), bound.Text(sp.Symbol, 16), bound.Text(sp.Raw, 80), bound.Text(sp.Amount, 80)
		e.Spend = append(e.Spend, sp)
	}
	if ev, ok, err := service.AnomalyOf(r); ok && err == nil {
		a := &anomalySketch{Kind: bound.Text(ev.Kind, maxTextLen), Severity: bound.Text(ev.Severity, 16), Summary: bound.Text(ev.Summary, maxReasonLen),
			Response: bound.Text(ev.Response, 16)}
		for i, seq := range ev.Records {
			if i == maxReasons {
				break
			}
			a.Records = append(a.Records, seq)
		}
		e.Anomaly = a
		if keyIDPattern.MatchString(ev.KeyID) {
			e.KeyID = ev.KeyID
		}
	}
	return e
}
