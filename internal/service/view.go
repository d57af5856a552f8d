package service

import (
	"encoding/json"
	"time"

	"github.com/agentkeys/agentkeys/internal/onchain"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// A key's modes, as grant requests and views spell them.
const (
	ModeWallet = store.ModeWallet // the daemon signs with the owner's wallet key
	Mode7702   = store.Mode7702   // the daemon signs as a session key limited on chain
)

// A key's statuses, as GrantInfo.Status spells them.
const (
	StatusActive  = "active"
	StatusExpired = "expired"
	StatusRevoked = "revoked"
)

// ErrNoKey is returned for a key id the home does not hold. It is the
// store's not-found error, so errors.Is works with either name.
var ErrNoKey = store.ErrNotFound

// EnforcementReport says which of a 7702 grant's rules the chain holds;
// its JSON shape is package onchain's.
type EnforcementReport = onchain.Report

// GrantInfo is a key as the service shows it to transports: never its
// credential or credential hash.
type GrantInfo struct {
	ID      string
	Agent   string
	Mode    string // ModeWallet or Mode7702
	Address string // the owner account the key acts for
	// Status is StatusActive, StatusExpired or StatusRevoked by the
	// service's clock when the view was made.
	Status    string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
	Meta      map[string]string
	Session   string          // 7702 mode: the session key's address
	Document  json.RawMessage // the policy document as granted
	// Policy is the compiled policy, nil if the stored document no longer
	// compiles (the key then refuses every request).
	Policy *policy.Policy
}

// grantStatus is the one place a key's status is computed.
func grantStatus(g store.Grant, now time.Time) string {
	switch {
	case g.RevokedAt != nil:
		return StatusRevoked
	case !now.Before(g.ExpiresAt):
		return StatusExpired
	}
	return StatusActive
}

// info is the view of g now.
func (s *Service) info(g store.Grant) GrantInfo {
	v := GrantInfo{ID: g.ID, Agent: g.Agent, Mode: g.Mode, Address: g.Address, Status: grantStatus(g, s.now()),
		CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt, RevokedAt: g.RevokedAt, Meta: g.Meta,
		Session: g.Meta[SessionAddress], Document: g.Policy}
	if p, err := s.policyOf(g); err == nil {
		v.Policy = p
	}
	return v
}
