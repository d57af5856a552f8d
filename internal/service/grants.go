package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ethereum/go-ethereum/common"
	"net/netip"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/store"
)

// GrantRequest asks for a new agent key.
type GrantRequest struct {
	Agent string
	Mode  string           // ModeWallet (default) or Mode7702
	Doc   *policy.Document // a policy file's document or a profile's
	// TTL, when set, replaces the policy's validity window.
	TTL  time.Duration
	Meta map[string]string
}

// GrantResult is a new key. Token is the only copy of the credential: it
// is shown once and stored only as a hash.
type GrantResult struct {
	Grant  GrantInfo
	Token  secrets.Credential
	Policy *policy.Policy
	// Report says which rules the chain enforces (7702 mode).
	Report *EnforcementReport
	// Signature, for a 7702 key in the owner-offline mode, is the grant
	// the owner signs to activate it (Activate); nil otherwise.
	Signature *SignatureRequest
	// Pending is set when the key waits for the owner's passkey
	// (approvals.go): it acts once the change is approved.
	Pending *PendingChange
}

var agentName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Grant creates a key for an agent under a policy.
func (s *Service) Grant(ctx context.Context, req GrantRequest) (*GrantResult, error) {
	res, err := s.grant(ctx, req)
	return res, paramError(err)
}

func (s *Service) grant(ctx context.Context, req GrantRequest) (*GrantResult, error) {
	if !agentName.MatchString(req.Agent) {
		return nil, ErrBadAgent
	}
	if req.Doc == nil {
		return nil, errors.New("grant: no policy")
	}
	doc := *req.Doc
	if req.TTL < 0 {
		return nil, &ParamError{Field: "ttl", Msg: "must be positive"}
	}
	if req.TTL > 0 {
		doc.ValidFor, doc.ValidUntil = req.TTL.String(), ""
	}
	pol, err := policy.Compile(&doc, policy.Options{TokenDecimals: s.tokenDecimals(ctx)})
	if err != nil {
		return nil, err
	}
	onChain := false
	for _, c := range pol.Chains() {
		onChain = onChain || c == s.cfg.ChainID
	}
	if !onChain {
		return nil, &ParamError{Field: "chains", Msg: fmt.Sprintf("the policy's chains %v do not include this daemon's chain %d", pol.Chains(), s.cfg.ChainID)}
	}
	mode := req.Mode
	if mode == "" {
		mode = ModeWallet
	}
	m, err := s.modeOf(mode)
	if err != nil {
		return nil, err
	}
	prep, err := m.prepareGrant(ctx, pol, req.Meta)
	if err != nil {
		return nil, err
	}
	cred, err := secrets.NewCredential()
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	docJSON, err := json.Marshal(pol.Document())
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	now := s.now()
	_, notAfter := pol.Window(now)
	g := store.Grant{
		ID: cred.ID(), Agent: req.Agent, Mode: mode, Chains: pol.Chains(), Policy: docJSON,
		Address: s.cfg.Wallet.Address().Hex(), SignerKeyID: prep.signerKeyID, CredentialHash: cred.Hash(),
		CreatedAt: now, ExpiresAt: notAfter, Meta: prep.meta, Pending: prep.pending,
	}
	// What the grant waits for is settled before it is sealed.
	approval, err := s.needsApproval(ctx, &g)
	if err != nil {
		return nil, err
	}
	if g.Seal, err = s.sealGrant(g); err != nil {
		return nil, err
	}
	if err := s.cfg.Store.CreateGrant(ctx, g); err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	s.adminAudit(ctx, "agentkeys_grant", map[string]any{"key_id": g.ID, "agent": g.Agent, "mode": mode, "policy": pol.Name(), "expires_at": notAfter})
	if approval {
		return s.grantPendingApproval(ctx, g, cred, pol)
	}
	report, err := m.finishGrant(ctx, g, pol, prep)
	if err != nil {
		// The key never works: revoke it before reporting.
		_ = s.cfg.Store.RevokeGrant(context.WithoutCancel(ctx), g.ID, s.now())
		return nil, fmt.Errorf("grant: %w", err)
	}
	stored, err := s.cfg.Store.GetGrant(ctx, g.ID)
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	return &GrantResult{Grant: s.info(stored), Token: cred, Policy: pol, Report: report, Signature: s.signatureRequest(stored)}, nil
}

// GetGrant returns one key. Errors: ErrNoKey.
func (s *Service) GetGrant(ctx context.Context, id string) (GrantInfo, error) {
	g, err := s.cfg.Store.GetGrant(ctx, id)
	if err != nil {
		return GrantInfo{}, err
	}
	return s.info(g), nil
}

// Revoke revokes a key; it takes effect on its next request.
// In 7702 mode the session is then revoked on chain too; the error of
// that second step is returned with the revoked grant.
func (s *Service) Revoke(ctx context.Context, id string) (GrantInfo, error) {
	if err := s.cfg.Store.RevokeGrant(ctx, id, s.now()); err != nil {
		return GrantInfo{}, err
	}
	s.adminAudit(ctx, methodRevoke, map[string]any{"key_id": id})
	g, err := s.cfg.Store.GetGrant(ctx, id)
	if err != nil {
		return GrantInfo{}, err
	}
	m, err := s.modeOf(g.Mode)
	if err != nil {
		return s.info(g), err
	}
	if err := m.revoked(ctx, g); err != nil {
		return s.info(g), err
	}
	return s.info(g), nil
}

// RevokeAll revokes every key and returns how many were revoked.
func (s *Service) RevokeAll(ctx context.Context) (int, error) {
	n, err := s.cfg.Store.RevokeAll(ctx, s.now())
	if err != nil {
		return n, err
	}
	s.adminAudit(ctx, "agentkeys_revokeAll", map[string]any{"revoked": n})
	// Bump the delegate's epoch when the owner is delegated, killing every
	// session on chain at once. Without the owner's key only the owner
	// can (OwnerRevokeAll says how).
	if s.OwnerOffline() {
		return n, nil
	}
	if st, err := s.Wallet(ctx); err == nil && st.Delegated && st.Delegate == s.delegate() && s.delegate() != (common.Address{}) {
		if err := s.revokeOnChain(ctx, store.Grant{}, true); err != nil {
			return n, fmt.Errorf("revoked here, but the on-chain revokeAll failed: %w", err)
		}
	}
	return n, nil
}

// adminAudit records an owner's action. Admin records carry no key id so
// they never count toward a key's rate limit.
func (s *Service) adminAudit(ctx context.Context, method string, call map[string]any) {
	b, _ := json.Marshal(call)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	if _, err := s.cfg.Store.AppendAudit(actx, audit.Record{Time: s.now(), Method: method, Call: b, Decision: audit.DecisionAllow, Reasons: []string{}}); err != nil {
		s.cfg.Log.Error("audit admin action", "method", method, "err", err)
	}
}

// Session is an authenticated key.
type Session struct {
	grant  store.Grant
	policy *policy.Policy
	mode   keyMode
}

// KeyID is the id of the session's key.
func (s *Session) KeyID() string { return s.grant.ID }

// Mode is the key's mode, ModeWallet or Mode7702.
func (s *Session) Mode() string { return s.grant.Mode }

// Owner is the account the key acts for: the owner's wallet.
func (s *Session) Owner() common.Address { return common.HexToAddress(s.grant.Address) }

// SignerAddress is the account whose signature the key's transactions
// carry: the owner in wallet mode, the key's own session key in 7702 mode.
func (s *Session) SignerAddress() common.Address { return s.mode.signerAddress(s.grant) }

// RequestInfo describes where a request came from, for policy and audit.
type RequestInfo struct {
	Method    string
	IP        netip.Addr
	RequestID string
	// UserAgent is the caller's User-Agent header as sent; the audit
	// record keeps at most MaxUserAgent bytes of it, printable only.
	UserAgent string
}

// MaxUserAgent bounds the user agent an audit record keeps.
const MaxUserAgent = 200

// record starts the audit record of the request: its time, method and
// where it came from.
func (i RequestInfo) record(at time.Time) audit.Record {
	return audit.Record{Time: at, Method: i.Method, CallerIP: ipString(i.IP), RequestID: i.RequestID,
		UserAgent: boundedUserAgent(i.UserAgent), Reasons: []string{}}
}

// boundedUserAgent keeps what an owner needs to recognise a client —
// printable characters, at most MaxUserAgent bytes — so a caller cannot
// put control characters or megabytes into the log, the terminal or the
// dashboard.
func boundedUserAgent(ua string) string {
	var b strings.Builder
	for _, r := range ua {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		if b.Len()+utf8.RuneLen(r) > MaxUserAgent {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Authenticate checks an agent credential. Unknown, expired and revoked
// credentials are refused with a CredentialError saying which, and the
// refusal is audited; nothing of the token is recorded.
func (s *Service) Authenticate(ctx context.Context, token string, info RequestInfo) (*Session, error) {
	if err := s.overall(); err != nil {
		return nil, err
	}
	surface := surfaceOf(info)
	if err := s.throttled(surface, info.IP); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, s.credentialFailed(surface, info, "missing credential: send Authorization: Bearer ak_...")
	}
	id, secret, err := secrets.ParseCredential(token)
	if err != nil {
		return nil, s.credentialFailed(surface, info, "unknown credential")
	}
	g, err := s.cfg.Store.GetGrant(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !secrets.VerifySecret(g.CredentialHash, secret) {
		return nil, s.credentialFailed(surface, info, "unknown credential")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	// The key is known: from here on its requests count against its
	// rate, refused or not, so no holder of a credential can write to the
	// log faster than that.
	p, perr := s.policyOf(g)
	rate, per := 0, time.Duration(0)
	if perr == nil {
		if r, ok := p.RateLimit(); ok {
			rate, per = r.Max, r.Per
		}
	}
	if err := s.keyRate(g.ID, rate, per); err != nil {
		return nil, err
	}
	if reason := s.inactive(g, s.now()); reason != "" {
		return nil, s.credentialRefusal(ctx, g.ID, info, reason)
	}
	if perr != nil {
		return nil, perr
	}
	if p.SuspendsOnAnomaly() {
		// The key's anomalies suspend it: look at every record appended
		// so far (its last refusals above all) before deciding, so a
		// burst stops the key on its very next request rather than
		// whenever the feed next runs.
		if err := s.feed.Sync(ctx); err != nil {
			return nil, fmt.Errorf("authenticate: look for anomalies: %w", err)
		}
		if g, err = s.cfg.Store.GetGrant(ctx, id); err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		if reason := s.inactive(g, s.now()); reason != "" {
			return nil, s.credentialRefusal(ctx, g.ID, info, reason)
		}
	}
	m, err := s.modeOf(g.Mode)
	if err != nil {
		return nil, fmt.Errorf("authenticate: key %s: %w", g.ID, err)
	}
	return &Session{grant: g, policy: p, mode: m}, nil
}

// credentialFailed counts a credential that names no key (missing,
// malformed, unknown, wrong secret) toward its source's throttle and
// aggregate audit record, and returns the agent's error.
func (s *Service) credentialFailed(surface string, info RequestInfo, reason string) error {
	s.failures.Fail(surface, info.IP, reason)
	return &CredentialError{Reason: reason}
}

// inactive says why a grant cannot act now, or "".
func (s *Service) inactive(g store.Grant, now time.Time) string {
	status := g.Status(now)
	if status != StatusRevoked && status != StatusExpired && !s.sealHolds(g) {
		s.cfg.Log.Error("a key's grant fails its seal: it was changed outside agentkeys, and is refused", "key_id", g.ID)
		return CredentialUnsealed
	}
	switch status {
	case StatusRevoked:
		r := "credential revoked at " + g.RevokedAt.UTC().Format(time.RFC3339)
		if why := g.Meta[store.MetaRevokedReason]; why != "" {
			r += ": " + why
		}
		return r
	case StatusExpired:
		return "credential expired at " + g.ExpiresAt.UTC().Format(time.RFC3339)
	case StatusSuspended:
		// The reason is the owner's to read (key show), not the agent's.
		return CredentialSuspended
	case StatusPendingApproval:
		return CredentialPendingApproval
	case StatusPendingSignature:
		return CredentialPendingSignature
	}
	return ""
}

// credentialRefusal audits, under the key, a request of a known key that
// cannot act (revoked, expired, suspended) and returns the agent's error.
func (s *Service) credentialRefusal(ctx context.Context, keyID string, info RequestInfo, reason string) error {
	rec := info.record(s.now())
	rec.KeyID, rec.Decision, rec.Reasons = keyID, audit.DecisionDeny, []string{reason}
	rec = audit.Bound(rec)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	err := s.cfg.Store.Decide(actx, keyID, func(ctx context.Context, tx store.DecideTx) error {
		_, err := tx.AppendAudit(ctx, rec)
		return err
	})
	if err != nil {
		s.cfg.Log.Error("audit credential refusal", "err", err)
	}
	return &CredentialError{Reason: reason}
}

func ipString(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	return ip.Unmap().String()
}
