package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/seed"
)

func newBenchSeedCmd(e *env) *cobra.Command {
	var output string
	var grants, records int
	var writeJunk bool
	cmd := &cobra.Command{
		Use:   "seed --grants N --records M [--home DIR --write-junk] [-o text|json]",
		Short: "Fill a home's store with junk keys and audit records, for scale tests",
		Long: "Add N keys and M audit records to a store, in transactions of " + fmt.Sprint(seed.DefaultBatch) + ", as fast as the store takes them:\n" +
			"keys granted over the last 30 days under the bench's policy (1 in 20 revoked, 1 in 20 expired) that no\n" +
			"credential opens, and their agents' signing requests over the last day, chained like every record\n" +
			"(agentkeys audit verify passes). Prints how long each part took.\n\n" +
			"By default it makes a new sandbox home in a temporary directory and keeps it: serve it with\n" +
			"agentkeys sandbox --home DIR (sealed with $AGENTKEYS_PASSPHRASE, or the public development passphrase).\n" +
			"Given --home (or --store), it writes into that home's store instead, which cannot be undone (audit\n" +
			"records are never removed): it asks for --write-junk, and the home must not be in use.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			if !cmd.Flags().Changed("grants") && !cmd.Flags().Changed("records") {
				return errors.New("--grants and --records: say how many keys and audit records to add, like --grants 100000 --records 1000000")
			}
			ctx := cmd.Context()
			given := cmd.Flags().Changed("home") || storeFlag(cmd) != ""
			// The store is reached only inside package seed (transports
			// never import the store): run seeds whichever store the
			// branch below opened, and done closes it.
			var (
				dir  string
				run  func(seed.Options) (seed.Result, error)
				done func() error
				o    = seed.Options{Grants: grants, Records: records, Now: e.now()}
			)
			if given {
				if !writeJunk {
					return fmt.Errorf("--write-junk: this adds %d junk keys and %d junk audit records to the home's store for good (audit records are never removed); give --write-junk if that is what you want, or leave out --home to seed a new sandbox home", grants, records)
				}
				var err error
				if dir, err = home.Resolve(homeFlag(cmd), os.Getenv); err != nil {
					return err
				}
				cfg, err := home.ReadConfig(dir)
				if err != nil {
					return err
				}
				if cfg.ChainID == 0 {
					return fmt.Errorf("%s names no chain id (its config has none): serve it once, or seed a sandbox home", dir)
				}
				lock, err := home.Acquire(dir, "agentkeys bench seed", e.now())
				if err != nil {
					return err
				}
				defer lock.Release()
				st, err := home.OpenStore(ctx, dir, home.WithStore(storeFlag(cmd)))
				if err != nil {
					return err
				}
				run = func(o seed.Options) (seed.Result, error) { return seed.Run(ctx, st, o) }
				done = st.Close
				o.ChainID, o.Address, o.SignerKeyID = cfg.ChainID, cfg.WalletAddress, cfg.WalletKeyID
			} else {
				var err error
				if dir, err = os.MkdirTemp("", "agentkeys-seed-*"); err != nil {
					return err
				}
				pass := []byte(os.Getenv(home.EnvPassphrase))
				if len(pass) == 0 {
					pass = []byte(sandboxPassphrase)
				}
				kdf, err := sandbox.ThrowawayKDF()
				if err != nil {
					return err
				}
				h, err := sandbox.InitHome(ctx, sandbox.Config{Home: dir, Passphrase: pass, KDF: kdf, Now: e.now})
				if err != nil {
					return err
				}
				run = func(o seed.Options) (seed.Result, error) { o.Seal = h.Master.Seal; return seed.Run(ctx, h.Store, o) }
				done = h.Store.Close
				o.ChainID, o.Address, o.SignerKeyID = h.Config.ChainID, h.Config.WalletAddress, h.Config.WalletKeyID
			}
			defer done()
			if output == "text" {
				fmt.Fprintf(e.io.Err, "seeding %s: %d keys, %d audit records\n", dir, grants, records)
				next := 0.1
				o.Progress = func(g, r int) {
					if done := float64(g+r) / float64(max(grants+records, 1)); done >= next {
						fmt.Fprintf(e.io.Err, "  %3.0f%%: %d keys, %d records\n", 100*done, g, r)
						for next <= done {
							next += 0.1
						}
					}
				}
			}
			res, err := run(o)
			if err != nil {
				return err
			}
			rate := func(n int, d time.Duration) float64 {
				if d <= 0 {
					return 0
				}
				return float64(n) / d.Seconds()
			}
			if output == "json" {
				return writeJSON(e.io.Out, struct {
					Home        string  `json:"home"`
					New         bool    `json:"new_sandbox_home"`
					Grants      int     `json:"grants"`
					Records     int     `json:"records"`
					GrantsS     float64 `json:"grants_s"`
					RecordsS    float64 `json:"records_s"`
					GrantsPerS  float64 `json:"grants_per_s"`
					RecordsPerS float64 `json:"records_per_s"`
					HeadSeq     int64   `json:"head_seq"`
				}{dir, !given, res.Grants, res.Records, res.GrantsTook.Seconds(), res.RecordsTook.Seconds(),
					rate(res.Grants, res.GrantsTook), rate(res.Records, res.RecordsTook), res.Head.Seq})
			}
			fmt.Fprintf(e.io.Out, "keys:    %d in %.2fs (%.0f/s)\n", res.Grants, res.GrantsTook.Seconds(), rate(res.Grants, res.GrantsTook))
			fmt.Fprintf(e.io.Out, "records: %d in %.2fs (%.0f/s); audit head at %d\n", res.Records, res.RecordsTook.Seconds(), rate(res.Records, res.RecordsTook), res.Head.Seq)
			if !given {
				fmt.Fprintf(e.io.Out, "seeded a new sandbox home: %s\n  serve it:  agentkeys sandbox --home %s\n  verify it: agentkeys audit verify --home %s\n  remove it: rm -r %s\n",
					dir, dir, dir, dir)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&grants, "grants", 0, "how many keys to add")
	cmd.Flags().IntVar(&records, "records", 0, "how many audit records to add (the keys' requests)")
	cmd.Flags().BoolVar(&writeJunk, "write-junk", false, "with --home or --store: yes, write junk into that home's store for good")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
