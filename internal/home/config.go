package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/atomicfile"
	"github.com/agentkeys/agentkeys/internal/secrets"
)

// File names inside a home, and the environment variables this package
// reads.
const (
	ConfigFile = "config.json"
	DBFile     = "agentkeys.db"

	EnvHome                         = "AGENTKEYS_HOME"
	EnvPassphrase                   = "AGENTKEYS_PASSPHRASE"
	EnvStore                        = "AGENTKEYS_STORE"
	EnvKeystorePassword             = "AGENTKEYS_KEYSTORE_PASSWORD"
	DefaultDirName                  = ".agentkeys"
	DefaultListen                   = "127.0.0.1:8645"
	DefaultAdminListen              = "127.0.0.1:8646"
	configVersion                   = 1
	dirMode             fs.FileMode = 0o700
	fileMode            fs.FileMode = 0o600
)

// Config is config.json. Nothing in it is secret: the KDF parameters and
// the passphrase check are useless without the passphrase, and the wallet
// key itself is sealed in the store.
type Config struct {
	Version int `json:"version"`
	// KDF says how the master key is derived from the passphrase.
	KDF secrets.KDFParams `json:"kdf"`
	// PassphraseCheck is secrets.MasterKey.Check under the master key, so
	// a wrong passphrase is reported as such instead of as broken keys.
	PassphraseCheck []byte `json:"passphrase_check"`
	// WalletKeyID names the store.Key holding the sealed wallet key
	// (empty with OwnerOffline).
	WalletKeyID string `json:"wallet_key_id"`
	// WalletAddress is that key's address: the account agents act as in
	// wallet mode; with OwnerOffline, the owner's address.
	WalletAddress string `json:"wallet_address"`
	// OwnerOffline: the home holds no owner key (init --owner-address);
	// the owner signs with its own wallet (docs/owner-offline.md), and the
	// relayer key (RelayerKeyID, RelayerAddress) pays the gas of what the
	// daemon submits for it.
	OwnerOffline   bool   `json:"owner_offline,omitempty"`
	RelayerKeyID   string `json:"relayer_key_id,omitempty"`
	RelayerAddress string `json:"relayer_address,omitempty"`
	// Listen is the default address of the agent-facing listener (/rpc).
	Listen string `json:"listen"`
	// AdminListen is the default address of the admin API (/v1/).
	AdminListen string `json:"admin_listen"`
	// UpstreamRPC is the Ethereum node to forward reads and broadcasts to,
	// if set.
	UpstreamRPC string `json:"upstream_rpc,omitempty"`
	// ChainID is the upstream chain's id, if known.
	ChainID   uint64    `json:"chain_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`

	// Delegates maps a chain id to the address of the AgentKeyDelegate
	// deployment serve uses there for 7702 keys (written by agentkeys
	// wallet deploy-delegate; serve's --delegate overrides it).
	Delegates map[uint64]string `json:"delegates,omitempty"`
	// TrustedProxies are the CIDRs (or addresses) of reverse proxies whose
	// X-Forwarded-For and Forwarded headers serve believes.
	TrustedProxies []string `json:"trusted_proxies,omitempty"`
	// TLSCert and TLSKey are PEM files with which serve answers HTTPS on
	// its listeners.
	TLSCert string `json:"tls_cert,omitempty"`
	TLSKey  string `json:"tls_key,omitempty"`
	// Store is the PostgreSQL URL (postgres://…) of the database that
	// holds this home's keys, grants, budgets and audit log, shared by
	// every replica whose home has this config; empty means agentkeys.db
	// in the home. Set by init --store. Its password is better left out
	// (PGPASSWORD or ~/.pgpass); it is never shown or logged.
	Store string `json:"store,omitempty"`
	// StuckAfter is how long serve lets a signed transaction stay away
	// from the node before cancelling it, as a Go duration ("2m").
	StuckAfter string `json:"stuck_after,omitempty"`
	// NodeTimeouts are serve's deadlines of calls to the node, by kind
	// ("dial", "read", "estimate", "broadcast"), as Go durations; a kind
	// left out takes its default.
	NodeTimeouts map[string]string `json:"node_timeouts,omitempty"`
	// RateLimit and KeyRateLimit are serve's request limits, overall and
	// for a key whose policy sets no rate, as "N/DURATION" ("500/1s").
	RateLimit    string `json:"rate_limit,omitempty"`
	KeyRateLimit string `json:"key_rate_limit,omitempty"`
	// MaxConns caps each listener's open connections; MaxHeaderBytes a
	// request's headers. Zero is the default.
	MaxConns       int `json:"max_conns,omitempty"`
	MaxHeaderBytes int `json:"max_header_bytes,omitempty"`
}

func (c Config) validate() error {
	switch {
	case c.Version > configVersion:
		return fmt.Errorf("%w: version %d is newer than this agentkeys understands (%d)", ErrConfig, c.Version, configVersion)
	case c.Version < 1:
		return fmt.Errorf("%w: missing or invalid version", ErrConfig)
	case len(c.PassphraseCheck) == 0:
		return fmt.Errorf("%w: missing passphrase_check", ErrConfig)
	case c.OwnerOffline && (c.WalletAddress == "" || c.RelayerKeyID == "" || c.RelayerAddress == "" || c.WalletKeyID != ""):
		return fmt.Errorf("%w: owner_offline needs wallet_address (the owner), relayer_key_id and relayer_address, and no wallet_key_id", ErrConfig)
	case !c.OwnerOffline && (c.WalletKeyID == "" || c.WalletAddress == ""):
		return fmt.Errorf("%w: missing wallet key", ErrConfig)
	}
	if err := c.KDF.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// Resolve returns the absolute home directory: flagValue if set, else
// $AGENTKEYS_HOME, else $HOME/.agentkeys. A leading "~/" is expanded with
// $HOME, since flags written as --home=~/x reach us unexpanded.
func Resolve(flagValue string, getenv func(string) string) (string, error) {
	dir := flagValue
	if dir == "" {
		dir = getenv(EnvHome)
	}
	if dir == "" {
		dir = filepath.Join("~", DefaultDirName)
	}
	if dir == "~" || strings.HasPrefix(dir, "~/") {
		h := getenv("HOME")
		if h == "" {
			return "", errors.New("cannot find the home directory: set --home or " + EnvHome)
		}
		dir = filepath.Join(h, strings.TrimPrefix(dir, "~"))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve home %q: %w", dir, err)
	}
	return abs, nil
}

// readConfig reads and validates dir/config.json; a missing file is
// ErrNotInitialized.
func readConfig(dir string) (Config, error) {
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("%w: no %s in %s (run agentkeys init)", ErrNotInitialized, ConfigFile, dir)
	}
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	var c Config
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&c); err != nil {
		// encoding/json errors quote at most a token of the file, and the
		// file holds nothing secret.
		return Config{}, fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
	}
	if err := c.validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// writeConfig writes dir/config.json atomically: a 0600 temp file in dir,
// synced, renamed over the target, and the directory synced, so a reader
// sees the old file or the new one, never a torn one.
func writeConfig(dir string, c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	b = append(b, '\n')
	if err := atomicfile.Write(filepath.Join(dir, ConfigFile), b, fileMode); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// ReadConfig reads and validates dir/config.json without unlocking the
// home; a missing file is ErrNotInitialized.
func ReadConfig(dir string) (Config, error) { return readConfig(dir) }

// UpdateConfig reads dir/config.json, lets change edit the non-secret
// settings, validates the result and writes it back atomically. It needs
// no passphrase: nothing in the config is secret, and anyone who may write
// the file could edit it by hand. An error from change is returned as is
// and nothing is written.
func UpdateConfig(dir string, change func(*Config) error) error {
	c, err := readConfig(dir)
	if err != nil {
		return err
	}
	if err := change(&c); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	return writeConfig(dir, c)
}
