package cli

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/loadbench"
	"github.com/agentkeys/agentkeys/internal/seed"
)

func newBenchCmd(e *env) *cobra.Command {
	var agents, method, output, cpuProfile string
	var estimate bool
	var duration time.Duration
	var grants, records int
	cmd := &cobra.Command{
		Use:   "bench [--agents 1,8,64,256] [--duration 10s] [--method sign|send|both] [--grants N --records M] [-o text|json]",
		Short: "Measure the daemon under load on a throwaway sandbox, beside the bare signing ceiling",
		Long: "Start a sandbox (dev chain and daemon) in a temporary home, grant one key per agent, and drive\n" +
			"that many concurrent agents over HTTP (keep-alive) with eth_signTransaction and eth_sendTransaction\n" +
			"for --duration per step. Prints throughput and p50/p95/p99 latency per step, then the ceiling:\n" +
			"the same transactions signed by the daemon's signer on all cores with no HTTP, policy, ledger or\n" +
			"audit, measured for as long in the same run. Failed requests are counted, not fatal.\n\n" +
			"--grants and --records first fill the throwaway home's store with that many keys and audit records\n" +
			"(as agentkeys bench seed does), so the same load runs against a big store. Every run reports the\n" +
			"daemon's start-up time, how long its audit feed took to read the log, the time of GET /v1/grants?limit=100\n" +
			"and the process's resident memory after each step: the daemon runs in the bench's process, so that\n" +
			"is the daemon's memory and the agents' client's together.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			opts := loadbench.Options{Duration: duration, Estimate: estimate, Grants: grants, Records: records}
			// Only an explicit --store (never $AGENTKEYS_STORE, which may
			// name a deployment): an empty PostgreSQL database the
			// throwaway home's store goes to; one already holding a home
			// is refused by init.
			if f := cmd.Flag("store"); f != nil && f.Changed {
				opts.Store = strings.TrimSpace(f.Value.String())
			}
			var err error
			if opts.Agents, err = parseAgents(agents); err != nil {
				return err
			}
			switch method {
			case "sign":
				opts.Methods = []string{loadbench.MethodSign}
			case "send":
				opts.Methods = []string{loadbench.MethodSend}
			case "both":
				opts.Methods = []string{loadbench.MethodSign, loadbench.MethodSend}
			default:
				return fmt.Errorf("--method: expected sign, send or both, got %q", clipFlag(method))
			}
			if output == "text" {
				if grants > 0 || records > 0 {
					fmt.Fprintf(e.io.Err, "bench: seeding %d keys and %d audit records\n", grants, records)
					opts.Seeded = func(r seed.Result) {
						fmt.Fprintf(e.io.Err, "  seeded in %.1fs (keys %.1fs, records %.1fs)\n", (r.GrantsTook + r.RecordsTook).Seconds(), r.GrantsTook.Seconds(), r.RecordsTook.Seconds())
					}
				}
				fmt.Fprintf(e.io.Err, "bench: %d step(s) of %v each, then the ceiling for %v\n", len(opts.Agents)*len(opts.Methods), duration, duration)
				opts.Progress = func(r loadbench.Result) {
					fmt.Fprintf(e.io.Err, "  %d agents %s: %.0f/s\n", r.Agents, r.Method, r.Throughput)
				}
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			results, err := loadbench.Run(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(e.io.Out, results)
			}
			printBench(e.io.Out, results)
			return nil
		},
	}
	cmd.Flags().StringVar(&agents, "agents", "1,8,64,256", "comma-separated `counts` of concurrent agents, one step each")
	cmd.Flags().DurationVar(&duration, "duration", 10*time.Second, "how long each step and the ceiling run")
	cmd.Flags().StringVar(&method, "method", "both", "sign (eth_signTransaction), send (eth_sendTransaction) or both")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().BoolVar(&estimate, "estimate", false, "leave gas out of the agents' transactions, so the daemon has the node estimate it for each")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (daemon, agents and ceiling) to `file`, for go tool pprof")
	cmd.Flags().IntVar(&grants, "grants", 0, "first seed the store with this many keys")
	cmd.Flags().IntVar(&records, "records", 0, "first seed the store with this many audit records (the seeded keys' requests)")
	cmd.AddCommand(newBenchSeedCmd(e))
	return cmd
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// parseAgents reads --agents: positive counts separated by commas.
func parseAgents(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > loadbench.MaxAgents {
			return nil, fmt.Errorf("--agents: expected comma-separated counts from 1 to %d like 1,8,64, got %q", loadbench.MaxAgents, clipFlag(f))
		}
		out = append(out, n)
	}
	return out, nil
}

// clipFlag bounds a flag value echoed in an error.
func clipFlag(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func printBench(w io.Writer, results []loadbench.Result) {
	if len(results) == 0 {
		return
	}
	r0 := results[0]
	fmt.Fprintf(w, "store: %d seeded keys, %d seeded audit records; daemon started in %.2fs, its audit feed read the log in %.2fs; GET /v1/grants?limit=100 %.1f ms\n",
		r0.SeededGrants, r0.SeededRecords, r0.StartupS, r0.CatchUpS, r0.ListKeysMS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "agents\tmethod\trequests/s\tp50 ms\tp95 ms\tp99 ms\terrors\tnode calls/req\twrites/commit\tof ceiling\tRSS MB\t")
	for _, r := range results {
		ratio := "-"
		if r.CeilingPerS > 0 {
			ratio = fmt.Sprintf("%.1f%%", 100*r.Throughput/r.CeilingPerS)
		}
		writes := "-" // not a SQLite store: no group commit to show
		if r.WritesPerCommit > 0 {
			writes = fmt.Sprintf("%.1f", r.WritesPerCommit)
		}
		fmt.Fprintf(tw, "%d\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%s\t%s\t%.0f\t\n", r.Agents, r.Method, r.Throughput, r.P50, r.P95, r.P99, r.Errors, r.NodeCallsPerRequest, writes, ratio, r.RSSMB)
	}
	tw.Flush()
	fmt.Fprintf(w, "ceiling: %.0f signatures/s (the daemon's signer on all cores; no HTTP, policy, ledger or audit)\n", r0.CeilingPerS)
	fmt.Fprintf(w, "memory: peak %.0f MB resident since the daemon started (the bench's process: the daemon and the agents' client)\n", results[len(results)-1].PeakRSSMB)
	for _, r := range results {
		if r.FirstError != "" {
			fmt.Fprintf(w, "%d agents %s: first error: %s\n", r.Agents, r.Method, r.FirstError)
		}
	}
}
