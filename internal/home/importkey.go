package home

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/agentkeys/agentkeys/internal/secrets"
)

// maxKeystoreSize bounds what KeyFromKeystore reads; a V3 keystore is
// well under 1 KiB.
const maxKeystoreSize = 64 << 10

// KeyFromEnv reads a hex private key (64 hex digits, optional 0x, spaces
// around it ignored) from the environment variable name. Naming the
// variable rather than passing the key as a flag keeps it out of shell
// history and the process list. Errors wrap ErrImportKey, name the
// variable and never contain its value.
func KeyFromEnv(getenv func(string) string, name string) (*secrets.PrivateKey, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: no environment variable named", ErrImportKey)
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
// Errors wrap ErrImportKey, name the file and never contain the password
// or the file's content.
func KeyFromKeystore(path string, password []byte) (*secrets.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImportKey, err)
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
