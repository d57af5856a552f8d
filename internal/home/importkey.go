package home

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/agentkeys/agentkeys/internal/secrets"
)

// maxKeystoreSize bounds what KeyFromKeystore reads; a V3 keystore is
// well under 1 KiB.
const maxKeystoreSize = 64 << 10

// maxEnvNameLen bounds the variable names KeyFromEnv accepts (and so
// repeats in its errors).
const maxEnvNameLen = 128

// KeyFromEnv reads a hex private key (64 hex digits, optional 0x, spaces
// around it ignored) from the environment variable name. Naming the
// variable rather than passing the key as a flag keeps it out of shell
// history and the process list. Errors wrap ErrImportKey and never contain
// the variable's value; they name the variable only when name is shaped
// like a variable name and not like a key, since a key pasted in place of
// the name must not be printed back.
func KeyFromEnv(getenv func(string) string, name string) (*secrets.PrivateKey, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: no environment variable named", ErrImportKey)
	}
	if err := CheckEnvName(name); err != nil {
		return nil, err
	}
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return nil, fmt.Errorf("%w: environment variable %s is not set", ErrImportKey, name)
	}
	v = strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X")
	if len(v) != 64 {
		return nil, fmt.Errorf("%w: %s does not hold a private key (want 64 hex digits, got %d characters)", ErrImportKey, name, len(v))
	}
	b := make([]byte, 32)
	defer clear(b)
	if _, err := hex.Decode(b, []byte(v)); err != nil {
		return nil, fmt.Errorf("%w: %s does not hold a private key (not hex)", ErrImportKey, name)
	}
	k, err := secrets.PrivateKeyFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrImportKey, name, err)
	}
	return k, nil
}

// KeyFromKeystore decrypts a go-ethereum V3 keystore file (as written by
// geth, clef, Foundry's cast wallet and MetaMask exports) with password.
// Errors wrap ErrImportKey and never contain the password or the file's
// content; they name the file only once it is known to exist, so a secret
// typed where the path belongs is not printed back.
func KeyFromKeystore(path string, password []byte) (*secrets.PrivateKey, error) {
	if err := CheckKeystorePath(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, keystoreOpenError(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeystoreSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrImportKey, path, err)
	}
	if len(b) > maxKeystoreSize {
		return nil, fmt.Errorf("%w: %s is larger than a keystore file can be", ErrImportKey, path)
	}
	key, err := keystore.DecryptKey(b, string(password))
	if err != nil {
		// DecryptKey's errors are fixed strings or JSON syntax errors; map
		// them to our own words rather than pass file bytes through.
		if errors.Is(err, keystore.ErrDecrypt) {
			return nil, fmt.Errorf("%w: %s: wrong keystore password (%s or the prompt)", ErrImportKey, path, EnvKeystorePassword)
		}
		return nil, fmt.Errorf("%w: %s is not a V3 keystore file", ErrImportKey, path)
	}
	raw := crypto.FromECDSA(key.PrivateKey)
	defer clear(raw)
	k, err := secrets.PrivateKeyFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrImportKey, path, err)
	}
	return k, nil
}

// CheckEnvName returns nil if name can be the name of an environment
// variable holding a secret: 1 to 128 letters, digits and '_', not
// starting with a digit, and not 32 or more hex digits (a key pasted where
// its variable's name belongs). The error wraps ErrImportKey and never
// repeats name.
func CheckEnvName(name string) error {
	if !envNameShape(name) || looksLikeHexSecret(name) {
		return fmt.Errorf("%w: expected the NAME of an environment variable (letters, digits and _), not the key itself "+
			"(what was given is not repeated, in case it is a secret): export KEY=0x... then pass KEY", ErrImportKey)
	}
	return nil
}

func envNameShape(s string) bool {
	if len(s) == 0 || len(s) > maxEnvNameLen || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// looksLikeHexSecret reports whether s (after an optional 0x) is 32 or
// more hex digits: the shape of a private key, a secret or a hash.
func looksLikeHexSecret(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	if len(s) < 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// CheckKeystorePath returns nil if path names an existing file and does not
// look like a key or a keystore's content pasted in its place, so callers
// can fail before asking for the keystore's password. Errors wrap
// ErrImportKey and do not repeat path.
func CheckKeystorePath(path string) error {
	if looksLikeHexSecret(path) || strings.HasPrefix(strings.TrimSpace(path), "{") {
		return fmt.Errorf("%w: expected the path of a keystore file, not a key or the file's content "+
			"(what was given is not repeated, in case it is a secret)", ErrImportKey)
	}
	if _, err := os.Stat(path); err != nil {
		return keystoreOpenError(err)
	}
	return nil
}

// keystoreOpenError describes a failure to open a keystore file without
// repeating its path: a path that names no file may be a password typed in
// the wrong place.
func keystoreOpenError(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: no keystore file at the path given (it is not repeated, in case it is a secret): "+
			"pass the path of a V3 keystore file", ErrImportKey)
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return fmt.Errorf("%w: open keystore file: %w", ErrImportKey, pathErr.Err)
	}
	return fmt.Errorf("%w: cannot open the keystore file", ErrImportKey)
}
