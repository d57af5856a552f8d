package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/home"
)

func newAdminCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "The admin credential",
	}
	cmd.AddCommand(newAdminRotateCmd(e))
	return cmd
}

func newAdminRotateCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Replace the admin credential; the old one stops working at once",
		Long: "Make a new admin credential, print it once, and keep only its hash. The old credential is refused\n" +
			"from the next admin request on, by a running daemon too (and by every replica sharing the store).\n" +
			"Needs the home's passphrase. Dashboard sessions signed in with the old credential last until they\n" +
			"expire or the daemon restarts: restart it when the old credential leaked.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			pass, err := home.Passphrase(os.Getenv, terminalPrompt(e))
			if err != nil {
				return err
			}
			h, err := home.Open(cmd.Context(), dir, pass, home.WithStore(storeFlag(cmd)))
			clear(pass)
			if err != nil {
				return err
			}
			defer h.Close()
			admin, err := h.RotateAdmin(cmd.Context(), e.now())
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(e.io.Out, map[string]string{"admin_token": admin.Reveal(), "credential_id": admin.ID()})
			}
			w := e.io.Out
			fmt.Fprintf(w, "new admin credential:\n  %s\n", admin.Reveal())
			fmt.Fprintf(w, "  It will not be shown again: store it now, and update AGENTKEYS_ADMIN_TOKEN where it is set.\n")
			fmt.Fprintf(w, "  The old credential is refused from now on.\n")
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
