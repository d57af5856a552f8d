// Package cli implements the agentkeys command line. It is a transport:
// it parses flags, reads files, calls the service packages and prints.
// Only cmd/agentkeys imports it.
package cli

import (
	"context"
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
	root.PersistentFlags().String("store", "", "PostgreSQL `URL` of the home's store, shared by replicas (default $AGENTKEYS_STORE, else the home's, else agentkeys.db in the home)")
	root.AddCommand(newPolicyCmd(e), newVersionCmd(e), newInitCmd(e), newAuditCmd(e), newBackupCmd(e), newAdminCmd(e))
	root.AddCommand(newKeyCmd(e), newWalletCmd(e), newServeCmd(e), newSandboxCmd(e), newDemoCmd(e))
	root.AddCommand(newTokenCmd(e))
	root.AddCommand(newDoctorCmd(e), newReviewCmd(e))
	root.AddCommand(newConfigCmd(e))
	root.AddCommand(newTxCmd(e))
	root.AddCommand(newAlertCmd(e))
	root.AddCommand(newOwnerCmd(e))
	root.AddCommand(newAnomalyCmd(e))
	root.AddCommand(newMCPCmd(e))
	root.AddCommand(newBenchCmd(e))
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

func newVersionCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of agentkeys and the commit it was built from",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			v := readVersion(debug.ReadBuildInfo)
			if output == "json" {
				return writeJSON(e.io.Out, v)
			}
			fmt.Fprintln(e.io.Out, v.String())
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// buildVersion is what the build information says about this binary.
type buildVersion struct {
	Version  string `json:"version"`          // module version, e.g. v0.3.1 or a pseudo-version
	Commit   string `json:"commit,omitempty"` // vcs.revision
	Time     string `json:"commit_time,omitempty"`
	Modified bool   `json:"modified"` // built from a work tree with uncommitted changes
	Go       string `json:"go"`
}

func (v buildVersion) String() string {
	s := "agentkeys " + v.Version
	if v.Commit != "" {
		s += " (commit " + v.Commit
		if v.Modified {
			s += ", with uncommitted changes"
		}
		s += ")"
	}
	return s + " " + v.Go
}

// readVersion reads the module version and the VCS stamp go build
// records. A binary built outside a repository, or by go run, has no
// commit; go build in a git checkout always has one.
func readVersion(read func() (*debug.BuildInfo, bool)) buildVersion {
	info, ok := read()
	if !ok {
		return buildVersion{Version: "unknown"}
	}
	v := buildVersion{Version: info.Main.Version, Go: info.GoVersion}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	if v.Version == "" || v.Version == "(devel)" {
		v.Version = "devel"
	}
	return v
}
