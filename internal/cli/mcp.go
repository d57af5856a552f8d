package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/mcp"
)

func newMCPCmd(e *env) *cobra.Command {
	var tokenFile, url string
	cmd := &cobra.Command{
		Use:   "mcp [--token-file FILE] [--url URL]",
		Short: "Serve the wallet's MCP tools over stdio, for Claude Desktop, Cursor and other MCP clients",
		Long: "Serve MCP over standard input and output and forward every tool call to the running daemon's /mcp,\n" +
			"where the key's policy decides and the audit log records it: this process holds no key and decides nothing.\n" +
			"The credential is read from --token-file, else $AGENTKEYS_TOKEN. The daemon is --url, else\n" +
			"$AGENTKEYS_RPC_URL (its /rpc URL; /mcp is beside it), else the home's sandbox.json or config.json.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token := os.Getenv("AGENTKEYS_TOKEN")
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return fmt.Errorf("--token-file: %w", err)
				}
				token = strings.TrimSpace(string(b))
			}
			if url == "" {
				url = os.Getenv("AGENTKEYS_RPC_URL")
			}
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			d, err := findDaemon(dir)
			if err != nil {
				return err
			}
			if url == "" {
				url = d.agentURL
			}
			if url == "" {
				return fmt.Errorf("no daemon found: set AGENTKEYS_RPC_URL to the daemon's /rpc URL, pass --url, or start agentkeys serve or agentkeys sandbox with home %s", dir)
			}
			return mcp.Bridge(cmd.Context(), mcp.BridgeConfig{Endpoint: mcp.EndpointFromRPC(url), Token: token, HTTP: d.http,
				In: io.NopCloser(e.io.In), Out: nopWriteCloser{e.io.Out}})
		},
	}
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "`file` holding the agent's ak_... credential (default $AGENTKEYS_TOKEN)")
	cmd.Flags().StringVar(&url, "url", "", "the daemon's agents' `URL` (its /rpc or /mcp; default $AGENTKEYS_RPC_URL, else the home's)")
	return cmd
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
