// Package cli implements the agentkeys command line. It is a transport:
// it parses flags, reads files, calls the service packages and prints.
// Only cmd/agentkeys imports it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
)

// IO carries the streams a command reads and writes, so commands run
// in-process in tests.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// env is what every command shares.
type env struct {
	io  IO
	now func() time.Time
}

// Main runs the command line and returns the process exit code: 0 on
// success, 1 on any error (printed to Err).
func Main(ctx context.Context, args []string, stdio IO) int {
	e := &env{io: stdio, now: time.Now}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stdio.Err, "error:", redactForDisplay(err.Error()))
		return 1
	}
	return 0
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "agentkeys",
		Short:         "Temporary, least-privilege wallet keys for AI agents",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("home", "", "agentkeys home `dir` (default $AGENTKEYS_HOME, else ~/.agentkeys)")
	root.AddCommand(newPolicyCmd(e), newVersionCmd(e), newInitCmd(e), newAuditCmd(e))
	root.AddCommand(newKeyCmd(e), newWalletCmd(e), newServeCmd(e), newSandboxCmd(e), newDemoCmd(e))
	root.AddCommand(newConfigCmd(e))
	return root
}

// outputFlag validates --output values.
func outputFlag(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("--output: expected one of %v, got %q", allowed, v)
}

var errUsage = errors.New("usage")

func newVersionCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of agentkeys",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			v := version()
			if output == "json" {
				return writeJSON(e.io.Out, map[string]string{"version": v})
			}
			fmt.Fprintln(e.io.Out, "agentkeys", v)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}
