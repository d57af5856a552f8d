package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/service"
)

func newAlertCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alert",
		Short: "Webhooks the daemon sends anomalies to (talks to the running daemon)",
		Long: "Webhooks the daemon sends anomalies to. Every anomaly goes to the daemon's log; each webhook\n" +
			"also receives, as a signed JSON POST, the anomalies at or above its minimum severity, retried\n" +
			"with backoff until it answers 2xx. The body, headers and how to verify the signature are in\n" +
			"docs/alerts.md.",
	}
	cmd.PersistentFlags().String("admin-url", "", "admin API base URL (default: $AGENTKEYS_ADMIN_URL, the home's sandbox.json or config.json)")
	cmd.AddCommand(newAlertAddCmd(e), newAlertListCmd(e), newAlertRemoveCmd(e), newAlertTestCmd(e), newAlertDeliveriesCmd(e))
	return cmd
}

// envName is what --secret-env accepts: a POSIX environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

func checkSeverity(flag, s string) error {
	if service.SeverityRank(s) == 0 {
		return fmt.Errorf("%s: expected info, warning or critical, got %s", flag, bound.Quote(s))
	}
	return nil
}

func newAlertAddCmd(e *env) *cobra.Command {
	var secretEnv, minSeverity, name, output string
	cmd := &cobra.Command{
		Use:   "add URL [--secret-env VAR] [--min-severity info|warning|critical] [--name NAME]",
		Short: "Send anomalies to a webhook, signed with a secret read from an environment variable",
		Long: "Send anomalies to the webhook at URL (http or https). --secret-env names an environment variable\n" +
			"holding the signing secret (at least 16 bytes): each delivery carries X-AgentKeys-Signature, an\n" +
			"HMAC-SHA256 of the timestamp and the body under it. The secret is never passed on the command line,\n" +
			"never printed, and the daemon keeps it, and the URL, sealed under the home's master key. Listings\n" +
			"show the URL as scheme and host only, since a webhook URL often carries a token.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := service.CheckAlertURL("URL", args[0]); err != nil {
				return err
			}
			if err := checkSeverity("--min-severity", minSeverity); err != nil {
				return err
			}
			req := admin.AlertAdd{URL: args[0], MinSeverity: minSeverity, Name: name}
			if cmd.Flags().Changed("secret-env") {
				if !envName.MatchString(secretEnv) {
					return fmt.Errorf("--secret-env: expected the name of an environment variable, like AGENTKEYS_ALERT_SECRET, got %s", bound.Quote(secretEnv))
				}
				req.Secret = os.Getenv(secretEnv)
				switch n := len(req.Secret); {
				case n == 0:
					return fmt.Errorf("--secret-env: $%s is not set or empty: export the webhook's signing secret in it", secretEnv)
				case n < service.MinAlertSecret:
					return fmt.Errorf("--secret-env: $%s holds %d bytes; a signing secret needs at least %d (openssl rand -hex 32 makes one)", secretEnv, n, service.MinAlertSecret)
				}
			}
			return runAdmin(e, cmd, output, adminRequest[service.AlertHook]{method: "POST", path: "/v1/alerts", body: req, what: "alert add",
				text: func(w io.Writer, v service.AlertHook) error {
					signed := "signed"
					if !v.Signed {
						signed = "NOT signed"
					}
					fmt.Fprintf(w, "added webhook %s %q: %s, anomalies of severity %s and above, %s\n", v.ID, v.Name, v.URL, v.MinSeverity, signed)
					if v.Warning != "" {
						fmt.Fprintf(w, "warning: %s\n", v.Warning)
					}
					_, err := fmt.Fprintf(w, "Try it: agentkeys alert test %s\n", v.ID)
					return err
				}})
		},
	}
	f := cmd.Flags()
	f.StringVar(&secretEnv, "secret-env", "", "environment `variable` holding the signing secret (at least 16 bytes)")
	f.StringVar(&minSeverity, "min-severity", service.SeverityInfo, "lowest severity sent: info, warning or critical")
	f.StringVar(&name, "name", "", "a name for the webhook (default: the URL's host)")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newAlertListCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the webhooks with their pending and failed deliveries and the newest one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAdmin(e, cmd, output, adminRequest[[]service.AlertHook]{method: "GET", path: "/v1/alerts", what: "alert list",
				text: func(w io.Writer, hs []service.AlertHook) error {
					if len(hs) == 0 {
						_, err := fmt.Fprintln(w, "no webhooks: anomalies go to the daemon's log only (add one with agentkeys alert add URL --secret-env VAR)")
						return err
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tNAME\tURL\tMIN SEVERITY\tSIGNED\tPENDING\tFAILED\tLAST DELIVERY")
					for _, h := range hs {
						last := "none yet"
						if h.Last != nil {
							last = deliveryText(*h.Last)
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%d\t%d\t%s\n", h.ID, bound.Escape(h.Name), h.URL, h.MinSeverity, h.Signed, h.Pending, h.Failed, last)
					}
					return tw.Flush()
				}})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// deliveryText is where a delivery stands, in a few words.
func deliveryText(d service.AlertDelivery) string {
	what := d.Kind
	if d.Test {
		what = "test"
	}
	s := fmt.Sprintf("%s %s, %s after %d attempt(s)", what, d.UpdatedAt.UTC().Format(time.RFC3339), d.State, d.Attempts)
	if d.LastError != "" {
		s += ": " + bound.Escape(d.LastError)
	}
	if d.NextAttemptAt != nil && d.Attempts > 0 {
		s += ", next " + d.NextAttemptAt.UTC().Format(time.RFC3339)
	}
	return s
}

func alertIDArg(cmd *cobra.Command, args []string) error {
	if err := cobra.ExactArgs(1)(cmd, args); err != nil {
		return err
	}
	if args[0] == "" || len(args[0]) > 64 {
		return errors.New("expected a webhook id like hook_0123456789abcdef (see agentkeys alert list)")
	}
	return nil
}

func newAlertRemoveCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a webhook and its deliveries",
		Args:  alertIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(e, cmd, output, adminRequest[service.AlertHook]{method: "DELETE", path: "/v1/alerts/" + url.PathEscape(args[0]), what: "alert remove",
				text: func(w io.Writer, v service.AlertHook) error {
					_, err := fmt.Fprintf(w, "removed webhook %s %q (%s)\n", v.ID, v.Name, v.URL)
					return err
				}})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newAlertTestCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "test ID",
		Short: "Send the webhook a test delivery now (its body says \"test\": true)",
		Long: "Send the webhook a test delivery now, signed like any other, its body marked \"type\": \"test\" and\n" +
			"\"test\": true. Exits non-zero if the webhook did not answer 2xx; the delivery is then retried like\n" +
			"any other (agentkeys alert deliveries).",
		Args: alertIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(e, cmd, output, adminRequest[service.AlertDelivery]{method: "POST", path: "/v1/alerts/" + url.PathEscape(args[0]) + "/test", what: "alert test",
				text: func(w io.Writer, d service.AlertDelivery) error {
					_, err := fmt.Fprintf(w, "test delivery %s: %s\n", d.ID, deliveryText(d))
					return err
				},
				check: func(d service.AlertDelivery) error {
					if d.State != "delivered" {
						return fmt.Errorf("alert test: the webhook did not accept the test delivery (%s); see agentkeys alert deliveries --hook %s", bound.Escape(d.LastError), args[0])
					}
					return nil
				}})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newAlertDeliveriesCmd(e *env) *cobra.Command {
	var hook, state, output string
	var limit int
	cmd := &cobra.Command{
		Use:   "deliveries [--hook ID] [--state pending|delivered|failed] [--limit N]",
		Short: "List webhook deliveries, newest first, with their attempts and last error",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if hook != "" {
				q.Set("hook", hook)
			}
			switch state {
			case "":
			case "pending", "delivered", "failed":
				q.Set("state", state)
			default:
				return fmt.Errorf("--state: expected pending, delivered or failed, got %s", bound.Quote(state))
			}
			if limit < 1 || limit > 1000 {
				return fmt.Errorf("--limit: expected a number from 1 to 1000, got %d", limit)
			}
			q.Set("limit", strconv.Itoa(limit))
			return runAdmin(e, cmd, output, adminRequest[[]service.AlertDelivery]{method: "GET", path: "/v1/alerts/deliveries?" + q.Encode(), what: "alert deliveries",
				text: func(w io.Writer, ds []service.AlertDelivery) error {
					if len(ds) == 0 {
						_, err := fmt.Fprintln(w, "no deliveries")
						return err
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tHOOK\tKIND\tSEVERITY\tKEY\tAUDIT SEQ\tSTATE\tATTEMPTS\tLAST\tNEXT ATTEMPT\tCREATED")
					for _, d := range ds {
						kind, seq, next, last := d.Kind, strconv.FormatInt(d.AuditSeq, 10), "-", "-"
						if d.Test {
							kind, seq = "test", "-"
						}
						if d.NextAttemptAt != nil {
							next = d.NextAttemptAt.UTC().Format(time.RFC3339)
						}
						switch {
						case d.LastError != "":
							last = bound.Escape(d.LastError)
						case d.LastStatus != 0:
							last = "HTTP " + strconv.Itoa(d.LastStatus)
						}
						key := d.KeyID
						if key == "" {
							key = "-"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.HookID, bound.Escape(kind), bound.Escape(d.Severity), bound.Escape(key), seq,
							d.State, d.Attempts, last, next, d.CreatedAt.UTC().Format(time.RFC3339))
					}
					return tw.Flush()
				}})
		},
	}
	f := cmd.Flags()
	f.StringVar(&hook, "hook", "", "only this webhook's deliveries (its `id`)")
	f.StringVar(&state, "state", "", "only deliveries in this state: pending, delivered or failed")
	f.IntVar(&limit, "limit", 50, "at most this many, newest first")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
