package service

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/passkey"
	"github.com/agentkeys/agentkeys/internal/store"
)

// The owner's passkeys: registered through a one-time link (the CLI
// prints it, the dashboard opens it), listed, removed. Once one exists,
// every change that gives an agent more power waits for one of them
// (approvals.go).

// EnrollmentTTL is how long a passkey registration link works.
const EnrollmentTTL = 10 * time.Minute

// ErrNoOwnerURL is returned when the daemon has not said where the
// owner's pages are (SetOwnerURL), so no link can be made.
var ErrNoOwnerURL = errors.New("the owner's pages have no address yet: passkeys need the daemon's admin listener")

// ErrEnrollment is returned for a registration link that is unknown,
// used or expired.
var ErrEnrollment = errors.New("this passkey registration link is unknown, used or expired: ask for a new one (agentkeys owner passkey add)")

// PasskeyError is returned when a passkey ceremony fails; its message says
// why, for the owner.
type PasskeyError struct{ Msg string }

func (e *PasskeyError) Error() string { return "passkey: " + e.Msg }

// Passkey is one of the owner's passkeys as listings show it.
type Passkey struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	CredentialID string    `json:"credential_id"` // base64url
	CreatedAt    time.Time `json:"created_at"`
	AuditSeq     int64     `json:"audit_seq"` // its registration record
}

// Enrollment is a one-time link that registers a passkey.
type Enrollment struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ownerRP is the WebAuthn relying party: the owner's pages' origin.
type ownerRP struct {
	mu   sync.Mutex
	base string // the owner's pages' base URL, like http://localhost:8646
	rpID string
	wa   *webauthn.WebAuthn
}

// SetOwnerURL says where the owner's pages are (the admin listener's base
// URL). WebAuthn needs a host name, not an IP address: a loopback IP
// becomes "localhost", which browsers treat as a secure context over
// plain http. Links and approval URLs use this address.
func (s *Service) SetOwnerURL(base string) error {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &ParamError{Field: "owner_url", Msg: "expected an http(s) URL like https://agentkeys.example.com"}
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return &ParamError{Field: "owner_url", Msg: "passkeys need a host name, not an IP address: give the name the owner's browser uses"}
		}
		host = "localhost"
		if p := u.Port(); p != "" {
			u.Host = net.JoinHostPort(host, p)
		} else {
			u.Host = host
		}
	}
	if u.Scheme == "http" && host != "localhost" {
		return &ParamError{Field: "owner_url", Msg: "passkeys need https, or http on localhost"}
	}
	origin := u.Scheme + "://" + u.Host
	wa, err := webauthn.New(&webauthn.Config{RPID: host, RPDisplayName: "agentkeys", RPOrigins: []string{origin},
		AuthenticatorSelection: protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationRequired}})
	if err != nil {
		return fmt.Errorf("owner url: %w", err)
	}
	s.rp.mu.Lock()
	defer s.rp.mu.Unlock()
	s.rp.base, s.rp.rpID, s.rp.wa = origin, host, wa
	return nil
}

// OwnerURL is the owner's pages' base URL, "" before SetOwnerURL.
func (s *Service) OwnerURL() string {
	s.rp.mu.Lock()
	defer s.rp.mu.Unlock()
	return s.rp.base
}

func (s *Service) relyingParty() (*webauthn.WebAuthn, string, string, error) {
	s.rp.mu.Lock()
	defer s.rp.mu.Unlock()
	if s.rp.wa == nil {
		return nil, "", "", ErrNoOwnerURL
	}
	return s.rp.wa, s.rp.rpID, s.rp.base, nil
}

// owner is the one WebAuthn user: the owner, with every passkey.
type owner struct{ creds []webauthn.Credential }

func (owner) WebAuthnID() []byte                           { return []byte("agentkeys-owner") }
func (owner) WebAuthnName() string                         { return "owner" }
func (owner) WebAuthnDisplayName() string                  { return "agentkeys owner" }
func (o owner) WebAuthnCredentials() []webauthn.Credential { return o.creds }

func (s *Service) ownerUser(ctx context.Context) (owner, []store.Passkey, error) {
	ps, err := s.cfg.Store.ListPasskeys(ctx)
	if err != nil {
		return owner{}, nil, fmt.Errorf("read passkeys: %w", err)
	}
	o := owner{}
	for _, p := range ps {
		var c webauthn.Credential
		if err := json.Unmarshal(p.Credential, &c); err != nil {
			return owner{}, nil, fmt.Errorf("passkey %s: stored credential does not parse: %w", p.ID, err)
		}
		o.creds = append(o.creds, c)
	}
	return o, ps, nil
}

// Passkeys lists the owner's passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context) ([]Passkey, error) {
	ps, err := s.cfg.Store.ListPasskeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	out := make([]Passkey, 0, len(ps))
	for _, p := range ps {
		out = append(out, passkeyView(p))
	}
	return out, nil
}

func passkeyView(p store.Passkey) Passkey {
	return Passkey{ID: p.ID, Name: p.Name, CredentialID: passkey.B64.EncodeToString(p.CredentialID), CreatedAt: p.CreatedAt, AuditSeq: p.AuditSeq}
}

// ApprovalRequired reports whether changes that widen an agent's power
// wait for a passkey: whether the owner has registered one.
func (s *Service) ApprovalRequired(ctx context.Context) (bool, error) {
	ps, err := s.cfg.Store.ListPasskeys(ctx)
	if err != nil {
		return false, fmt.Errorf("read passkeys: %w", err)
	}
	return len(ps) > 0, nil
}

// NewEnrollment makes a one-time link that registers a passkey, valid
// for EnrollmentTTL. Only the hash of its secret is stored; the secret is
// in the link's fragment, which browsers never send to a server.
func (s *Service) NewEnrollment(ctx context.Context) (Enrollment, error) {
	_, _, base, err := s.relyingParty()
	if err != nil {
		return Enrollment{}, err
	}
	tok, err := randomID("", 32)
	if err != nil {
		return Enrollment{}, err
	}
	h := sha256.Sum256([]byte(tok))
	now := s.now()
	e := store.Enrollment{TokenHash: h[:], CreatedAt: now, ExpiresAt: now.Add(EnrollmentTTL)}
	if err := s.cfg.Store.PutEnrollment(ctx, e); err != nil {
		return Enrollment{}, fmt.Errorf("passkey link: %w", err)
	}
	s.adminAudit(ctx, "agentkeys_passkeyLink", map[string]any{"expires_at": e.ExpiresAt})
	return Enrollment{URL: base + "/ui/enroll#" + tok, ExpiresAt: e.ExpiresAt}, nil
}

// BeginRegistration starts registering a passkey with the link's token:
// it returns the options for navigator.credentials.create (JSON).
// Errors: ErrEnrollment.
func (s *Service) BeginRegistration(ctx context.Context, token string) (json.RawMessage, error) {
	wa, _, _, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(token))
	if _, err := s.cfg.Store.CheckEnrollment(ctx, h[:], s.now()); errors.Is(err, store.ErrNotFound) {
		return nil, ErrEnrollment
	} else if err != nil {
		return nil, err
	}
	o, _, err := s.ownerUser(ctx)
	if err != nil {
		return nil, err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range o.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, session, err := wa.BeginRegistration(o, webauthn.WithExclusions(exclude),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationRequired}))
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	// Kept with the link, so whichever replica the browser reaches next
	// can finish it.
	ceremony, err := json.Marshal(session)
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	if err := s.cfg.Store.BeginEnrollment(ctx, h[:], ceremony, s.now()); errors.Is(err, store.ErrNotFound) {
		return nil, ErrEnrollment
	} else if err != nil {
		return nil, err
	}
	return json.Marshal(creation)
}

// RegistrationResult is a finished registration: the passkey, or, when
// another passkey exists, the change that adds it once one of those
// approves it.
type RegistrationResult struct {
	Passkey *Passkey       `json:"passkey,omitempty"`
	Pending *PendingChange `json:"pending,omitempty"`
}

// FinishRegistration checks the browser's answer (the
// PublicKeyCredential as JSON) to BeginRegistration's options and uses
// up the link. The first passkey is registered at once; a further one
// is a change that an existing passkey approves (it would give whoever
// holds it the power to approve). Errors: ErrEnrollment, *PasskeyError,
// *ParamError for a bad name.
func (s *Service) FinishRegistration(ctx context.Context, token, name string, response []byte) (RegistrationResult, error) {
	wa, rpID, _, err := s.relyingParty()
	if err != nil {
		return RegistrationResult{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "passkey"
	}
	if len(name) > 64 || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return RegistrationResult{}, &ParamError{Field: "name", Msg: "expected up to 64 printable characters"}
	}
	h := sha256.Sum256([]byte(token))
	e, err := s.cfg.Store.CheckEnrollment(ctx, h[:], s.now())
	if errors.Is(err, store.ErrNotFound) {
		return RegistrationResult{}, ErrEnrollment
	} else if err != nil {
		return RegistrationResult{}, err
	}
	var session webauthn.SessionData
	if len(e.Ceremony) == 0 || json.Unmarshal(e.Ceremony, &session) != nil {
		return RegistrationResult{}, ErrEnrollment
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return RegistrationResult{}, &PasskeyError{Msg: "the browser's answer does not parse: " + protocolMessage(err)}
	}
	o, existing, err := s.ownerUser(ctx)
	if err != nil {
		return RegistrationResult{}, err
	}
	cred, err := wa.CreateCredential(o, session, parsed)
	if err != nil {
		return RegistrationResult{}, &PasskeyError{Msg: "registration refused: " + protocolMessage(err)}
	}
	credJSON, err := json.Marshal(cred)
	if err != nil {
		return RegistrationResult{}, err
	}
	if err := s.cfg.Store.UseEnrollment(ctx, h[:], s.now()); errors.Is(err, store.ErrNotFound) {
		return RegistrationResult{}, ErrEnrollment
	} else if err != nil {
		return RegistrationResult{}, err
	}
	id, err := randomID("pk_", 8)
	if err != nil {
		return RegistrationResult{}, err
	}
	p := store.Passkey{ID: id, Name: name, CredentialID: cred.ID, PublicKey: cred.PublicKey, Credential: credJSON, CreatedAt: s.now()}
	if len(existing) > 0 {
		pc, err := s.createChange(ctx, passkey.KindPasskeyAdd, "", passkeyAdd{PasskeyID: p.ID, Name: p.Name,
			CredentialID: passkey.B64.EncodeToString(p.CredentialID), PublicKey: passkey.B64.EncodeToString(p.PublicKey), RPID: rpID,
			Credential: credJSON, CreatedAt: p.CreatedAt})
		if err != nil {
			return RegistrationResult{}, err
		}
		return RegistrationResult{Pending: &pc}, nil
	}
	stored, err := s.addPasskey(ctx, p, rpID, "")
	if err != nil {
		return RegistrationResult{}, err
	}
	v := passkeyView(stored)
	return RegistrationResult{Passkey: &v}, nil
}

// addPasskey stores p with its registration record.
func (s *Service) addPasskey(ctx context.Context, p store.Passkey, rpID, changeID string) (store.Passkey, error) {
	call, _ := json.Marshal(passkey.Registered{PasskeyID: p.ID, Name: p.Name, CredentialID: passkey.B64.EncodeToString(p.CredentialID),
		PublicKey: passkey.B64.EncodeToString(p.PublicKey), RPID: rpID, ChangeID: changeID})
	stored, err := s.cfg.Store.AddPasskey(ctx, p, ownerRecord(s.now(), passkey.MethodRegistered, call))
	if err != nil {
		return store.Passkey{}, fmt.Errorf("register passkey: %w", err)
	}
	s.cfg.Log.Info("owner passkey registered", "passkey", stored.ID, "name", stored.Name)
	return stored, nil
}

func ownerRecord(at time.Time, method string, call []byte) audit.Record {
	return audit.Record{Time: at, Method: method, Call: call, Decision: audit.DecisionAllow, Reasons: []string{}}
}

// RemovePasskey removes one of the owner's passkeys. Removing the last
// one would end every approval, so it is a change a passkey approves
// (the result is then its pending change). Errors: ErrNoPasskey.
func (s *Service) RemovePasskey(ctx context.Context, id string) (*PendingChange, error) {
	ps, err := s.cfg.Store.ListPasskeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("remove passkey: %w", err)
	}
	var p *store.Passkey
	for i := range ps {
		if ps[i].ID == id {
			p = &ps[i]
		}
	}
	if p == nil {
		return nil, ErrNoPasskey
	}
	if len(ps) == 1 {
		pc, err := s.createChange(ctx, kindPasskeyRemove, "", passkeyRemove{PasskeyID: p.ID, Name: p.Name, CredentialID: passkey.B64.EncodeToString(p.CredentialID)})
		if err != nil {
			return nil, err
		}
		return &pc, nil
	}
	return nil, s.removePasskey(ctx, *p, "")
}

func (s *Service) removePasskey(ctx context.Context, p store.Passkey, changeID string) error {
	call, _ := json.Marshal(passkey.Removed{PasskeyID: p.ID, CredentialID: passkey.B64.EncodeToString(p.CredentialID), ChangeID: changeID})
	if err := s.cfg.Store.RemovePasskey(ctx, p.ID, ownerRecord(s.now(), passkey.MethodRemoved, call)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoPasskey
		}
		return fmt.Errorf("remove passkey: %w", err)
	}
	s.cfg.Log.Info("owner passkey removed", "passkey", p.ID)
	return nil
}

// ErrNoPasskey is returned for a passkey id the owner has not registered.
var ErrNoPasskey = errors.New("no such passkey (see agentkeys owner passkey list)")

// protocolMessage is what a WebAuthn library error says to a person.
func protocolMessage(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		msg := pe.Details
		if pe.DevInfo != "" {
			msg += ": " + pe.DevInfo
		}
		return bound.Text(bound.Escape(msg), 300)
	}
	return bound.Text(bound.Escape(err.Error()), 300)
}
