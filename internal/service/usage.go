package service

import (
	"context"
	"fmt"
	"time"

	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// UsageWindow is the span KeyUsage counts requests and refusals over.
const UsageWindow = 24 * time.Hour

// KeyUsage is what the audit log says of one key's use, by the service's
// clock. It counts the requests the key made; the owner's actions on it
// (grant, revoke) are not its use.
type KeyUsage struct {
	// LastUsed is the time of the key's newest request, nil if it made
	// none; LastIP, LastUserAgent and LastDecision are that request's
	// caller IP, user agent and decision.
	LastUsed      *time.Time `json:"last_used,omitempty"`
	LastIP        string     `json:"last_ip,omitempty"`
	LastUserAgent string     `json:"last_user_agent,omitempty"`
	LastDecision  string     `json:"last_decision,omitempty"`
	// Requests24h and Denied24h count the requests, and the refused ones
	// among them, in the UsageWindow before now.
	Requests24h int `json:"requests_24h"`
	Denied24h   int `json:"denied_24h"`
}

// Usage returns the use of the key id. Errors: ErrNoKey.
func (s *Service) Usage(ctx context.Context, id string) (KeyUsage, error) {
	if _, err := s.cfg.Store.GetGrant(ctx, id); err != nil {
		return KeyUsage{}, err
	}
	return s.usage(ctx, id, s.now())
}

func (s *Service) usage(ctx context.Context, id string, now time.Time) (KeyUsage, error) {
	u, err := s.cfg.Store.KeyUsage(ctx, id, now.Add(-UsageWindow))
	if err != nil {
		return KeyUsage{}, fmt.Errorf("read usage of %s: %w", id, err)
	}
	out := KeyUsage{LastIP: u.LastIP, LastUserAgent: u.LastUserAgent, LastDecision: u.LastDecision, Requests24h: u.Requests, Denied24h: u.Denied}
	if !u.LastUsed.IsZero() {
		t := u.LastUsed.UTC()
		out.LastUsed = &t
	}
	return out, nil
}

// GrantQuery narrows FindGrants. The zero value lists every key.
type GrantQuery struct {
	// Status keeps the keys with this status (StatusActive,
	// StatusSuspended, StatusExpired or StatusRevoked) by the service's
	// clock.
	Status string
	// UnusedFor, a duration like 7d, keeps the keys that made no request
	// in that long before now; a key that never made one counts from when
	// it was granted, so a key granted a minute ago is not "unused".
	UnusedFor string
}

// FindGrants returns the keys matching q, oldest first, each with its
// Usage. Errors: *ParamError for a bad status or duration.
func (s *Service) FindGrants(ctx context.Context, q GrantQuery) ([]GrantInfo, error) {
	switch q.Status {
	case "", StatusActive, StatusSuspended, StatusExpired, StatusRevoked:
	default:
		return nil, &ParamError{Field: "status", Msg: fmt.Sprintf("expected active, suspended, expired or revoked, got %s", bound.Quote(q.Status))}
	}
	var unused time.Duration
	if q.UnusedFor != "" {
		d, err := policy.ParseDuration(q.UnusedFor)
		if err != nil || d <= 0 {
			return nil, &ParamError{Field: "unused_for", Msg: fmt.Sprintf("expected a positive duration like 24h or 7d, got %s", bound.Quote(q.UnusedFor))}
		}
		unused = d
	}
	gs, err := s.cfg.Store.ListGrants(ctx, store.GrantFilter{})
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []GrantInfo{}
	for _, g := range gs {
		v := s.info(g)
		if q.Status != "" && v.Status != q.Status {
			continue
		}
		u, err := s.usage(ctx, g.ID, now)
		if err != nil {
			return nil, err
		}
		if unused > 0 {
			idleSince := g.CreatedAt // never used: idle since it was granted
			if u.LastUsed != nil {
				idleSince = *u.LastUsed
			}
			if idleSince.After(now.Add(-unused)) {
				continue
			}
		}
		v.Usage = &u
		out = append(out, v)
	}
	return out, nil
}
