package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/admin"
)

func newTokenCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "The home's token list, so caps can name tokens by symbol (talks to the running daemon)",
		Long: "The home's token list: tokens named by symbol in caps like --daily-limit 250USDC. The daemon\n" +
			"reads each token's symbol() and decimals() from its chain and keeps the list in the home's store,\n" +
			"per chain, so it survives restarts. A sandbox lists its demo tokens here too.",
	}
	cmd.PersistentFlags().String("admin-url", "", "admin API base URL (default: $AGENTKEYS_ADMIN_URL, the home's sandbox.json or config.json)")
	cmd.AddCommand(newTokenAddCmd(e), newTokenListCmd(e), newTokenRemoveCmd(e))
	return cmd
}

func newTokenAddCmd(e *env) *cobra.Command {
	var symbol, output string
	cmd := &cobra.Command{
		Use:   "add 0xTOKEN [--symbol SYMBOL]",
		Short: "Add a token: the daemon reads its symbol and decimals from the chain",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := flagAddress("token address", args[0], true); err != nil {
				return err
			}
			return runAdmin(e, cmd, output, adminRequest[admin.TokenView]{method: "POST", path: "/v1/tokens",
				body: admin.TokenAdd{Address: args[0], Symbol: symbol}, what: "token add",
				text: func(w io.Writer, v admin.TokenView) error {
					_, err := fmt.Fprintf(w, "added %s %s (%d decimals) on chain %d: caps like --daily-limit 100%s now name it\n", v.Symbol, v.Address, v.Decimals, v.ChainID, v.Symbol)
					return err
				}})
		},
	}
	cmd.Flags().StringVar(&symbol, "symbol", "", "the symbol caps use (default: the token's own symbol())")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newTokenListCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the tokens the home knows on the daemon's chain",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAdmin(e, cmd, output, adminRequest[[]admin.TokenView]{method: "GET", path: "/v1/tokens", what: "token list",
				text: func(w io.Writer, vs []admin.TokenView) error {
					if len(vs) == 0 {
						_, err := fmt.Fprintln(w, "no tokens: add one with agentkeys token add 0xTOKEN")
						return err
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "SYMBOL\tADDRESS\tDECIMALS\tCHAIN")
					for _, v := range vs {
						fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", v.Symbol, v.Address, v.Decimals, v.ChainID)
					}
					return tw.Flush()
				}})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newTokenRemoveCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "remove (SYMBOL | 0xTOKEN)",
		Short: "Remove a token from the list; keys already granted keep their caps",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "" || len(args[0]) > 64 {
				return errors.New("token remove: expected a symbol like USDC or a token address")
			}
			return runAdmin(e, cmd, output, adminRequest[admin.TokenView]{method: "DELETE", path: "/v1/tokens/" + url.PathEscape(args[0]), what: "token remove",
				text: func(w io.Writer, v admin.TokenView) error {
					_, err := fmt.Fprintf(w, "removed %s %s\n", v.Symbol, v.Address)
					return err
				}})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
