package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Gauges is the state metrics read when they are scraped: what each
// active key has used of its caps, the transactions by lifecycle state
// and the length of the audit chain.
type Gauges struct {
	Keys     []KeyBudget
	TxStates map[string]int // state → transactions of this chain in it
	AuditLen int64          // records in the audit chain (its head's Seq)
}

// KeyBudget is one active key's caps and their use.
type KeyBudget struct {
	KeyID, Agent string
	Lines        []BudgetLine
}

// Gauges reads the state metrics show. It reads every active key's
// budget, so its cost grows with the number of keys.
func (s *Service) Gauges(ctx context.Context) (Gauges, error) {
	var g Gauges
	// Only the budgets: FindGrants would also read each key's usage.
	now := s.now()
	err := s.eachGrant(ctx, store.GrantFilter{Status: store.StatusActive, StatusAt: now}, func(k store.Grant) error {
		lines, err := s.Budget(ctx, k.ID)
		if err != nil {
			return fmt.Errorf("budget of %s: %w", k.ID, err)
		}
		g.Keys = append(g.Keys, KeyBudget{KeyID: k.ID, Agent: k.Agent, Lines: lines})
		return nil
	})
	if err != nil {
		return g, err
	}
	if g.TxStates, err = s.cfg.Store.CountTxs(ctx, s.cfg.ChainID); err != nil {
		return g, err
	}
	head, err := s.cfg.Store.AuditHead(ctx)
	if err != nil {
		return g, err
	}
	g.AuditLen = head.Seq
	return g, nil
}

// IsAgentRequest reports whether an audit record is an agent's request
// (one an agent sent to the wallet, allowed or not, its credential known
// or not) rather than something the owner or the daemon did. Metrics,
// anomaly detection and the dashboard's activity all count by it.
func IsAgentRequest(r audit.Record) bool {
	return !strings.HasPrefix(r.Method, "agentkeys_") || r.Method == MethodGetPermissions
}

// MethodGetPermissions is the one agentkeys_ method agents call.
const MethodGetPermissions = "agentkeys_getPermissions"

// Refusal classes: a refusal reason names amounts, addresses and times,
// so metrics and summaries group reasons by what was refused.
const (
	RefusedCredential = "credential" // unknown, expired, revoked or suspended key
	RefusedBudget     = "budget"     // over a per-transaction or per-period cap, or no cap for what it spends
	RefusedRate       = "rate"       // the key's request rate limit
	RefusedSchedule   = "schedule"   // outside the key's validity window or schedule
	RefusedNetwork    = "network"    // a caller address the key does not accept
	RefusedTarget     = "target"     // a contract or function no rule allows
	RefusedMessage    = "message"    // a message or typed data the policy does not allow
	RefusedChain      = "chain"      // another chain, or refused on chain by the delegate
	RefusedRequest    = "request"    // malformed or unsupported requests, always-refused methods
	RefusedOther      = "other"
)

// RefusalClass groups a refusal reason (as the policy and the service
// write them) into one of a fixed set of classes.
func RefusalClass(reason string) string {
	r := strings.ToLower(reason)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(r, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("credential"):
		return RefusedCredential
	case has("rate limit"):
		return RefusedRate
	case has("limit of", "limit for", "sets no limit", "need a budget", "fee limit"):
		return RefusedBudget
	case has("schedule", "not valid until", "expired at"):
		return RefusedSchedule
	case has("requests from", "caller's address"):
		return RefusedNetwork
	case has("no rule allows contract", "no rule allows this function", "contract creation", "no function selector"):
		return RefusedTarget
	case has("personal_sign", "typed data", "typed_data", "sign-in with ethereum"):
		return RefusedMessage
	case has("refused on chain", "chain "):
		return RefusedChain
	case has("is not allowed", " blocks "):
		return RefusedTarget // a call the policy or its profile does not allow
	case has("not supported", "invalid", "malformed", "always refused", "not given", "expected"):
		return RefusedRequest
	}
	return RefusedOther
}
