package cli

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/service"
)

func newWalletCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "wallet", Short: "The owner account's EIP-7702 delegation to AgentKeyDelegate (talks to the running daemon)"}
	cmd.PersistentFlags().String("admin-url", "", "admin API base URL (default: $AGENTKEYS_ADMIN_URL, the home's sandbox.json or config.json)")
	for _, c := range []struct{ use, short, method, path string }{
		{"status", "Is the owner delegated, to what, on which chain", "GET", "/v1/wallet"},
		{"upgrade", "Delegate the owner to AgentKeyDelegate: sign the 7702 authorization (never for chain id 0) and send the type-0x04 transaction", "POST", "/v1/wallet/upgrade"},
		{"downgrade", "Remove the owner's delegation (delegate to the zero address)", "POST", "/v1/wallet/downgrade"},
	} {
		var output string
		sub := &cobra.Command{
			Use:   c.use,
			Short: c.short,
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := outputFlag(output, "text", "json"); err != nil {
					return err
				}
				a, err := newAdminClient(cmd)
				if err != nil {
					return err
				}
				var st service.WalletStatus
				if err := a.Do(cmd.Context(), c.method, c.path, nil, &st); err != nil {
					return fmt.Errorf("wallet %s: %w", c.use, err)
				}
				if output == "json" {
					return writeJSON(e.io.Out, st)
				}
				w := e.io.Out
				fmt.Fprintf(w, "account:  %s\nchain:    %d\n", st.Account.Hex(), st.ChainID)
				switch {
				case st.Delegated && st.IsAgentKeys:
					fmt.Fprintf(w, "status:   delegated to AgentKeyDelegate %s (EIP-7702)\n", st.Delegate.Hex())
				case st.Delegated:
					fmt.Fprintf(w, "status:   delegated to %s, which is NOT AgentKeyDelegate\n", st.Delegate.Hex())
				case st.HasCode:
					fmt.Fprintln(w, "status:   a contract account (cannot be delegated)")
				default:
					fmt.Fprintln(w, "status:   a plain account (not delegated)")
				}
				if st.Expected != (common.Address{}) && (!st.Delegated || st.Delegate != st.Expected) {
					fmt.Fprintf(w, "expected: AgentKeyDelegate at %s; run agentkeys wallet upgrade for 7702 keys\n", st.Expected.Hex())
				}
				return nil
			},
		}
		sub.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
		cmd.AddCommand(sub)
	}
	return cmd
}
