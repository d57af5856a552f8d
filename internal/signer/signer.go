// Package signer turns requests the policy allowed into signatures. It
// holds keys and knows nothing of policy; only the service core imports it,
// and only after a decision has been durably recorded.
package signer

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/agentkeys/agentkeys/internal/secrets"
)

// Signer signs for one account.
type Signer interface {
	// Address is the account whose signatures this signer makes.
	Address() common.Address
	// SignTx signs tx for chainID (never 0: signatures are chain-bound).
	SignTx(tx *types.Transaction, chainID *big.Int) (*types.Transaction, error)
	// SignHash signs a 32-byte digest, returning r||s||v with v in {27, 28}
	// as wallets do for personal_sign and EIP-712.
	SignHash(digest []byte) ([]byte, error)
	// SignAuthorization signs an EIP-7702 authorization of this account.
	// An authorization for chain id 0 is refused: it would be valid on
	// every chain.
	SignAuthorization(auth types.SetCodeAuthorization) (types.SetCodeAuthorization, error)
}

// Wallet signs with a private key held in memory.
type Wallet struct {
	key *secrets.PrivateKey
}

var _ Signer = (*Wallet)(nil)

// NewWallet wraps a key.
func NewWallet(key *secrets.PrivateKey) *Wallet { return &Wallet{key: key} }

// Address implements Signer.
func (w *Wallet) Address() common.Address { return w.key.Address() }

// SignTx implements Signer.
func (w *Wallet) SignTx(tx *types.Transaction, chainID *big.Int) (*types.Transaction, error) {
	if chainID == nil || chainID.Sign() <= 0 {
		return nil, fmt.Errorf("sign transaction: chain id %v is not a chain", chainID)
	}
	return types.SignTx(tx, types.LatestSignerForChainID(chainID), w.key.ECDSA())
}

// SignHash implements Signer.
func (w *Wallet) SignHash(digest []byte) ([]byte, error) {
	if len(digest) != 32 {
		return nil, fmt.Errorf("sign hash: digest is %d bytes, want 32", len(digest))
	}
	sig, err := crypto.Sign(digest, w.key.ECDSA())
	if err != nil {
		return nil, fmt.Errorf("sign hash: %w", err)
	}
	sig[64] += 27
	return sig, nil
}

// SignAuthorization implements Signer.
func (w *Wallet) SignAuthorization(auth types.SetCodeAuthorization) (types.SetCodeAuthorization, error) {
	if auth.ChainID.IsZero() {
		return types.SetCodeAuthorization{}, errors.New("sign authorization: refusing chain id 0, which would be valid on every chain")
	}
	signed, err := types.SignSetCode(w.key.ECDSA(), auth)
	if err != nil {
		return types.SetCodeAuthorization{}, fmt.Errorf("sign authorization: %w", err)
	}
	return signed, nil
}

// TypedDataHash is the EIP-712 digest of a document.
func TypedDataHash(td *apitypes.TypedData) ([]byte, error) {
	h, _, err := apitypes.TypedDataAndHash(*td)
	if err != nil {
		return nil, fmt.Errorf("typed data hash: %w", err)
	}
	return h, nil
}

// MessageHash is the EIP-191 personal_sign digest of a message.
func MessageHash(msg []byte) []byte { return accounts.TextHash(msg) }

// ErrNoKey is returned by a Watch signer for every signature: the account's
// key is not on this host.
var ErrNoKey = errors.New("this daemon holds no key for the account: only its owner's own wallet can sign for it")

// Watch is an account whose key is elsewhere (the owner's own wallet, in
// the owner-offline mode): it has an address and refuses to sign.
type Watch struct{ addr common.Address }

var _ Signer = Watch{}

// NewWatch returns the signer of addr that holds no key.
func NewWatch(addr common.Address) Watch { return Watch{addr: addr} }

// Address implements Signer.
func (w Watch) Address() common.Address { return w.addr }

// SignTx implements Signer: always ErrNoKey.
func (Watch) SignTx(*types.Transaction, *big.Int) (*types.Transaction, error) { return nil, ErrNoKey }

// SignHash implements Signer: always ErrNoKey.
func (Watch) SignHash([]byte) ([]byte, error) { return nil, ErrNoKey }

// SignAuthorization implements Signer: always ErrNoKey.
func (Watch) SignAuthorization(types.SetCodeAuthorization) (types.SetCodeAuthorization, error) {
	return types.SetCodeAuthorization{}, ErrNoKey
}

// HoldsKey reports whether s can sign (false for a Watch).
func HoldsKey(s Signer) bool {
	_, watch := s.(Watch)
	return !watch
}
