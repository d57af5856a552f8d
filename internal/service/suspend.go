package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// CredentialSuspended is all an agent is told of its key's suspension
// (error 4100); the owner reads the reason in the key's view.
const CredentialSuspended = "credential suspended"

// What an agent is told (4100) while its key waits for the owner: a
// passkey's approval, or the owner's signature of its on-chain grant.
const (
	CredentialPendingApproval  = "pending owner approval"
	CredentialPendingSignature = "pending owner signature"
)

// MethodRevokeStale is the audit method of a key revoked for going
// unused longer than its policy's stale_after.
const MethodRevokeStale = "agentkeys_revokeStale"

// keyRecord is an owner-side audit record about a key: it names the key
// in its Call, not in KeyID, so it is never counted as the key's use.
func keyRecord(at time.Time, method, keyID, reason string) audit.Record {
	call, _ := json.Marshal(keyCall{KeyID: keyID, Reason: reason})
	return audit.Record{Time: at, Method: method, Call: call, Decision: audit.DecisionAllow, Reasons: []string{}}
}

// Suspend stops a key until Resume: its next request is refused with
// CredentialSuspended. reason (for the owner) defaults to "suspended by
// the owner". Suspending a suspended key changes nothing. Errors: ErrNoKey,
// *ParamError for a reason over store.MaxAnomalySummary bytes.
func (s *Service) Suspend(ctx context.Context, id, reason string) (GrantInfo, error) {
	if reason == "" {
		reason = "suspended by the owner"
	}
	if len(reason) > store.MaxAnomalySummary {
		return GrantInfo{}, &ParamError{Field: "reason", Msg: fmt.Sprintf("at most %d bytes", store.MaxAnomalySummary)}
	}
	now := s.now()
	if _, err := s.cfg.Store.SuspendGrant(ctx, id, store.Suspension{At: now, Reason: reason, Audit: keyRecord(now, MethodKeySuspended, id, reason)}); err != nil {
		return GrantInfo{}, err
	}
	return s.GetGrant(ctx, id)
}

// Resume lets a suspended key act again; resuming a key that is not
// suspended changes nothing. The anomalies that suspended it stay
// recorded; new ones suspend it again. Once the owner has a passkey,
// resuming waits for one (*ApprovalPending). Errors: ErrNoKey.
func (s *Service) Resume(ctx context.Context, id string) (GrantInfo, error) {
	g, err := s.cfg.Store.GetGrant(ctx, id)
	if err != nil {
		return GrantInfo{}, err
	}
	if g.SuspendedAt != nil && g.RevokedAt == nil {
		if err := s.pending(ctx, KindResume, id, nil); err != nil {
			return s.info(g), err
		}
	}
	if _, err := s.cfg.Store.ResumeGrant(ctx, id, keyRecord(s.now(), MethodKeyResumed, id, "resumed by the owner")); err != nil {
		return GrantInfo{}, err
	}
	return s.GetGrant(ctx, id)
}

// AnomalyQuery narrows Anomalies. The zero value lists every anomaly.
type AnomalyQuery struct {
	KeyID string // only this key's
	Since string // only those in this long before now, a duration like 24h or 7d
	Limit int    // at most this many, the newest (0: all)
}

// Anomalies returns the anomalies matching q, newest first. Errors:
// *ParamError for a bad since or limit, ErrNoKey for a key the home does
// not hold.
func (s *Service) Anomalies(ctx context.Context, q AnomalyQuery) ([]AnomalyEvent, error) {
	f := store.AnomalyFilter{KeyID: q.KeyID, Limit: q.Limit}
	if q.Limit < 0 {
		return nil, &ParamError{Field: "limit", Msg: "expected a positive number"}
	}
	if q.Since != "" {
		d, err := policy.ParseDuration(q.Since)
		if err != nil || d <= 0 {
			return nil, &ParamError{Field: "since", Msg: fmt.Sprintf("expected a positive duration like 24h or 7d, got %s", bound.Quote(q.Since))}
		}
		f.Since = s.now().Add(-d)
	}
	if q.KeyID != "" {
		if _, err := s.cfg.Store.GetGrant(ctx, q.KeyID); err != nil {
			return nil, err
		}
	}
	as, err := s.cfg.Store.ListAnomalies(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list anomalies: %w", err)
	}
	out := make([]AnomalyEvent, len(as))
	for i, a := range as {
		out[i] = AnomalyEvent{ID: a.ID, KeyID: a.KeyID, Kind: a.Kind, Severity: a.Severity, Summary: a.Summary, At: a.At, Records: a.Records, Response: a.Response}
	}
	return out, nil
}

// setsStaleAfter reports whether a stored policy document may set
// stale_after (policy.Document's field), read without compiling it: a
// sweep looks at a thousand keys, and most set none. A document that does
// not parse may: the compiler then says.
func setsStaleAfter(doc []byte) bool {
	var d struct {
		StaleAfter string `json:"stale_after"`
	}
	return json.Unmarshal(doc, &d) != nil || d.StaleAfter != ""
}

// staleBatch is how many active keys one RevokeStale looks at.
const staleBatch = 1000

// RevokeStale revokes the active keys whose policy sets stale_after and
// that made no request in that long (a key never used counts from its
// grant), each with its reason and an audit record; the watcher calls it
// on every sweep. Each call looks at up to staleBatch active keys,
// continuing after the last key the previous call looked at and starting
// over after the newest, so its cost stays bounded however many keys the
// home holds: with n active keys a stale key is revoked within
// ⌈n/staleBatch⌉ calls. It returns the ids revoked; a failure with one
// key is logged and the others are still looked at.
func (s *Service) RevokeStale(ctx context.Context) ([]string, error) {
	s.staleMu.Lock()
	defer s.staleMu.Unlock()
	now := s.now()
	gs, err := s.cfg.Store.ListGrants(ctx, store.GrantFilter{ActiveAt: now, After: s.staleAfter, Limit: staleBatch})
	if err != nil {
		return nil, fmt.Errorf("revoke stale keys: %w", err)
	}
	s.staleAfter = nil
	if len(gs) == staleBatch {
		c := gs[len(gs)-1].Cursor()
		s.staleAfter = &c
	}
	var out []string
	for _, g := range gs {
		if !setsStaleAfter(g.Policy) {
			continue
		}
		p, err := s.peekPolicy(g)
		if err != nil || p.StaleAfter() <= 0 {
			continue
		}
		u, err := s.cfg.Store.KeyUsage(ctx, g.ID, now)
		if err != nil {
			return out, fmt.Errorf("revoke stale keys: %w", err)
		}
		idle := g.CreatedAt
		if u.LastUsed.After(idle) {
			idle = u.LastUsed
		}
		if now.Sub(idle) < p.StaleAfter() {
			continue
		}
		reason := fmt.Sprintf("unused for %s (stale_after %s)", policy.FormatDuration(now.Sub(idle).Round(time.Minute)), policy.FormatDuration(p.StaleAfter()))
		done, err := s.cfg.Store.RevokeGrantFor(ctx, g.ID, now, reason, keyRecord(now, MethodRevokeStale, g.ID, reason))
		if err != nil {
			s.cfg.Log.Error("revoke stale key", "key", g.ID, "err", err)
			continue
		}
		if !done {
			continue
		}
		out = append(out, g.ID)
		s.cfg.Log.Info("revoked stale key", "key", g.ID, "reason", reason)
		if stored, err := s.cfg.Store.GetGrant(ctx, g.ID); err == nil {
			if m, err := s.modeOf(stored.Mode); err == nil {
				if err := m.revoked(ctx, stored); err != nil && !errors.Is(err, ErrNoDelegate) {
					s.cfg.Log.Error("revoke stale key on chain", "key", g.ID, "err", err)
				}
			}
		}
	}
	return out, nil
}
