package service

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// ReviewQuery sets the span of a review. Durations are written like 7d or
// 24h.
type ReviewQuery struct {
	Since string // the period reviewed, ending now (default 7d)
	// UnusedFor: active keys that made no request in this long are
	// recommended for revocation (default: the period reviewed).
	UnusedFor string
	// ExpiringWithin: active keys expiring this soon are listed (default
	// 7d).
	ExpiringWithin string
}

// Review is the weekly review and the monthly checklist in one: what
// each key did in the period, what was refused and why, what looked
// wrong, which keys should go, and whether the audit log verifies.
type Review struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Keys are the keys active now or during the period, oldest first.
	Keys []ReviewKey `json:"keys"`
	// Refusals groups the period's refusal reasons by class, most first.
	Refusals  []RefusalCount `json:"refusals"`
	Anomalies []AnomalyEvent `json:"anomalies"`
	// Recommend lists keys to revoke, with why and the command to do it:
	// active keys unused for the query's UnusedFor, and suspended keys.
	Recommend []Recommendation `json:"recommend"`
	// Expiring lists the ids of active keys expiring within the query's
	// ExpiringWithin.
	Expiring []string `json:"expiring"`
	// Audit is the verification of the whole log, and Head its newest
	// record.
	Audit audit.Report `json:"audit"`
	Head  audit.Head   `json:"head"`
}

// ReviewKey is one key's period.
type ReviewKey struct {
	ID        string       `json:"key_id"`
	Agent     string       `json:"agent"`
	Mode      string       `json:"mode"`
	Status    string       `json:"status"`
	ExpiresAt time.Time    `json:"expires_at"`
	LastUsed  *time.Time   `json:"last_used,omitempty"` // ever, not only in the period
	Requests  int          `json:"requests"`            // in the period
	Refused   int          `json:"refused"`
	Errors    int          `json:"errors"`
	IPs       []Seen       `json:"ips"`         // source IPs in the period, most used first
	Agents    []Seen       `json:"user_agents"` // user agents in the period, most used first
	Budget    []BudgetLine `json:"budget,omitempty"`
	Anomalies int          `json:"anomalies"`
}

// Seen is a value and how many of the period's requests carried it.
type Seen struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// RefusalCount is one class of refusal reasons and an example of it.
type RefusalCount struct {
	Class   string `json:"class"`
	Count   int    `json:"count"`
	Example string `json:"example"`
}

// Recommendation is a key the review suggests revoking.
type Recommendation struct {
	KeyID   string `json:"key_id"`
	Agent   string `json:"agent"`
	Why     string `json:"why"`
	Command string `json:"command"`
}

// maxSeen bounds the IPs and user agents a review lists per key; a key
// used from more is itself worth a look, and the count says how many.
const maxSeen = 20

// Review reads the audit log once, verifying it and summarising the
// period, and reads each listed key's budget. Errors: *ParamError for a
// bad duration.
func (s *Service) Review(ctx context.Context, q ReviewQuery) (Review, error) {
	dur := func(field, v, def string) (time.Duration, error) {
		if v == "" {
			v = def
		}
		d, err := policy.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, &ParamError{Field: field, Msg: fmt.Sprintf("expected a positive duration like 7d or 24h, got %s", bound.Quote(v))}
		}
		return d, nil
	}
	since, err := dur("since", q.Since, "7d")
	if err != nil {
		return Review{}, err
	}
	unused, err := dur("unused_for", q.UnusedFor, policy.FormatDuration(since))
	if err != nil {
		return Review{}, err
	}
	expiring, err := dur("expiring_within", q.ExpiringWithin, "7d")
	if err != nil {
		return Review{}, err
	}
	// The anomalies of every record appended so far, not only of those
	// the feed happened to reach.
	if err := s.feed.Sync(ctx); err != nil {
		return Review{}, fmt.Errorf("review: look for anomalies: %w", err)
	}
	now := s.now()
	rv := Review{From: now.Add(-since), To: now, Keys: []ReviewKey{}, Refusals: []RefusalCount{}, Anomalies: []AnomalyEvent{},
		Recommend: []Recommendation{}, Expiring: []string{}}

	keys := map[string]*ReviewKey{}
	ips, uas := map[string]map[string]int{}, map[string]map[string]int{}
	created, suspendReason := map[string]time.Time{}, map[string]string{}
	err = s.eachGrant(ctx, store.GrantFilter{}, func(g store.Grant) error {
		status := g.Status(now)
		// A key that ended (expired or was revoked) before the period is
		// history, not this review's.
		end := g.ExpiresAt
		if g.RevokedAt != nil && g.RevokedAt.Before(end) {
			end = *g.RevokedAt
		}
		if status != StatusActive && !end.After(rv.From) {
			return nil
		}
		rv.Keys = append(rv.Keys, ReviewKey{ID: g.ID, Agent: g.Agent, Mode: g.Mode, Status: status, ExpiresAt: g.ExpiresAt})
		created[g.ID], suspendReason[g.ID] = g.CreatedAt, g.SuspendReason
		ips[g.ID], uas[g.ID] = map[string]int{}, map[string]int{}
		return nil
	})
	if err != nil {
		return Review{}, err
	}
	for i := range rv.Keys {
		keys[rv.Keys[i].ID] = &rv.Keys[i]
	}

	refusals := map[string]*RefusalCount{}
	v := audit.NewVerifier(audit.GenesisHead())
	var after int64
	for {
		recs, err := s.cfg.Store.AuditRecords(ctx, after, store.DefaultVerifyPage)
		if err != nil {
			return Review{}, fmt.Errorf("read audit log: %w", err)
		}
		for _, r := range recs {
			v.Add(r)
			after = r.Seq
			// A key's last use, ever: its newest record (as Usage reads it).
			if k := keys[r.KeyID]; k != nil && (k.LastUsed == nil || !r.Time.Before(*k.LastUsed)) {
				at := r.Time.UTC()
				k.LastUsed = &at
			}
			if r.Time.Before(rv.From) {
				continue
			}
			if ev, ok, err := AnomalyOf(r); ok {
				if err == nil {
					rv.Anomalies = append(rv.Anomalies, ev)
					if k := keys[ev.KeyID]; k != nil {
						k.Anomalies++
					}
				}
				continue
			}
			if !IsAgentRequest(r) {
				continue
			}
			if r.Decision == audit.DecisionDeny {
				for _, reason := range r.Reasons {
					c := RefusalClass(reason)
					if refusals[c] == nil {
						refusals[c] = &RefusalCount{Class: c, Example: PublicText(bound.Text(reason, 160))}
					}
					refusals[c].Count++
				}
			}
			k := keys[r.KeyID]
			if k == nil {
				continue
			}
			k.Requests++
			switch r.Decision {
			case audit.DecisionDeny:
				k.Refused++
			case audit.DecisionError:
				k.Errors++
			}
			if r.CallerIP != "" {
				ips[r.KeyID][r.CallerIP]++
			}
			if r.UserAgent != "" {
				uas[r.KeyID][r.UserAgent]++
			}
		}
		if len(recs) < store.DefaultVerifyPage {
			break
		}
	}
	head, err := s.cfg.Store.AuditHead(ctx)
	if err != nil {
		return Review{}, err
	}
	rv.Audit, rv.Head = v.Report(&head), head

	for i := range rv.Keys {
		k := &rv.Keys[i]
		k.IPs, k.Agents = topSeen(ips[k.ID]), topSeen(uas[k.ID])
		if k.Status == StatusSuspended {
			why := "suspended"
			if r := suspendReason[k.ID]; r != "" {
				why += ": " + r
			}
			rv.Recommend = append(rv.Recommend, Recommendation{KeyID: k.ID, Agent: k.Agent,
				Why: why + " (or, if that was expected, agentkeys key resume " + k.ID + ")", Command: "agentkeys key revoke " + k.ID})
		}
		if k.Status != StatusActive {
			continue
		}
		if k.Budget, err = s.Budget(ctx, k.ID); err != nil {
			return Review{}, fmt.Errorf("budget of %s: %w", k.ID, err)
		}
		if !k.ExpiresAt.After(now.Add(expiring)) {
			rv.Expiring = append(rv.Expiring, k.ID)
		}
		idleSince := created[k.ID]
		if k.LastUsed != nil {
			idleSince = *k.LastUsed
		}
		if !idleSince.After(now.Add(-unused)) {
			why := "no request in " + policy.FormatDuration(unused)
			if k.LastUsed == nil {
				why = "never used, granted " + policy.FormatDuration(now.Sub(idleSince).Truncate(time.Hour)) + " ago"
			}
			rv.Recommend = append(rv.Recommend, Recommendation{KeyID: k.ID, Agent: k.Agent, Why: why, Command: "agentkeys key revoke " + k.ID})
		}
	}
	for _, c := range refusals {
		rv.Refusals = append(rv.Refusals, *c)
	}
	sort.Slice(rv.Refusals, func(i, j int) bool {
		if rv.Refusals[i].Count != rv.Refusals[j].Count {
			return rv.Refusals[i].Count > rv.Refusals[j].Count
		}
		return rv.Refusals[i].Class < rv.Refusals[j].Class
	})
	return rv, nil
}

// topSeen orders values by count (then value) and keeps maxSeen.
func topSeen(m map[string]int) []Seen {
	out := make([]Seen, 0, len(m))
	for v, n := range m {
		out = append(out, Seen{Value: v, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if len(out) > maxSeen {
		out = out[:maxSeen]
	}
	return out
}
