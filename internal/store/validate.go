package store

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// maxAmount is 2^256-1, the largest amount a Spend may carry.
var maxAmount = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// Validate returns an error wrapping ErrInvalid unless g has an id, a known
// mode, a 0x address, a signer key id, a credential hash, non-zero creation
// and expiry times, chain ids in the int64 range, and (if set) a policy that
// is valid JSON.
func (g Grant) Validate() error {
	switch {
	case g.ID == "":
		return fmt.Errorf("%w: grant id is empty", ErrInvalid)
	case g.Mode != ModeWallet && g.Mode != Mode7702:
		return fmt.Errorf("%w: grant mode %q is not %q or %q", ErrInvalid, g.Mode, ModeWallet, Mode7702)
	case !isAddress(g.Address):
		return fmt.Errorf("%w: grant address %q is not a 0x address", ErrInvalid, g.Address)
	case g.SignerKeyID == "":
		return fmt.Errorf("%w: grant signer key id is empty", ErrInvalid)
	case len(g.CredentialHash) == 0:
		return fmt.Errorf("%w: grant credential hash is empty", ErrInvalid)
	case g.CreatedAt.IsZero() || g.ExpiresAt.IsZero():
		return fmt.Errorf("%w: grant times must be set", ErrInvalid)
	case len(g.Policy) > 0 && !json.Valid(g.Policy):
		return fmt.Errorf("%w: grant policy is not valid JSON", ErrInvalid)
	case g.RevokedAt != nil && g.RevokedAt.IsZero():
		return fmt.Errorf("%w: grant revocation time is zero", ErrInvalid)
	case g.SuspendedAt != nil && g.SuspendedAt.IsZero():
		return fmt.Errorf("%w: grant suspension time is zero", ErrInvalid)
	case g.Pending != "" && g.Pending != PendingApproval && g.Pending != PendingSignature:
		return fmt.Errorf("%w: grant pending %q is not %q, %q or empty", ErrInvalid, g.Pending, PendingApproval, PendingSignature)
	}
	for _, c := range g.Chains {
		if c == 0 || c > math.MaxInt64 {
			return fmt.Errorf("%w: chain id %d out of range", ErrInvalid, c)
		}
	}
	return nil
}

// Validate returns an error wrapping ErrInvalid unless k has an id, a kind,
// a 0x address, sealed bytes and a creation time.
func (k Key) Validate() error {
	switch {
	case k.ID == "":
		return fmt.Errorf("%w: key id is empty", ErrInvalid)
	case k.Kind == "":
		return fmt.Errorf("%w: key kind is empty", ErrInvalid)
	case !isAddress(k.Address):
		return fmt.Errorf("%w: key address %q is not a 0x address", ErrInvalid, k.Address)
	case len(k.Sealed) == 0:
		return fmt.Errorf("%w: key has no sealed bytes", ErrInvalid)
	case k.CreatedAt.IsZero():
		return fmt.Errorf("%w: key creation time is zero", ErrInvalid)
	}
	return nil
}

// Validate returns an error wrapping ErrInvalid unless s names a valid asset
// and 0 <= s.Amount <= 2^256-1.
func (s Spend) Validate() error {
	if _, err := NormalizeAsset(s.Asset); err != nil {
		return err
	}
	if err := ValidateAmount(s.Amount); err != nil {
		return fmt.Errorf("spend: %w", err)
	}
	return nil
}

// NormalizeAsset returns the stored form of an asset: "native" for the
// native currency and "fees" for the fee budget (any case), or the token
// address in lowercase. Errors: ErrInvalid for anything else.
func NormalizeAsset(asset string) (string, error) {
	switch {
	case strings.EqualFold(asset, AssetNative):
		return AssetNative, nil
	case strings.EqualFold(asset, AssetFees):
		return AssetFees, nil
	}
	return NormalizeAddress(asset)
}

// NormalizeTxHash returns a transaction hash (0x and 64 hex digits, any
// case) in lowercase. Errors: ErrInvalid for anything else.
func NormalizeTxHash(h string) (string, error) {
	if len(h) != 66 || (h[:2] != "0x" && h[:2] != "0X") || !isHex(h[2:]) {
		return "", fmt.Errorf("%w: transaction hash must be 0x and 64 hex digits", ErrInvalid)
	}
	return "0x" + strings.ToLower(h[2:]), nil
}

// ValidateAmount returns an error wrapping ErrInvalid unless 0 <= a <=
// 2^256-1.
func ValidateAmount(a *big.Int) error {
	if a == nil || a.Sign() < 0 || a.Cmp(maxAmount) > 0 {
		return fmt.Errorf("%w: amount must be between 0 and 2^256-1", ErrInvalid)
	}
	return nil
}

// NormalizeAddress returns a 0x address (any case) in lowercase, the form
// nonce counters are keyed by. Errors: ErrInvalid if it is not 0x followed
// by 40 hex digits.
func NormalizeAddress(addr string) (string, error) {
	if !isAddress(addr) {
		return "", fmt.Errorf("%w: %q is not a 0x address", ErrInvalid, addr)
	}
	return strings.ToLower(addr), nil
}

func isAddress(s string) bool {
	return len(s) == 42 && (s[:2] == "0x" || s[:2] == "0X") && isHex(s[2:])
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
