package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/agentkeys/agentkeys/internal/doctor"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/sandbox"
)

func newDoctorCmd(e *env) *cobra.Command {
	var (
		output string
		opts   doctor.Options
	)
	cmd := &cobra.Command{
		Use:   "doctor [--rpc-upstream URL]",
		Short: "Check that the home, the node and the owner account are ready to go live, and say what to fix",
		Long: "Check, without unlocking anything or sending a transaction: the node is reachable, synced and on the\n" +
			"home's chain; whether the chain accepts EIP-7702 (and so which modes are available); the owner's balance\n" +
			"and delegation; the AgentKeyDelegate the home records; this machine's clock against the latest block;\n" +
			"the home's file permissions; where the passphrase and the admin credential come from (never their\n" +
			"values); and whether the admin listener is reachable from other machines. Exits 1 when a check fails\n" +
			"(something blocks going live); warnings alone exit 0.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			opts.Dir = dir
			opts.AdminTokenFile = filepath.Join(dir, sandbox.AdminTokenFile)
			opts.Getenv = os.Getenv
			opts.Now = e.now
			if f, ok := e.io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				opts.Interactive = true
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			r := doctor.Run(ctx, opts)
			if output == "json" {
				if err := writeJSON(e.io.Out, r); err != nil {
					return err
				}
			} else {
				printDoctor(e, r)
			}
			if !r.Ready() {
				return fmt.Errorf("doctor: %d check(s) failed; fix them before going live", r.Fails)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Upstream, "rpc-upstream", "", "Ethereum node JSON-RPC URL (default: the home's upstream_rpc)")
	f.StringVar(&opts.AdminListen, "admin-listen", "", "the admin listener serve will use (default: the home's admin_listen)")
	f.DurationVar(&opts.ClockTolerance, "clock-tolerance", doctor.DefaultClockTolerance, "how far this machine's clock may be from the latest block's time")
	f.DurationVar(&opts.Timeout, "timeout", 10*time.Second, "deadline of each call to the node")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func printDoctor(e *env, r *doctor.Report) {
	w := e.io.Out
	fmt.Fprintf(w, "agentkeys doctor: home %s\n", r.Home)
	if r.Node != "" {
		fmt.Fprintf(w, "node: %s", r.Node)
		if r.ChainID != 0 {
			fmt.Fprintf(w, " (chain %d)", r.ChainID)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	for _, c := range r.Checks {
		label := map[doctor.Status]string{doctor.OK: "ok", doctor.Skip: "skip", doctor.Warn: "WARN", doctor.Fail: "FAIL"}[c.Status]
		fmt.Fprintf(w, "  %-5s %-17s %s\n", label, c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(w, "  %-5s %-17s fix: %s\n", "", "", c.Fix)
		}
	}
	fmt.Fprintln(w)
	if len(r.Modes) > 0 {
		fmt.Fprintf(w, "modes available on this chain: %s\n", strings.Join(r.Modes, ", "))
	}
	switch {
	case r.Fails > 0:
		fmt.Fprintf(w, "%d failed, %d warning(s): not ready to go live\n", r.Fails, r.Warns)
	case r.Warns > 0:
		fmt.Fprintf(w, "ready to go live, with %d warning(s) worth reading\n", r.Warns)
	default:
		fmt.Fprintln(w, "ready to go live")
	}
}
