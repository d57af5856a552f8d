package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/clientip"
	agentkeysd "github.com/agentkeys/agentkeys/internal/daemon" // the name daemon is the tests' served daemon
	"github.com/agentkeys/agentkeys/internal/demo"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/limit"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/service"
)

// sandboxPassphrase seals sandbox homes when AGENTKEYS_PASSPHRASE is not
// set. It is public: sandbox keys only ever hold play money.
const sandboxPassphrase = "agentkeys-sandbox-passphrase"

// newLogger writes the daemon's JSON log lines to stderr, URLs redacted
// (daemon.Logger).
func newLogger(e *env) *slog.Logger { return agentkeysd.Logger(e.io.Err) }

func newServeCmd(e *env) *cobra.Command {
	var upstream, listen, adminListen, delegate, tlsCert, tlsKey, stuckAfterFlag string
	var rateFlag, keyRateFlag string
	var maxConns, maxHeaderBytes int
	var insecureAdmin bool
	var ownerURL string
	var trusted []string
	var timeoutFlags nodeTimeoutFlags
	cmd := &cobra.Command{
		Use:   "serve [--rpc-upstream URL]",
		Short: "Run the daemon in front of an Ethereum node",
		Long: "Run the daemon: agents' JSON-RPC at /rpc, the admin API at /v1/, health at /healthz.\n" +
			"The home (agentkeys init) is unlocked with $AGENTKEYS_PASSPHRASE or a prompt. Flags not given\n" +
			"are taken from the home's saved settings (agentkeys config get); a flag always wins.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			// Check the flags before asking for the passphrase.
			if upstream != "" {
				if err := checkUpstreamURL(upstream); err != nil {
					return fmt.Errorf("--%w", err)
				}
			}
			if stuckAfterFlag != "" {
				if _, err := parseStuckAfter(stuckAfterFlag); err != nil {
					return fmt.Errorf("--%w", err)
				}
			}
			if err := timeoutFlags.check(); err != nil {
				return err
			}
			if _, err := serveLimits(home.Config{RateLimit: rateFlag, KeyRateLimit: keyRateFlag, MaxConns: maxConns, MaxHeaderBytes: maxHeaderBytes}); err != nil {
				return fmt.Errorf("--%w", err)
			}
			trustedFlag := splitList(strings.Join(trusted, ","))
			if _, err := clientip.ParseTrusted(trustedFlag); err != nil {
				return fmt.Errorf("--trusted-proxy: %w", err)
			}
			if err := home.CheckStoreURL(storeFlag(cmd)); err != nil {
				return fmt.Errorf("--%w", err)
			}
			// Before the passphrase: a home already served is refused at once.
			lock, err := home.Acquire(dir, "agentkeys serve", e.now())
			if err != nil {
				return err
			}
			defer lock.Release()
			pass, err := home.Passphrase(os.Getenv, terminalPrompt(e))
			if err != nil {
				return err
			}
			h, err := home.Open(ctx, dir, pass, home.WithStore(storeFlag(cmd)))
			clear(pass)
			if err != nil {
				return err
			}
			defer h.Close()
			if upstream == "" {
				upstream = h.Config.UpstreamRPC
			}
			if upstream == "" {
				return errors.New("--rpc-upstream is required: the URL of an Ethereum node's JSON-RPC " +
					"(or save it once: agentkeys config set rpc-upstream URL)")
			}
			if listen == "" {
				listen = h.Config.Listen
			}
			if adminListen == "" {
				adminListen = h.Config.AdminListen
			}
			if !cmd.Flags().Changed("trusted-proxy") {
				trustedFlag = h.Config.TrustedProxies
			}
			proxies, err := clientip.ParseTrusted(trustedFlag)
			if err != nil {
				return fmt.Errorf("trusted proxies in %s: %w", home.ConfigFile, err)
			}
			if tlsCert == "" {
				tlsCert = h.Config.TLSCert
			}
			if tlsKey == "" {
				tlsKey = h.Config.TLSKey
			}
			if stuckAfterFlag == "" {
				stuckAfterFlag = h.Config.StuckAfter
			}
			limitsCfg := h.Config
			if rateFlag != "" {
				limitsCfg.RateLimit = rateFlag
			}
			if keyRateFlag != "" {
				limitsCfg.KeyRateLimit = keyRateFlag
			}
			if maxConns != 0 {
				limitsCfg.MaxConns = maxConns
			}
			if maxHeaderBytes != 0 {
				limitsCfg.MaxHeaderBytes = maxHeaderBytes
			}
			lim, err := serveLimits(limitsCfg)
			if err != nil {
				return fmt.Errorf("%s: %w", home.ConfigFile, err)
			}
			stuckAfter := service.DefaultStuckAfter
			if stuckAfterFlag != "" {
				if stuckAfter, err = parseStuckAfter(stuckAfterFlag); err != nil {
					return fmt.Errorf("%s: %w", home.ConfigFile, err)
				}
			}
			timeouts, err := timeoutFlags.resolve(h.Config)
			if err != nil {
				return err
			}
			// The upstream URL may carry a provider's API key: output names
			// only its scheme and host.
			shownUpstream := service.PublicText(upstream)
			d, err := agentkeysd.Start(ctx, agentkeysd.Config{Home: h, UpstreamURL: upstream, Timeouts: timeouts, RecordDelegate: true,
				Delegate: func(chainID uint64) (common.Address, error) { return serveDelegate(delegate, h.Config, chainID) },
				Listen:   listen, AdminListen: adminListen, TrustedProxies: proxies, TLSCert: tlsCert, TLSKey: tlsKey,
				InsecureAdmin: insecureAdmin, OwnerURL: ownerURL, StuckAfter: stuckAfter, Limits: lim.service, MaxConns: lim.maxConns, MaxHeaderBytes: lim.maxHeaderBytes, WatchEvery: service.DefaultWatchEvery, HeadEvery: service.DefaultHeadEvery, DispatchEvery: service.DefaultDispatchEvery, Now: e.now, Log: newLogger(e)})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.io.Out, "agentkeys serving chain %d for %s\n  agents: %s/rpc\n  admin:  %s/v1/\n  node:   %s\n",
				d.Service.ChainID(), d.Service.Address().Hex(), d.URL(), d.AdminURL(), shownUpstream)
			if len(proxies) > 0 {
				fmt.Fprintf(e.io.Out, "  trusted proxies: %s\n", strings.Join(trustedFlag, ", "))
			}
			if d.Delegate() != (common.Address{}) {
				fmt.Fprintf(e.io.Out, "  7702:   AgentKeyDelegate %s\n", d.Delegate().Hex())
			} else {
				fmt.Fprintln(e.io.Out, "  7702:   no AgentKeyDelegate on this chain yet (agentkeys wallet deploy-delegate)")
			}
			fmt.Fprintf(e.io.Out, "  transactions not at the node after %s are cancelled (agentkeys tx list)\n", stuckAfter)
			r := lim.service.Rates
			fmt.Fprintf(e.io.Out, "  limits: %d requests per %s overall, %d per %s for a key without a rate\n", r.Global, r.GlobalPer, r.Key, r.KeyPer)
			<-ctx.Done()
			return d.Close()
		},
	}
	timeoutFlags = addNodeTimeoutFlags(cmd)
	cmd.Flags().StringVar(&stuckAfterFlag, "stuck-after", "", "cancel a signed transaction that has not reached the node after this `duration` (default: the home's stuck-after, else 2m)")
	cmd.Flags().StringVar(&rateFlag, "rate-limit", "", "requests all agents together may make, as `N/DURATION` (default: the home's rate-limit, else 500/1s)")
	cmd.Flags().StringVar(&keyRateFlag, "key-rate-limit", "", "requests a key whose policy sets no rate may make, as `N/DURATION` (default: the home's key-rate-limit, else 20/1s)")
	cmd.Flags().IntVar(&maxConns, "max-conns", 0, "connections each listener holds open at once (default: the home's max-conns, else 1024)")
	cmd.Flags().IntVar(&maxHeaderBytes, "max-header-bytes", 0, "bytes of headers one request may send (default: the home's max-header-bytes, else 16384)")
	cmd.Flags().StringVar(&upstream, "rpc-upstream", "", "Ethereum node JSON-RPC URL (default: the home's upstream_rpc)")
	cmd.Flags().StringVar(&listen, "listen", "", "address for /rpc (default: the home's listen)")
	cmd.Flags().StringVar(&adminListen, "admin-listen", "", "address for the admin API (default: the home's admin_listen)")
	cmd.Flags().StringVar(&ownerURL, "owner-url", "", "the address the owner's browser uses for the admin listener, the origin of the owner's passkeys (default: the admin listener's, 127.0.0.1 as localhost)")
	cmd.Flags().BoolVar(&insecureAdmin, "insecure-admin", false, "let the admin API listen beyond this machine without TLS (only behind a proxy that terminates TLS)")
	cmd.Flags().StringVar(&delegate, "delegate", "", "address of the AgentKeyDelegate deployment on this chain, for 7702 keys (default: the home's, from agentkeys wallet deploy-delegate)")
	cmd.Flags().StringArrayVar(&trusted, "trusted-proxy", nil, "`CIDR` or IP of a reverse proxy whose X-Forwarded-For/Forwarded is believed (repeatable; default: the home's trusted-proxy)")
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "PEM certificate `file`: serve HTTPS on both listeners (with --tls-key; default: the home's tls-cert)")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "PEM private key `file` for --tls-cert (default: the home's tls-key)")
	return cmd
}

// limits are serve's abuse limits, read from flags or the home.
type limits struct {
	service                  service.Limits
	maxConns, maxHeaderBytes int
}

// serveLimits reads the limits of c; empty and zero fields take the
// defaults. Request limits are always on for serve.
func serveLimits(c home.Config) (limits, error) {
	rates := limit.DefaultRates
	var err error
	if c.RateLimit != "" {
		if rates.Global, rates.GlobalPer, err = parseRate("rate-limit", c.RateLimit); err != nil {
			return limits{}, err
		}
	}
	if c.KeyRateLimit != "" {
		if rates.Key, rates.KeyPer, err = parseRate("key-rate-limit", c.KeyRateLimit); err != nil {
			return limits{}, err
		}
	}
	out := limits{service: service.Limits{Rates: &rates}, maxConns: c.MaxConns, maxHeaderBytes: c.MaxHeaderBytes}
	if c.MaxConns != 0 {
		if out.maxConns, err = parseCount("max-conns", strconv.Itoa(c.MaxConns), 1, 1<<20); err != nil {
			return limits{}, err
		}
	}
	if c.MaxHeaderBytes != 0 {
		if out.maxHeaderBytes, err = parseCount("max-header-bytes", strconv.Itoa(c.MaxHeaderBytes), 1024, 1<<20); err != nil {
			return limits{}, err
		}
	}
	return out, nil
}

// serveDelegate is the AgentKeyDelegate serve uses: --delegate if given,
// else the one the home records for the chain, else none.
func serveDelegate(flag string, cfg home.Config, chainID uint64) (common.Address, error) {
	if flag != "" {
		return flagAddress("--delegate", flag, true)
	}
	v, ok := cfg.Delegates[chainID]
	if !ok {
		return common.Address{}, nil
	}
	if !common.IsHexAddress(v) || common.HexToAddress(v) == (common.Address{}) {
		return common.Address{}, fmt.Errorf("config.json: delegates[%d]: expected a 0x address of 40 hex digits; run agentkeys wallet deploy-delegate again or pass --delegate", chainID)
	}
	return common.HexToAddress(v), nil
}

func newSandboxCmd(e *env) *cobra.Command {
	var listen, nodeListen string
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a local Prague chain with demo tokens and a DEX, and the daemon in front of it",
		Long: "Run an embedded dev chain (chain id 31337, Prague, blocks mined as transactions arrive) with a\n" +
			"funded owner, demo tokens USDC and DAI, WETH and a Uniswap-V2-compatible router, and the daemon in\n" +
			"front of it. Writes <home>/sandbox.json with the URLs and addresses. The home is created on first use;\n" +
			"it is sealed with $AGENTKEYS_PASSPHRASE, or a public development passphrase if that is unset.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			pass := []byte(os.Getenv("AGENTKEYS_PASSPHRASE"))
			if len(pass) == 0 {
				pass = []byte(sandboxPassphrase)
				fmt.Fprintln(e.io.Err, "note: AGENTKEYS_PASSPHRASE is not set; the sandbox home uses the public development passphrase")
			}
			sb, err := sandbox.Start(ctx, sandbox.Config{Home: dir, Passphrase: pass, Listen: listen, NodeListen: nodeListen, Now: e.now, Log: newLogger(e),
				WatchEvery: service.DefaultWatchEvery, HeadEvery: service.DefaultHeadEvery, DispatchEvery: service.DefaultDispatchEvery})
			if err != nil {
				return err
			}
			i := sb.Info
			w := e.io.Out
			fmt.Fprintf(w, "agentkeys sandbox: chain %d\n  agents' JSON-RPC: %s\n  node JSON-RPC:    %s\n  admin API:        %s/v1/\n  owner:            %s\n  router:           %s\n  WETH:             %s\n",
				i.ChainID, i.RPCURL, i.NodeURL, i.AdminURL, i.Owner, i.Router, i.WETH)
			for sym, addr := range i.Tokens {
				fmt.Fprintf(w, "  %-17s %s\n", sym+":", addr)
			}
			fmt.Fprintf(w, "  details:          %s\n\nGrant a key:  agentkeys key grant --home %s --agent trader --profile swap-only --daily-limit 0.1ETH\nStop with Ctrl-C.\n",
				filepath.Join(dir, sandbox.InfoFile), dir)
			<-ctx.Done()
			return sb.Close()
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8645", "address of the daemon (/rpc and /v1/)")
	cmd.Flags().StringVar(&nodeListen, "node-listen", "127.0.0.1:8545", "address of the dev chain's own JSON-RPC")
	return cmd
}

func newDemoCmd(e *env) *cobra.Command {
	var mode string
	cmd := &cobra.Command{
		Use:   "demo [--mode wallet|7702]",
		Short: "Run the whole story on a throwaway sandbox: grant, trade, refusals, revoke, audit",
		Long: "Run the whole story on a throwaway sandbox. With --mode 7702 the owner first delegates to\n" +
			"AgentKeyDelegate, the key is a session key registered on chain, and a thief using the session key\n" +
			"directly is refused by the chain itself.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			return demo.Run(ctx, e.io.Out, demo.Options{FastKDF: true, Mode: mode})
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "wallet", "wallet or 7702")
	return cmd
}
