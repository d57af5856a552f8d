package secrets

import (
	"crypto/ecdsa"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// PrivateKey is a secp256k1 signing key (a wallet or session key). Its bytes
// sit in an unexported field; every way of printing, logging or marshalling
// it yields only a redacted form naming its address, such as
// "PrivateKey(0xAbC1…1234 redacted)". The zero value holds no key.
//
// Methods have value receivers so a PrivateKey value and a *PrivateKey print
// the same way.
type PrivateKey struct {
	k *ecdsa.PrivateKey
}

// GenerateKey returns a new random key. It fails only if crypto/rand fails.
func GenerateKey() (*PrivateKey, error) {
	k, err := crypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return &PrivateKey{k: k}, nil
}

// PrivateKeyFromBytes parses a 32-byte big-endian scalar, as returned by
// Bytes (typically after MasterKey.Open). Errors wrap ErrInvalidPrivateKey
// and never contain b.
func PrivateKeyFromBytes(b []byte) (*PrivateKey, error) {
	if len(b) != 32 {
		return nil, fmt.Errorf("%w: want 32 bytes, got %d", ErrInvalidPrivateKey, len(b))
	}
	k, err := crypto.ToECDSA(b)
	if err != nil {
		// go-ethereum's message is safe today, but do not depend on it.
		return nil, fmt.Errorf("%w: not a valid secp256k1 scalar", ErrInvalidPrivateKey)
	}
	return &PrivateKey{k: k}, nil
}

// Valid reports whether k holds a key (false for the zero value).
func (k PrivateKey) Valid() bool { return k.k != nil }

// Address returns the Ethereum address of the key, or the zero address for
// the zero value.
func (k PrivateKey) Address() common.Address {
	if k.k == nil {
		return common.Address{}
	}
	return crypto.PubkeyToAddress(k.k.PublicKey)
}

// ECDSA returns the underlying key for signers (types.SignTx,
// crypto.Sign, …); nil for the zero value. Whoever holds the result is
// responsible for not printing it.
func (k PrivateKey) ECDSA() *ecdsa.PrivateKey { return k.k }

// Bytes returns the 32-byte scalar, for sealing with MasterKey.Seal; nil for
// the zero value. The caller should clear the slice when done.
func (k PrivateKey) Bytes() []byte {
	if k.k == nil {
		return nil
	}
	return crypto.FromECDSA(k.k)
}

// Equal reports, in constant time, whether k and o hold the same key.
func (k PrivateKey) Equal(o PrivateKey) bool {
	if k.k == nil || o.k == nil {
		return k.k == nil && o.k == nil
	}
	a, b := k.Bytes(), o.Bytes()
	defer clear(a)
	defer clear(b)
	return subtle.ConstantTimeCompare(a, b) == 1
}

func (k PrivateKey) redacted() string {
	if k.k == nil {
		return "PrivateKey(none)"
	}
	a := k.Address().Hex() // checksummed; public
	return "PrivateKey(" + a[:6] + "…" + a[len(a)-4:] + " redacted)"
}

// String returns the redacted form.
func (k PrivateKey) String() string { return k.redacted() }

// GoString returns the redacted form.
func (k PrivateKey) GoString() string { return k.redacted() }

// Format prints the redacted form for every verb.
func (k PrivateKey) Format(f fmt.State, verb rune) { writeRedacted(f, verb, k.redacted()) }

// LogValue logs the redacted form.
func (k PrivateKey) LogValue() slog.Value { return slog.StringValue(k.redacted()) }

// MarshalText returns the redacted form.
func (k PrivateKey) MarshalText() ([]byte, error) { return []byte(k.redacted()), nil }

// MarshalJSON returns the redacted form as a JSON string.
func (k PrivateKey) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(k.redacted())), nil }
