package cli

import (
	"fmt"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/service"
)

// noArgs refuses positional arguments like cobra.NoArgs, without
// repeating them: a stray argument is often a secret that lost its flag
// (agentkeys init 0x59c6...).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no positional arguments, got %d (not repeated, in case one is a secret): "+
			"give values with their flags (see %s --help)", cmd.CommandPath(), len(args), cmd.CommandPath())
	}
	return nil
}

// secretShapes are what a private key, an agent credential or an admin
// credential look like.
var secretShapes = regexp.MustCompile(`\b(0[xX])?[0-9a-fA-F]{64}\b|\bak(adm)?_[A-Za-z0-9_]{8,}`)

// redactForDisplay is the last guard before an error reaches the
// terminal: anything shaped like a private key or a credential becomes
// [redacted], and URLs lose their path and query (where node providers put
// API keys). The commands' own errors already avoid repeating secrets;
// this catches what a library quoted.
func redactForDisplay(s string) string {
	return service.PublicText(secretShapes.ReplaceAllString(s, "[redacted]"))
}
