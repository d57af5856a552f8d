package cli

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/service"
)

func newReviewCmd(e *env) *cobra.Command {
	var (
		q      service.ReviewQuery
		output string
		apply  bool
		yes    bool
	)
	cmd := &cobra.Command{
		Use:   "review [--since 7d] [--apply [--yes]]",
		Short: "The weekly review and monthly checklist: what each key did, what was refused, what looked wrong, which keys should go",
		Long: `review asks the running daemon what happened in the period (--since 7d
for the weekly review, 30d for the monthly checklist): active keys with
their last use, the source IPs and user agents seen, spend against caps,
refusals by reason, anomalies, keys unused for --unused-for (default: the
whole period), recommended for revocation with the command to do it, keys
expiring soon, and whether the audit log verifies. It prints Markdown, or
JSON with -o json.

--apply revokes the recommended keys after asking (--yes skips asking).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "markdown", "json"); err != nil {
				return err
			}
			if yes && !apply {
				return fmt.Errorf("--yes only goes with --apply")
			}
			c, err := newAdminClient(cmd)
			if err != nil {
				return err
			}
			v := url.Values{}
			for k, s := range map[string]string{"since": q.Since, "unused_for": q.UnusedFor, "expiring_within": q.ExpiringWithin} {
				if s != "" {
					v.Set(k, s)
				}
			}
			var rv service.Review
			if err := c.Do(cmd.Context(), "GET", "/v1/review?"+v.Encode(), nil, &rv); err != nil {
				return fmt.Errorf("review: %w", err)
			}
			if output == "json" && !apply {
				return writeJSON(e.io.Out, rv)
			}
			if output == "markdown" {
				writeReview(e.io.Out, rv)
			}
			if !apply {
				return nil
			}
			if len(rv.Recommend) == 0 {
				fmt.Fprintln(e.io.Err, "review --apply: nothing to revoke")
				return nil
			}
			if !yes {
				fmt.Fprintf(e.io.Err, "Revoke %d key(s) (%s)? [y/N] ", len(rv.Recommend), strings.Join(recommendedIDs(rv), ", "))
				answer, _ := bufio.NewReader(e.io.In).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					return fmt.Errorf("review --apply: nothing revoked (answer y to revoke, or pass --yes)")
				}
			}
			var revoked []admin.GrantView
			for _, r := range rv.Recommend {
				var g admin.GrantView
				if err := c.Do(cmd.Context(), "POST", "/v1/grants/"+url.PathEscape(r.KeyID)+"/revoke", nil, &g); err != nil {
					return fmt.Errorf("revoke %s: %w (revoked before it: %d)", r.KeyID, err, len(revoked))
				}
				revoked = append(revoked, g)
				if output == "markdown" {
					fmt.Fprintf(e.io.Out, "revoked %s (agent %s): %s\n", g.KeyID, bound.Escape(g.Agent), r.Why)
				}
			}
			if output == "json" {
				return writeJSON(e.io.Out, struct {
					Review  service.Review    `json:"review"`
					Revoked []admin.GrantView `json:"revoked"`
				}{rv, revoked})
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Since, "since", "7d", "the `period` reviewed, ending now (7d weekly, 30d monthly)")
	f.StringVar(&q.UnusedFor, "unused-for", "", "recommend revoking active keys with no request in this `duration` (default: the period)")
	f.StringVar(&q.ExpiringWithin, "expiring-within", "7d", "list active keys expiring within this `duration`")
	f.StringVarP(&output, "output", "o", "markdown", "output format: markdown or json")
	f.BoolVar(&apply, "apply", false, "revoke the recommended keys (asks first)")
	f.BoolVar(&yes, "yes", false, "with --apply: do not ask")
	f.String("admin-url", "", "admin API base URL (default: $AGENTKEYS_ADMIN_URL, the home's sandbox.json or config.json)")
	return cmd
}

func recommendedIDs(rv service.Review) []string {
	ids := make([]string, 0, len(rv.Recommend))
	for _, r := range rv.Recommend {
		ids = append(ids, r.KeyID)
	}
	return ids
}

// md makes a value from the log safe in a Markdown table cell: escaped
// like every terminal output, and without Markdown's own characters.
func md(s string) string {
	s = bound.Escape(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("|`*_[]<>\\#", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func seenText(seen []service.Seen) string {
	if len(seen) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(seen))
	for _, s := range seen {
		parts = append(parts, fmt.Sprintf("%s (%d)", md(s.Value), s.Count))
	}
	return strings.Join(parts, ", ")
}

func lastUseText(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// writeReview prints a review as Markdown.
func writeReview(w io.Writer, rv service.Review) {
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	fmt.Fprintf(w, "# agentkeys review: %s to %s\n\n", day(rv.From), day(rv.To))

	fmt.Fprintf(w, "## Audit log\n\n")
	if rv.Audit.OK() {
		fmt.Fprintf(w, "Verified: %d records, head #%d. Nothing was edited, removed or reordered.\n\n", rv.Audit.Records, rv.Head.Seq)
	} else {
		fmt.Fprintf(w, "**FAILS VERIFICATION**: %s\n\nRun `agentkeys audit verify` for every problem.\n\n", md(rv.Audit.Err().Error()))
	}

	fmt.Fprintf(w, "## Keys\n\n")
	if len(rv.Keys) == 0 {
		fmt.Fprintf(w, "No key was active in the period.\n\n")
	} else {
		fmt.Fprintf(w, "| key | agent | status | last used | requests | refused | anomalies | source IPs | user agents | expires |\n")
		fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|\n")
		for _, k := range rv.Keys {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %d | %d | %s | %s | %s |\n", md(k.ID), md(k.Agent), k.Status, lastUseText(k.LastUsed),
				k.Requests, k.Refused, k.Anomalies, seenText(k.IPs), seenText(k.Agents), k.ExpiresAt.UTC().Format(time.RFC3339))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "## Spend against caps\n\n")
	spend := false
	for _, k := range rv.Keys {
		for _, l := range k.Budget {
			if !spend {
				fmt.Fprintf(w, "| key | asset | spent | pending | cap | left | period ends |\n|---|---|---|---|---|---|---|\n")
				spend = true
			}
			limit, left := "-", "-"
			if l.PerPeriod != "" {
				limit, left = l.PerPeriod+" per "+l.Period, l.Remaining
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", md(k.ID), md(l.Symbol), l.Spent, l.Pending, limit, left, l.PeriodEnds.UTC().Format(time.RFC3339))
		}
	}
	if !spend {
		fmt.Fprintf(w, "No active key has a cap.\n")
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "## Refusals by reason\n\n")
	if len(rv.Refusals) == 0 {
		fmt.Fprintf(w, "None.\n\n")
	} else {
		fmt.Fprintf(w, "| reason | count | example |\n|---|---|---|\n")
		for _, r := range rv.Refusals {
			fmt.Fprintf(w, "| %s | %d | %s |\n", r.Class, r.Count, md(r.Example))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "## Anomalies\n\n")
	if len(rv.Anomalies) == 0 {
		fmt.Fprintf(w, "None.\n\n")
	} else {
		fmt.Fprintf(w, "| time | key | kind | severity | what | response |\n|---|---|---|---|---|---|\n")
		for _, a := range rv.Anomalies {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", a.At.UTC().Format(time.RFC3339), md(a.KeyID), md(a.Kind), md(a.Severity), md(a.Summary), md(a.Response))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "## Keys expiring soon\n\n")
	if len(rv.Expiring) == 0 {
		fmt.Fprintf(w, "None.\n\n")
	} else {
		for _, id := range rv.Expiring {
			fmt.Fprintf(w, "- %s\n", md(id))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "## Recommended: revoke\n\n")
	if len(rv.Recommend) == 0 {
		fmt.Fprintf(w, "Nothing to revoke.\n")
		return
	}
	for _, r := range rv.Recommend {
		fmt.Fprintf(w, "- %s (agent %s): %s — `%s`\n", md(r.KeyID), md(r.Agent), md(r.Why), r.Command)
	}
	fmt.Fprintf(w, "\nOr revoke them all: `agentkeys review --apply`\n")
}
