package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/atomicfile"
	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/policy"
)

// auditPageSize is how many records one store read returns; a variable so
// tests can force several pages.
var auditPageSize = 1000

func newAuditCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and read the tamper-evident audit log",
	}
	cmd.AddCommand(newAuditVerifyCmd(e), newAuditTailCmd(e))
	return cmd
}

// openAuditLog opens the audit log of the home named by --home; the audit
// commands need no passphrase.
func openAuditLog(cmd *cobra.Command) (*home.AuditLog, error) {
	dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
	if err != nil {
		return nil, err
	}
	return home.OpenAuditLog(cmd.Context(), dir, home.WithStore(storeFlag(cmd)))
}

func newAuditVerifyCmd(e *env) *cobra.Command {
	var output, headFile, writeHead string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain against its stored head",
		Long: "Read every audit record of the home and check the hash chain, record by record, and that the log\n" +
			"ends exactly at the head stored apart from it. Edited, deleted, reordered or truncated records are\n" +
			"reported one per line and the command exits non-zero. Needs no passphrase.\n\n" +
			"Whoever can write the store could rebuild the whole chain; a head kept elsewhere catches that:\n" +
			"--write-head FILE saves the head after a successful check, and --head FILE checks that the log\n" +
			"still passes through a head saved earlier.\n\n" +
			"It says how long the check took and how many records it verified per second (-o json: seconds,\n" +
			"records_per_s), reading pages of the log ahead while it hashes.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			var exported []audit.Head
			if headFile != "" {
				h, err := readExportedHead(headFile)
				if err != nil {
					return err
				}
				exported = append(exported, h)
			}
			st, err := openAuditLog(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			// The wall clock, not e.now: how long the check took is a
			// measurement, printed and never decided on.
			start := time.Now()
			rep, head, err := st.Verify(cmd.Context(), auditPageSize, exported...)
			if err != nil {
				return err
			}
			took := time.Since(start)
			rate := float64(rep.Records) / max(took.Seconds(), 1e-9)
			if writeHead != "" && rep.OK() {
				if err := writeExportedHead(writeHead, head, e.now()); err != nil {
					return err
				}
			}
			headHash := hex.EncodeToString(head.Hash)
			if output == "json" {
				problems := rep.Problems
				if problems == nil {
					problems = []audit.Problem{}
				}
				if err := writeJSON(e.io.Out, struct {
					OK          bool            `json:"ok"`
					Records     int             `json:"records"`
					HeadSeq     int64           `json:"head_seq"`
					HeadHash    string          `json:"head_hash"`
					Problems    []audit.Problem `json:"problems"`
					Seconds     float64         `json:"seconds"`
					RecordsPerS float64         `json:"records_per_s"`
				}{rep.OK(), rep.Records, head.Seq, headHash, problems, took.Seconds(), rate}); err != nil {
					return err
				}
				return rep.Err()
			}
			if rep.OK() {
				fmt.Fprintf(e.io.Out, "audit log OK: %d records, head seq %d hash %s\n", rep.Records, head.Seq, headHash)
				fmt.Fprintf(e.io.Out, "verified in %.2fs: %.0f records/s\n", took.Seconds(), rate)
				return nil
			}
			fmt.Fprintf(e.io.Out, "audit log FAILED: %d problem(s) in %d records (head seq %d hash %s)\n",
				len(rep.Problems), rep.Records, head.Seq, headHash)
			for _, p := range rep.Problems {
				fmt.Fprintf(e.io.Out, "  %s\n", bound.Escape(p.String()))
			}
			return rep.Err()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&headFile, "head", "", "also check that the log still passes through the head saved in this `file` by --write-head")
	cmd.Flags().StringVar(&writeHead, "write-head", "", "after a successful check, save the head to this `file` (keep it where the store's writers cannot)")
	return cmd
}

// exportedHead is the file --write-head writes and --head reads.
type exportedHead struct {
	Seq        int64     `json:"seq"`
	Hash       string    `json:"hash"` // hex
	ExportedAt time.Time `json:"exported_at"`
}

// readExportedHead reads a head saved by --write-head.
func readExportedHead(path string) (audit.Head, error) {
	f, err := os.Open(path)
	if err != nil {
		return audit.Head{}, fmt.Errorf("--head: %w", err)
	}
	defer f.Close()
	var eh exportedHead
	dec := json.NewDecoder(io.LimitReader(f, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eh); err != nil {
		return audit.Head{}, fmt.Errorf("--head %s: expected a head saved by --write-head ({\"seq\": N, \"hash\": \"64 hex digits\"}): %v", path, err)
	}
	hash, err := hex.DecodeString(eh.Hash)
	if err != nil || len(hash) != audit.HashSize || eh.Seq < 0 {
		return audit.Head{}, fmt.Errorf("--head %s: expected seq >= 0 and hash of %d hex digits", path, 2*audit.HashSize)
	}
	return audit.Head{Seq: eh.Seq, Hash: hash}, nil
}

// writeExportedHead saves h to path atomically (mode 0644: a head is not
// secret).
func writeExportedHead(path string, h audit.Head, at time.Time) error {
	b, err := json.MarshalIndent(exportedHead{Seq: h.Seq, Hash: hex.EncodeToString(h.Hash), ExportedAt: at.UTC()}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--write-head: %w", err)
	}
	return nil
}

func newAuditTailCmd(e *env) *cobra.Command {
	var (
		output   string
		n        int
		follow   bool
		interval time.Duration
		keyID    string
		decision string
		since    string
	)
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print the newest audit records, and optionally follow new ones",
		Long: "Print the last N audit records of the home, one line each: time, sequence number, key id, method,\n" +
			"decision, transaction hash, caller IP and reasons. With --follow, keep printing records as they are\n" +
			"appended until interrupted. --output json prints one JSON object per line. --key, --decision and\n" +
			"--since keep only the records of one key, with one decision, or newer than a duration ago (1h, 7d);\n" +
			"-n then counts the records that match. Needs no passphrase.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			if n < 0 {
				return fmt.Errorf("-n: must be 0 or more, got %d", n)
			}
			if interval <= 0 {
				return fmt.Errorf("--interval: must be positive, got %s", interval)
			}
			match, err := tailFilter(e.now(), keyID, decision, since)
			if err != nil {
				return err
			}
			st, err := openAuditLog(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			print := printRecordText
			if output == "json" {
				print = printRecordJSON
			}

			head, err := st.Head(ctx)
			if err != nil {
				return err
			}
			after := max(head.Seq-int64(n), 0)
			if match != nil {
				after = 0 // the last n matches can be anywhere in the log
			}
			recs, err := readAudit(ctx, st, after)
			if err != nil {
				return err
			}
			after = max(head.Seq, after)
			if len(recs) > 0 {
				after = max(after, recs[len(recs)-1].Seq)
			}
			recs = filterRecords(recs, match)
			for _, r := range recs[max(len(recs)-n, 0):] {
				if err := print(e.io.Out, r); err != nil {
					return err
				}
			}
			if !follow {
				return nil
			}
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
				recs, err := readAudit(ctx, st, after)
				if errors.Is(err, context.Canceled) && ctx.Err() != nil {
					return nil
				}
				if err != nil {
					return err
				}
				for _, r := range recs {
					after = r.Seq
					if match != nil && !match(r) {
						continue
					}
					if err := print(e.io.Out, r); err != nil {
						return err
					}
				}
			}
		},
	}
	cmd.Flags().IntVarP(&n, "lines", "n", 20, "number of records to print (0 with --follow: only new ones)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new records until interrupted")
	cmd.Flags().DurationVar(&interval, "interval", 500*time.Millisecond, "how often --follow polls for new records")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json (JSON Lines)")
	cmd.Flags().StringVar(&keyID, "key", "", "only the records of this key `id` (requests it made, and owner actions on it)")
	cmd.Flags().StringVar(&decision, "decision", "", "only records with this decision: allow, deny or error")
	cmd.Flags().StringVar(&since, "since", "", "only records newer than this `duration` ago, like 1h or 7d")
	return cmd
}

// tailFilter returns the predicate the --key, --decision and --since flags
// ask for, or nil when none is set.
func tailFilter(now time.Time, keyID, decision, since string) (func(audit.Record) bool, error) {
	if keyID == "" && decision == "" && since == "" {
		return nil, nil
	}
	if keyID != "" && (len(keyID) > 64 || bound.Escape(keyID) != keyID || strings.TrimSpace(keyID) != keyID) {
		return nil, errors.New("--key: expected a key id as `agentkeys key list` shows it")
	}
	switch decision {
	case "", audit.DecisionAllow, audit.DecisionDeny, audit.DecisionError:
	default:
		return nil, fmt.Errorf("--decision: expected allow, deny or error, got %s", bound.Quote(decision))
	}
	var from time.Time
	if since != "" {
		d, err := policy.ParseDuration(since)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("--since: expected a positive duration like 30m, 24h or 7d, got %s", bound.Quote(since))
		}
		from = now.Add(-d)
	}
	return func(r audit.Record) bool {
		return (keyID == "" || r.KeyID == keyID || actedOn(r) == keyID) &&
			(decision == "" || r.Decision == decision) &&
			(since == "" || !r.Time.Before(from))
	}, nil
}

// filterRecords keeps the records match accepts (all of them when match is nil).
func filterRecords(recs []audit.Record, match func(audit.Record) bool) []audit.Record {
	if match == nil {
		return recs
	}
	out := recs[:0]
	for _, r := range recs {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

// readAudit returns every record with seq > after.
func readAudit(ctx context.Context, st *home.AuditLog, after int64) ([]audit.Record, error) {
	var out []audit.Record
	for {
		recs, err := st.Records(ctx, after, auditPageSize)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
		if len(recs) < auditPageSize {
			return out, nil
		}
		after = recs[len(recs)-1].Seq
	}
}

// printRecordText prints one record as a line. Fields can come from agents
// (method names, reasons quoting their input), so control characters are
// escaped rather than sent to the terminal.
func printRecordText(w io.Writer, r audit.Record) error {
	field := func(s string) string {
		if s == "" {
			return "-"
		}
		return bound.Escape(s)
	}
	reasons := "-"
	if len(r.Reasons) > 0 {
		reasons = bound.Escape(strings.Join(r.Reasons, "; "))
	}
	key := r.KeyID
	if key == "" {
		key = actedOn(r)
	}
	ua := ""
	if r.UserAgent != "" {
		ua = "  ua=" + strconv.Quote(r.UserAgent)
	}
	_, err := fmt.Fprintf(w, "%s  #%d  key=%s  %s  %s  tx=%s  ip=%s%s  %s\n",
		r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), r.Seq, field(key), field(r.Method),
		field(r.Decision), field(r.TxHash), field(r.CallerIP), ua, reasons)
	return err
}

// actedOn returns the key_id in the call of an owner's action (admin
// records carry no KeyID, so they never count toward a key's rate), or "".
func actedOn(r audit.Record) string {
	if r.KeyID != "" || len(r.Call) == 0 {
		return ""
	}
	var c struct {
		KeyID string `json:"key_id"`
	}
	if json.Unmarshal(r.Call, &c) != nil || len(c.KeyID) > 64 {
		return ""
	}
	return c.KeyID
}

// recordJSON is one line of `audit tail --output json`.
type recordJSON struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Method    string    `json:"method"`
	Decision  string    `json:"decision"`
	Reasons   []string  `json:"reasons"`
	TxHash    string    `json:"tx_hash,omitempty"`
	CallerIP  string    `json:"caller_ip,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	// ActedOn is the key an owner's action (grant, revoke, ...) concerned;
	// KeyID stays empty for those, as recorded.
	ActedOn  string          `json:"acted_on,omitempty"`
	Call     json.RawMessage `json:"call,omitempty"`
	CallHex  string          `json:"call_hex,omitempty"` // a call that is not valid JSON, as hex
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

func printRecordJSON(w io.Writer, r audit.Record) error {
	out := recordJSON{
		Seq: r.Seq, Time: r.Time.UTC(), KeyID: r.KeyID, Method: r.Method, Decision: r.Decision,
		Reasons: r.Reasons, TxHash: r.TxHash, CallerIP: r.CallerIP, RequestID: r.RequestID, UserAgent: r.UserAgent,
		PrevHash: hex.EncodeToString(r.PrevHash), Hash: hex.EncodeToString(r.Hash),
	}
	if r.KeyID == "" {
		out.ActedOn = actedOn(r)
	}
	if out.Reasons == nil {
		out.Reasons = []string{}
	}
	if len(r.Call) > 0 {
		if json.Valid(r.Call) {
			out.Call = r.Call
		} else {
			out.CallHex = hex.EncodeToString(r.Call)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
