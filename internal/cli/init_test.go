package cli

import (
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"

	"github.com/agentkeys/agentkeys/internal/home"
)

const testPassphrase = "correct horse battery staple"

var adminTokenRE = regexp.MustCompile(`akadm_[a-z2-7]{12}_[0-9a-f]{64}`)

// setInitEnv gives a test a passphrase and no ambient home or import
// settings.
func setInitEnv(t *testing.T) {
	t.Setenv(home.EnvPassphrase, testPassphrase)
	t.Setenv(home.EnvHome, "")
	t.Setenv(home.EnvKeystorePassword, "")
}

// openHome unlocks dir, checks token is its admin credential and returns
// the wallet address.
func openHome(t *testing.T, dir, token string) string {
	t.Helper()
	h, err := home.Open(t.Context(), dir, []byte(testPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.VerifyAdmin(token); err != nil {
		t.Errorf("printed admin token does not verify: %v", err)
	}
	w, err := h.WalletKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if w.Address().Hex() != h.Config.WalletAddress {
		t.Errorf("wallet key %s, config %s", w.Address().Hex(), h.Config.WalletAddress)
	}
	return h.Config.WalletAddress
}

func TestInitText(t *testing.T) {
	setInitEnv(t)
	dir := filepath.Join(t.TempDir(), "ak")
	out, errOut, code := run(t, "", "init", "--home", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	token := adminTokenRE.FindString(out)
	if token == "" || strings.Count(out, token) != 1 {
		t.Fatalf("output does not show the admin credential exactly once:\n%s", out)
	}
	addr := openHome(t, dir, token)
	for _, want := range []string{
		"agentkeys home created at " + dir,
		"wallet address: " + addr + " (a new key generated for this home)",
		"It will not be shown again",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("unexpected stderr: %s", errOut)
	}
}

func TestInitJSON(t *testing.T) {
	setInitEnv(t)
	dir := filepath.Join(t.TempDir(), "ak")
	t.Setenv(home.EnvHome, dir) // no --home: the environment names it
	out, errOut, code := run(t, "", "init", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Home       string `json:"home"`
		Address    string `json:"address"`
		AdminToken string `json:"admin_token"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if got.Home != dir || !adminTokenRE.MatchString(got.AdminToken) {
		t.Errorf("json output %s", out)
	}
	if addr := openHome(t, dir, got.AdminToken); got.Address != addr {
		t.Errorf("address %s, home has %s", got.Address, addr)
	}
}

func TestInitTwiceRefused(t *testing.T) {
	setInitEnv(t)
	dir := filepath.Join(t.TempDir(), "ak")
	if _, errOut, code := run(t, "", "init", "--home", dir); code != 0 {
		t.Fatalf("first init: exit %d: %s", code, errOut)
	}
	before, err := os.ReadFile(filepath.Join(dir, home.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "", "init", "--home", dir)
	if code == 0 || out != "" {
		t.Fatalf("second init: exit %d, stdout %q", code, out)
	}
	if want := filepath.Join(dir, home.ConfigFile); !strings.Contains(errOut, "already initialised") || !strings.Contains(errOut, want) {
		t.Errorf("stderr %q should say already initialised and name %s", errOut, want)
	}
	after, _ := os.ReadFile(filepath.Join(dir, home.ConfigFile))
	if string(before) != string(after) {
		t.Error("second init changed config.json")
	}
}

func writeKeystore(t *testing.T, password string) (string, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	blob, err := keystore.EncryptKey(&keystore.Key{Id: uuid.New(), Address: crypto.PubkeyToAddress(key.PublicKey), PrivateKey: key},
		password, keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "keystore.json")
	if err := os.WriteFile(path, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, key
}

func TestInitImport(t *testing.T) {
	envKey, _ := crypto.GenerateKey()
	envHex := hex.EncodeToString(crypto.FromECDSA(envKey))
	ksPath, ksKey := writeKeystore(t, "keystore password")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want *ecdsa.PrivateKey
	}{
		{"env", map[string]string{"WALLET_KEY": "0x" + envHex}, []string{"--import-key-env", "WALLET_KEY"}, envKey},
		{"keystore", map[string]string{home.EnvKeystorePassword: "keystore password"}, []string{"--keystore", ksPath}, ksKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setInitEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			dir := filepath.Join(t.TempDir(), "ak")
			out, errOut, code := run(t, "", append([]string{"init", "--home", dir}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			want := crypto.PubkeyToAddress(tt.want.PublicKey).Hex()
			if !strings.Contains(out, "wallet address: "+want+" (imported)") {
				t.Errorf("output does not show the imported address %s:\n%s", want, out)
			}
			if addr := openHome(t, dir, adminTokenRE.FindString(out)); addr != want {
				t.Errorf("home wallet %s, want %s", addr, want)
			}
			if strings.Contains(out+errOut, envHex) || strings.Contains(out+errOut, "keystore password") {
				t.Error("output echoes the imported secret")
			}
		})
	}
}

func TestInitErrors(t *testing.T) {
	ksPath, _ := writeKeystore(t, "keystore password")
	const badKey = "0x1234567890abcdef1234567890abcdef"
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
	}{
		{"no passphrase and no terminal", map[string]string{home.EnvPassphrase: ""}, nil, "set AGENTKEYS_PASSPHRASE or run in a terminal"},
		{"short passphrase", map[string]string{home.EnvPassphrase: "short"}, nil, "at least 8 are needed (AGENTKEYS_PASSPHRASE"},
		{"import variable unset", nil, []string{"--import-key-env", "NOT_SET_ANYWHERE"}, "environment variable NOT_SET_ANYWHERE is not set"},
		{"import variable malformed", map[string]string{"BAD_KEY": badKey}, []string{"--import-key-env", "BAD_KEY"}, "BAD_KEY does not hold a private key"},
		{"keystore without password", nil, []string{"--keystore", ksPath}, "set AGENTKEYS_KEYSTORE_PASSWORD or run in a terminal"},
		{"keystore wrong password", map[string]string{home.EnvKeystorePassword: "nope nope"}, []string{"--keystore", ksPath}, "wrong keystore password"},
		{"both imports", nil, []string{"--keystore", ksPath, "--import-key-env", "X"}, "none of the others can be"},
		{"bad output", nil, []string{"-o", "yaml"}, "--output: expected one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setInitEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			dir := filepath.Join(t.TempDir(), "ak")
			out, errOut, code := run(t, "", append([]string{"init", "--home", dir}, tt.args...)...)
			if code == 0 {
				t.Fatalf("init succeeded:\n%s", out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantErr)
			}
			if strings.Contains(errOut, badKey) || strings.Contains(errOut, "nope nope") || strings.Contains(errOut, "short\n") {
				t.Errorf("stderr echoes a secret: %q", errOut)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a failed init left %s behind (%v)", dir, err)
			}
		})
	}
}
