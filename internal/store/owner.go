package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
)

// The owner's passkeys, the one-time links that register them, and the
// changes waiting for a passkey's approval. The service decides what
// they mean; the store keeps them, each write together with its audit
// record where there is one.

// Passkey is a WebAuthn credential of the owner. Its registration's
// audit record (AuditSeq) carries CredentialID and PublicKey, so the
// audit log, not this row, is what an approval is verified against.
type Passkey struct {
	ID           string
	Name         string
	CredentialID []byte
	PublicKey    []byte          // COSE_Key, as registered
	Credential   json.RawMessage // the WebAuthn library's record of it (flags, AAGUID, transports)
	CreatedAt    time.Time
	AuditSeq     int64 // the Seq of its registration record (set by AddPasskey)
}

// Validate returns an error wrapping ErrInvalid unless p has an id, a
// name of at most 64 bytes, a credential id, a public key, a credential
// record and a creation time.
func (p Passkey) Validate() error {
	switch {
	case p.ID == "":
		return fmt.Errorf("%w: passkey id is empty", ErrInvalid)
	case p.Name == "" || len(p.Name) > 64:
		return fmt.Errorf("%w: passkey name must be 1 to 64 bytes", ErrInvalid)
	case len(p.CredentialID) == 0 || len(p.CredentialID) > 1023:
		return fmt.Errorf("%w: passkey credential id must be 1 to 1023 bytes", ErrInvalid)
	case len(p.PublicKey) == 0:
		return fmt.Errorf("%w: passkey public key is empty", ErrInvalid)
	case !json.Valid(p.Credential):
		return fmt.Errorf("%w: passkey credential record is not JSON", ErrInvalid)
	case p.CreatedAt.IsZero():
		return fmt.Errorf("%w: passkey creation time is zero", ErrInvalid)
	}
	return nil
}

// Enrollment is a one-time link that registers a passkey: only the hash
// of its secret is stored.
type Enrollment struct {
	TokenHash []byte // 32 bytes
	CreatedAt time.Time
	ExpiresAt time.Time
	// Ceremony is the registration ceremony begun with the link
	// (BeginEnrollment: the relying party's state, its challenge), kept in
	// the store so any replica can finish it; nil until begun.
	Ceremony []byte
}

// Validate returns an error wrapping ErrInvalid unless e has a 32-byte
// hash and an expiry after its creation.
func (e Enrollment) Validate() error {
	switch {
	case len(e.TokenHash) != 32:
		return fmt.Errorf("%w: enrollment token hash must be 32 bytes", ErrInvalid)
	case e.CreatedAt.IsZero() || !e.ExpiresAt.After(e.CreatedAt):
		return fmt.Errorf("%w: enrollment needs a creation time and a later expiry", ErrInvalid)
	}
	return nil
}

// States of an owner change.
const (
	ChangePending  = "pending"  // waiting for a passkey's approval
	ChangeApproved = "approved" // approved and applied
	ChangeRejected = "rejected" // the owner said no
	ChangeExpired  = "expired"  // nobody approved it in time
	ChangeFailed   = "failed"   // approved, but applying it failed (Detail says why)
)

// Change is a change that gives an agent more power, waiting for the
// owner's passkey. Body is the change as the service encodes it; the
// approval's challenge is a hash of it (and of what it names) with Nonce.
type Change struct {
	ID        string
	Kind      string
	KeyID     string // the key it is about, "" if none
	Body      json.RawMessage
	Nonce     []byte
	State     string
	CreatedAt time.Time
	ExpiresAt time.Time
	DecidedAt *time.Time
	Detail    string // why it was rejected or failed
}

// MaxChangeBody bounds Change.Body.
const MaxChangeBody = 1 << 20

// Validate returns an error wrapping ErrInvalid unless c has an id, a
// kind, a JSON body of at most MaxChangeBody bytes, a nonce of 16 to 64
// bytes, a known state and an expiry after its creation.
func (c Change) Validate() error {
	switch {
	case c.ID == "" || len(c.ID) > 64:
		return fmt.Errorf("%w: change id must be 1 to 64 bytes", ErrInvalid)
	case c.Kind == "" || len(c.Kind) > 64:
		return fmt.Errorf("%w: change kind must be 1 to 64 bytes", ErrInvalid)
	case len(c.Body) > MaxChangeBody || !json.Valid(c.Body):
		return fmt.Errorf("%w: change body must be JSON of at most %d bytes", ErrInvalid, MaxChangeBody)
	case len(c.Nonce) < 16 || len(c.Nonce) > 64:
		return fmt.Errorf("%w: change nonce must be 16 to 64 bytes", ErrInvalid)
	case !knownChangeState(c.State):
		return fmt.Errorf("%w: change state %q is unknown", ErrInvalid, bounded(c.State))
	case c.CreatedAt.IsZero() || !c.ExpiresAt.After(c.CreatedAt):
		return fmt.Errorf("%w: change needs a creation time and a later expiry", ErrInvalid)
	}
	return nil
}

func knownChangeState(s string) bool {
	switch s {
	case ChangePending, ChangeApproved, ChangeRejected, ChangeExpired, ChangeFailed:
		return true
	}
	return false
}

// Clone returns a copy of c that shares no memory with it.
func (c Change) Clone() Change {
	c.Body = append(json.RawMessage(nil), c.Body...)
	c.Nonce = append([]byte(nil), c.Nonce...)
	if c.DecidedAt != nil {
		t := *c.DecidedAt
		c.DecidedAt = &t
	}
	return c
}

// ChangeFilter narrows ListChanges. The zero value lists every change.
type ChangeFilter struct {
	State string // only in this state, if set
	Limit int    // at most this many (the newest), if > 0
}

// ChangeSettlement moves a change out of ChangePending (Store.SettleChange).
type ChangeSettlement struct {
	To     string // ChangeApproved, ChangeRejected, ChangeExpired or ChangeFailed
	At     time.Time
	Detail string
	// Audit, if set, is appended in the same transaction, only if the
	// change was pending.
	Audit *audit.Record
}

// Validate returns an error wrapping ErrInvalid for a state that is not
// a settled one, a zero time or an invalid record.
func (s ChangeSettlement) Validate() error {
	if s.To == ChangePending || !knownChangeState(s.To) {
		return fmt.Errorf("%w: a change settles as approved, rejected, expired or failed, not %q", ErrInvalid, bounded(s.To))
	}
	if s.At.IsZero() {
		return fmt.Errorf("%w: settlement time is zero", ErrInvalid)
	}
	if s.Audit != nil {
		if err := s.Audit.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	return nil
}

// PasskeyColumns are the columns ScanPasskey reads, in order.
const PasskeyColumns = `id, name, credential_id, public_key, credential, created_at, audit_seq`

// ScanPasskey reads a row of PasskeyColumns.
func ScanPasskey(sc RowScanner) (Passkey, error) {
	var p Passkey
	var cred string
	var created int64
	if err := sc.Scan(&p.ID, &p.Name, &p.CredentialID, &p.PublicKey, &cred, &created, &p.AuditSeq); err != nil {
		return Passkey{}, err
	}
	p.Credential, p.CreatedAt = json.RawMessage(cred), FromMS(created)
	return p, nil
}

// ChangeColumns are the columns ScanChange reads, in order.
const ChangeColumns = `id, kind, key_id, body, nonce, state, created_at, expires_at, decided_at, detail`

// ScanChange reads a row of ChangeColumns.
func ScanChange(sc RowScanner) (Change, error) {
	var c Change
	var body string
	var created, expires int64
	var decided *int64
	if err := sc.Scan(&c.ID, &c.Kind, &c.KeyID, &body, &c.Nonce, &c.State, &created, &expires, &decided, &c.Detail); err != nil {
		return Change{}, err
	}
	c.Body, c.CreatedAt, c.ExpiresAt = json.RawMessage(body), FromMS(created), FromMS(expires)
	if decided != nil {
		t := FromMS(*decided)
		c.DecidedAt = &t
	}
	return c, nil
}

// Validate returns an error wrapping ErrInvalid for an unknown state or
// a negative limit.
func (f ChangeFilter) Validate() error {
	if f.State != "" && !knownChangeState(f.State) {
		return fmt.Errorf("%w: change state %q is unknown", ErrInvalid, bounded(f.State))
	}
	if f.Limit < 0 {
		return fmt.Errorf("%w: negative limit", ErrInvalid)
	}
	return nil
}

// ValidateNewChange checks CreateChange's arguments: a valid pending
// change and a valid record.
func ValidateNewChange(c Change, a audit.Record) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.State != ChangePending {
		return fmt.Errorf("%w: a new change is pending, not %q", ErrInvalid, bounded(c.State))
	}
	if err := a.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}
