package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/service"
)

// printPending prints a change that now waits for the owner's passkey
// (the admin API's 202) and reports whether err was one: the command then
// succeeded, since the change was made, pending.
func printPending(e *env, output string, err error) (bool, error) {
	var p *admin.PendingError
	if !errors.As(err, &p) {
		return false, nil
	}
	if output == "json" {
		return true, writeJSON(e.io.Out, p.Change)
	}
	return true, printChange(e.io.Out, p.Change)
}

func printChange(w io.Writer, c service.PendingChange) error {
	fmt.Fprintf(w, "%s: %s\n", c.Status, bound.Escape(c.Summary))
	for _, d := range c.Details {
		fmt.Fprintf(w, "  - %s\n", bound.Escape(d))
	}
	fmt.Fprintf(w, "change:     %s (%s)\n", c.ID, c.Kind)
	if c.State == "pending" {
		fmt.Fprintf(w, "approve at: %s (with a passkey, before %s)\n", c.ApproveURL, c.ExpiresAt.UTC().Format(time.RFC3339))
	} else if c.DecidedAt != nil {
		fmt.Fprintf(w, "decided:    %s %s\n", c.DecidedAt.UTC().Format(time.RFC3339), bound.Escape(c.Detail))
	}
	return nil
}

func newOwnerCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "owner", Short: "The owner's passkeys and the changes waiting for their approval (talks to the running daemon)"}
	cmd.PersistentFlags().String("admin-url", "", "admin API base URL (default: $AGENTKEYS_ADMIN_URL, the home's sandbox.json or config.json)")
	pk := &cobra.Command{Use: "passkey", Short: "Register, list and remove the owner's passkeys"}
	pk.AddCommand(newPasskeyAddCmd(e), newPasskeyListCmd(e), newPasskeyRemoveCmd(e))
	ch := &cobra.Command{Use: "change", Short: "List, show and reject the changes waiting for a passkey's approval"}
	ch.AddCommand(newChangeListCmd(e), newChangeShowCmd(e), newChangeRejectCmd(e))
	cmd.AddCommand(pk, ch)
	return cmd
}

func newPasskeyAddCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Print a one-time link that registers a passkey (opens nothing itself)",
		Long: "Print a one-time link on the admin listener that registers a passkey for the owner. Open it in the\n" +
			"browser of the device that holds the passkey (Touch ID, Windows Hello, a security key); it works once,\n" +
			"for " + service.EnrollmentTTL.String() + ". The link's secret is in its fragment (after #), which browsers never send to a server,\n" +
			"and the daemon keeps only its hash. Once a passkey exists, a further one is registered only when an\n" +
			"existing passkey approves it, and every change that gives an agent more power waits for a passkey.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAdmin(e, cmd, output, adminRequest[service.Enrollment]{method: "POST", path: "/v1/owner/passkeys/enroll", what: "owner passkey add",
				text: func(w io.Writer, v service.Enrollment) error {
					_, err := fmt.Fprintf(w, "Open this link once, before %s, in the browser that holds the passkey:\n\n  %s\n",
						v.ExpiresAt.UTC().Format(time.RFC3339), v.URL)
					return err
				}})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

type passkeyList struct {
	Passkeys []service.Passkey `json:"passkeys"`
}

func newPasskeyListCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the owner's passkeys",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAdmin(e, cmd, output, adminRequest[passkeyList]{method: "GET", path: "/v1/owner/passkeys", what: "owner passkey list",
				text: func(w io.Writer, v passkeyList) error {
					if len(v.Passkeys) == 0 {
						_, err := fmt.Fprintln(w, "No passkeys: widening changes take effect without approval. Add one: agentkeys owner passkey add")
						return err
					}
					for _, p := range v.Passkeys {
						fmt.Fprintf(w, "%s  %-20s  credential %s  registered %s (audit record %d)\n", p.ID, bound.Escape(p.Name), p.CredentialID,
							p.CreatedAt.UTC().Format(time.RFC3339), p.AuditSeq)
					}
					return nil
				}})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newPasskeyRemoveCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a passkey (the last one only with a passkey's approval)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(e, cmd, output, adminRequest[map[string]string]{method: "DELETE", path: "/v1/owner/passkeys/" + url.PathEscape(args[0]),
				what: "owner passkey remove", text: func(w io.Writer, v map[string]string) error {
					_, err := fmt.Fprintf(w, "removed passkey %s\n", bound.Escape(v["removed"]))
					return err
				}})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

type changeList struct {
	Changes []service.PendingChange `json:"changes"`
}

func newChangeListCmd(e *env) *cobra.Command {
	var output, state string
	cmd := &cobra.Command{
		Use:   "list [--state pending|approved|rejected|expired]",
		Short: "List the owner's changes, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := "/v1/owner/changes"
			if state != "" {
				path += "?state=" + url.QueryEscape(state)
			}
			return runAdmin(e, cmd, output, adminRequest[changeList]{method: "GET", path: path, what: "owner change list",
				text: func(w io.Writer, v changeList) error {
					if len(v.Changes) == 0 {
						_, err := fmt.Fprintln(w, "No changes.")
						return err
					}
					for _, c := range v.Changes {
						fmt.Fprintf(w, "%s  %-16s  %-15s  %s\n", c.ID, c.Status, c.Kind, bound.Escape(c.Summary))
					}
					return nil
				}})
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "only changes in this state")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newChangeShowCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a change in plain words, with its approval link",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(e, cmd, output, adminRequest[service.PendingChange]{method: "GET", path: "/v1/owner/changes/" + url.PathEscape(args[0]),
				what: "owner change show", text: printChange})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newChangeRejectCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "reject ID",
		Short: "Reject a pending change: it never takes effect (a key waiting for it is revoked)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(e, cmd, output, adminRequest[service.PendingChange]{method: "POST", path: "/v1/owner/changes/" + url.PathEscape(args[0]) + "/reject",
				what: "owner change reject", text: printChange})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
