// Package passkey holds what the owner's passkeys need apart from any
// server: the challenge that commits a WebAuthn assertion to one change
// (Challenge), the check of an assertion against a registered public key
// (VerifyAssertion), the audit records of registrations and approvals
// (the Registered, Removed and Approved calls), and Checker, which
// `agentkeys audit verify` runs over the log so that every approval in it
// is shown to be signed by a passkey whose registration is in the same
// log. The service core (package service) and package home use it; it
// imports only package audit and the WebAuthn library's COSE code.
package passkey

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/agentkeys/agentkeys/internal/audit"
)

// Audit methods of the owner's passkeys and changes.
const (
	MethodRegistered = "agentkeys_passkeyRegistered"
	MethodRemoved    = "agentkeys_passkeyRemoved"
	MethodCreated    = "agentkeys_changeCreated"
	MethodApproved   = "agentkeys_changeApproved"
	MethodRejected   = "agentkeys_changeRejected"
	MethodExpired    = "agentkeys_changeExpired"
)

// challengeDomain separates these challenges from any other use of the
// same hash.
const challengeDomain = "agentkeys owner change v1\x00"

// Challenge is the WebAuthn challenge that approves exactly one change:
// SHA-256 over a domain tag, the change's canonical encoding and the
// server's nonce for it.
func Challenge(canonical, nonce []byte) []byte {
	h := sha256.New()
	h.Write([]byte(challengeDomain))
	h.Write(canonical)
	h.Write(nonce)
	return h.Sum(nil)
}

// B64 is the unpadded base64url encoding WebAuthn uses for bytes.
var B64 = base64.RawURLEncoding

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUserPresent  = 0x01
	flagUserVerified = 0x04
)

// VerifyAssertion checks an assertion as a relying party does, with
// nothing but its parts: clientDataJSON is a webauthn.get for exactly
// challenge; authenticatorData is for rpID and says the user was present
// and verified; and signature is publicKey's (a COSE key) over
// authenticatorData and the hash of clientDataJSON. The origin is not
// checked here (the server checks it when the assertion arrives).
func VerifyAssertion(publicKey []byte, rpID string, challenge, authenticatorData, clientDataJSON, signature []byte) error {
	var cd struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(clientDataJSON, &cd); err != nil {
		return errors.New("clientDataJSON is not JSON")
	}
	if cd.Type != "webauthn.get" {
		return fmt.Errorf("clientDataJSON is of type %q, not webauthn.get", bounded(cd.Type))
	}
	got, err := B64.DecodeString(cd.Challenge)
	if err != nil || !bytes.Equal(got, challenge) {
		return errors.New("the signed challenge is not this change's")
	}
	if len(authenticatorData) < 37 {
		return errors.New("authenticatorData is too short")
	}
	rp := sha256.Sum256([]byte(rpID))
	if !bytes.Equal(authenticatorData[:32], rp[:]) {
		return fmt.Errorf("authenticatorData is for another relying party than %q", bounded(rpID))
	}
	if flags := authenticatorData[32]; flags&flagUserPresent == 0 || flags&flagUserVerified == 0 {
		return errors.New("the authenticator did not verify the user")
	}
	key, err := webauthncose.ParsePublicKey(publicKey)
	if err != nil {
		return fmt.Errorf("the registered public key does not parse: %v", err)
	}
	cdHash := sha256.Sum256(clientDataJSON)
	signed := append(append([]byte(nil), authenticatorData...), cdHash[:]...)
	ok, err := webauthncose.VerifySignature(key, signed, signature)
	if err != nil || !ok {
		return errors.New("the signature does not verify with the registered public key")
	}
	return nil
}

func bounded(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Registered is the call of a passkey's registration record.
type Registered struct {
	PasskeyID    string `json:"passkey_id"`
	Name         string `json:"name"`
	CredentialID string `json:"credential_id"` // base64url
	PublicKey    string `json:"public_key"`    // base64url COSE key
	RPID         string `json:"rp_id"`
	// ChangeID names the approved change that added it; empty only for
	// the first passkey.
	ChangeID string `json:"change_id,omitempty"`
}

// Removed is the call of a passkey's removal record.
type Removed struct {
	PasskeyID    string `json:"passkey_id"`
	CredentialID string `json:"credential_id"`
	ChangeID     string `json:"change_id,omitempty"`
}

// Approved is the call of an approval record: the change as it was
// hashed, and the assertion that signed the hash.
type Approved struct {
	ChangeID string `json:"change_id"`
	Kind     string `json:"kind"`
	KeyID    string `json:"key_id,omitempty"`
	// Change is the canonical encoding the challenge was computed from.
	Change            json.RawMessage `json:"change"`
	Nonce             string          `json:"nonce"`     // base64url
	Challenge         string          `json:"challenge"` // base64url
	CredentialID      string          `json:"credential_id"`
	AuthenticatorData string          `json:"authenticator_data"`
	ClientDataJSON    string          `json:"client_data_json"`
	Signature         string          `json:"signature"`
}

// AddedPasskey is what the canonical change of kind "passkey_add" says
// of the passkey it adds (the fields the checker compares).
type AddedPasskey struct {
	CredentialID string `json:"credential_id"`
	PublicKey    string `json:"public_key"`
}

// KindPasskeyAdd is the kind of change that adds a passkey once another
// one exists.
const KindPasskeyAdd = "passkey_add"

// ProblemPasskey is the audit problem kind of an approval or
// registration that does not hold up.
const ProblemPasskey audit.ProblemKind = "passkey"

type registration struct {
	publicKey []byte
	rpID      string
	seq       int64
}

// Checker follows the owner's passkeys through an audit log, in order,
// and checks each approval against the registrations before it. Only
// what the log says counts: a passkey added to the database without its
// registration record (or one whose registration was not itself approved
// by an earlier passkey) approves nothing. Not safe for concurrent use.
type Checker struct {
	keys map[string]registration // by credential id (base64url)
	// adds are the approved passkey_add changes not yet registered,
	// by change id.
	adds map[string]AddedPasskey
}

// NewChecker returns a checker that has seen no record.
func NewChecker() *Checker {
	return &Checker{keys: map[string]registration{}, adds: map[string]AddedPasskey{}}
}

// Check looks at one record (every record, in order) and returns what is
// wrong with it, or nil.
func (c *Checker) Check(r audit.Record) error {
	switch r.Method {
	case MethodRegistered:
		return c.registered(r)
	case MethodRemoved:
		var call Removed
		if err := json.Unmarshal(r.Call, &call); err != nil {
			return fmt.Errorf("passkey removal record does not parse: %v", err)
		}
		delete(c.keys, call.CredentialID)
	case MethodApproved:
		return c.approved(r)
	}
	return nil
}

func (c *Checker) registered(r audit.Record) error {
	var call Registered
	if err := json.Unmarshal(r.Call, &call); err != nil {
		return fmt.Errorf("passkey registration record does not parse: %v", err)
	}
	pub, err := B64.DecodeString(call.PublicKey)
	if err != nil || call.CredentialID == "" || call.RPID == "" {
		return errors.New("passkey registration record lacks its credential id, public key or relying party")
	}
	if len(c.keys) > 0 {
		add, ok := c.adds[call.ChangeID]
		if call.ChangeID == "" || !ok {
			return fmt.Errorf("passkey %s was registered while another passkey existed, without that passkey's approval", bounded(call.PasskeyID))
		}
		if add.CredentialID != call.CredentialID || add.PublicKey != call.PublicKey {
			return fmt.Errorf("passkey %s is not the passkey its approval (change %s) named", bounded(call.PasskeyID), bounded(call.ChangeID))
		}
		delete(c.adds, call.ChangeID)
	}
	c.keys[call.CredentialID] = registration{publicKey: pub, rpID: call.RPID, seq: r.Seq}
	return nil
}

func (c *Checker) approved(r audit.Record) error {
	var call Approved
	if err := json.Unmarshal(r.Call, &call); err != nil {
		return fmt.Errorf("approval record does not parse: %v", err)
	}
	reg, ok := c.keys[call.CredentialID]
	if !ok {
		return fmt.Errorf("approval of change %s is signed by passkey %s, which no earlier record registered (or which was removed)",
			bounded(call.ChangeID), bounded(call.CredentialID))
	}
	nonce, err1 := B64.DecodeString(call.Nonce)
	challenge, err2 := B64.DecodeString(call.Challenge)
	authData, err3 := B64.DecodeString(call.AuthenticatorData)
	clientData, err4 := B64.DecodeString(call.ClientDataJSON)
	sig, err5 := B64.DecodeString(call.Signature)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return fmt.Errorf("approval of change %s: a field is not base64url", bounded(call.ChangeID))
	}
	if !bytes.Equal(Challenge(call.Change, nonce), challenge) {
		return fmt.Errorf("approval of change %s: its challenge is not the hash of the change it records", bounded(call.ChangeID))
	}
	if err := VerifyAssertion(reg.publicKey, reg.rpID, challenge, authData, clientData, sig); err != nil {
		return fmt.Errorf("approval of change %s by the passkey registered at record %d does not verify: %v", bounded(call.ChangeID), reg.seq, err)
	}
	if call.Kind == KindPasskeyAdd {
		var add AddedPasskey
		if err := json.Unmarshal(call.Change, &add); err != nil {
			return fmt.Errorf("approval of change %s: the passkey it adds does not parse", bounded(call.ChangeID))
		}
		c.adds[call.ChangeID] = add
	}
	return nil
}

// Problem adapts Check to audit.Verifier.Also.
func (c *Checker) Problem(r audit.Record) (audit.ProblemKind, string, bool) {
	if err := c.Check(r); err != nil {
		return ProblemPasskey, err.Error(), true
	}
	return "", "", false
}
