package home

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/store"
	"github.com/agentkeys/agentkeys/internal/store/postgres"
	"github.com/agentkeys/agentkeys/internal/store/sqlite"
)

// metaAdminCredential is the store setting holding the admin credential's
// id and hash (adminRecord as JSON); the secret itself is never stored.
const metaAdminCredential = "admin_credential"

type adminRecord struct {
	ID   string `json:"id"`
	Hash string `json:"hash"` // hex of secrets.HashSecret
}

// Home is an unlocked agentkeys home. Close it when done.
type Home struct {
	Dir    string
	Config Config
	Store  store.Store
	// Master seals and opens keys in Store (record id = key id).
	Master *secrets.MasterKey
}

// InitOptions configure Init.
type InitOptions struct {
	// Passphrase derives the master key; required, at least
	// MinPassphraseLen characters. Init does not keep it.
	Passphrase []byte
	// ImportKey becomes the wallet key; nil generates a fresh one.
	ImportKey *secrets.PrivateKey
	// OwnerAddress, when set, makes a home without the owner's key (the
	// owner-offline mode): the owner's account is this address, whose key
	// stays in the owner's wallet, and the key generated is the relayer's,
	// a gas account of the daemon's own. Not with ImportKey.
	OwnerAddress common.Address
	// UpstreamRPC and ChainID are recorded in the config if set.
	UpstreamRPC string
	ChainID     uint64
	// KDF overrides the scrypt parameters (tests use cheap ones); nil
	// means secrets.NewKDFParams.
	KDF *secrets.KDFParams
	// Clock stamps the config and the key; nil means time.Now.
	Clock func() time.Time
	// Store, if set, is a PostgreSQL URL: the home's keys, grants and
	// audit log go there instead of agentkeys.db, and the config records
	// it, so copies of the home's config.json are replicas of one
	// deployment.
	Store string
}

// Init creates a new home in dir (creating dir, mode 0700, if needed) and
// returns it open, with the admin credential: the caller shows it to the
// owner once and never again.
//
// Init never overwrites: a dir holding config.json or agentkeys.db is
// refused with ErrAlreadyInitialized naming the path. Everything secret is
// prepared in memory first; then agentkeys.db is created exclusively (which
// also keeps two concurrent inits apart) and config.json is written last,
// atomically, as the mark of a complete home. If any step fails, Init
// removes what it created (and dir, if it created dir), so running it again
// is safe. Only a crash between creating the database and writing the
// config leaves an agentkeys.db without config.json; Init then refuses, and
// the error says to remove that file.
func Init(ctx context.Context, dir string, opts InitOptions) (_ *Home, _ secrets.Credential, err error) {
	fail := func(err error) (*Home, secrets.Credential, error) {
		return nil, secrets.Credential{}, fmt.Errorf("init %s: %w", dir, err)
	}
	if err := checkNewPassphrase(opts.Passphrase); err != nil {
		return fail(err)
	}
	if opts.ImportKey != nil && !opts.ImportKey.Valid() {
		return fail(errors.New("import key holds no key"))
	}
	offline := opts.OwnerAddress != (common.Address{})
	if offline && opts.ImportKey != nil {
		return fail(errors.New("an owner address (the owner keeps its key) and an imported key exclude each other"))
	}
	if err := refuseExisting(dir); err != nil {
		return nil, secrets.Credential{}, err
	}
	now := time.Now
	if opts.Clock != nil {
		now = opts.Clock
	}

	// Secrets first, in memory, so a failure here touches no file.
	var kdf secrets.KDFParams
	if opts.KDF != nil {
		kdf = *opts.KDF
	} else if kdf, err = secrets.NewKDFParams(); err != nil {
		return fail(err)
	}
	master, err := secrets.DeriveKey(opts.Passphrase, kdf)
	if err != nil {
		return fail(err)
	}
	check, err := master.Check()
	if err != nil {
		return fail(err)
	}
	wallet := opts.ImportKey
	if wallet == nil {
		if wallet, err = secrets.GenerateKey(); err != nil {
			return fail(err)
		}
	}
	kind := store.KeyKindWallet
	if offline {
		kind = store.KeyKindRelayer
	}
	keyID, err := newKeyID(kind)
	if err != nil {
		return fail(err)
	}
	raw := wallet.Bytes()
	sealed, err := master.Seal(keyID, raw)
	clear(raw)
	if err != nil {
		return fail(err)
	}
	admin, err := secrets.NewAdminCredential()
	if err != nil {
		return fail(err)
	}
	adminRec := adminRecord{ID: admin.ID(), Hash: hex.EncodeToString(admin.Hash())}
	adminJSON, err := json.Marshal(adminRec)
	if err != nil {
		return fail(err)
	}
	at := now().UTC().Truncate(time.Millisecond)
	cfg := Config{
		Version:         configVersion,
		KDF:             kdf,
		PassphraseCheck: check,
		WalletKeyID:     keyID,
		WalletAddress:   wallet.Address().Hex(),
		Listen:          DefaultListen,
		AdminListen:     DefaultAdminListen,
		UpstreamRPC:     opts.UpstreamRPC,
		ChainID:         opts.ChainID,
		CreatedAt:       at,
	}
	if offline {
		cfg.OwnerOffline, cfg.WalletKeyID, cfg.WalletAddress = true, "", opts.OwnerAddress.Hex()
		cfg.RelayerKeyID, cfg.RelayerAddress = keyID, wallet.Address().Hex()
	}

	// Then the files, undone on any failure.
	createdDir, err := makeDir(dir)
	if err != nil {
		return fail(err)
	}
	var st store.Store
	defer func() {
		if err == nil {
			return
		}
		if st != nil {
			st.Close()
			if opts.Store == "" {
				removeSQLite(filepath.Join(dir, DBFile))
			}
		}
		if createdDir {
			os.Remove(dir) // only succeeds if empty, which it should be
		}
	}()
	if opts.Store != "" {
		cfg.Store = opts.Store
		if st, err = openPostgres(ctx, opts.Store); err != nil {
			return fail(err)
		}
		if _, err := st.GetMeta(ctx, metaAdminCredential); err == nil {
			return nil, secrets.Credential{}, fmt.Errorf("%w: the database at %s already holds a home (to run another replica of it, copy that home's %s instead of running init)",
				ErrAlreadyInitialized, postgres.Redact(opts.Store), ConfigFile)
		} else if !errors.Is(err, store.ErrNotFound) {
			return fail(err)
		}
	} else if st, err = createSQLite(ctx, dir); err != nil {
		return nil, secrets.Credential{}, err
	}
	key := store.Key{ID: keyID, Kind: kind, Address: wallet.Address().Hex(), Sealed: sealed, CreatedAt: at}
	if err := st.PutKey(ctx, key); err != nil {
		return fail(err)
	}
	if err := st.SetMeta(ctx, metaAdminCredential, string(adminJSON)); err != nil {
		return fail(err)
	}
	if err := writeConfig(dir, cfg); err != nil {
		return fail(err)
	}
	return &Home{Dir: dir, Config: cfg, Store: st, Master: master}, admin, nil
}

// createSQLite creates agentkeys.db in dir exclusively (which also keeps
// two concurrent inits apart) and opens it. A failure removes what it
// created.
func createSQLite(ctx context.Context, dir string) (_ store.Store, err error) {
	dbPath := filepath.Join(dir, DBFile)
	f, err := os.OpenFile(dbPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w: %s already exists (another init is running, or an earlier one was interrupted: remove it if it holds nothing you need)", ErrAlreadyInitialized, dbPath)
	}
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	// SQLite takes an empty file as a new database and creates its -wal and
	// -shm files with this file's mode, so all of them stay 0600.
	err = f.Close()
	var st *sqlite.Store
	if err == nil {
		st, err = sqlite.Open(ctx, dbPath)
	}
	if err != nil {
		removeSQLite(dbPath)
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	return st, nil
}

// removeSQLite removes the database file at path and its companions.
func removeSQLite(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}

// CanInit returns nil if Init would accept dir, and Init's error wrapping
// ErrAlreadyInitialized if dir already holds a home or a database. Callers
// use it to fail before asking the owner for passphrases.
func CanInit(dir string) error { return refuseExisting(dir) }

// refuseExisting returns ErrAlreadyInitialized if dir holds a home or a
// database.
func refuseExisting(dir string) error {
	for _, name := range []string{ConfigFile, DBFile} {
		p := filepath.Join(dir, name)
		_, err := os.Lstat(p)
		switch {
		case err == nil && name == ConfigFile:
			return fmt.Errorf("%w: %s exists; agentkeys init never overwrites a home (use another --home)", ErrAlreadyInitialized, p)
		case err == nil:
			return fmt.Errorf("%w: %s exists without %s (an earlier init was interrupted, or this is not an agentkeys home): remove it if it holds nothing you need",
				ErrAlreadyInitialized, p, ConfigFile)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("init %s: %w", dir, err)
		}
	}
	return nil
}

// makeDir creates dir with mode 0700, or tightens an existing directory to
// 0700 since it is about to hold the home. It reports whether it created
// dir.
func makeDir(dir string) (created bool, err error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(dir), dirMode); err != nil {
			return false, err
		}
		if err := os.Mkdir(dir, dirMode); err != nil {
			return false, err
		}
		return true, nil
	case err != nil:
		return false, err
	case !fi.IsDir():
		return false, fmt.Errorf("%s is not a directory", dir)
	}
	if fi.Mode().Perm() != dirMode {
		if err := os.Chmod(dir, dirMode); err != nil {
			return false, err
		}
	}
	return false, nil
}

// newKeyID returns kind + "_" + 16 random hex digits.
func newKeyID(kind string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("key id: %w", err)
	}
	return kind + "_" + hex.EncodeToString(b[:]), nil
}

// Option changes how Open, OpenStore and OpenAuditLog find the home's
// store.
type Option func(*options)

type options struct{ store string }

// WithStore opens the PostgreSQL database at url (serve's --store) instead
// of the store the home's config names; "" changes nothing.
func WithStore(url string) Option { return func(o *options) { o.store = url } }

// Open unlocks the home in dir with passphrase. A wrong passphrase is
// ErrWrongPassphrase; a dir without a home is ErrNotInitialized (Open
// never creates anything).
func Open(ctx context.Context, dir string, passphrase []byte, opts ...Option) (*Home, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("open %s: %w: set %s or run in a terminal", dir, ErrNoPassphrase, EnvPassphrase)
	}
	master, err := secrets.Unlock(passphrase, cfg.KDF, cfg.PassphraseCheck)
	if errors.Is(err, secrets.ErrWrongPassphrase) {
		return nil, fmt.Errorf("open %s: %w (check %s)", dir, err, EnvPassphrase)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	st, err := openStore(ctx, dir, cfg, opts)
	if err != nil {
		return nil, err
	}
	if _, err := storedAdmin(ctx, st); err != nil {
		st.Close()
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return &Home{Dir: dir, Config: cfg, Store: st, Master: master}, nil
}

// OpenStore opens only the store of the home in dir, for commands that
// need no secrets (audit verify, audit tail). It checks that dir is an
// initialised home first, so a mistyped --home is an error rather than a
// new empty database.
func OpenStore(ctx context.Context, dir string, opts ...Option) (store.Store, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	return openStore(ctx, dir, cfg, opts)
}

// openStore opens the PostgreSQL database that WithStore or the config
// names, else agentkeys.db in dir.
func openStore(ctx context.Context, dir string, cfg Config, opts []Option) (store.Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.store == "" {
		o.store = cfg.Store
	}
	if o.store != "" {
		return openPostgres(ctx, o.store)
	}
	p := filepath.Join(dir, DBFile)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is missing", ErrNotInitialized, p)
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	st, err := sqlite.Open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return st, nil
}

// CheckStoreURL checks the shape of a --store value ("" is the home's
// own store) without connecting; the error never repeats the URL's user
// info, path or query.
func CheckStoreURL(url string) error {
	if url != "" && !postgres.IsDSN(url) {
		return fmt.Errorf("store: expected a postgres:// or postgresql:// URL, got %s", postgres.Redact(url))
	}
	return nil
}

// openPostgres opens the store at a PostgreSQL URL; errors never repeat
// the URL's user info, path or query.
func openPostgres(ctx context.Context, url string) (store.Store, error) {
	if err := CheckStoreURL(url); err != nil {
		return nil, err
	}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// WalletKey unseals the wallet key. It fails if the sealed bytes were
// altered, moved to another record, or do not belong to the recorded
// address.
// A home without the owner's key (OwnerOffline) has none:
// ErrOwnerOffline.
func (h *Home) WalletKey(ctx context.Context) (*secrets.PrivateKey, error) {
	if h.Config.OwnerOffline {
		return nil, fmt.Errorf("wallet key: %w", ErrOwnerOffline)
	}
	return h.unseal(ctx, "wallet key", h.Config.WalletKeyID, store.KeyKindWallet, h.Config.WalletAddress)
}

// RelayerKey unseals the relayer key of a home without the owner's key,
// as WalletKey does the wallet key.
func (h *Home) RelayerKey(ctx context.Context) (*secrets.PrivateKey, error) {
	if !h.Config.OwnerOffline {
		return nil, errors.New("relayer key: this home holds the owner's key and has no relayer")
	}
	return h.unseal(ctx, "relayer key", h.Config.RelayerKeyID, store.KeyKindRelayer, h.Config.RelayerAddress)
}

func (h *Home) unseal(ctx context.Context, what, id, kind, addr string) (*secrets.PrivateKey, error) {
	k, err := h.Store.GetKey(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if k.Kind != kind {
		return nil, fmt.Errorf("%s: record %s is a %s key", what, k.ID, k.Kind)
	}
	raw, err := h.Master.Open(k.ID, k.Sealed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer clear(raw)
	pk, err := secrets.PrivateKeyFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if a := pk.Address().Hex(); !strings.EqualFold(a, addr) || !strings.EqualFold(a, k.Address) {
		return nil, fmt.Errorf("%s: unsealed key is not %s, the recorded address", what, addr)
	}
	return pk, nil
}

// VerifyAdmin returns nil if token is this home's admin credential, else
// ErrBadAdminCredential. The secret is compared in constant time, and the
// error never contains the token. The stored hash is read on each call,
// so a credential replaced by RotateAdmin (in another process too, or on
// another replica sharing the store) stops working at once.
func (h *Home) VerifyAdmin(token string) error {
	id, secret, err := secrets.ParseAdminCredential(token)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadAdminCredential, err)
	}
	rec, err := storedAdmin(context.Background(), h.Store)
	if err != nil {
		// The store cannot say which credential is current: refuse.
		return fmt.Errorf("%w: the stored credential cannot be read", ErrBadAdminCredential)
	}
	want, err := hex.DecodeString(rec.Hash)
	if err != nil || len(want) == 0 {
		return fmt.Errorf("%w: no admin credential is stored", ErrBadAdminCredential)
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(rec.ID)) == 1
	secretOK := secrets.VerifySecret(want, secret)
	if !idOK || !secretOK {
		return ErrBadAdminCredential
	}
	return nil
}

// MethodAdminRotated is the audit method of an admin credential rotation.
const MethodAdminRotated = "agentkeys_adminCredentialRotated"

// RotateAdmin replaces the admin credential with a new one, returned to be
// shown once, and appends an audit record naming the old and new
// credential ids (never a secret). The old credential stops working at
// once (VerifyAdmin).
func (h *Home) RotateAdmin(ctx context.Context, at time.Time) (secrets.Credential, error) {
	old, err := storedAdmin(ctx, h.Store)
	if err != nil {
		return secrets.Credential{}, fmt.Errorf("rotate admin credential: %w", err)
	}
	admin, err := secrets.NewAdminCredential()
	if err != nil {
		return secrets.Credential{}, err
	}
	rec := adminRecord{ID: admin.ID(), Hash: hex.EncodeToString(admin.Hash())}
	b, err := json.Marshal(rec)
	if err != nil {
		return secrets.Credential{}, err
	}
	if err := h.Store.SetMeta(ctx, metaAdminCredential, string(b)); err != nil {
		return secrets.Credential{}, fmt.Errorf("rotate admin credential: %w", err)
	}
	call, _ := json.Marshal(map[string]string{"old_credential_id": old.ID, "new_credential_id": rec.ID})
	if _, err := h.Store.AppendAudit(ctx, audit.Record{Time: at.UTC(), Method: MethodAdminRotated, Call: call,
		Decision: audit.DecisionAllow, Reasons: []string{}}); err != nil {
		return secrets.Credential{}, fmt.Errorf("rotate admin credential: the new credential is in force, but its audit record failed: %w", err)
	}
	return admin, nil
}

// SaveConfig writes h.Config to config.json atomically, after the caller
// changed a non-secret setting (upstream RPC, chain id, listen addresses).
func (h *Home) SaveConfig() error {
	if err := h.Config.validate(); err != nil {
		return err
	}
	return writeConfig(h.Dir, h.Config)
}

// CheckAdminToken reports whether token is the admin credential of the
// home in dir, like VerifyAdmin but without the passphrase: only the
// credential's hash is read from the store. The error never contains the
// token.
func CheckAdminToken(ctx context.Context, dir, token string) error {
	st, err := OpenStore(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := storedAdmin(ctx, st); err != nil {
		return err
	}
	return (&Home{Store: st}).VerifyAdmin(token)
}

// storedAdmin reads the admin credential's id and hash from the store,
// where they are kept apart from any process (so a rotation holds for
// every daemon sharing the store).
func storedAdmin(ctx context.Context, st store.Store) (adminRecord, error) {
	var rec adminRecord
	v, err := st.GetMeta(ctx, metaAdminCredential)
	if err == nil {
		err = json.Unmarshal([]byte(v), &rec)
	}
	if err != nil {
		return adminRecord{}, fmt.Errorf("admin credential: %w", err)
	}
	return rec, nil
}

// SetDelegate records addr as the AgentKeyDelegate deployment on chainID,
// keeping any setting changed on disk since Open (UpdateConfig rereads the
// file).
func (h *Home) SetDelegate(chainID uint64, addr string) error {
	if chainID == 0 {
		return errors.New("record delegate: chain id 0")
	}
	err := UpdateConfig(h.Dir, func(c *Config) error {
		if c.Delegates == nil {
			c.Delegates = map[uint64]string{}
		}
		c.Delegates[chainID] = addr
		return nil
	})
	if err != nil {
		return fmt.Errorf("record delegate: %w", err)
	}
	cfg, err := readConfig(h.Dir)
	if err != nil {
		return fmt.Errorf("record delegate: %w", err)
	}
	h.Config = cfg
	return nil
}

// Close closes the store.
func (h *Home) Close() error {
	if h.Store == nil {
		return nil
	}
	return h.Store.Close()
}
