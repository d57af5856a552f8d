package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// MethodChainReset is the audit method of ResetChain's record.
const MethodChainReset = "agentkeys_chainReset"

// ResetChain forgets the chain-bound state of this service's chain, for a
// chain that was replaced by a new one with the same id (the sandbox's
// in-process chain is new at every start): the store's nonce counters, so
// the next transaction takes the new chain's nonce; the budget reserved
// for transactions of the old chain, which can no longer land; and the
// 7702 grants, whose session keys were registered only on the old chain
// and are refused from now on with a reason saying so. Wallet-mode grants
// keep working. why says what replaced the chain; the reset and what it
// released are one admin audit record, written in the same store
// transaction.
func (s *Service) ResetChain(ctx context.Context, why string) (store.ChainReset, error) {
	// The followed head and nonce floors were the old chain's.
	s.forgetHead()
	now := s.now()
	reason := fmt.Sprintf("chain %d was reset (%s); this 7702 key's session existed only on the old chain: grant a new key", s.cfg.ChainID, why)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	res, err := s.cfg.Store.ResetChain(actx, store.ChainResetRequest{ChainID: s.cfg.ChainID, At: now, RevokeReason: reason,
		Audit: func(r store.ChainReset) audit.Record {
			b, _ := json.Marshal(chainResetCall(why, r))
			return audit.Record{Time: now, Method: MethodChainReset, Call: b, Decision: audit.DecisionAllow, Reasons: []string{}}
		}})
	if err != nil {
		return store.ChainReset{}, fmt.Errorf("reset chain %d: %w", s.cfg.ChainID, err)
	}
	s.cfg.Log.Info("chain reset", "chain_id", s.cfg.ChainID, "why", why, "nonce_counters", len(res.Nonces),
		"released_reservations", len(res.Released), "revoked_7702_keys", len(res.Revoked))
	return res, nil
}

// chainResetCall is the audit record's call: what was reset, with amounts
// as exact decimal strings.
func chainResetCall(why string, r store.ChainReset) map[string]any {
	nonces := make([]map[string]any, len(r.Nonces))
	for i, n := range r.Nonces {
		nonces[i] = map[string]any{"address": n.Address, "next": n.Next}
	}
	released := make([]map[string]any, len(r.Released))
	for i, sp := range r.Released {
		released[i] = map[string]any{"key_id": sp.GrantID, "asset": sp.Asset, "amount": sp.Amount.String(), "reservations": sp.Reservations}
	}
	return map[string]any{"chain_id": r.ChainID, "why": why, "nonce_counters_deleted": nonces,
		"reservations_released": released, "revoked_7702_keys": r.Revoked}
}
