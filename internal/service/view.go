package service

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/bound"
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
	StatusActive  = store.StatusActive
	StatusExpired = store.StatusExpired
	StatusRevoked = store.StatusRevoked
	// StatusSuspended is a key stopped by an anomaly or the owner until
	// the owner resumes it.
	StatusSuspended = store.StatusSuspended
	// StatusPendingApproval is a key waiting for the owner's passkey
	// approval; StatusPendingSignature one waiting for the owner's
	// signature of its on-chain grant. Neither acts until then.
	StatusPendingApproval  = store.StatusPendingApproval
	StatusPendingSignature = store.StatusPendingSignature
)

// KeyStatuses are every status a key can have, in the order listings
// offer them.
var KeyStatuses = []string{StatusActive, StatusPendingApproval, StatusPendingSignature, StatusSuspended, StatusExpired, StatusRevoked}

// checkStatus returns a ParamError for field unless status is "" or one
// of KeyStatuses.
func checkStatus(field, status string) error {
	if status == "" || slices.Contains(KeyStatuses, status) {
		return nil
	}
	return &ParamError{Field: field, Msg: fmt.Sprintf("expected %s, got %s", strings.Join(KeyStatuses, ", "), bound.Quote(status))}
}

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
	// Status is one of KeyStatuses by the service's clock when the view
	// was made.
	Status    string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
	// SuspendedAt and SuspendReason are set while the key is suspended;
	// the reason is for the owner (the agent is told only "credential
	// suspended").
	SuspendedAt   *time.Time
	SuspendReason string
	Meta          map[string]string
	Session       string          // 7702 mode: the session key's address
	Document      json.RawMessage // the policy document as granted
	// Policy is the compiled policy, nil if the stored document no longer
	// compiles (the key then refuses every request).
	Policy *policy.Policy
	// Limits are the policy's caps (empty without a policy).
	Limits []LimitLine
	// Signature is what the owner signs to activate a key waiting for its
	// signature (owner-offline mode), nil otherwise.
	Signature *SignatureRequest
	// Usage is what the audit log says of the key's use; set by
	// FindGrants, nil elsewhere (see Service.Usage).
	Usage *KeyUsage
}

// LimitLine is one cap of a key, in whole units and base units: the one
// view of a limit (GrantInfo.Limits; BudgetLine shows the same amounts).
type LimitLine struct {
	Asset     string `json:"asset"` // native, fees or a token address
	Symbol    string `json:"symbol"`
	PerTx     string `json:"per_tx,omitempty"`
	PerPeriod string `json:"per_period,omitempty"`
	Period    string `json:"period,omitempty"` // only with PerPeriod
	RawPerTx  string `json:"raw_per_tx,omitempty"`
	RawPeriod string `json:"raw_per_period,omitempty"`
}

// limitLine is the view of one cap.
func limitLine(l policy.Limit) LimitLine {
	v := LimitLine{Asset: l.Asset, Symbol: l.Symbol}
	if l.PerTx != nil {
		v.PerTx, v.RawPerTx = policy.FormatAmount(l.PerTx, l.Decimals), l.PerTx.String()
	}
	if l.PerPeriod != nil {
		v.PerPeriod, v.RawPeriod, v.Period = policy.FormatAmount(l.PerPeriod, l.Decimals), l.PerPeriod.String(), policy.FormatDuration(l.Period)
	}
	return v
}

// info is the view of g now.
func (s *Service) info(g store.Grant) GrantInfo {
	v := GrantInfo{ID: g.ID, Agent: g.Agent, Mode: g.Mode, Address: g.Address, Status: g.Status(s.now()),
		CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt, RevokedAt: g.RevokedAt, SuspendedAt: g.SuspendedAt, SuspendReason: g.SuspendReason, Meta: g.Meta,
		Session: g.Meta[SessionAddress], Document: g.Policy, Limits: []LimitLine{}, Signature: s.signatureRequest(g)}
	if p, err := s.policyOf(g); err == nil {
		v.Policy = p
		for _, l := range p.Limits() {
			v.Limits = append(v.Limits, limitLine(l))
		}
	}
	return v
}
