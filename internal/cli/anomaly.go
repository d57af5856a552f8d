package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
)

// anomalyText is one anomaly on one line: when, what, how bad, what was
// done, and which audit records raised it.
func anomalyText(a service.AnomalyEvent) string {
	return fmt.Sprintf("%s %s %s: %s (%s; audit records %s)", a.At.UTC().Format(time.RFC3339), a.Severity, a.Kind,
		bound.Escape(a.Summary), a.Response, seqList(a.Records))
}

// seqList prints audit seqs, the first and last of a long run only.
func seqList(seqs []int64) string {
	if len(seqs) > 4 {
		return fmt.Sprintf("%d…%d (%d)", seqs[0], seqs[len(seqs)-1], len(seqs))
	}
	out := ""
	for i, s := range seqs {
		if i > 0 {
			out += ","
		}
		out += strconv.FormatInt(s, 10)
	}
	return out
}

func newAnomalyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "anomaly", Short: "What looked wrong in the agents' use of their keys (talks to the running daemon)"}
	cmd.PersistentFlags().String("admin-url", "", "admin API base URL (default: $AGENTKEYS_ADMIN_URL, the home's sandbox.json or config.json)")
	cmd.AddCommand(newAnomalyListCmd(e))
	return cmd
}

func newAnomalyListCmd(e *env) *cobra.Command {
	var (
		output, key, since string
		limit              int
	)
	cmd := &cobra.Command{
		Use:   "list [--key ID] [--since D] [--limit N]",
		Short: "List anomalies, newest first",
		Long: "List the anomalies the daemon found in the audit log, newest first: new source networks, rate\n" +
			"spikes, refusal bursts, attempts outside the schedule, outlying values and stale keys in use,\n" +
			"each with its severity, what the key's policy did (alert or suspend) and the audit records that\n" +
			"raised it. --key keeps one key's, --since 24h the last day's.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if key != "" {
				if len(key) > 128 {
					return errors.New("--key: expected a key id like ak_…")
				}
				q.Set("key", key)
			}
			if since != "" {
				if d, err := policy.ParseDuration(since); err != nil || d <= 0 {
					return fmt.Errorf("--since: expected a positive duration like 24h or 7d, got %s", bound.Quote(since))
				}
				q.Set("since", since)
			}
			if limit < 0 || limit > 10000 {
				return fmt.Errorf("--limit: expected a number from 1 to 10000, got %d", limit)
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			path := "/v1/anomalies"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			return runAdmin(e, cmd, output, adminRequest[[]service.AnomalyEvent]{method: "GET", path: path, what: "anomaly list",
				text: func(w io.Writer, as []service.AnomalyEvent) error {
					if len(as) == 0 {
						_, err := fmt.Fprintln(w, "no anomalies")
						return err
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "TIME\tKEY ID\tKIND\tSEVERITY\tRESPONSE\tSUMMARY\tRECORDS")
					for _, a := range as {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.At.UTC().Format(time.RFC3339), a.KeyID, a.Kind, a.Severity, a.Response,
							bound.Escape(a.Summary), seqList(a.Records))
					}
					return tw.Flush()
				}})
		},
	}
	f := cmd.Flags()
	f.StringVar(&key, "key", "", "only this key's anomalies")
	f.StringVar(&since, "since", "", "only anomalies in this `duration` before now, like 24h or 7d")
	f.IntVar(&limit, "limit", 0, "at most this many, the newest")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newKeySuspendCmd(e *env) *cobra.Command {
	var output, reason string
	cmd := &cobra.Command{
		Use:   "suspend KEY_ID [--reason TEXT]",
		Short: "Suspend a key: its next request is refused until key resume",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(e, cmd, output, adminRequest[admin.GrantView]{method: "POST", path: "/v1/grants/" + url.PathEscape(args[0]) + "/suspend",
				body: admin.SuspendRequest{Reason: reason}, what: "suspend " + bound.Quote(args[0]),
				text: func(w io.Writer, v admin.GrantView) error {
					_, err := fmt.Fprintf(w, "suspended %s (agent %s): %s\nagentkeys key resume %s lets it act again\n", v.KeyID, v.Agent, bound.Escape(v.SuspendReason), v.KeyID)
					return err
				}})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the owner's view (default: suspended by the owner)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newKeyResumeCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "resume KEY_ID",
		Short: "Resume a suspended key: it acts again on its next request",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(e, cmd, output, adminRequest[admin.GrantView]{method: "POST", path: "/v1/grants/" + url.PathEscape(args[0]) + "/resume",
				what: "resume " + bound.Quote(args[0]),
				text: func(w io.Writer, v admin.GrantView) error {
					_, err := fmt.Fprintf(w, "%s (agent %s) is %s\n", v.KeyID, v.Agent, v.Status)
					return err
				}})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
