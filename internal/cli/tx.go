package cli

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/service"
)

func newTxCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tx",
		Short: "List, show and cancel the transactions the daemon signed (talks to the running daemon)",
		Long: "Every transaction the daemon signs is followed to its fate: signed → broadcast → included,\n" +
			"replaced, cancelled or dropped. A transaction that has not reached the node within stuck-after\n" +
			"(serve --stuck-after, default 2m) is cancelled at its nonce, so later ones go through.",
	}
	cmd.PersistentFlags().String("admin-url", "", "admin API base URL (default: $AGENTKEYS_ADMIN_URL, the home's sandbox.json or config.json)")
	cmd.AddCommand(newTxListCmd(e), newTxShowCmd(e), newTxCancelCmd(e))
	return cmd
}

func newTxListCmd(e *env) *cobra.Command {
	var keyID, state, output string
	cmd := &cobra.Command{
		Use:   "list [--key ID] [--state S]",
		Short: "List transactions, oldest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if keyID != "" {
				q.Set("key", keyID)
			}
			if state != "" {
				q.Set("state", state)
			}
			path := "/v1/txs"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			return runAdmin(e, cmd, output, adminRequest[[]service.TxInfo]{method: "GET", path: path, what: "list transactions",
				text: func(w io.Writer, txs []service.TxInfo) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "HASH\tSTATE\tKIND\tKEY ID\tNONCE\tTO\tVALUE (WEI)\tCREATED")
					for _, t := range txs {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", t.Hash, t.State, t.Kind, dash(t.KeyID), t.Nonce, dash(t.To), t.Value,
							t.CreatedAt.Format(time.RFC3339))
					}
					return tw.Flush()
				}})
		},
	}
	cmd.Flags().StringVar(&keyID, "key", "", "only this key's transactions (and their cancels)")
	cmd.Flags().StringVar(&state, "state", "", "only this state: signed, broadcast, included, replaced, cancelled or dropped")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newTxShowCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show HASH",
		Short: "Show one transaction and what became of it",
		Args:  exactArgs(1, "HASH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(e, cmd, output, adminRequest[service.TxInfo]{method: "GET", path: "/v1/txs/" + url.PathEscape(args[0]),
				what: "show " + bounded(args[0]), text: printTx})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newTxCancelCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "cancel HASH",
		Short: "Cancel a transaction not yet mined: a zero-value self-transfer at its nonce with higher fees",
		Args:  exactArgs(1, "HASH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(e, cmd, output, adminRequest[service.TxInfo]{method: "POST", path: "/v1/txs/" + url.PathEscape(args[0]) + "/cancel",
				what: "cancel " + bounded(args[0]),
				text: func(w io.Writer, t service.TxInfo) error {
					fmt.Fprintf(w, "cancel %s sent for %s (nonce %d); the original becomes cancelled once the cancel is mined\n", t.Hash, t.Cancels, t.Nonce)
					return printTx(w, t)
				}})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func printTx(w io.Writer, t service.TxInfo) error {
	fmt.Fprintf(w, "hash:         %s\nstate:        %s\nkind:         %s\nkey_id:       %s\nfrom:         %s\nnonce:        %d\nto:           %s\nvalue:        %s wei\ngas:          %d\nmax_fee:      %s wei/gas (tip %s)\ncreated_at:   %s\n",
		t.Hash, t.State, t.Kind, dash(t.KeyID), t.From, t.Nonce, dash(t.To), t.Value, t.Gas, t.MaxFee, t.MaxTip, t.CreatedAt.Format(time.RFC3339))
	if !t.Send && t.State == "signed" {
		fmt.Fprintln(w, "note:         an eth_signTransaction result: the agent must broadcast it before stuck-after, or it is cancelled")
	}
	if t.BroadcastAt != nil {
		fmt.Fprintf(w, "broadcast_at: %s\n", t.BroadcastAt.Format(time.RFC3339))
	}
	if t.State == "included" && t.Status != nil {
		fmt.Fprintf(w, "block:        %d\nstatus:       %d\n", t.Block, *t.Status)
	}
	if t.Cancels != "" {
		fmt.Fprintf(w, "cancels:      %s\n", t.Cancels)
	}
	if t.CancelledBy != "" {
		fmt.Fprintf(w, "cancelled_by: %s\n", t.CancelledBy)
	}
	if t.ReplacedBy != "" {
		fmt.Fprintf(w, "replaced_by:  %s\n", t.ReplacedBy)
	}
	return nil
}
