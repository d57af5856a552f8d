package secrets

import "errors"

// Sentinel errors of this package. Functions wrap them with short context;
// test with errors.Is. No error carries secret material or the rejected input.
var (
	// ErrWrongPassphrase: the master key derived from the passphrase does not
	// open the stored passphrase check (VerifyCheck, Unlock).
	ErrWrongPassphrase = errors.New("secrets: wrong passphrase")

	// ErrEmptyPassphrase: DeriveKey or Unlock was given an empty passphrase.
	ErrEmptyPassphrase = errors.New("secrets: empty passphrase")

	// ErrInvalidKDFParams: KDF parameters are missing, unknown or outside the
	// accepted bounds (DeriveKey, KDFParams.Validate).
	ErrInvalidKDFParams = errors.New("secrets: invalid kdf parameters")

	// ErrOpen: a sealed value failed authentication: it was altered, sealed
	// under another key, or sealed for another record id (Open).
	ErrOpen = errors.New("secrets: cannot open sealed value")

	// ErrEnvelope: a sealed value is too short or has an unknown version byte
	// (Open, VerifyCheck).
	ErrEnvelope = errors.New("secrets: malformed sealed envelope")

	// ErrEmptyRecordID: Seal or Open was called without a record id, which
	// would leave the ciphertext unbound to its record.
	ErrEmptyRecordID = errors.New("secrets: empty record id")

	// ErrInvalidPrivateKey: bytes are not a valid secp256k1 private key
	// (PrivateKeyFromBytes).
	ErrInvalidPrivateKey = errors.New("secrets: invalid private key")

	// ErrMalformedCredential: a string is not a well-formed credential of the
	// expected kind (ParseCredential, ParseAdminCredential).
	ErrMalformedCredential = errors.New("secrets: malformed credential")
)
