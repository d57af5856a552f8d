package cli

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

// TestNoSecretEchoed passes secret-looking values where names, paths and
// URLs belong and checks that no output repeats them and that the error
// says what was expected.
func TestNoSecretEchoed(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keyHex := hex.EncodeToString(crypto.FromECDSA(key))
	// A key that starts with a letter has the shape of a variable name.
	letterKey := "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
	keystoreJSON := `{"address":"f39fd6e51aad88f6f4ce6ab8827279cfffb92266","crypto":{"cipher":"aes-128-ctr","ciphertext":"s3cr3tc1ph3r"}}`
	const password = "hunter2-correct-horse"
	tests := []struct {
		name    string
		args    []string
		secret  string
		wantErr string
	}{
		{"key as env name", []string{"init", "--import-key-env", "0x" + keyHex}, keyHex, "--import-key-env: home: cannot import key: expected the NAME of an environment variable"},
		{"key without 0x as env name", []string{"init", "--import-key-env", keyHex}, keyHex, "expected the NAME of an environment variable"},
		{"letter-first key as env name", []string{"init", "--import-key-env", letterKey}, letterKey, "expected the NAME of an environment variable"},
		{"password as env name", []string{"init", "--import-key-env", "pass word!" + password}, password, "expected the NAME of an environment variable"},
		{"key as positional argument", []string{"init", "0x" + keyHex}, keyHex, "takes no positional arguments, got 1"},
		{"key after a flag", []string{"init", "--import-key-env", "WALLET_KEY", "0x" + keyHex}, keyHex, "takes no positional arguments"},
		{"key as keystore path", []string{"init", "--keystore", "0x" + keyHex}, keyHex, "--keystore: home: cannot import key: expected the path of a keystore file"},
		{"keystore content as path", []string{"init", "--keystore", keystoreJSON}, "s3cr3tc1ph3r", "expected the path of a keystore file"},
		{"password as keystore path", []string{"init", "--keystore", password}, password, "no keystore file at the path given"},
		{"key in an upstream URL", []string{"init", "--rpc-upstream", "mainnet.example.io/v3/" + keyHex}, keyHex, "--rpc-upstream: expected the URL of an Ethereum node's JSON-RPC"},
		{"bad scheme upstream", []string{"init", "--rpc-upstream", "ftp://mainnet.example.io/v3/" + keyHex}, keyHex, "expected an http, https, ws or wss URL"},
		{"serve bad upstream", []string{"serve", "--rpc-upstream", "mainnet.example.io/" + keyHex}, keyHex, "--rpc-upstream: expected the URL"},
		{"config set upstream", []string{"config", "set", "rpc-upstream", "mainnet.example.io?apikey=" + keyHex}, keyHex, "rpc-upstream: expected the URL"},
		{"key as admin token stray arg", []string{"key", "list", "akadm_abcdefghijkl_" + keyHex}, keyHex, "takes no positional arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setInitEnv(t)
			t.Setenv("WALLET_KEY", "")
			dir := filepath.Join(t.TempDir(), "ak")
			if tt.args[0] == "config" || tt.args[0] == "serve" {
				initHome(t, dir)
			}
			out, errOut, code := run(t, "", append(tt.args, "--home", dir)...)
			if code == 0 {
				t.Fatalf("succeeded:\n%s", out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantErr)
			}
			for _, s := range []string{tt.secret, strings.ToUpper(tt.secret), tt.secret[:min(20, len(tt.secret))]} {
				if strings.Contains(out+errOut, s) {
					t.Errorf("output repeats the secret:\nstdout %q\nstderr %q", out, errOut)
				}
			}
		})
	}
}

// initHome creates a home in dir through the CLI.
func initHome(t *testing.T, dir string) {
	t.Helper()
	if _, errOut, code := run(t, "", "init", "--home", dir); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
}

func TestRedactForDisplay(t *testing.T) {
	key := strings.Repeat("ab12", 16)
	in := "x 0x" + key + " y " + key + " ak_abcdefghijkl_0123456789 post https://node.example/v3/" + key + "?k=v"
	got := redactForDisplay(in)
	if want := "x [redacted] y [redacted] [redacted] post https://node.example/…"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
