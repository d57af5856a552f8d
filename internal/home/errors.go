package home

import (
	"errors"

	"github.com/agentkeys/agentkeys/internal/secrets"
)

// Sentinel errors of this package; test with errors.Is. None of them, nor
// any error this package returns, carries a passphrase, a private key, a
// credential secret or the value of an environment variable.
var (
	// ErrOwnerOffline: the home holds no owner key (init
	// --owner-address); WalletKey refuses.
	ErrOwnerOffline = errors.New("home: no owner key here (owner-offline mode: the owner signs with its own wallet)")

	// ErrNotInitialized: the directory holds no agentkeys home (no
	// config.json or no agentkeys.db). Open and OpenStore.
	ErrNotInitialized = errors.New("home: not initialised")

	// ErrAlreadyInitialized: Init found an existing home, or an
	// agentkeys.db left behind, and refused to touch it.
	ErrAlreadyInitialized = errors.New("home: already initialised")

	// ErrWrongPassphrase: the passphrase does not unlock the home. It is
	// secrets.ErrWrongPassphrase, so either sentinel matches.
	ErrWrongPassphrase = secrets.ErrWrongPassphrase

	// ErrNoPassphrase: no passphrase in AGENTKEYS_PASSPHRASE and no
	// terminal to ask for one.
	ErrNoPassphrase = errors.New("home: no passphrase")

	// ErrWeakPassphrase: Init was given a passphrase shorter than
	// MinPassphraseLen.
	ErrWeakPassphrase = errors.New("home: passphrase too short")

	// ErrBadAdminCredential: VerifyAdmin was given a token that is not this
	// home's admin credential (malformed, unknown id or wrong secret).
	ErrBadAdminCredential = errors.New("home: invalid admin credential")

	// ErrImportKey: KeyFromEnv or KeyFromKeystore could not produce a key
	// (variable unset or malformed, keystore unreadable or wrong password).
	ErrImportKey = errors.New("home: cannot import key")

	// ErrConfig: config.json is unreadable, malformed or from a newer
	// agentkeys.
	ErrConfig = errors.New("home: bad config")

	// ErrInUse: another process (serve or sandbox) holds the home's lock.
	// Acquire.
	ErrInUse = errors.New("home: in use")
)
