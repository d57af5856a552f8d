package home

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/store"
)

const passphrase = "correct horse battery staple"

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// lightKDF keeps tests fast; production homes use secrets.NewKDFParams.
func lightKDF(t *testing.T) *secrets.KDFParams {
	t.Helper()
	p, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	p.N = 1 << 10
	return &p
}

func opts(t *testing.T) InitOptions {
	return InitOptions{Passphrase: []byte(passphrase), KDF: lightKDF(t), Clock: func() time.Time { return t0 }}
}

// initHome creates a home in a fresh directory and returns it open with
// the admin credential.
func initHome(t *testing.T, o InitOptions) (*Home, secrets.Credential) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "home")
	h, admin, err := Init(t.Context(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, admin
}

func TestInitThenOpen(t *testing.T) {
	h, admin := initHome(t, opts(t))
	if !admin.IsAdmin() || !strings.HasPrefix(admin.Reveal(), secrets.AdminPrefix) {
		t.Fatalf("admin credential %v is not an admin credential", admin)
	}
	w1, err := h.WalletKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := w1.Address().Hex(); got != h.Config.WalletAddress {
		t.Errorf("wallet key address %s, config says %s", got, h.Config.WalletAddress)
	}
	dir := h.Dir
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	h2, err := Open(t.Context(), dir, []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if diff := cmp.Diff(h.Config, h2.Config); diff != "" {
		t.Errorf("config after reopen (-init +open):\n%s", diff)
	}
	want := Config{
		Version: 1, KDF: h.Config.KDF, PassphraseCheck: h.Config.PassphraseCheck,
		WalletKeyID: h.Config.WalletKeyID, WalletAddress: w1.Address().Hex(),
		Listen: DefaultListen, AdminListen: DefaultAdminListen, CreatedAt: t0,
	}
	if diff := cmp.Diff(want, h2.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	w2, err := h2.WalletKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !w1.Equal(*w2) {
		t.Error("reopened wallet key differs")
	}
	k, err := h2.Store.GetKey(t.Context(), h2.Config.WalletKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if k.Kind != store.KeyKindWallet || k.Address != w1.Address().Hex() || !k.CreatedAt.Equal(t0) {
		t.Errorf("stored key %+v", k)
	}

	if err := h2.VerifyAdmin(admin.Reveal()); err != nil {
		t.Errorf("VerifyAdmin(own token) = %v", err)
	}
}

func TestVerifyAdminRefuses(t *testing.T) {
	h, admin := initHome(t, opts(t))
	other, _ := secrets.NewAdminCredential()
	agent, _ := secrets.NewCredential()
	tok := admin.Reveal()
	sameIDOtherSecret := tok[:len(tok)-64] + strings.Repeat("0", 64)
	otherIDSameSecret := secrets.AdminPrefix + other.ID() + tok[len(tok)-65:]
	for name, token := range map[string]string{
		"empty":               "",
		"other admin":         other.Reveal(),
		"agent credential":    agent.Reveal(),
		"same id, bad secret": sameIDOtherSecret,
		"other id, secret":    otherIDSameSecret,
		"uppercase":           strings.ToUpper(tok),
		"trailing newline":    tok + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			err := h.VerifyAdmin(token)
			if !errors.Is(err, ErrBadAdminCredential) {
				t.Fatalf("VerifyAdmin = %v, want ErrBadAdminCredential", err)
			}
			if token != "" && strings.Contains(err.Error(), strings.TrimSpace(token[len(token)/2:])) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	h, _ := initHome(t, opts(t))
	dir := h.Dir
	h.Close()
	noDB := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(noDB, ConfigFile), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, pass string
		want            error
		wantMsg         string
	}{
		{"wrong passphrase", dir, "not the passphrase", ErrWrongPassphrase, "AGENTKEYS_PASSPHRASE"},
		{"empty passphrase", dir, "", ErrNoPassphrase, "set AGENTKEYS_PASSPHRASE or run in a terminal"},
		{"no home", t.TempDir(), passphrase, ErrNotInitialized, "run agentkeys init"},
		{"missing directory", filepath.Join(t.TempDir(), "nope"), passphrase, ErrNotInitialized, "run agentkeys init"},
		{"config without database", noDB, passphrase, ErrNotInitialized, DBFile + " is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Open(t.Context(), tt.dir, []byte(tt.pass))
			if err == nil {
				h.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Open = %v, want %v mentioning %q", err, tt.want, tt.wantMsg)
			}
			if tt.pass != "" && strings.Contains(err.Error(), tt.pass) {
				t.Errorf("error %q contains the passphrase", err)
			}
		})
	}
	// Neither Open nor OpenStore creates a database where there is no home.
	empty := t.TempDir()
	if _, err := OpenStore(t.Context(), empty); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("OpenStore(empty dir) = %v, want ErrNotInitialized", err)
	}
	if _, err := OpenStore(t.Context(), noDB); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("OpenStore(config without db) = %v, want ErrNotInitialized", err)
	}
	for _, d := range []string{empty, noDB} {
		if _, err := os.Stat(filepath.Join(d, DBFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: a database was created (%v)", d, err)
		}
	}
}

func TestOpenRefusesBadConfig(t *testing.T) {
	h, _ := initHome(t, opts(t))
	h.Close()
	path := filepath.Join(h.Dir, ConfigFile)
	orig, _ := os.ReadFile(path)
	tests := []struct {
		name, content, wantMsg string
	}{
		{"newer version", strings.Replace(string(orig), `"version": 1`, `"version": 2`, 1), "version 2 is newer"},
		{"not json", "{", "unexpected EOF"},
		{"no check", strings.Replace(string(orig), `"passphrase_check"`, `"x"`, 1), "missing passphrase_check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(t.Context(), h.Dir, []byte(passphrase))
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Open = %v, want ErrConfig mentioning %q", err, tt.wantMsg)
			}
		})
	}
}

func TestInitRefuses(t *testing.T) {
	existing, _ := initHome(t, opts(t))
	existing.Close()
	leftover := t.TempDir()
	if err := os.WriteFile(filepath.Join(leftover, DBFile), []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		mod     func(*InitOptions)
		want    error
		wantMsg string
	}{
		{"already initialised", existing.Dir, nil, ErrAlreadyInitialized, filepath.Join(existing.Dir, ConfigFile)},
		{"database left behind", leftover, nil, ErrAlreadyInitialized, filepath.Join(leftover, DBFile)},
		{"empty passphrase", "", func(o *InitOptions) { o.Passphrase = nil }, ErrNoPassphrase, "AGENTKEYS_PASSPHRASE"},
		{"short passphrase", "", func(o *InitOptions) { o.Passphrase = []byte("hunter2") }, ErrWeakPassphrase, "AGENTKEYS_PASSPHRASE"},
		{"zero import key", "", func(o *InitOptions) { o.ImportKey = &secrets.PrivateKey{} }, nil, "import key holds no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), "home")
			}
			before := snapshot(t, dir)
			o := opts(t)
			if tt.mod != nil {
				tt.mod(&o)
			}
			h, _, err := Init(t.Context(), dir, o)
			if err == nil {
				h.Close()
				t.Fatal("Init succeeded")
			}
			if (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Init = %v, want %v mentioning %q", err, tt.want, tt.wantMsg)
			}
			if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
				t.Errorf("Init changed the directory (-before +after):\n%s", diff)
			}
		})
	}
}

// snapshot returns the names and contents of the files in dir (nil if dir
// does not exist).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

// A failure after files were created removes them, so init can be re-run.
func TestInitFailureLeavesNothing(t *testing.T) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, pre := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "home")
		if pre {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := Init(cancelled, dir, opts(t)); err == nil {
			t.Fatal("Init with a cancelled context succeeded")
		}
		entries, err := os.ReadDir(dir)
		switch {
		case !pre && !errors.Is(err, fs.ErrNotExist):
			t.Errorf("directory Init created was left behind (%v, %v)", entries, err)
		case pre && (err != nil || len(entries) != 0):
			t.Errorf("pre-existing directory not left empty: %v, %v", entries, err)
		}
		h, _, err := Init(t.Context(), dir, opts(t))
		if err != nil {
			t.Fatalf("re-running Init after a failure: %v", err)
		}
		h.Close()
	}
}

func TestPermissions(t *testing.T) {
	for _, pre := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "home")
		if pre {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		h, _, err := Init(t.Context(), dir, opts(t))
		if err != nil {
			t.Fatal(err)
		}
		// While open, the -wal and -shm files exist too.
		if _, err := h.WalletKey(t.Context()); err != nil {
			t.Fatal(err)
		}
		check := func(name string, want fs.FileMode) {
			fi, err := os.Stat(filepath.Join(dir, name))
			if errors.Is(err, fs.ErrNotExist) && name != "" && name != ConfigFile && name != DBFile {
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s: mode %v, want %v", filepath.Join(dir, name), got, want)
			}
		}
		check("", 0o700)
		for _, f := range []string{ConfigFile, DBFile, DBFile + "-wal", DBFile + "-shm"} {
			check(f, 0o600)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp") {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
		h.Close()
	}
}

func TestSealedKeyBoundToRecordID(t *testing.T) {
	h, _ := initHome(t, opts(t))
	ctx := t.Context()
	k, err := h.Store.GetKey(ctx, h.Config.WalletKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Master.Open(k.ID, k.Sealed); err != nil {
		t.Fatalf("open under its own id: %v", err)
	}
	if _, err := h.Master.Open("wallet_0000000000000000", k.Sealed); !errors.Is(err, secrets.ErrOpen) {
		t.Errorf("open under another id = %v, want ErrOpen", err)
	}
	// Copy the sealed bytes to another record and point the home at it, as
	// someone with write access to the files might: unsealing must fail.
	moved := k
	moved.ID = "wallet_1111111111111111"
	if err := h.Store.PutKey(ctx, moved); err != nil {
		t.Fatal(err)
	}
	h.Config.WalletKeyID = moved.ID
	if _, err := h.WalletKey(ctx); !errors.Is(err, secrets.ErrOpen) {
		t.Errorf("WalletKey from a moved record = %v, want ErrOpen", err)
	}
	// A key sealed properly for its record but recorded under another
	// address is refused too.
	other, _ := secrets.GenerateKey()
	raw := other.Bytes()
	sealed, err := h.Master.Seal("wallet_2222222222222222", raw)
	if err != nil {
		t.Fatal(err)
	}
	swapped := store.Key{ID: "wallet_2222222222222222", Kind: store.KeyKindWallet, Address: k.Address, Sealed: sealed, CreatedAt: t0}
	if err := h.Store.PutKey(ctx, swapped); err != nil {
		t.Fatal(err)
	}
	h.Config.WalletKeyID = swapped.ID
	if _, err := h.WalletKey(ctx); err == nil || !strings.Contains(err.Error(), "recorded address") {
		t.Errorf("WalletKey of a swapped key = %v, want an address mismatch", err)
	}
}

func TestSaveConfig(t *testing.T) {
	h, _ := initHome(t, opts(t))
	h.Config.UpstreamRPC = "http://127.0.0.1:8545"
	h.Config.ChainID = 31337
	if err := h.SaveConfig(); err != nil {
		t.Fatal(err)
	}
	got, err := readConfig(h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h.Config, got); diff != "" {
		t.Errorf("saved config (-want +got):\n%s", diff)
	}
}

func newKeystoreFile(t *testing.T, password string) (path string, key *ecdsa.PrivateKey) {
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
	path = filepath.Join(t.TempDir(), "UTC--wallet.json")
	if err := os.WriteFile(path, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, key
}

func TestImport(t *testing.T) {
	envKey, _ := crypto.GenerateKey()
	envHex := hex.EncodeToString(crypto.FromECDSA(envKey))
	ksPath, ksKey := newKeystoreFile(t, "keystore pw")
	env := map[string]string{
		"PLAIN":  envHex,
		"PREFIX": "0x" + envHex,
		"SPACES": "  " + strings.ToUpper(envHex) + "\n",
	}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name string
		load func() (*secrets.PrivateKey, error)
		want *ecdsa.PrivateKey
	}{
		{"env hex", func() (*secrets.PrivateKey, error) { return KeyFromEnv(getenv, "PLAIN") }, envKey},
		{"env 0x hex", func() (*secrets.PrivateKey, error) { return KeyFromEnv(getenv, "PREFIX") }, envKey},
		{"env upper hex with spaces", func() (*secrets.PrivateKey, error) { return KeyFromEnv(getenv, "SPACES") }, envKey},
		{"keystore", func() (*secrets.PrivateKey, error) { return KeyFromKeystore(ksPath, []byte("keystore pw")) }, ksKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.load()
			if err != nil {
				t.Fatal(err)
			}
			o := opts(t)
			o.ImportKey = k
			h, _ := initHome(t, o)
			want := crypto.PubkeyToAddress(tt.want.PublicKey).Hex()
			if h.Config.WalletAddress != want {
				t.Errorf("wallet address %s, want %s", h.Config.WalletAddress, want)
			}
			dir := h.Dir
			h.Close()
			h2, err := Open(t.Context(), dir, []byte(passphrase))
			if err != nil {
				t.Fatal(err)
			}
			defer h2.Close()
			w, err := h2.WalletKey(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(w.Bytes(), crypto.FromECDSA(tt.want)) {
				t.Error("unsealed wallet key is not the imported key")
			}
		})
	}
}

func TestImportErrors(t *testing.T) {
	secretHex := "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	env := map[string]string{
		"SHORT":   secretHex[:40],
		"NOT_HEX": "zz" + secretHex[2:],
		"ZERO":    strings.Repeat("0", 64),
		"ORDER":   "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	}
	getenv := func(k string) string { return env[k] }
	ksPath, _ := newKeystoreFile(t, "right password")
	notKS := filepath.Join(t.TempDir(), "not-a-keystore.json")
	os.WriteFile(notKS, []byte(`{"hello": "`+secretHex+`"}`), 0o600)
	tests := []struct {
		name, wantMsg string
		load          func() (*secrets.PrivateKey, error)
	}{
		{"unset", "UNSET is not set", func() (*secrets.PrivateKey, error) { return KeyFromEnv(getenv, "UNSET") }},
		{"no name", "no environment variable", func() (*secrets.PrivateKey, error) { return KeyFromEnv(getenv, "") }},
		{"short", "SHORT does not hold a private key", func() (*secrets.PrivateKey, error) { return KeyFromEnv(getenv, "SHORT") }},
		{"not hex", "NOT_HEX does not hold a private key", func() (*secrets.PrivateKey, error) { return KeyFromEnv(getenv, "NOT_HEX") }},
		{"zero", "ZERO", func() (*secrets.PrivateKey, error) { return KeyFromEnv(getenv, "ZERO") }},
		{"beyond curve order", "ORDER", func() (*secrets.PrivateKey, error) { return KeyFromEnv(getenv, "ORDER") }},
		{"wrong keystore password", "wrong keystore password", func() (*secrets.PrivateKey, error) {
			return KeyFromKeystore(ksPath, []byte("wrong password"))
		}},
		{"not a keystore", "is not a V3 keystore file", func() (*secrets.PrivateKey, error) { return KeyFromKeystore(notKS, nil) }},
		{"missing keystore", "no keystore file at the path given", func() (*secrets.PrivateKey, error) {
			return KeyFromKeystore(filepath.Join(t.TempDir(), "nope.json"), nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.load()
			if !errors.Is(err, ErrImportKey) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error = %v, want ErrImportKey mentioning %q", err, tt.wantMsg)
			}
			msg := err.Error()
			for _, s := range []string{secretHex, secretHex[:40], secretHex[2:], "right password", "wrong password", "ffffffffffffffff", "0000000000000000"} {
				if strings.Contains(msg, s) {
					t.Errorf("error %q contains secret material %q", msg, s)
				}
			}
		})
	}
}

// Nothing secret may rest in the home's files or appear in errors.
func TestNoSecretsAtRestOrInErrors(t *testing.T) {
	wallet, _ := secrets.GenerateKey()
	raw := wallet.Bytes()
	o := opts(t)
	o.ImportKey = wallet
	h, admin := initHome(t, o)
	ctx := t.Context()
	if _, err := h.WalletKey(ctx); err != nil {
		t.Fatal(err)
	}
	tok := admin.Reveal()
	adminSecret := tok[strings.LastIndexByte(tok, '_')+1:]
	secretsToFind := map[string][]byte{
		"private key hex":    []byte(hex.EncodeToString(raw)),
		"private key HEX":    []byte(strings.ToUpper(hex.EncodeToString(raw))),
		"private key bytes":  raw,
		"passphrase":         []byte(passphrase),
		"admin token":        []byte(tok),
		"admin secret hex":   []byte(adminSecret),
		"admin secret bytes": mustHex(t, adminSecret),
	}

	// Errors from every failing path that saw a secret.
	var errs []error
	collect := func(err error) {
		if err == nil {
			t.Error("expected an error")
			return
		}
		errs = append(errs, err)
	}
	collect(h.VerifyAdmin(tok[:len(tok)-1] + "x"))
	collect(h.VerifyAdmin(tok + "0"))
	collect(h.VerifyAdmin(strings.Replace(tok, secrets.AdminPrefix, secrets.AgentPrefix, 1)))
	_, err := Open(ctx, h.Dir, []byte(passphrase+"!"))
	collect(err)
	_, _, err = Init(ctx, h.Dir, o)
	collect(err)
	_, _, err = Init(ctx, filepath.Join(t.TempDir(), "x"), InitOptions{Passphrase: []byte(passphrase[:5])})
	collect(err)
	_, err = KeyFromEnv(func(string) string { return hex.EncodeToString(raw) + "0" }, "K")
	collect(err)

	dir := h.Dir
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
		return nil
	})
	if len(files) < 2 {
		t.Fatalf("expected config and database, found %v", len(files))
	}
	for i, err := range errs {
		files["error "+string(rune('0'+i))+": "+err.Error()] = []byte(err.Error())
	}
	for where, b := range files {
		for what, s := range secretsToFind {
			if bytes.Contains(b, s) {
				t.Errorf("%s contains the %s", where, what)
			}
		}
	}
	// config.json is valid JSON with the expected top-level fields only.
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(files[filepath.Join(dir, ConfigFile)], &cfg); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range cfg {
		keys = append(keys, k)
	}
	for _, k := range keys {
		switch k {
		case "version", "kdf", "passphrase_check", "wallet_key_id", "wallet_address", "listen", "admin_listen", "created_at":
		default:
			t.Errorf("unexpected config field %q", k)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestResolve(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name, flag string
		env        map[string]string
		want       string
		wantErr    bool
	}{
		{"default", "", map[string]string{"HOME": "/home/u"}, "/home/u/.agentkeys", false},
		{"env", "", map[string]string{"HOME": "/home/u", "AGENTKEYS_HOME": "/srv/ak"}, "/srv/ak", false},
		{"flag wins", "/tmp/x", map[string]string{"HOME": "/home/u", "AGENTKEYS_HOME": "/srv/ak"}, "/tmp/x", false},
		{"tilde", "~/ak", map[string]string{"HOME": "/home/u"}, "/home/u/ak", false},
		{"cleaned", "/tmp/a/../b/", nil, "/tmp/b", false},
		{"no HOME", "", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.flag, env(tt.env))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Resolve = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
	rel, err := Resolve("rel", env(nil))
	if err != nil || !filepath.IsAbs(rel) {
		t.Errorf("relative --home resolved to %q, %v; want an absolute path", rel, err)
	}
}

func TestPassphrase(t *testing.T) {
	prompted := func(s string) func(string) ([]byte, error) {
		return func(string) ([]byte, error) { return []byte(s), nil }
	}
	failing := func(string) ([]byte, error) { return nil, errors.New("tty gone") }
	tests := []struct {
		name    string
		env     string
		prompt  func(string) ([]byte, error)
		want    string
		wantErr string
	}{
		{"env", "from env", prompted("from prompt"), "from env", ""},
		{"prompt", "", prompted("from prompt"), "from prompt", ""},
		{"no terminal", "", nil, "", "set AGENTKEYS_PASSPHRASE or run in a terminal"},
		{"empty at prompt", "", prompted(""), "", "empty passphrase"},
		{"prompt fails", "", failing, "", "tty gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Passphrase(func(k string) string {
				if k == EnvPassphrase {
					return tt.env
				}
				return ""
			}, tt.prompt)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Passphrase = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("Passphrase = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
