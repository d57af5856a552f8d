package cli

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/service"
)

// adminRequest is one call a command makes to the running daemon's admin
// API, and how its answer reads as text (with -o json it is printed as
// JSON).
type adminRequest[T any] struct {
	method, path string
	body         any
	what         string // names the command in its errors, like "token list"
	text         func(w io.Writer, v T) error
	// check, if set, turns an answer printed in either format into the
	// command's failure (a test delivery the webhook refused).
	check func(v T) error
}

// runAdmin checks the output format, makes r through the command's admin
// client and prints the answer.
func runAdmin[T any](e *env, cmd *cobra.Command, output string, r adminRequest[T]) error {
	if err := outputFlag(output, "text", "json"); err != nil {
		return err
	}
	c, err := newAdminClient(cmd)
	if err != nil {
		return err
	}
	var v T
	if err := c.Do(cmd.Context(), r.method, r.path, r.body, &v); err != nil {
		if done, perr := printPending(e, output, err); done {
			return perr
		}
		return fmt.Errorf("%s: %w", r.what, err)
	}
	if output == "json" {
		err = writeJSON(e.io.Out, v)
	} else {
		err = r.text(e.io.Out, v)
	}
	if err == nil && r.check != nil {
		err = r.check(v)
	}
	return err
}

// newAdminClient finds the daemon: --admin-url or $AGENTKEYS_ADMIN_URL,
// else the sandbox.json or config.json of the home; and the credential:
// $AGENTKEYS_ADMIN_TOKEN, else a sandbox home's admin.token.
func newAdminClient(cmd *cobra.Command) (*admin.Client, error) {
	dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
	if err != nil {
		return nil, err
	}
	c := &admin.Client{}
	c.URL, _ = cmd.Flags().GetString("admin-url")
	if c.URL == "" {
		c.URL = os.Getenv("AGENTKEYS_ADMIN_URL")
	}
	d, err := findDaemon(dir)
	if err != nil {
		return nil, err
	}
	c.HTTP = d.http
	if c.URL == "" {
		c.URL = d.adminURL
	}
	if c.URL == "" {
		return nil, fmt.Errorf("no daemon found for home %s: start agentkeys serve or agentkeys sandbox, or pass --admin-url", dir)
	}
	c.Token = os.Getenv("AGENTKEYS_ADMIN_TOKEN")
	if c.Token == "" {
		if b, err := os.ReadFile(filepath.Join(dir, sandbox.AdminTokenFile)); err == nil {
			c.Token = strings.TrimSpace(string(b))
		}
	}
	if c.Token == "" {
		return nil, errors.New("no admin credential: set AGENTKEYS_ADMIN_TOKEN to the akadm_... token agentkeys init printed")
	}
	return c, nil
}

// homeDaemon is where a home's running daemon answers, as far as its
// files tell: a sandbox's sandbox.json, else serve's saved settings.
type homeDaemon struct {
	agentURL, adminURL string       // base URLs; empty when unknown
	http               *http.Client // trusts serve's certificate; nil for the default
}

// findDaemon reads the home's sandbox.json and config.json.
func findDaemon(dir string) (homeDaemon, error) {
	var d homeDaemon
	var info sandbox.Info
	if b, err := os.ReadFile(filepath.Join(dir, sandbox.InfoFile)); err == nil && json.Unmarshal(b, &info) == nil {
		d.agentURL, d.adminURL = strings.TrimSuffix(info.RPCURL, "/rpc"), info.AdminURL
	}
	var cfg home.Config
	if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil && json.Unmarshal(b, &cfg) == nil && cfg.TLSCert != "" {
		// serve answers HTTPS with this certificate: trust it as well as
		// the system's roots, so a self-signed one works.
		if d.http, err = httpsClient(cfg.TLSCert); err != nil {
			return d, err
		}
	}
	scheme := "http://"
	if cfg.TLSCert != "" {
		scheme = "https://"
	}
	if d.adminURL == "" && cfg.AdminListen != "" {
		d.adminURL = scheme + cfg.AdminListen
	}
	if d.agentURL == "" && cfg.Listen != "" {
		d.agentURL = scheme + cfg.Listen
	}
	return d, nil
}

// httpsClient trusts the certificates in certFile besides the system's.
func httpsClient(certFile string) (*http.Client, error) {
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("tls-cert: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls-cert: %s holds no PEM certificate", certFile)
	}
	return &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

func newKeyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Grant, list, show, suspend, resume and revoke agent keys (talks to the running daemon)"}
	cmd.PersistentFlags().String("admin-url", "", "admin API base URL (default: $AGENTKEYS_ADMIN_URL, the home's sandbox.json or config.json)")
	cmd.AddCommand(newKeyGrantCmd(e), newKeyListCmd(e), newKeyShowCmd(e), newKeyRevokeCmd(e), newKeySuspendCmd(e), newKeyResumeCmd(e), newKeyActivateCmd(e))
	return cmd
}

func newKeyGrantCmd(e *env) *cobra.Command {
	var (
		spec       service.GrantSpec
		policyFile string
		output     string
		deliverTo  []string
		rpcURL     string
	)
	cmd := &cobra.Command{
		Use:   "grant --agent NAME (--profile P | --policy FILE) [--ttl D] [--daily-limit AMOUNT]... [--router ADDR]... [--deliver TARGET]...",
		Short: "Grant an agent a key; the token is shown once",
		Long: "Grant an agent a key under a built-in profile or a policy file. --daily-limit caps one asset per\n" +
			"24h: 0.5ETH (or 0.5), 250USDC (a symbol in agentkeys token list), 100@0xTOKEN (whole tokens of\n" +
			"any ERC-20; the daemon reads its decimals from the chain) or 1000units@0xTOKEN (base units). In a\n" +
			"sandbox, swap-only uses the sandbox's router unless --router is given. The token is printed once\n" +
			"and never again; with --deliver it is not printed at all but written where the agent reads it:\n" +
			"env-file:PATH (AGENTKEYS_TOKEN and AGENTKEYS_RPC_URL, mode 0600, replaced atomically), file:PATH\n" +
			"(the token alone, 0600) or exec:COMMAND (run with sh -c, the token on its standard input only).\n" +
			"If a delivery fails, the key is revoked and the files already written are removed.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			if spec.Agent == "" {
				return errors.New("--agent is required: a name for the agent, like trader-1")
			}
			// Delivery targets and the endpoint are checked before the key
			// exists, so a typo grants nothing.
			targets, err := parseTargets(deliverTo)
			if err != nil {
				return err
			}
			var dir string
			if len(targets) > 0 {
				if dir, err = home.Resolve(homeFlag(cmd), os.Getenv); err != nil {
					return err
				}
				if rpcURL, err = agentsURL(rpcURL, dir); err != nil {
					return err
				}
			} else if rpcURL != "" {
				return errors.New("--rpc-url is written only with --deliver")
			}
			if policyFile != "" {
				b, err := os.ReadFile(policyFile)
				if err != nil {
					return fmt.Errorf("read policy: %w", err)
				}
				spec.Policy = string(b)
			}
			c, err := newAdminClient(cmd)
			if err != nil {
				return err
			}
			if spec.Profile == "swap-only" && len(spec.Routers) == 0 {
				dir, _ := home.Resolve(homeFlag(cmd), os.Getenv)
				var info sandbox.Info
				if b, err := os.ReadFile(filepath.Join(dir, sandbox.InfoFile)); err == nil && json.Unmarshal(b, &info) == nil {
					spec.Routers = []string{info.Router}
				}
			}
			var v admin.GrantView
			if err := c.Do(cmd.Context(), "POST", "/v1/grants", spec, &v); err != nil {
				return fmt.Errorf("grant: %w", err)
			}
			if len(targets) > 0 {
				if err := deliverGrant(cmd.Context(), c, dir, v.KeyID, v.Token, targets, rpcURL, e.now()); err != nil {
					return err
				}
				v.Token = ""
			}
			delivered := make([]string, len(targets))
			for i, t := range targets {
				delivered[i] = t.String()
			}
			if output == "json" {
				v.Document = nil
				if len(targets) > 0 {
					return writeJSON(e.io.Out, struct {
						admin.GrantView
						Delivered []string `json:"delivered"`
						RPCURL    string   `json:"rpc_url"`
					}{v, delivered, rpcURL})
				}
				return writeJSON(e.io.Out, v)
			}
			w := e.io.Out
			if v.Warning != "" {
				fmt.Fprintf(w, "WARNING: %s\n\n", v.Warning)
			}
			fmt.Fprintf(w, "key_id:     %s\nagent:      %s\naddress:    %s (the account the agent acts as)\npolicy:     %s\nexpires_at: %s\n",
				v.KeyID, v.Agent, v.Address, v.Policy, v.ExpiresAt.Format(time.RFC3339))
			for _, l := range v.Limits {
				fmt.Fprintf(w, "limit:      %s\n", limitText(l))
			}
			if v.Mode == service.Mode7702 && v.SignatureRequest == nil {
				fmt.Fprintf(w, "session:    %s (registered with the owner's AgentKeyDelegate)\n", v.Session)
			}
			if v.SignatureRequest != nil {
				fmt.Fprintf(w, "session:    %s (registered once the owner signs)\n", v.Session)
				if err := signatureText(w, v.KeyID, v.SignatureRequest); err != nil {
					return err
				}
			}
			if e := v.Enforcement; e != nil {
				fmt.Fprintln(w, "enforced on chain:")
				for _, l := range e.OnChain {
					fmt.Fprintf(w, "  - %s\n", l)
				}
				fmt.Fprintln(w, "enforced by the daemon only:")
				for _, l := range e.OffChainOnly {
					fmt.Fprintf(w, "  - %s\n", l)
				}
			}
			if len(targets) > 0 {
				for _, d := range delivered {
					fmt.Fprintf(w, "delivered:  %s\n", bound.Escape(d))
				}
				fmt.Fprintf(w, "rpc_url:    %s\n\nThe token and the endpoint were written only to the targets above. The token is not stored and will\nnot be shown again; agentkeys key revoke %s --clear-delivery removes the delivered files.\n", rpcURL, v.KeyID)
				return nil
			}
			fmt.Fprintf(w, "token:      %s\n\nGive the token to the agent as Authorization: Bearer <token>. It is not stored and will not be shown again.\n", v.Token)
			if v.ChangeID != "" {
				fmt.Fprintf(w, "\nstatus:     pending_approval: the key is refused (4100 %q) until the owner approves it with a passkey\nchange:     %s\napprove at: %s\n",
					service.CredentialPendingApproval, v.ChangeID, v.ApproveURL)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Agent, "agent", "", "name of the agent the key is for")
	f.StringVar(&spec.Mode, "mode", "wallet", "wallet (the daemon signs with the wallet key) or 7702 (a session key held to the grant on chain)")
	f.StringVar(&spec.Profile, "profile", "", "built-in profile: read-only, swap-only or full-access")
	f.StringVar(&policyFile, "policy", "", "policy file (YAML or JSON)")
	f.StringVar(&spec.TTL, "ttl", "", "how long the key lives, like 1h or 7d (default: the policy's, else 24h)")
	f.StringArrayVar(&spec.DailyLimit, "daily-limit", nil, "profiles: a cap per 24h, like 0.5ETH, 250USDC or 100@0xTOKEN (repeatable)")
	f.StringArrayVar(&spec.Routers, "router", nil, "swap-only: DEX router address (repeatable)")
	f.StringVar(&spec.Permit2, "permit2", "", "swap-only: Permit2 address, to allow PermitSingle to the routers")
	f.StringArrayVar(&deliverTo, "deliver", nil, "write the token where the agent reads it instead of printing it: env-file:PATH, file:PATH or exec:COMMAND (repeatable)")
	f.StringVar(&rpcURL, "rpc-url", "", "with --deliver: the agents' endpoint to write (default: $AGENTKEYS_RPC_URL, else the home's sandbox or serve listener)")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func limitText(l admin.LimitView) string {
	var parts []string
	if l.PerTx != "" {
		parts = append(parts, fmt.Sprintf("%s %s per transaction", l.PerTx, l.Symbol))
	}
	if l.PerPeriod != "" {
		parts = append(parts, fmt.Sprintf("%s %s per %s (%s base units)", l.PerPeriod, l.Symbol, l.Period, l.RawPeriod))
	}
	return strings.Join(parts, ", ")
}

// budgetText is one limit's use in its current period: spent (landed),
// pending (signed, may still land) and left.
func budgetText(b service.BudgetLine) string {
	name := b.Symbol
	if b.Asset == "fees" {
		name = "ETH in fees"
	}
	text := fmt.Sprintf("%s %s spent, %s pending", b.Spent, name, b.Pending)
	if b.Remaining != "" {
		text += fmt.Sprintf(", %s left of %s per %s", b.Remaining, b.PerPeriod, b.Period)
	}
	return text + fmt.Sprintf(" (period ends %s)", b.PeriodEnds.UTC().Format(time.RFC3339))
}

func newKeyListCmd(e *env) *cobra.Command {
	var output, status, unusedFor, cursor string
	var limit int
	var newest bool
	cmd := &cobra.Command{
		Use:   "list [--status S] [--unused-for D] [--limit N] [--cursor C] [--newest]",
		Short: "List agent keys with their status and recent use",
		Long: "List the agent keys: status, policy, expiry, when and from which IP each was last used (or never),\n" +
			"and its requests and refusals in the last 24h, from the audit log. --status keeps one status\n" +
			"(active, suspended, expired or revoked); --unused-for 7d keeps the keys that made no request in that long\n" +
			"(a key never used counts from when it was granted).\n\n" +
			"Keys come a page at a time, oldest first (--newest: newest first): --limit keys (default " + strconv.Itoa(service.DefaultGrantPage) + ",\n" +
			"at most " + strconv.Itoa(service.MaxGrantPage) + "). When more remain, the last line gives the --cursor that lists the next page\n" +
			"(-o json: next_cursor); give it with the same filters.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			q := url.Values{}
			if status != "" {
				if !slices.Contains(service.KeyStatuses, status) {
					return fmt.Errorf("--status: expected %s, got %s", strings.Join(service.KeyStatuses, ", "), bound.Quote(status))
				}
				q.Set("status", status)
			}
			if unusedFor != "" {
				if d, err := policy.ParseDuration(unusedFor); err != nil || d <= 0 {
					return fmt.Errorf("--unused-for: expected a positive duration like 24h or 7d, got %s", bound.Quote(unusedFor))
				}
				q.Set("unused_for", unusedFor)
			}
			if cmd.Flags().Changed("limit") {
				if limit < 1 || limit > service.MaxGrantPage {
					return fmt.Errorf("--limit: expected a number from 1 to %d, got %d", service.MaxGrantPage, limit)
				}
				q.Set("limit", strconv.Itoa(limit))
			}
			if newest {
				q.Set("order", "newest")
			}
			if cursor != "" {
				if _, err := service.DecodeGrantCursor(cursor); err != nil {
					return fmt.Errorf("--%w", err)
				}
				q.Set("cursor", cursor)
			}
			c, err := newAdminClient(cmd)
			if err != nil {
				return err
			}
			path := "/v1/grants"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			var page admin.GrantList
			if err := c.Do(cmd.Context(), "GET", path, nil, &page); err != nil {
				return fmt.Errorf("list keys: %w", err)
			}
			if output == "json" {
				return writeJSON(e.io.Out, page)
			}
			tw := tabwriter.NewWriter(e.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY ID\tAGENT\tSTATUS\tPOLICY\tEXPIRES\tLAST USED\tREQ/DENY 24H")
			for _, v := range page.Keys {
				reqs := "-"
				if v.Usage != nil {
					reqs = fmt.Sprintf("%d/%d", v.Usage.Requests24h, v.Usage.Denied24h)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.KeyID, v.Agent, v.Status, v.Policy, v.ExpiresAt.Format(time.RFC3339),
					lastUsedText(v.Usage), reqs)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if page.NextCursor != "" {
				// The server's cursor is echoed: escape it like anything
				// else that came over the wire.
				fmt.Fprintf(e.io.Out, "more keys: the next page is agentkeys key list%s --cursor %s\n", keyListFlags(status, unusedFor, limit, newest), bound.Escape(page.NextCursor))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&status, "status", "", "only keys with this status: active, suspended, expired or revoked")
	cmd.Flags().StringVar(&unusedFor, "unused-for", "", "only keys that made no request in this `duration`, like 7d (never-used ones included)")
	cmd.Flags().IntVar(&limit, "limit", service.DefaultGrantPage, "at most this many keys (1 to "+strconv.Itoa(service.MaxGrantPage)+")")
	cmd.Flags().StringVar(&cursor, "cursor", "", "list the page after the one that printed this `cursor`")
	cmd.Flags().BoolVar(&newest, "newest", false, "newest keys first")
	return cmd
}

// keyListFlags repeats the filters of a key list for its next page.
func keyListFlags(status, unusedFor string, limit int, newest bool) string {
	var b strings.Builder
	if status != "" {
		b.WriteString(" --status " + status)
	}
	if unusedFor != "" {
		b.WriteString(" --unused-for " + unusedFor)
	}
	if limit != service.DefaultGrantPage {
		fmt.Fprintf(&b, " --limit %d", limit)
	}
	if newest {
		b.WriteString(" --newest")
	}
	return b.String()
}

// lastUsedText is when, from where and with which client a key made its
// newest request, or "never". The IP and user agent come from the
// request, so they are escaped.
func lastUsedText(u *service.KeyUsage) string {
	switch {
	case u == nil:
		return "-"
	case u.LastUsed == nil:
		return "never"
	}
	s := u.LastUsed.UTC().Format(time.RFC3339)
	if u.LastIP != "" {
		s += " from " + bound.Escape(u.LastIP)
	}
	if u.LastUserAgent != "" {
		s += " using " + strconv.Quote(u.LastUserAgent)
	}
	return s
}

func newKeyShowCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show KEY_ID",
		Short: "Show one agent key and its policy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			c, err := newAdminClient(cmd)
			if err != nil {
				return err
			}
			var v admin.GrantView
			if err := c.Do(cmd.Context(), "GET", "/v1/grants/"+args[0], nil, &v); err != nil {
				return fmt.Errorf("show %s: %w", args[0], err)
			}
			if output == "json" {
				return writeJSON(e.io.Out, v)
			}
			w := e.io.Out
			fmt.Fprintf(w, "key_id:     %s\nagent:      %s\nstatus:     %s\naddress:    %s\nmode:       %s\npolicy:     %s\ncreated_at: %s\nexpires_at: %s\n",
				v.KeyID, v.Agent, v.Status, v.Address, v.Mode, v.Policy, v.CreatedAt.Format(time.RFC3339), v.ExpiresAt.Format(time.RFC3339))
			if v.RevokedAt != nil {
				fmt.Fprintf(w, "revoked_at: %s\n", v.RevokedAt.Format(time.RFC3339))
			}
			if v.SuspendedAt != nil {
				fmt.Fprintf(w, "suspended:  %s: %s (agentkeys key resume %s lets it act again)\n", v.SuspendedAt.Format(time.RFC3339), bound.Escape(v.SuspendReason), v.KeyID)
			}
			for _, l := range v.Limits {
				fmt.Fprintf(w, "limit:      %s\n", limitText(l))
			}
			for _, b := range v.Budget {
				fmt.Fprintf(w, "budget:     %s\n", budgetText(b))
			}
			if u := v.Usage; u != nil {
				last := lastUsedText(u)
				if u.LastUsed != nil && u.LastDecision != "" {
					last += " (" + bound.Escape(u.LastDecision) + ")"
				}
				fmt.Fprintf(w, "last_used:  %s\nrequests:   %d in the last 24h, %d denied\n", last, u.Requests24h, u.Denied24h)
			}
			for _, a := range v.Anomalies {
				fmt.Fprintf(w, "anomaly:    %s\n", anomalyText(a))
			}
			if v.Warning != "" {
				fmt.Fprintf(w, "WARNING:    %s\n", v.Warning)
			}
			if v.SignatureRequest != nil {
				fmt.Fprintln(w)
				return signatureText(w, v.KeyID, v.SignatureRequest)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newKeyRevokeCmd(e *env) *cobra.Command {
	var (
		all, clear bool
		output     string
	)
	cmd := &cobra.Command{
		Use:   "revoke (KEY_ID | --all) [--clear-delivery]",
		Short: "Revoke a key, or every key; it stops working on its next request",
		Long: "Revoke a key, or every key; it stops working on its next request. --clear-delivery also removes\n" +
			"the files key grant --deliver wrote from this home (those that still hold the key's credential)\n" +
			"and forgets the delivery; what an exec: command stored is named for you to remove.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			if all == (len(args) == 1) || len(args) > 1 {
				return errors.New("give one KEY_ID, or --all")
			}
			c, err := newAdminClient(cmd)
			if err != nil {
				return err
			}
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			if all {
				var out admin.RevokeAllResult
				if err := c.Do(cmd.Context(), "POST", "/v1/revoke-all", nil, &out); err != nil {
					return fmt.Errorf("revoke all: %w", err)
				}
				var ids []string
				if clear {
					if ids, err = deliveredKeys(dir); err != nil {
						return err
					}
				}
				cleared, err := clearDeliveries(cmd.Context(), dir, ids)
				if output == "json" {
					if clear {
						return errors.Join(writeJSON(e.io.Out, struct {
							Revoked int                       `json:"revoked"`
							Cleared map[string][]clearOutcome `json:"cleared_delivery"`
						}{out.Revoked, cleared}), err)
					}
					return writeJSON(e.io.Out, out)
				}
				fmt.Fprintf(e.io.Out, "revoked %d keys\n", out.Revoked)
				if a := out.OwnerAction; a != nil {
					fmt.Fprintf(e.io.Out, "\nThe daemon holds no owner key, so the sessions are revoked here but not yet on chain. From your own wallet,\n"+
						"call revokeAll() on your account: it ends every session on chain and voids every signed grant not yet submitted.\n"+
						"  to:   %s\n  data: %s\n  with Foundry (add --ledger, --trezor or --account NAME):\n    %s\n", a.To.Hex(), a.Data, a.Cast)
				}
				for _, id := range ids {
					clearText(e.io.Out, id, cleared[id])
				}
				return err
			}
			var v admin.GrantView
			if err := c.Do(cmd.Context(), "POST", "/v1/grants/"+args[0]+"/revoke", nil, &v); err != nil {
				return fmt.Errorf("revoke %s: %w", args[0], err)
			}
			var cleared map[string][]clearOutcome
			if clear {
				cleared, err = clearDeliveries(cmd.Context(), dir, []string{v.KeyID})
			}
			if output == "json" {
				if clear {
					return errors.Join(writeJSON(e.io.Out, struct {
						admin.GrantView
						Cleared []clearOutcome `json:"cleared_delivery"`
					}{v, cleared[v.KeyID]}), err)
				}
				return writeJSON(e.io.Out, v)
			}
			fmt.Fprintf(e.io.Out, "revoked %s (agent %s) at %s\n", v.KeyID, v.Agent, v.RevokedAt.Format(time.RFC3339))
			if clear {
				if _, found := cleared[v.KeyID]; !found && err == nil {
					fmt.Fprintf(e.io.Out, "%s: this home (%s) remembers no delivery of it\n", v.KeyID, dir)
				}
				clearText(e.io.Out, v.KeyID, cleared[v.KeyID])
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "revoke every key")
	cmd.Flags().BoolVar(&clear, "clear-delivery", false, "also remove what key grant --deliver wrote from this home")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// signatureText tells the owner how to sign a key's grant and activate it.
func signatureText(w io.Writer, keyID string, r *service.SignatureRequest) error {
	td, err := json.Marshal(r.TypedData)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "status:     pending_signature: the key works once the owner %s signs its grant (before %s)\n\n", r.Signer.Hex(), r.Deadline.Format(time.RFC3339))
	fmt.Fprintf(w, "EIP-712 digest: %s\n", r.Digest.Hex())
	fmt.Fprintf(w, "typed data (eth_signTypedData_v4):\n%s\n\n", td)
	fmt.Fprintf(w, "Sign it with the owner's wallet, e.g. save the typed data as grant.json and run\n"+
		"  cast wallet sign --data --from-file grant.json --ledger     (or --trezor, --account NAME)\n"+
		"or call eth_signTypedData_v4 in a browser wallet; check that the wallet shows the digest above. Then:\n"+
		"  agentkeys key activate %s --signature 0x...\n"+
		"(key show %s -o json prints the typed data again.)\n", keyID, keyID)
	return nil
}

func newKeyActivateCmd(e *env) *cobra.Command {
	var signature, output string
	cmd := &cobra.Command{
		Use:   "activate KEY_ID --signature 0x...",
		Short: "Activate a 7702 key with the owner's signature of its grant (owner-offline mode)",
		Long: "Activate a 7702 key waiting for the owner's signature (status pending_signature): the signature of the\n" +
			"EIP-712 typed data that key grant (or key show -o json) printed, made with the owner's own wallet. The\n" +
			"daemon checks that it is the owner's signature of exactly this key's grant before anything is sent, then\n" +
			"its relayer submits grantWithSignature to the owner's account; once the chain has registered the session,\n" +
			"the key works.",
		Args: exactArgs(1, "KEY_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if signature == "" {
				return errors.New("--signature is required: the owner's signature of the key's typed data (0x and 130 hex digits)")
			}
			return runAdmin(e, cmd, output, adminRequest[admin.GrantView]{
				method: "POST", path: "/v1/grants/" + url.PathEscape(args[0]) + "/activate", body: admin.ActivateRequest{Signature: signature},
				what: "activate " + args[0],
				text: func(w io.Writer, v admin.GrantView) error {
					_, err := fmt.Fprintf(w, "activated %s (agent %s): session %s is registered with the owner's AgentKeyDelegate (tx %s)\n",
						v.KeyID, v.Agent, v.Session, v.Meta[service.MetaGrantTx])
					return err
				},
			})
		},
	}
	cmd.Flags().StringVar(&signature, "signature", "", "the owner's signature of the key's typed data, `0x...` (65 bytes)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
