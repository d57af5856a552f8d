package home

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportErrorsDoNotRepeatSecrets: values that may be secrets, given
// where a variable name or a file path belongs, are refused with what was
// expected and never appear in the error.
func TestImportErrorsDoNotRepeatSecrets(t *testing.T) {
	const key = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
	getenv := func(string) string { return "" }
	for _, name := range []string{"0x" + key, key, "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", "my pass phrase", strings.Repeat("A", 200)} {
		_, err := KeyFromEnv(getenv, name)
		if !errors.Is(err, ErrImportKey) || !strings.Contains(err.Error(), "expected the NAME of an environment variable") {
			t.Errorf("KeyFromEnv(%.10q…): %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), name[:10]) {
			t.Errorf("error repeats the value: %v", err)
		}
	}
	if _, err := KeyFromEnv(getenv, "WALLET_KEY_1"); err == nil || !strings.Contains(err.Error(), "environment variable WALLET_KEY_1 is not set") {
		t.Errorf("a proper name is named: %v", err)
	}
	for _, path := range []string{"0x" + key, `{"crypto":{"ciphertext":"` + key + `"}}`, "hunter2-not-a-file"} {
		_, err := KeyFromKeystore(path, []byte("pw"))
		if !errors.Is(err, ErrImportKey) || strings.Contains(err.Error(), path[:10]) {
			t.Errorf("KeyFromKeystore(%.10q…): %v", path, err)
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "ks.json")
	if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := KeyFromKeystore(p, []byte("pw")); err == nil || !strings.Contains(err.Error(), p+" is not a V3 keystore file") {
		t.Errorf("an existing file is named: %v", err)
	}
}
