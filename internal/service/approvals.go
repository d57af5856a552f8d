package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/agentkeys/agentkeys/internal/passkey"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Approval of widening changes. Once the owner has a passkey, every
// change that gives an agent more power is stored as a pending change
// and takes effect only after a passkey's assertion over a challenge that
// commits to exactly that change: passkey.Challenge of its canonical
// encoding (read again from the store when the assertion arrives) and a
// server nonce. Narrowing changes (revoke, suspend, removing a webhook)
// never wait.

// Kinds of change that wait for a passkey.
const (
	KindGrant         = "grant"          // a new key (stored with Pending = approval)
	KindResume        = "resume"         // a suspended key acting again
	KindWalletUpgrade = "wallet_upgrade" // delegating the owner account (EIP-7702)
	KindAlertAdd      = "alert_add"      // a webhook that will receive alerts
	kindPasskeyRemove = "passkey_remove" // the last passkey (ends every approval)
)

// DefaultChangeTTL is how long a change waits for approval before it
// expires.
const DefaultChangeTTL = 24 * time.Hour

// PendingChange is a change waiting for (or decided by) the owner's
// passkey, described in plain words.
type PendingChange struct {
	ID         string     `json:"change_id"`
	Status     string     `json:"status"` // pending_approval while it waits; else its state
	State      string     `json:"state"`
	Kind       string     `json:"kind"`
	KeyID      string     `json:"key_id,omitempty"`
	Summary    string     `json:"summary"`
	Details    []string   `json:"details"`
	ApproveURL string     `json:"approve_url"`
	Challenge  string     `json:"challenge"` // hex of the WebAuthn challenge that approves it
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
	Detail     string     `json:"detail,omitempty"`
}

// ApprovalPending is the answer of a widening change that now waits for
// the owner's passkey: nothing took effect yet. Transports answer it as a
// success (HTTP 202) carrying Change.
type ApprovalPending struct{ Change PendingChange }

func (e *ApprovalPending) Error() string {
	return fmt.Sprintf("pending owner approval: approve change %s with a passkey at %s", e.Change.ID, e.Change.ApproveURL)
}

// ErrNoChange is returned for a change id that is not stored.
var ErrNoChange = errors.New("no such pending change")

// ErrChangeDecided is returned when approving or rejecting a change that
// is no longer pending (approved, rejected or expired).
var ErrChangeDecided = errors.New("this change is no longer pending")

// The bodies of changes whose canonical encoding is their body. Each
// names its kind, so the encoding says what it is.
type (
	walletUpgrade struct {
		Kind     string `json:"kind"`
		ChainID  uint64 `json:"chain_id"`
		Owner    string `json:"owner"`
		Delegate string `json:"delegate"`
	}
	alertAdd struct {
		Kind         string    `json:"kind"`
		HookID       string    `json:"hook_id"`
		Name         string    `json:"name"`
		URLShown     string    `json:"url_shown"`
		MinSeverity  string    `json:"min_severity"`
		SealedURL    []byte    `json:"sealed_url"`
		SealedSecret []byte    `json:"sealed_secret,omitempty"`
		CreatedAt    time.Time `json:"created_at"`
	}
	passkeyAdd struct {
		Kind         string          `json:"kind"`
		PasskeyID    string          `json:"passkey_id"`
		Name         string          `json:"name"`
		CredentialID string          `json:"credential_id"`
		PublicKey    string          `json:"public_key"`
		RPID         string          `json:"rp_id"`
		Credential   json.RawMessage `json:"credential"`
		CreatedAt    time.Time       `json:"created_at"`
	}
	passkeyRemove struct {
		Kind         string `json:"kind"`
		PasskeyID    string `json:"passkey_id"`
		Name         string `json:"name"`
		CredentialID string `json:"credential_id"`
	}
)

// keyCanon is the canonical encoding of a change about a key (a grant, a
// resume): what the key is and may do, read from the stored grant
// itself, so the approval covers the grant that will act, not a copy.
type keyCanon struct {
	Kind          string          `json:"kind"`
	KeyID         string          `json:"key_id"`
	Agent         string          `json:"agent"`
	Mode          string          `json:"mode"`
	Chains        []uint64        `json:"chains"`
	Address       string          `json:"address"`
	SignerKeyID   string          `json:"signer_key_id"`
	Session       string          `json:"session,omitempty"`
	CreatedAtMS   int64           `json:"created_at_ms"`
	ExpiresAtMS   int64           `json:"expires_at_ms"`
	SuspendedAtMS int64           `json:"suspended_at_ms,omitempty"`
	Policy        json.RawMessage `json:"policy"`
}

// canonical is the encoding of c that its challenge commits to, read
// from what is stored now.
func (s *Service) canonical(ctx context.Context, c store.Change) ([]byte, error) {
	switch c.Kind {
	case KindGrant, KindResume:
		g, err := s.cfg.Store.GetGrant(ctx, c.KeyID)
		if err != nil {
			return nil, fmt.Errorf("change %s: %w", c.ID, err)
		}
		var pol bytes.Buffer
		if err := json.Compact(&pol, g.Policy); err != nil {
			return nil, fmt.Errorf("change %s: the key's stored policy is not JSON", c.ID)
		}
		kc := keyCanon{Kind: c.Kind, KeyID: g.ID, Agent: g.Agent, Mode: g.Mode, Chains: g.Chains, Address: g.Address,
			SignerKeyID: g.SignerKeyID, Session: g.Meta[SessionAddress], CreatedAtMS: g.CreatedAt.UnixMilli(),
			ExpiresAtMS: g.ExpiresAt.UnixMilli(), Policy: pol.Bytes()}
		if c.Kind == KindResume && g.SuspendedAt != nil {
			kc.SuspendedAtMS = g.SuspendedAt.UnixMilli()
		}
		return json.Marshal(kc)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, c.Body); err != nil {
		return nil, fmt.Errorf("change %s: stored body is not JSON", c.ID)
	}
	return out.Bytes(), nil
}

// createChange stores a change that waits for a passkey, with its
// audit record, and returns it described.
func (s *Service) createChange(ctx context.Context, kind, keyID string, body any) (PendingChange, error) {
	_, _, _, err := s.relyingParty()
	if err != nil {
		return PendingChange{}, err
	}
	raw := []byte("{}")
	if body != nil {
		if raw, err = json.Marshal(body); err != nil {
			return PendingChange{}, err
		}
	}
	id, err := randomID("chg_", 8)
	if err != nil {
		return PendingChange{}, err
	}
	nonce, err := randomBytes(32)
	if err != nil {
		return PendingChange{}, err
	}
	now := s.now()
	c := store.Change{ID: id, Kind: kind, KeyID: keyID, Body: raw, Nonce: nonce, State: store.ChangePending, CreatedAt: now, ExpiresAt: now.Add(DefaultChangeTTL)}
	canon, err := s.canonical(ctx, c)
	if err != nil {
		return PendingChange{}, err
	}
	call, _ := json.Marshal(map[string]any{"change_id": id, "kind": kind, "key_id": keyID, "expires_at": c.ExpiresAt,
		"challenge": passkey.B64.EncodeToString(passkey.Challenge(canon, nonce))})
	if err := s.cfg.Store.CreateChange(ctx, c, ownerRecord(now, passkey.MethodCreated, call)); err != nil {
		return PendingChange{}, fmt.Errorf("create pending change: %w", err)
	}
	stored, err := s.cfg.Store.GetChange(ctx, id)
	if err != nil {
		return PendingChange{}, fmt.Errorf("create pending change: %w", err)
	}
	return s.describeChange(ctx, stored)
}

// pending returns an *ApprovalPending for a new change of kind when the
// owner has a passkey, nil when the change may take effect at once.
func (s *Service) pending(ctx context.Context, kind, keyID string, body any) error {
	need, err := s.ApprovalRequired(ctx)
	if err != nil || !need {
		return err
	}
	pc, err := s.createChange(ctx, kind, keyID, body)
	if err != nil {
		return err
	}
	return &ApprovalPending{Change: pc}
}

// Changes lists the changes in state ("" for all), newest first, at most
// limit (0: 100); pending ones past their expiry are expired first.
func (s *Service) Changes(ctx context.Context, state string, limit int) ([]PendingChange, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	s.expireChanges(ctx)
	cs, err := s.cfg.Store.ListChanges(ctx, store.ChangeFilter{State: state, Limit: limit})
	if errors.Is(err, store.ErrInvalid) {
		return nil, &ParamError{Field: "state", Msg: "expected pending, approved, rejected or expired"}
	}
	if err != nil {
		return nil, err
	}
	out := make([]PendingChange, 0, len(cs))
	for _, c := range cs {
		pc, err := s.describeChange(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, pc)
	}
	return out, nil
}

// Change returns one change, described. Errors: ErrNoChange.
func (s *Service) Change(ctx context.Context, id string) (PendingChange, error) {
	c, err := s.getChange(ctx, id)
	if err != nil {
		return PendingChange{}, err
	}
	return s.describeChange(ctx, c)
}

func (s *Service) getChange(ctx context.Context, id string) (store.Change, error) {
	c, err := s.cfg.Store.GetChange(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Change{}, ErrNoChange
	}
	if err != nil {
		return store.Change{}, err
	}
	if c.State == store.ChangePending && !s.now().Before(c.ExpiresAt) {
		s.settleUnapplied(ctx, c, store.ChangeExpired, passkey.MethodExpired, "nobody approved it in time")
		if c, err = s.cfg.Store.GetChange(ctx, id); err != nil {
			return store.Change{}, err
		}
	}
	return c, nil
}

// expireChanges expires the pending changes past their expiry.
func (s *Service) expireChanges(ctx context.Context) {
	cs, err := s.cfg.Store.ListChanges(ctx, store.ChangeFilter{State: store.ChangePending, Limit: 1000})
	if err != nil {
		s.cfg.Log.Error("expire pending changes", "err", err)
		return
	}
	for _, c := range cs {
		if !s.now().Before(c.ExpiresAt) {
			s.settleUnapplied(ctx, c, store.ChangeExpired, passkey.MethodExpired, "nobody approved it in time")
		}
	}
}

// settleUnapplied rejects or expires c with its audit record; a key
// granted pending approval is revoked, since it will never act.
func (s *Service) settleUnapplied(ctx context.Context, c store.Change, to, method, why string) bool {
	now := s.now()
	call, _ := json.Marshal(map[string]any{"change_id": c.ID, "kind": c.Kind, "key_id": c.KeyID, "reason": why})
	rec := ownerRecord(now, method, call)
	done, err := s.cfg.Store.SettleChange(ctx, c.ID, store.ChangeSettlement{To: to, At: now, Detail: why, Audit: &rec})
	if err != nil {
		s.cfg.Log.Error("settle pending change", "change", c.ID, "err", err)
		return false
	}
	if done && c.Kind == KindGrant {
		reason := "its grant was " + to + " (" + why + ")"
		if _, err := s.cfg.Store.RevokeGrantFor(ctx, c.KeyID, now, reason, keyRecord(now, "agentkeys_revoke", c.KeyID, reason)); err != nil {
			s.cfg.Log.Error("revoke a key whose grant was not approved", "key", c.KeyID, "err", err)
		}
	}
	return done
}

// RejectChange refuses a pending change: it never takes effect (a key
// granted pending approval is revoked). Errors: ErrNoChange,
// ErrChangeDecided.
func (s *Service) RejectChange(ctx context.Context, id string) (PendingChange, error) {
	c, err := s.getChange(ctx, id)
	if err != nil {
		return PendingChange{}, err
	}
	if c.State != store.ChangePending || !s.settleUnapplied(ctx, c, store.ChangeRejected, passkey.MethodRejected, "rejected by the owner") {
		return PendingChange{}, ErrChangeDecided
	}
	return s.Change(ctx, id)
}

// BeginApproval returns the options for navigator.credentials.get whose
// challenge approves change id as stored now. Errors: ErrNoChange,
// ErrChangeDecided.
func (s *Service) BeginApproval(ctx context.Context, id string) (json.RawMessage, error) {
	wa, _, _, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	c, err := s.getChange(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.State != store.ChangePending {
		return nil, ErrChangeDecided
	}
	canon, err := s.canonical(ctx, c)
	if err != nil {
		return nil, err
	}
	o, _, err := s.ownerUser(ctx)
	if err != nil {
		return nil, err
	}
	if len(o.creds) == 0 {
		return nil, &PasskeyError{Msg: "the owner has no passkey to approve with"}
	}
	assertion, _, err := wa.BeginLogin(o, webauthn.WithChallenge(passkey.Challenge(canon, c.Nonce)),
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin approval: %w", err)
	}
	return json.Marshal(assertion)
}

// FinishApproval checks a passkey's assertion (the PublicKeyCredential as
// JSON) over change id and, if it signs the challenge of the change as
// stored now, records the approval (with the assertion) and applies the
// change. A change altered after its challenge was handed out is refused:
// its challenge is recomputed from the store. Errors: ErrNoChange,
// ErrChangeDecided, *PasskeyError.
func (s *Service) FinishApproval(ctx context.Context, id string, response []byte) (PendingChange, error) {
	wa, rpID, _, err := s.relyingParty()
	if err != nil {
		return PendingChange{}, err
	}
	c, err := s.getChange(ctx, id)
	if err != nil {
		return PendingChange{}, err
	}
	if c.State != store.ChangePending {
		return PendingChange{}, ErrChangeDecided
	}
	canon, err := s.canonical(ctx, c)
	if err != nil {
		return PendingChange{}, err
	}
	challenge := passkey.Challenge(canon, c.Nonce)
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return PendingChange{}, &PasskeyError{Msg: "the browser's answer does not parse: " + protocolMessage(err)}
	}
	o, ps, err := s.ownerUser(ctx)
	if err != nil {
		return PendingChange{}, err
	}
	var signer *store.Passkey
	for i := range ps {
		if bytes.Equal(ps[i].CredentialID, parsed.RawID) {
			signer = &ps[i]
		}
	}
	if signer == nil {
		return PendingChange{}, &PasskeyError{Msg: "approval refused: the passkey is not one of the owner's"}
	}
	if err := s.checkRegistration(ctx, *signer); err != nil {
		return PendingChange{}, err
	}
	session := webauthn.SessionData{Challenge: passkey.B64.EncodeToString(challenge), RelyingPartyID: rpID, UserID: o.WebAuthnID(),
		UserVerification: protocol.VerificationRequired}
	if _, err := wa.ValidateLogin(o, session, parsed); err != nil {
		msg := protocolMessage(err)
		if parsed.Response.CollectedClientData.Challenge != passkey.B64.EncodeToString(challenge) {
			msg = "the passkey signed another challenge than this change's as stored now: the change was altered after it was shown, or the approval is for another change"
		}
		s.cfg.Log.Warn("owner approval refused", "change", c.ID, "reason", msg)
		return PendingChange{}, &PasskeyError{Msg: "approval refused: " + msg}
	}
	raw := parsed.Raw.AssertionResponse
	call, _ := json.Marshal(passkey.Approved{ChangeID: c.ID, Kind: c.Kind, KeyID: c.KeyID, Change: canon,
		Nonce: passkey.B64.EncodeToString(c.Nonce), Challenge: passkey.B64.EncodeToString(challenge),
		CredentialID: passkey.B64.EncodeToString(signer.CredentialID), AuthenticatorData: passkey.B64.EncodeToString(raw.AuthenticatorData),
		ClientDataJSON: passkey.B64.EncodeToString(raw.ClientDataJSON), Signature: passkey.B64.EncodeToString(raw.Signature)})
	now := s.now()
	rec := ownerRecord(now, passkey.MethodApproved, call)
	done, err := s.cfg.Store.SettleChange(ctx, c.ID, store.ChangeSettlement{To: store.ChangeApproved, At: now, Audit: &rec})
	if err != nil {
		return PendingChange{}, fmt.Errorf("record approval: %w", err)
	}
	if !done {
		return PendingChange{}, ErrChangeDecided
	}
	if err := s.apply(ctx, c); err != nil {
		s.cfg.Log.Error("apply an approved change", "change", c.ID, "kind", c.Kind, "err", err)
		s.adminAudit(ctx, "agentkeys_changeFailed", map[string]any{"change_id": c.ID, "kind": c.Kind, "key_id": c.KeyID, "error": PublicError(err)})
		if c.Kind == KindGrant {
			reason := "approved, but it could not be applied"
			_, _ = s.cfg.Store.RevokeGrantFor(context.WithoutCancel(ctx), c.KeyID, s.now(), reason, keyRecord(s.now(), "agentkeys_revoke", c.KeyID, reason))
		}
		return PendingChange{}, fmt.Errorf("the change is approved, but applying it failed: %w", err)
	}
	s.cfg.Log.Info("owner approved a change", "change", c.ID, "kind", c.Kind, "key", c.KeyID, "passkey", signer.ID)
	return s.Change(ctx, c.ID)
}

// checkRegistration refuses a passkey whose stored row is not the one its
// registration record put in the audit log (a row inserted or edited in
// the database).
func (s *Service) checkRegistration(ctx context.Context, p store.Passkey) error {
	refused := &PasskeyError{Msg: "approval refused: passkey " + p.ID + " does not match its registration in the audit log"}
	if p.AuditSeq < 1 {
		return refused
	}
	recs, err := s.cfg.Store.AuditRecords(ctx, p.AuditSeq-1, 1)
	if err != nil {
		return fmt.Errorf("read the passkey's registration: %w", err)
	}
	if len(recs) != 1 || recs[0].Seq != p.AuditSeq || recs[0].Method != passkey.MethodRegistered {
		return refused
	}
	var reg passkey.Registered
	if json.Unmarshal(recs[0].Call, &reg) != nil || reg.CredentialID != passkey.B64.EncodeToString(p.CredentialID) ||
		reg.PublicKey != passkey.B64.EncodeToString(p.PublicKey) {
		return refused
	}
	return nil
}

// apply makes an approved change take effect.
func (s *Service) apply(ctx context.Context, c store.Change) error {
	now := s.now()
	switch c.Kind {
	case KindGrant:
		g, err := s.cfg.Store.GetGrant(ctx, c.KeyID)
		if err != nil {
			return err
		}
		if !s.sealHolds(g) {
			return errUnsealed
		}
		if err := s.finishApprovedGrant(ctx, g); err != nil {
			return err
		}
		done, err := s.activatePending(ctx, g.ID, store.PendingApproval, nil, keyRecord(now, "agentkeys_grantApproved", g.ID, "approved with a passkey, change "+c.ID))
		if err != nil {
			return err
		}
		if !done {
			return errors.New("the key is no longer waiting for approval (revoked?)")
		}
	case KindResume:
		if _, err := s.cfg.Store.ResumeGrant(ctx, c.KeyID, keyRecord(now, MethodKeyResumed, c.KeyID, "resumed by the owner, approved with a passkey, change "+c.ID)); err != nil {
			return err
		}
	case KindWalletUpgrade:
		var b walletUpgrade
		if err := json.Unmarshal(c.Body, &b); err != nil {
			return err
		}
		if common.HexToAddress(b.Delegate) != s.delegate() || b.ChainID != s.cfg.ChainID || common.HexToAddress(b.Owner) != s.Address() {
			return errors.New("the daemon's delegate, chain or owner changed since the upgrade was asked for; ask again")
		}
		_, err := s.upgrade(ctx)
		return err
	case KindAlertAdd:
		var b alertAdd
		if err := json.Unmarshal(c.Body, &b); err != nil {
			return err
		}
		h := store.AlertHook{ID: b.HookID, Name: b.Name, URLShown: b.URLShown, SealedURL: b.SealedURL, SealedSecret: b.SealedSecret,
			MinSeverity: b.MinSeverity, CreatedAt: b.CreatedAt}
		return s.putAlertHook(ctx, h)
	case passkey.KindPasskeyAdd:
		var b passkeyAdd
		if err := json.Unmarshal(c.Body, &b); err != nil {
			return err
		}
		cid, err1 := passkey.B64.DecodeString(b.CredentialID)
		pub, err2 := passkey.B64.DecodeString(b.PublicKey)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		_, err := s.addPasskey(ctx, store.Passkey{ID: b.PasskeyID, Name: b.Name, CredentialID: cid, PublicKey: pub, Credential: b.Credential,
			CreatedAt: b.CreatedAt}, b.RPID, c.ID)
		return err
	case kindPasskeyRemove:
		var b passkeyRemove
		if err := json.Unmarshal(c.Body, &b); err != nil {
			return err
		}
		ps, err := s.cfg.Store.ListPasskeys(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.ID == b.PasskeyID {
				return s.removePasskey(ctx, p, c.ID)
			}
		}
		return ErrNoPasskey
	default:
		return fmt.Errorf("unknown change kind %q", c.Kind)
	}
	return nil
}

// finishApprovedGrant does what granting defers until approval: in 7702
// mode, registering and funding the session key on chain.
func (s *Service) finishApprovedGrant(ctx context.Context, g store.Grant) error {
	if g.Mode != Mode7702 {
		return nil
	}
	pol, err := compileStored(g)
	if err != nil {
		return err
	}
	if s.cfg.Vault == nil {
		return errors.New("no vault to open the session key")
	}
	k, err := s.cfg.Store.GetKey(ctx, g.SignerKeyID)
	if err != nil {
		return fmt.Errorf("load session key: %w", err)
	}
	raw, err := s.cfg.Vault.Open(k.ID, k.Sealed)
	if err != nil {
		return fmt.Errorf("open session key: %w", err)
	}
	key, err := secrets.PrivateKeyFromBytes(raw)
	clear(raw)
	if err != nil {
		return err
	}
	m, err := s.modeOf(g.Mode)
	if err != nil {
		return err
	}
	_, err = m.finishGrant(ctx, g, pol, grantPrep{signerKeyID: g.SignerKeyID, meta: g.Meta, session: key})
	return err
}

// describeChange puts c in plain words.
func (s *Service) describeChange(ctx context.Context, c store.Change) (PendingChange, error) {
	pc := PendingChange{ID: c.ID, Status: c.State, State: c.State, Kind: c.Kind, KeyID: c.KeyID, CreatedAt: c.CreatedAt,
		ExpiresAt: c.ExpiresAt, DecidedAt: c.DecidedAt, Detail: c.Detail, Details: []string{}}
	if c.State == store.ChangePending {
		pc.Status = StatusPendingApproval
	}
	if base := s.OwnerURL(); base != "" {
		pc.ApproveURL = base + "/ui/approvals/" + c.ID
	}
	if canon, err := s.canonical(ctx, c); err == nil {
		pc.Challenge = hex.EncodeToString(passkey.Challenge(canon, c.Nonce))
	}
	switch c.Kind {
	case KindGrant, KindResume:
		g, err := s.cfg.Store.GetGrant(ctx, c.KeyID)
		if err != nil {
			pc.Summary = "A change to key " + c.KeyID + ", which is no longer stored."
			return pc, nil
		}
		if c.Kind == KindGrant {
			pc.Summary = fmt.Sprintf("Give agent %s a new %s-mode key %s acting as %s on chain(s) %v, until %s.", g.Agent, g.Mode, g.ID, g.Address,
				g.Chains, g.ExpiresAt.UTC().Format(time.RFC3339))
		} else {
			pc.Summary = fmt.Sprintf("Let the suspended key %s of agent %s act again, until %s.", g.ID, g.Agent, g.ExpiresAt.UTC().Format(time.RFC3339))
			if g.SuspendReason != "" {
				pc.Details = append(pc.Details, "It was suspended because: "+g.SuspendReason)
			}
		}
		pc.Details = append(pc.Details, keyTerms(g, s.now())...)
	case KindWalletUpgrade:
		var b walletUpgrade
		_ = json.Unmarshal(c.Body, &b)
		pc.Summary = fmt.Sprintf("Delegate the owner account %s on chain %d to AgentKeyDelegate %s (EIP-7702), so that 7702-mode keys can act through it.",
			b.Owner, b.ChainID, b.Delegate)
	case KindAlertAdd:
		var b alertAdd
		_ = json.Unmarshal(c.Body, &b)
		pc.Summary = fmt.Sprintf("Send alerts of severity %s and above to webhook %q at %s.", b.MinSeverity, b.Name, b.URLShown)
		pc.Details = append(pc.Details, "Alerts name keys, agents, addresses, amounts and callers' IP addresses: whoever receives them learns that.")
		if b.SealedSecret == nil {
			pc.Details = append(pc.Details, "Deliveries are not signed.")
		}
	case passkey.KindPasskeyAdd:
		var b passkeyAdd
		_ = json.Unmarshal(c.Body, &b)
		pc.Summary = fmt.Sprintf("Register another passkey, %q (credential %s): it could approve changes like this one.", b.Name, shortID(b.CredentialID))
	case kindPasskeyRemove:
		var b passkeyRemove
		_ = json.Unmarshal(c.Body, &b)
		pc.Summary = fmt.Sprintf("Remove the last passkey, %q (credential %s): changes that widen an agent's power then take effect without any approval.",
			b.Name, shortID(b.CredentialID))
	default:
		pc.Summary = "An unknown change (" + c.Kind + "): do not approve it."
	}
	return pc, nil
}

// keyTerms says what a key may do, from its stored policy compiled anew
// (never a cached copy: the approval is of what is stored).
func keyTerms(g store.Grant, now time.Time) []string {
	p, err := compileStored(g)
	if err != nil {
		return []string{"Its stored policy does not compile: it would refuse every request. Do not approve it."}
	}
	d := describe(g, p, usage{}, now)
	out := []string{fmt.Sprintf("Policy %s", d.Policy)}
	if d.Profile != "" {
		out[0] += " (profile " + d.Profile + ")"
	}
	if d.Warning != "" {
		out = append(out, "Warning: "+d.Warning)
	}
	for _, m := range d.May {
		out = append(out, "It may "+m)
	}
	for _, b := range d.Budget {
		name := b.Symbol
		if name == "" {
			name = b.Asset
		}
		if b.Asset != store.AssetNative && b.Asset != store.AssetFees && b.Symbol != "" {
			name = b.Symbol + " (" + b.Asset + ")"
		}
		unit := b.Symbol
		if unit == "" {
			unit = "units"
		}
		var caps []string
		if b.PerTx != "" {
			caps = append(caps, b.PerTx+" "+unit+" per transaction")
		}
		if b.PerPeriod != "" {
			caps = append(caps, b.PerPeriod+" "+unit+" per "+b.Period)
		}
		if len(caps) > 0 {
			out = append(out, "Cap on "+name+": "+strings.Join(caps, ", "))
		}
	}
	if d.Rate != nil {
		out = append(out, fmt.Sprintf("At most %d requests per %s", d.Rate.Max, d.Rate.Per))
	}
	for _, m := range d.MayNot {
		out = append(out, "Not allowed: "+m)
	}
	return out
}

func shortID(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:8] + "…" + s[len(s)-4:]
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

// needsApproval marks g as waiting for a passkey's approval when the
// owner has a passkey, and says so. A grant already waiting for
// something else (the owner's signature) is left alone: that is its
// approval.
func (s *Service) needsApproval(ctx context.Context, g *store.Grant) (bool, error) {
	if g.Pending != "" {
		return false, nil
	}
	need, err := s.ApprovalRequired(ctx)
	if err != nil || !need {
		return false, err
	}
	if _, _, _, err := s.relyingParty(); err != nil {
		return false, err
	}
	g.Pending = store.PendingApproval
	return true, nil
}

// grantPendingApproval finishes a grant stored pending approval: its
// change is created and the key is shown (its credential once), acting
// only once approved. In 7702 mode the session key is registered on
// chain only then.
func (s *Service) grantPendingApproval(ctx context.Context, g store.Grant, cred secrets.Credential, pol *policy.Policy) (*GrantResult, error) {
	pc, err := s.createChange(ctx, KindGrant, g.ID, nil)
	if err != nil {
		_ = s.cfg.Store.RevokeGrant(context.WithoutCancel(ctx), g.ID, s.now())
		return nil, fmt.Errorf("grant: %w", err)
	}
	stored, err := s.cfg.Store.GetGrant(ctx, g.ID)
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	return &GrantResult{Grant: s.info(stored), Token: cred, Policy: pol, Pending: &pc}, nil
}
