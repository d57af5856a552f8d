package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"

	"golang.org/x/crypto/scrypt"
)

// KDF parameters written by NewKDFParams. N=2^15, r=8 costs 32 MiB and tens
// of milliseconds per derivation: derivation happens once per daemon start,
// so the cost only slows down someone guessing passphrases.
const (
	kdfScrypt      = "scrypt"
	defaultN       = 1 << 15
	defaultR       = 8
	defaultP       = 1
	masterKeyLen   = 32 // AES-256
	saltLen        = 16
	maxKDFMemory   = 1 << 30 // 128*N*r bytes; refuses configs that would exhaust memory
	maxKDFParallel = 16
)

// KDFParams says how a MasterKey is derived from a passphrase. It is not
// secret: the caller stores it (as JSON) next to the sealed data, and must
// derive with the same params to open that data again.
type KDFParams struct {
	KDF    string `json:"kdf"` // always "scrypt" for now
	N      int    `json:"n"`
	R      int    `json:"r"`
	P      int    `json:"p"`
	KeyLen int    `json:"key_len"`
	Salt   []byte `json:"salt"` // base64 in JSON
}

// NewKDFParams returns scrypt parameters (N=2^15, r=8, p=1, 32-byte key)
// with a fresh random 16-byte salt. It fails only if crypto/rand fails.
func NewKDFParams() (KDFParams, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return KDFParams{}, fmt.Errorf("kdf salt: %w", err)
	}
	return KDFParams{KDF: kdfScrypt, N: defaultN, R: defaultR, P: defaultP, KeyLen: masterKeyLen, Salt: salt}, nil
}

// Validate reports an error wrapping ErrInvalidKDFParams unless p names
// scrypt with N a power of two > 1, r, p >= 1, a 32-byte key, a salt of at
// least 16 bytes, and a memory cost (128·N·r) of at most 1 GiB. The lower
// bounds on N are deliberately loose (tests derive with small N); the
// parameters that matter for new data come from NewKDFParams.
func (p KDFParams) Validate() error {
	switch {
	case p.KDF != kdfScrypt:
		return fmt.Errorf("%w: kdf must be %q", ErrInvalidKDFParams, kdfScrypt)
	case p.N <= 1 || bits.OnesCount(uint(p.N)) != 1:
		return fmt.Errorf("%w: n must be a power of two greater than 1", ErrInvalidKDFParams)
	case p.R < 1 || p.P < 1 || p.P > maxKDFParallel:
		return fmt.Errorf("%w: r must be >= 1 and p in 1..%d", ErrInvalidKDFParams, maxKDFParallel)
	case p.N > maxKDFMemory/128/p.R:
		return fmt.Errorf("%w: memory cost 128*n*r exceeds 1 GiB", ErrInvalidKDFParams)
	case p.KeyLen != masterKeyLen:
		return fmt.Errorf("%w: key_len must be %d", ErrInvalidKDFParams, masterKeyLen)
	case len(p.Salt) < saltLen:
		return fmt.Errorf("%w: salt must be at least %d bytes", ErrInvalidKDFParams, saltLen)
	}
	return nil
}

// MasterKey is the AES-256-GCM key that seals private keys at rest. It is
// derived from the owner's passphrase and never leaves the process; it
// redacts itself when printed, logged or marshalled.
type MasterKey struct {
	aead cipher.AEAD
}

// DeriveKey derives the master key from passphrase with params. Errors wrap
// ErrEmptyPassphrase or ErrInvalidKDFParams. A wrong passphrase is NOT
// detected here (any passphrase derives some key): use Unlock, or
// VerifyCheck against a blob from Check, to reject it.
func DeriveKey(passphrase []byte, params KDFParams) (*MasterKey, error) {
	if len(passphrase) == 0 {
		return nil, ErrEmptyPassphrase
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	key, err := scrypt.Key(passphrase, params.Salt, params.N, params.R, params.P, params.KeyLen)
	if err != nil {
		// scrypt only fails on parameters, which Validate has checked.
		return nil, fmt.Errorf("%w: %v", ErrInvalidKDFParams, err)
	}
	defer clear(key)
	return newMasterKey(key)
}

// Unlock derives the master key and checks it against check (a blob from
// MasterKey.Check stored at init time). Errors: ErrEmptyPassphrase,
// ErrInvalidKDFParams, ErrWrongPassphrase, ErrEnvelope.
func Unlock(passphrase []byte, params KDFParams, check []byte) (*MasterKey, error) {
	k, err := DeriveKey(passphrase, params)
	if err != nil {
		return nil, err
	}
	if err := k.VerifyCheck(check); err != nil {
		return nil, err
	}
	return k, nil
}

func newMasterKey(key []byte) (*MasterKey, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &MasterKey{aead: aead}, nil
}

// Envelope layout of a sealed value, version 1:
//
//	0x01 || nonce (12 bytes, random) || AES-256-GCM ciphertext || tag (16 bytes)
//
// The associated data is a domain tag followed by the record id, so a
// ciphertext opens only for the record it was sealed for, and a passphrase
// check blob can never be mistaken for a sealed record (or vice versa). The
// version byte is covered by the domain tag ("v1"). Random 96-bit nonces are
// safe for the few thousand values one master key will ever seal (the GCM
// limit is 2^32 messages per key).
const (
	envelopeV1   = 0x01
	nonceLen     = 12
	tagLen       = 16
	envelopeMin  = 1 + nonceLen + tagLen
	sealDomain   = "agentkeys/seal/v1\x00"
	checkDomain  = "agentkeys/passphrase-check/v1\x00"
	checkPayload = "agentkeys passphrase check"
)

// Seal encrypts plaintext for the record recordID (e.g. a key id) and
// returns the envelope. Errors: ErrEmptyRecordID, or a crypto/rand failure.
func (k *MasterKey) Seal(recordID string, plaintext []byte) ([]byte, error) {
	if recordID == "" {
		return nil, ErrEmptyRecordID
	}
	return k.seal(sealDomain+recordID, plaintext)
}

// Open decrypts an envelope made by Seal for the same recordID. Errors:
// ErrEmptyRecordID, ErrEnvelope (too short, unknown version), ErrOpen (wrong
// key, wrong record id, or altered bytes; these are indistinguishable by
// design).
func (k *MasterKey) Open(recordID string, sealed []byte) ([]byte, error) {
	if recordID == "" {
		return nil, ErrEmptyRecordID
	}
	return k.open(sealDomain+recordID, sealed)
}

// Check returns a fresh blob that VerifyCheck accepts only under the same
// master key. Store it with the KDFParams so a wrong passphrase is reported
// as ErrWrongPassphrase instead of surfacing later as undecryptable keys.
func (k *MasterKey) Check() ([]byte, error) {
	return k.seal(checkDomain, []byte(checkPayload))
}

// VerifyCheck returns nil if blob was made by Check under this master key,
// ErrWrongPassphrase if it was not (or was altered), ErrEnvelope if it is
// not an envelope at all.
func (k *MasterKey) VerifyCheck(blob []byte) error {
	pt, err := k.open(checkDomain, blob)
	switch {
	case errors.Is(err, ErrOpen):
		return ErrWrongPassphrase
	case err != nil:
		return err
	case string(pt) != checkPayload:
		return ErrWrongPassphrase
	}
	return nil
}

func (k *MasterKey) seal(ad string, plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+nonceLen, 1+nonceLen+len(plaintext)+tagLen)
	out[0] = envelopeV1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal nonce: %w", err)
	}
	return k.aead.Seal(out, out[1:1+nonceLen], plaintext, []byte(ad)), nil
}

func (k *MasterKey) open(ad string, sealed []byte) ([]byte, error) {
	if len(sealed) < envelopeMin {
		return nil, fmt.Errorf("%w: too short", ErrEnvelope)
	}
	if sealed[0] != envelopeV1 {
		return nil, fmt.Errorf("%w: unknown version", ErrEnvelope)
	}
	pt, err := k.aead.Open(nil, sealed[1:1+nonceLen], sealed[1+nonceLen:], []byte(ad))
	if err != nil {
		// The GCM error says nothing useful and nothing secret; replace it
		// so callers have one sentinel to test.
		return nil, ErrOpen
	}
	return pt, nil
}

const masterKeyRedacted = "MasterKey(redacted)"

// String returns a redacted placeholder.
func (k *MasterKey) String() string { return masterKeyRedacted }

// GoString returns a redacted placeholder.
func (k *MasterKey) GoString() string { return masterKeyRedacted }

// Format prints a redacted placeholder for every verb.
func (k *MasterKey) Format(f fmt.State, verb rune) { writeRedacted(f, verb, masterKeyRedacted) }

// LogValue logs a redacted placeholder.
func (k *MasterKey) LogValue() slog.Value { return slog.StringValue(masterKeyRedacted) }

// MarshalText returns a redacted placeholder.
func (k *MasterKey) MarshalText() ([]byte, error) { return []byte(masterKeyRedacted), nil }
