package cli

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/clientip"
	"github.com/agentkeys/agentkeys/internal/home"
)

// setting is one key of `agentkeys config`: a serve flag whose value can
// be kept in the home's config.json. Its name is the flag's name.
type setting struct {
	name, help string
	get        func(c *home.Config) any
	// set validates v and stores it; errors name the key and what was
	// expected, and repeat v only where it cannot be a secret.
	set   func(c *home.Config, v string) error
	unset func(c *home.Config)
}

var settings = append([]setting{
	{
		name: "rpc-upstream", help: "the Ethereum node's JSON-RPC URL (may carry a provider API key: shown to you, never logged or given to agents)",
		get: func(c *home.Config) any { return c.UpstreamRPC },
		set: func(c *home.Config, v string) error {
			if err := checkUpstreamURL(v); err != nil {
				return err
			}
			c.UpstreamRPC = strings.TrimSpace(v)
			return nil
		},
		unset: func(c *home.Config) { c.UpstreamRPC = "" },
	},
	{
		name: "listen", help: "host:port of the agents' listener (/rpc)",
		get: func(c *home.Config) any { return c.Listen },
		set: func(c *home.Config, v string) error {
			if err := checkHostPort("listen", v); err != nil {
				return err
			}
			c.Listen = v
			return nil
		},
		unset: func(c *home.Config) { c.Listen = home.DefaultListen },
	},
	{
		name: "admin-listen", help: "host:port of the admin API (/v1/)",
		get: func(c *home.Config) any { return c.AdminListen },
		set: func(c *home.Config, v string) error {
			if err := checkHostPort("admin-listen", v); err != nil {
				return err
			}
			c.AdminListen = v
			return nil
		},
		unset: func(c *home.Config) { c.AdminListen = home.DefaultAdminListen },
	},
	{
		name: "trusted-proxy", help: "reverse proxies whose X-Forwarded-For/Forwarded are believed: CIDRs or IPs, comma-separated",
		get: func(c *home.Config) any { return append([]string{}, c.TrustedProxies...) },
		set: func(c *home.Config, v string) error {
			list := splitList(v)
			if len(list) == 0 {
				return fmt.Errorf("trusted-proxy: expected CIDRs or IP addresses, comma-separated (use config unset trusted-proxy to clear)")
			}
			if _, err := clientip.ParseTrusted(list); err != nil {
				return err
			}
			c.TrustedProxies = list
			return nil
		},
		unset: func(c *home.Config) { c.TrustedProxies = nil },
	},
	{
		name: "tls-cert", help: "PEM certificate file for serving HTTPS (with tls-key)",
		get: func(c *home.Config) any { return c.TLSCert },
		set: func(c *home.Config, v string) (err error) {
			c.TLSCert, err = checkFile("tls-cert", v)
			return err
		},
		unset: func(c *home.Config) { c.TLSCert = "" },
	},
	{
		name: "tls-key", help: "PEM private key file for serving HTTPS (with tls-cert)",
		get: func(c *home.Config) any { return c.TLSKey },
		set: func(c *home.Config, v string) (err error) {
			c.TLSKey, err = checkFile("tls-key", v)
			return err
		},
		unset: func(c *home.Config) { c.TLSKey = "" },
	},
	{
		name: "stuck-after", help: "how long a signed transaction may stay away from the node before it is cancelled at its nonce (default 2m)",
		get: func(c *home.Config) any { return c.StuckAfter },
		set: func(c *home.Config, v string) error {
			d, err := parseStuckAfter(v)
			if err != nil {
				return err
			}
			c.StuckAfter = d.String()
			return nil
		},
		unset: func(c *home.Config) { c.StuckAfter = "" },
	},
}, nodeTimeoutSettings()...)

// Bounds of stuck-after: agents need time to broadcast what
// eth_signTransaction returned, and a stalled account must not wait long.
const (
	minStuckAfter = 10 * time.Second
	maxStuckAfter = 24 * time.Hour
)

// parseStuckAfter reads a stuck-after duration like 2m or 90s.
func parseStuckAfter(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < minStuckAfter || d > maxStuckAfter {
		return 0, fmt.Errorf("stuck-after: expected a duration from %s to %s like 2m or 90s, got %q", minStuckAfter, maxStuckAfter, bounded(v))
	}
	return d, nil
}

func findSetting(name string) (setting, error) {
	names := make([]string, len(settings))
	for i, s := range settings {
		if s.name == name {
			return s, nil
		}
		names[i] = s.name
	}
	if len(name) > 32 || strings.ContainsAny(name, "\x00\n") {
		name = name[:min(len(name), 32)] + "…"
	}
	return setting{}, fmt.Errorf("unknown setting %q: expected one of %s", name, strings.Join(names, ", "))
}

func newConfigCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show and change the home's saved serve settings",
		Long: "Settings saved in the home's config.json are what agentkeys serve uses when a flag is not given\n" +
			"(a flag always wins). Keys:\n" + settingsHelp(),
	}
	var output string
	get := &cobra.Command{
		Use:   "get [KEY]",
		Short: "Print one setting, or all of them",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			c, err := home.ReadConfig(dir)
			if err != nil {
				return err
			}
			chosen := settings
			if len(args) == 1 {
				s, err := findSetting(args[0])
				if err != nil {
					return err
				}
				chosen = []setting{s}
			}
			if output == "json" {
				m := make(map[string]any, len(chosen))
				for _, s := range chosen {
					m[s.name] = s.get(&c)
				}
				return writeJSON(e.io.Out, m)
			}
			for _, s := range chosen {
				v := s.get(&c)
				if l, ok := v.([]string); ok {
					v = strings.Join(l, ",")
				}
				if len(chosen) == 1 {
					fmt.Fprintln(e.io.Out, v)
				} else {
					fmt.Fprintf(e.io.Out, "%-13s %v\n", s.name, v)
				}
			}
			return nil
		},
	}
	get.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	set := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Save a setting",
		Args:  exactArgs(2, "KEY VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := findSetting(args[0])
			if err != nil {
				return err
			}
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			if err := home.UpdateConfig(dir, func(c *home.Config) error { return s.set(c, args[1]) }); err != nil {
				return err
			}
			fmt.Fprintf(e.io.Out, "%s saved; agentkeys serve uses it from its next start\n", s.name)
			return nil
		},
	}
	unset := &cobra.Command{
		Use:   "unset KEY",
		Short: "Remove a setting (listen addresses return to their defaults)",
		Args:  exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := findSetting(args[0])
			if err != nil {
				return err
			}
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			if err := home.UpdateConfig(dir, func(c *home.Config) error { s.unset(c); return nil }); err != nil {
				return err
			}
			fmt.Fprintf(e.io.Out, "%s removed\n", s.name)
			return nil
		},
	}
	cmd.AddCommand(get, set, unset)
	return cmd
}

func settingsHelp() string {
	var b strings.Builder
	for _, s := range settings {
		fmt.Fprintf(&b, "  %-13s %s\n", s.name, s.help)
	}
	return b.String()
}

// exactArgs is cobra.ExactArgs without repeating the arguments.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s takes %s (%d arguments), got %d", cmd.CommandPath(), what, n, len(args))
		}
		return nil
	}
}

// checkUpstreamURL accepts an http(s) or ws(s) URL with a host. The error
// never repeats the value: it may carry a provider's API key.
func checkUpstreamURL(v string) error {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || u.Host == "" {
		return fmt.Errorf("rpc-upstream: expected the URL of an Ethereum node's JSON-RPC, like https://host/path or http://127.0.0.1:8545 " +
			"(the value is not repeated: it may carry an API key)")
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
		return nil
	}
	return fmt.Errorf("rpc-upstream: expected an http, https, ws or wss URL (the value is not repeated: it may carry an API key)")
}

// checkHostPort accepts host:port with a port from 0 to 65535.
func checkHostPort(name, v string) error {
	_, port, err := net.SplitHostPort(v)
	if err == nil {
		var n uint64
		if n, err = strconv.ParseUint(port, 10, 16); err == nil && n <= 65535 {
			return nil
		}
	}
	return fmt.Errorf("%s: expected host:port like 127.0.0.1:8645, got %q", name, bounded(v))
}

// checkFile returns path made absolute (serve may start in another
// directory) after checking it names a readable file.
func checkFile(name, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err == nil {
		var f *os.File
		if f, err = os.Open(abs); err == nil {
			var fi os.FileInfo
			fi, err = f.Stat()
			f.Close()
			if err == nil && fi.IsDir() {
				return "", fmt.Errorf("%s: %s is a directory; expected a PEM file", name, abs)
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s: expected a readable PEM file: %w", name, err)
	}
	return abs, nil
}

// splitList splits a comma-separated list, dropping empty entries.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// bounded cuts an echoed value to 64 bytes.
func bounded(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
