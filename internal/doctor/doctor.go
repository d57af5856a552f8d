// Package doctor checks whether an agentkeys home and the node it uses are
// ready to go live, and says what to do about each problem: the node is
// reachable, synced and on the home's chain; which modes the chain allows
// (EIP-7702 needs Prague); the owner's balance and delegation; the
// AgentKeyDelegate the home records; the clock against the chain; the
// home's file permissions; where the passphrase and admin credential come
// from (never what they are); and whether the admin listener is exposed.
// The doctor command of the CLI uses it. It reads; it never signs or
// sends.
package doctor

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"

	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/home"
)

// Status is the outcome of one check.
type Status string

// Statuses, from good to bad. Fail blocks going live; warn does not.
const (
	OK   Status = "ok"
	Skip Status = "skip" // could not be checked because an earlier check failed, or does not apply
	Warn Status = "warn"
	Fail Status = "fail"
)

// Check is one finding.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Report is every finding, in order.
type Report struct {
	Home    string   `json:"home"`
	Owner   string   `json:"owner,omitempty"`
	Node    string   `json:"node,omitempty"` // scheme://host only: a URL may carry an API key
	ChainID uint64   `json:"chain_id,omitempty"`
	Modes   []string `json:"modes"` // grant modes this chain allows: wallet, 7702
	Checks  []Check  `json:"checks"`
	Fails   int      `json:"fails"`
	Warns   int      `json:"warnings"`
}

// Ready reports whether nothing blocks going live.
func (r *Report) Ready() bool { return r.Fails == 0 }

func (r *Report) add(c Check) {
	r.Checks = append(r.Checks, c)
	switch c.Status {
	case Fail:
		r.Fails++
	case Warn:
		r.Warns++
	}
}

// Options say what to check.
type Options struct {
	Dir string // the home
	// Upstream and AdminListen override the home's settings, as serve's
	// flags do.
	Upstream    string
	AdminListen string
	// AdminTokenFile is a file that may hold the admin credential (the
	// sandbox writes one); empty means none.
	AdminTokenFile string
	Getenv         func(string) string
	// Interactive: standard input is a terminal, so serve can prompt for
	// the passphrase.
	Interactive bool
	Now         func() time.Time
	// ClockTolerance is how far this machine's clock and the latest
	// block's time may differ; default DefaultClockTolerance.
	ClockTolerance time.Duration
	// Timeout bounds each call to the node; default 10s.
	Timeout time.Duration
}

// DefaultClockTolerance allows for a few missed slots and ordinary drift.
const DefaultClockTolerance = 2 * time.Minute

// LowBalance is the owner balance below which doctor warns.
var LowBalance = big.NewInt(1e16) // 0.01 ETH

// Run checks everything it can and returns the report; a failed check
// makes the checks that depend on it skip.
func Run(ctx context.Context, o Options) *Report {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ClockTolerance <= 0 {
		o.ClockTolerance = DefaultClockTolerance
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	r := &Report{Home: o.Dir, Modes: []string{}, Checks: []Check{}}
	cfg, err := home.ReadConfig(o.Dir)
	if err != nil {
		fix := "run agentkeys init, or point --home (or $AGENTKEYS_HOME) at your home"
		if !errors.Is(err, home.ErrNotInitialized) {
			fix = "restore config.json from a backup, or create a new home with agentkeys init --home NEWDIR"
		}
		r.add(Check{Name: "home", Status: Fail, Detail: err.Error(), Fix: fix})
		return r
	}
	r.Owner = cfg.WalletAddress
	r.add(Check{Name: "home", Status: OK, Detail: fmt.Sprintf("%s, owner %s", o.Dir, cfg.WalletAddress)})
	if cfg.OwnerOffline {
		r.add(Check{Name: "owner key", Status: OK, Detail: fmt.Sprintf("not on this host (owner-offline mode): the owner signs the EIP-7702 authorization and each 7702 grant with its own wallet; "+
			"wallet mode, personal_sign and typed data are refused; relayer %s pays the gas of what the daemon submits (docs/owner-offline.md)", cfg.RelayerAddress)})
	}
	r.add(checkPermissions(o.Dir))
	r.add(checkPassphrase(o))
	r.add(checkAdminToken(ctx, o))
	r.add(checkAdminListener(o, cfg))
	checkChain(ctx, r, o, cfg)
	return r
}

// checkPermissions wants the home 0700 and every file in it 0600 or
// stricter: the database holds sealed keys, open to offline guessing of
// the passphrase by anyone who can read it.
func checkPermissions(dir string) Check {
	c := Check{Name: "home permissions"}
	var bad, fixes []string
	fi, err := os.Stat(dir)
	if err != nil {
		c.Status, c.Detail = Fail, err.Error()
		return c
	}
	if fi.Mode().Perm()&0o077 != 0 {
		bad = append(bad, fmt.Sprintf("%s is %04o", dir, fi.Mode().Perm()))
		fixes = append(fixes, "chmod 700 "+dir)
	}
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		if d.IsDir() {
			return fs.SkipDir // a home has no subdirectories of its own
		}
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		if info.Mode().Perm()&0o077 != 0 {
			bad = append(bad, fmt.Sprintf("%s is %04o", filepath.Base(p), info.Mode().Perm()))
			files = append(files, p)
		}
		return nil
	})
	if len(bad) == 0 {
		c.Status, c.Detail = OK, "the home is 0700 and its files are 0600 or stricter"
		return c
	}
	sort.Strings(files)
	c.Status = Fail
	c.Detail = "readable by others: " + strings.Join(limit(bad, 6), ", ") + " (the database holds sealed keys, open to offline passphrase guessing)"
	if len(files) > 0 {
		fixes = append(fixes, "chmod 600 "+strings.Join(limit(files, 6), " "))
	}
	c.Fix = strings.Join(fixes, "; ")
	return c
}

func checkPassphrase(o Options) Check {
	c := Check{Name: "passphrase"}
	switch {
	case o.Getenv(home.EnvPassphrase) != "":
		c.Status = OK
		c.Detail = "from $" + home.EnvPassphrase + " (the environment: readable by processes of the same user; prefer a secrets manager or systemd credential that sets it)"
	case o.Interactive:
		c.Status = OK
		c.Detail = "asked for at the terminal when serve starts ($" + home.EnvPassphrase + " is not set)"
	default:
		c.Status = Warn
		c.Detail = "$" + home.EnvPassphrase + " is not set and standard input is not a terminal: serve started like this cannot unlock the home"
		c.Fix = "set " + home.EnvPassphrase + " for the service (from a secrets manager or a systemd credential), or start serve in a terminal"
	}
	return c
}

const envAdminToken = "AGENTKEYS_ADMIN_TOKEN"

func checkAdminToken(ctx context.Context, o Options) Check {
	c := Check{Name: "admin credential"}
	token, from := o.Getenv(envAdminToken), "$"+envAdminToken
	if token == "" && o.AdminTokenFile != "" {
		if b, err := os.ReadFile(o.AdminTokenFile); err == nil {
			token, from = strings.TrimSpace(string(b)), o.AdminTokenFile
		}
	}
	if token == "" {
		c.Status = Warn
		c.Detail = "no admin credential found: $" + envAdminToken + " is not set"
		c.Fix = "set " + envAdminToken + " to the akadm_... credential agentkeys init printed, for key, wallet and audit commands"
		return c
	}
	err := home.CheckAdminToken(ctx, o.Dir, token)
	if err != nil && !errors.Is(err, home.ErrBadAdminCredential) {
		c.Status, c.Detail = Warn, "could not read the home's admin credential record: "+bound(err.Error())
		c.Fix = "run agentkeys audit verify to check the home's database"
		return c
	}
	if err != nil {
		c.Status = Fail
		c.Detail = "the credential from " + from + " is not this home's admin credential"
		if errors.Is(err, home.ErrBadAdminCredential) && !strings.HasPrefix(token, "akadm_") {
			c.Detail = "the value in " + from + " is not an admin credential (akadm_...)"
		}
		c.Fix = "set " + envAdminToken + " to the akadm_... credential agentkeys init printed for this home"
		return c
	}
	c.Status, c.Detail = OK, "from "+from+" (it matches this home)"
	return c
}

// checkAdminListener warns when the admin API listens beyond loopback: it
// is plain HTTP, so the credential crosses the network in the clear and
// anyone who reaches the port can try it.
func checkAdminListener(o Options, cfg home.Config) Check {
	c := Check{Name: "admin listener"}
	addr, what := o.AdminListen, "admin listener"
	if addr == "" {
		addr = cfg.AdminListen
	}
	if addr == "" {
		addr, what = cfg.Listen, "agents' listener (which also serves the admin API, as admin_listen is empty)"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		c.Status, c.Detail = Fail, fmt.Sprintf("the %s %q is not host:port", what, addr)
		c.Fix = "set admin_listen in config.json (or serve --admin-listen) to 127.0.0.1:8646"
		return c
	}
	if host == "localhost" {
		c.Status, c.Detail = OK, fmt.Sprintf("the %s %s is reachable from this machine only", what, addr)
		return c
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		c.Status, c.Detail = OK, fmt.Sprintf("the %s %s is reachable from this machine only", what, addr)
		return c
	}
	c.Status = Warn
	c.Detail = fmt.Sprintf("the %s %s is reachable from other machines; the admin API is plain HTTP, so its credential would cross the network in the clear", what, addr)
	c.Fix = "listen on 127.0.0.1 (serve --admin-listen 127.0.0.1:8646) and reach it over SSH or a TLS proxy; if it must be remote, firewall it to your own addresses"
	return c
}

// checkChain runs the checks that need the node.
func checkChain(ctx context.Context, r *Report, o Options, cfg home.Config) {
	names := []string{"node", "chain id", "sync", "EIP-7702", "owner balance", "owner delegation", "AgentKeyDelegate", "clock"}
	skipRest := func(from int, why string) {
		for _, n := range names[from:] {
			r.add(Check{Name: n, Status: Skip, Detail: why})
		}
	}
	upstream := o.Upstream
	if upstream == "" {
		upstream = cfg.UpstreamRPC
	}
	if upstream == "" {
		r.add(Check{Name: "node", Status: Fail, Detail: "no Ethereum node is configured",
			Fix: "pass --rpc-upstream URL (to doctor and serve), or record upstream_rpc in the home's config.json"})
		skipRest(1, "no node")
		return
	}
	r.Node = redactURL(upstream)
	call := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, o.Timeout) }

	cctx, cancel := call()
	rc, err := gethrpc.DialContext(cctx, upstream)
	var id *big.Int
	var client *ethclient.Client
	if err == nil {
		client = ethclient.NewClient(rc)
		defer client.Close()
		id, err = client.ChainID(cctx)
	}
	cancel()
	if err != nil {
		r.add(Check{Name: "node", Status: Fail, Detail: fmt.Sprintf("%s does not answer eth_chainId: %s", r.Node, cleanErr(err, upstream)),
			Fix: "check that the node runs and that the URL (--rpc-upstream or upstream_rpc) is right, including any API key"})
		skipRest(1, "the node is unreachable")
		return
	}
	chainID := id.Uint64()
	r.ChainID = chainID
	r.add(Check{Name: "node", Status: OK, Detail: fmt.Sprintf("%s answers: chain id %d", r.Node, chainID)})

	switch {
	case cfg.ChainID == 0:
		r.add(Check{Name: "chain id", Status: Warn, Detail: fmt.Sprintf("the home records no chain id; serve signs for whatever chain the node reports (%d now)", chainID),
			Fix: fmt.Sprintf("make sure chain %d is the one you mean, and record it as chain_id in the home's config.json", chainID)})
	case cfg.ChainID != chainID:
		r.add(Check{Name: "chain id", Status: Fail, Detail: fmt.Sprintf("the node is on chain %d, but the home expects chain %d", chainID, cfg.ChainID),
			Fix: fmt.Sprintf("point --rpc-upstream (or upstream_rpc) at a node of chain %d", cfg.ChainID)})
		skipRest(2, "wrong chain")
		return
	default:
		r.add(Check{Name: "chain id", Status: OK, Detail: fmt.Sprintf("chain %d, as the home expects", chainID)})
	}

	cctx, cancel = call()
	prog, err := client.SyncProgress(cctx)
	cancel()
	switch {
	case err != nil:
		r.add(Check{Name: "sync", Status: Warn, Detail: "eth_syncing failed: " + cleanErr(err, upstream), Fix: "make sure the node serves the eth namespace"})
	case prog == nil:
		r.add(Check{Name: "sync", Status: OK, Detail: "the node is synced (eth_syncing is false)"})
	case prog.CurrentBlock < prog.HighestBlock:
		r.add(Check{Name: "sync", Status: Fail, Detail: fmt.Sprintf("the node is syncing: block %d of %d; nonces, balances and gas estimates are stale until it finishes", prog.CurrentBlock, prog.HighestBlock),
			Fix: "wait until the node has synced (eth_syncing false), then run agentkeys doctor again"})
	default:
		r.add(Check{Name: "sync", Status: Warn, Detail: fmt.Sprintf("the node has the head but is still indexing (%d blocks of transactions left); receipt lookups may answer 'indexing in progress'", prog.TxIndexRemainingBlocks),
			Fix: "wait a little; nothing to change"})
	}

	cctx, cancel = call()
	supports, detail, err := probe7702(cctx, client, chainID)
	cancel()
	if !cfg.OwnerOffline { // wallet mode signs with the owner's key
		r.Modes = append(r.Modes, "wallet")
	}
	switch {
	case err != nil:
		r.add(Check{Name: "EIP-7702", Status: Warn, Detail: "could not tell whether the chain accepts EIP-7702: " + cleanErr(err, upstream), Fix: "run agentkeys doctor again; 7702 keys need the Prague fork"})
	case supports && cfg.OwnerOffline:
		r.Modes = append(r.Modes, "7702")
		r.add(Check{Name: "EIP-7702", Status: OK, Detail: "the chain accepts EIP-7702 authorizations (Prague): 7702 keys, which the owner signs, are available; " + detail})
	case supports:
		r.Modes = append(r.Modes, "7702")
		r.add(Check{Name: "EIP-7702", Status: OK, Detail: "the chain accepts EIP-7702 authorizations (Prague): wallet and 7702 modes are available; " + detail})
	case cfg.OwnerOffline:
		r.add(Check{Name: "EIP-7702", Status: Fail, Detail: "the chain does not accept EIP-7702 authorizations (no Prague): a home without the owner's key has no mode here; " + detail,
			Fix: "use a chain with the Prague fork"})
	default:
		r.add(Check{Name: "EIP-7702", Status: Warn, Detail: "the chain does not accept EIP-7702 authorizations (no Prague): only wallet mode is available; " + detail,
			Fix: "use --mode wallet, or a chain with the Prague fork for 7702 keys"})
	}

	owner := common.HexToAddress(cfg.WalletAddress)
	if cfg.OwnerOffline {
		relayer := common.HexToAddress(cfg.RelayerAddress)
		cctx, cancel = call()
		bal, err := client.BalanceAt(cctx, relayer, nil)
		cancel()
		switch {
		case err != nil:
			r.add(Check{Name: "relayer balance", Status: Warn, Detail: "eth_getBalance failed: " + cleanErr(err, upstream)})
		case bal.Sign() == 0:
			r.add(Check{Name: "relayer balance", Status: Fail, Detail: fmt.Sprintf("the relayer %s holds 0 ETH: it pays the gas of registering each grant the owner signs", relayer.Hex()),
				Fix: fmt.Sprintf("send a little ETH to %s (it has no power over the owner's account)", relayer.Hex())})
		default:
			r.add(Check{Name: "relayer balance", Status: OK, Detail: fmt.Sprintf("the relayer %s holds %s ETH", relayer.Hex(), ether(bal))})
		}
	}
	cctx, cancel = call()
	bal, err := client.BalanceAt(cctx, owner, nil)
	cancel()
	switch {
	case err != nil:
		r.add(Check{Name: "owner balance", Status: Warn, Detail: "eth_getBalance failed: " + cleanErr(err, upstream)})
	case bal.Sign() == 0:
		r.add(Check{Name: "owner balance", Status: Fail, Detail: fmt.Sprintf("%s holds 0 ETH: it pays the gas of every transaction the daemon signs", owner.Hex()),
			Fix: fmt.Sprintf("send ETH to %s", owner.Hex())})
	case bal.Cmp(LowBalance) < 0:
		r.add(Check{Name: "owner balance", Status: Warn, Detail: fmt.Sprintf("%s holds only %s ETH", owner.Hex(), ether(bal)),
			Fix: fmt.Sprintf("send more ETH to %s for gas (and 7702 session stipends of 0.005 ETH each)", owner.Hex())})
	default:
		r.add(Check{Name: "owner balance", Status: OK, Detail: fmt.Sprintf("%s holds %s ETH", owner.Hex(), ether(bal))})
	}

	recorded, hasRecorded := cfg.Delegates[chainID]
	want := common.Address{}
	if hasRecorded && common.IsHexAddress(recorded) {
		want = common.HexToAddress(recorded)
	}
	cctx, cancel = call()
	st, err := delegation.Read(cctx, client, chainID, owner)
	cancel()
	switch {
	case err != nil:
		r.add(Check{Name: "owner delegation", Status: Warn, Detail: "eth_getCode failed: " + cleanErr(err, upstream)})
	case st.HasCode:
		r.add(Check{Name: "owner delegation", Status: Fail, Detail: fmt.Sprintf("%s is a contract, not an account a key controls", owner.Hex()),
			Fix: "use a home whose wallet key is an ordinary account (agentkeys init)"})
	case st.Delegated && !st.IsAgentKeys:
		r.add(Check{Name: "owner delegation", Status: Fail, Detail: fmt.Sprintf("%s is delegated (EIP-7702) to %s, which is NOT AgentKeyDelegate: that code controls the account", owner.Hex(), st.Delegate.Hex()),
			Fix: "with serve running: agentkeys wallet downgrade (or wallet upgrade to AgentKeyDelegate)"})
	case st.Delegated && want != (common.Address{}) && st.Delegate != want:
		r.add(Check{Name: "owner delegation", Status: Warn, Detail: fmt.Sprintf("%s is delegated to an AgentKeyDelegate at %s, but the home uses %s: 7702 grants will be refused", owner.Hex(), st.Delegate.Hex(), want.Hex()),
			Fix: "with serve running: agentkeys wallet upgrade"})
	case st.Delegated:
		r.add(Check{Name: "owner delegation", Status: OK, Detail: fmt.Sprintf("%s is delegated to AgentKeyDelegate %s: 7702 keys can be granted", owner.Hex(), st.Delegate.Hex())})
	default:
		d := Check{Name: "owner delegation", Status: OK, Detail: fmt.Sprintf("%s is a plain account (not delegated): wallet mode", owner.Hex())}
		if supports {
			d.Detail += "; 7702 keys need agentkeys wallet upgrade first"
		}
		r.add(d)
	}

	cctx, cancel = call()
	r.add(checkDelegate(cctx, client, chainID, recorded, hasRecorded, supports, upstream))
	cancel()

	cctx, cancel = call()
	head, err := client.HeaderByNumber(cctx, nil)
	cancel()
	if err != nil {
		r.add(Check{Name: "clock", Status: Warn, Detail: "could not read the latest block: " + cleanErr(err, upstream)})
		return
	}
	r.add(checkClock(o.Now(), time.Unix(int64(head.Time), 0), head.Number, o.ClockTolerance))
}

func checkDelegate(ctx context.Context, c *ethclient.Client, chainID uint64, recorded string, has, supports7702 bool, upstream string) Check {
	d := Check{Name: "AgentKeyDelegate"}
	if !has {
		if !supports7702 {
			d.Status, d.Detail = Skip, fmt.Sprintf("none recorded for chain %d, and none needed without EIP-7702", chainID)
			return d
		}
		d.Status = Warn
		d.Detail = fmt.Sprintf("the home records no AgentKeyDelegate for chain %d: 7702 keys need one", chainID)
		if ok, err := delegation.IsAgentKeyDelegate(ctx, c, delegation.DeterministicAddress()); err == nil && ok {
			d.Detail += fmt.Sprintf(" (one is already deployed at %s; deploy-delegate adopts it without a transaction)", delegation.DeterministicAddress().Hex())
		}
		d.Fix = "with serve running: agentkeys wallet deploy-delegate"
		return d
	}
	if !common.IsHexAddress(recorded) {
		d.Status, d.Detail = Fail, fmt.Sprintf("config.json delegates[%d] is not an address", chainID)
		d.Fix = "with serve running: agentkeys wallet deploy-delegate (it rewrites the entry)"
		return d
	}
	addr := common.HexToAddress(recorded)
	ok, err := delegation.IsAgentKeyDelegate(ctx, c, addr)
	switch {
	case err != nil:
		d.Status, d.Detail = Warn, "eth_getCode failed: "+cleanErr(err, upstream)
	case ok:
		d.Status, d.Detail = OK, fmt.Sprintf("deployed at %s, where the home says", addr.Hex())
	default:
		d.Status = Fail
		d.Detail = fmt.Sprintf("the home says %s, but there is no AgentKeyDelegate code there on chain %d (a reset dev chain, or an address from another chain)", addr.Hex(), chainID)
		d.Fix = "with serve running: agentkeys wallet deploy-delegate (it deploys one and records it)"
	}
	return d
}

// checkClock compares this machine's clock with the latest block's time.
// Grants' validity windows and budget periods are checked on chain against
// block time and in the daemon against this clock; they must agree.
func checkClock(now, block time.Time, number *big.Int, tol time.Duration) Check {
	c := Check{Name: "clock"}
	skew := now.Sub(block)
	switch {
	case skew < -tol:
		c.Status = Fail
		c.Detail = fmt.Sprintf("this machine's clock is %s behind the latest block (#%s at %s)", (-skew).Round(time.Second), number, block.UTC().Format(time.RFC3339))
		c.Fix = "synchronise the clock (NTP: timedatectl set-ntp true, or chrony)"
	case skew > tol:
		c.Status = Fail
		c.Detail = fmt.Sprintf("the latest block (#%s at %s) is %s older than this machine's clock: the clock is ahead, or the node is not following the chain", number, block.UTC().Format(time.RFC3339), skew.Round(time.Second))
		c.Fix = "synchronise the clock (NTP), and check that the node follows the chain (a dev chain that mines on demand needs a transaction first)"
	default:
		c.Status = OK
		c.Detail = fmt.Sprintf("this machine's clock is within %s of the latest block (#%s)", tol, number)
	}
	return c
}

// probe7702 asks the node to estimate a type-0x04 transaction carrying one
// authorization (signed by a throwaway key, for this chain id). A Prague
// chain charges the authorization's intrinsic cost (25,000 gas) on top of
// the 21,000 base; a chain without EIP-7702 refuses the transaction type
// or, if it ignores the field, charges only the base.
func probe7702(ctx context.Context, c *ethclient.Client, chainID uint64) (bool, string, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return false, "", err
	}
	auth, err := types.SignSetCode(key, types.SetCodeAuthorization{ChainID: *uint256.NewInt(chainID), Address: common.Address{}, Nonce: 0})
	if err != nil {
		return false, "", err
	}
	from := addressOf(key)
	to := from
	gas, err := c.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &to, AuthorizationList: []types.SetCodeAuthorization{auth}})
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "not supported") || strings.Contains(msg, "transaction type") || strings.Contains(msg, "authorizationList") {
			return false, "the node refused a type-0x04 transaction (" + bound(msg) + ")", nil
		}
		return false, "", err
	}
	base := params.TxGas + params.CallNewAccountGas // 21,000 + 25,000 per authorization
	if gas >= base {
		return true, fmt.Sprintf("a one-authorization estimate costs %d gas", gas), nil
	}
	return false, fmt.Sprintf("a one-authorization estimate costs %d gas: the authorization was ignored", gas), nil
}

func addressOf(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }

// redactURL keeps a node URL's scheme and host: its path, query and user
// information may carry an API key.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the configured node"
	}
	return u.Scheme + "://" + u.Host
}

// cleanErr is an error from the node without the URL (which net/http
// quotes in full) and bounded.
func cleanErr(err error, upstream string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := strings.ReplaceAll(err.Error(), upstream, redactURL(upstream))
	return bound(msg)
}

func bound(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

func limit(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}

func ether(wei *big.Int) string {
	f := new(big.Float).Quo(new(big.Float).SetInt(wei), big.NewFloat(1e18))
	return f.Text('f', 6)
}
