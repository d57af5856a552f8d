package home

import (
	"fmt"
	"unicode/utf8"
)

// MinPassphraseLen is the shortest passphrase Init accepts, in characters.
// scrypt makes each guess expensive, but not expensive enough to save a
// passphrase of a few characters.
const MinPassphraseLen = 8

// Passphrase returns the owner's passphrase: $AGENTKEYS_PASSPHRASE if set
// and non-empty, else what prompt returns. prompt must read without echo;
// pass nil when standard input is not a terminal, and Passphrase fails with
// ErrNoPassphrase saying how to provide one. The caller should clear the
// returned slice when done with it.
func Passphrase(getenv func(string) string, prompt func(label string) ([]byte, error)) ([]byte, error) {
	if v := getenv(EnvPassphrase); v != "" {
		return []byte(v), nil
	}
	if prompt == nil {
		return nil, fmt.Errorf("%w: set %s or run in a terminal", ErrNoPassphrase, EnvPassphrase)
	}
	p, err := prompt("agentkeys passphrase: ")
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("%w: empty passphrase (set %s or type one at the prompt)", ErrNoPassphrase, EnvPassphrase)
	}
	return p, nil
}

// checkNewPassphrase enforces MinPassphraseLen for a new home.
func checkNewPassphrase(p []byte) error {
	if len(p) == 0 {
		return fmt.Errorf("%w: set %s or type one at the prompt", ErrNoPassphrase, EnvPassphrase)
	}
	if n := utf8.RuneCount(p); n < MinPassphraseLen {
		return fmt.Errorf("%w: it has %d characters, at least %d are needed (%s or the prompt)",
			ErrWeakPassphrase, n, MinPassphraseLen, EnvPassphrase)
	}
	return nil
}
