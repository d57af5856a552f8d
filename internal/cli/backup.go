package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/home"
)

// backuper is a store that can copy itself while in use (SQLite).
type backuper interface {
	Backup(ctx context.Context, path string) error
}

func newBackupCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy the home's store to a new file while the daemon keeps running",
		Long: "Write a consistent copy of the home's SQLite store (keys sealed as they are, grants, budgets,\n" +
			"transactions, audit log) to FILE, which must not exist; mode 0600. The daemon may keep serving.\n" +
			"Needs no passphrase, and the copy is no less secret than the home: keep it as safe.\n" +
			"Restoring and what a restore rolls back: docs/operations.md.",
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			st, err := home.OpenStore(cmd.Context(), dir, home.WithStore(storeFlag(cmd)))
			if err != nil {
				return err
			}
			defer st.Close()
			b, ok := st.(backuper)
			if !ok {
				return fmt.Errorf("this home's store cannot copy itself; back PostgreSQL up with pg_dump (docs/operations.md)")
			}
			if err := b.Backup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.io.Out, "backed up %s to %s\n", dir, args[0])
			return nil
		},
	}
}
