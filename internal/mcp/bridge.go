package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentkeys/agentkeys/internal/service"
)

// BridgeConfig connects a stdio MCP client to a running daemon.
type BridgeConfig struct {
	// Endpoint is the daemon's /mcp URL, like http://127.0.0.1:8645/mcp.
	Endpoint string
	// Token is the agent's credential (ak_...), sent as a bearer token
	// with every request and nowhere else.
	Token string
	// HTTP, if set, carries the requests (a client trusting the daemon's
	// self-signed certificate); nil uses http.DefaultTransport.
	HTTP *http.Client
	// In and Out are the MCP client's stream (the process's standard
	// input and output).
	In  io.ReadCloser
	Out io.WriteCloser
}

// EndpointFromRPC is the /mcp URL beside an agents' /rpc URL (the form of
// AGENTKEYS_RPC_URL), or the URL with /mcp added for a base URL.
func EndpointFromRPC(u string) string {
	u = strings.TrimRight(strings.TrimSpace(u), "/")
	if base, ok := strings.CutSuffix(u, "/rpc"); ok {
		return base + "/mcp"
	}
	if strings.HasSuffix(u, "/mcp") {
		return u
	}
	return u + "/mcp"
}

// Bridge serves MCP on In and Out and forwards every tool call to the
// daemon's /mcp with the credential, so every decision is the daemon's:
// the bridge holds no key and decides nothing. It lists the daemon's
// tools once at start (failing at once for a credential the daemon
// refuses) and runs until the client closes its stream or ctx ends.
func Bridge(ctx context.Context, cfg BridgeConfig) error {
	if cfg.Token == "" {
		return errors.New("no credential: set AGENTKEYS_TOKEN to the key's ak_... token, or pass --token-file")
	}
	base := http.DefaultTransport
	if cfg.HTTP != nil && cfg.HTTP.Transport != nil {
		base = cfg.HTTP.Transport
	}
	bt := &bearerTransport{token: cfg.Token, base: base}
	hc := &http.Client{Transport: bt}
	client := sdk.NewClient(&sdk.Implementation{Name: "agentkeys-mcp-bridge", Version: Version}, nil)
	remote, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: cfg.Endpoint, HTTPClient: hc, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
	if err != nil {
		return fmt.Errorf("connect to the daemon's MCP endpoint %s: %s", cfg.Endpoint, service.PublicError(err))
	}
	defer remote.Close()
	listed, err := remote.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("list the daemon's tools: %s", service.PublicError(err))
	}
	local := sdk.NewServer(&sdk.Implementation{Name: "agentkeys", Title: "agentkeys wallet", Version: Version},
		&sdk.ServerOptions{Instructions: remote.InitializeResult().Instructions})
	for _, t := range listed.Tools {
		local.AddTool(t, func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			if p := req.Session.InitializeParams(); p != nil && p.ClientInfo != nil {
				bt.client.Store(&p.ClientInfo.Name)
			}
			res, err := remote.CallTool(ctx, &sdk.CallToolParams{Name: req.Params.Name, Arguments: req.Params.Arguments})
			if err != nil {
				// The model reads this: the daemon is down or refused the
				// connection, not the policy a request.
				return errorResult("The agentkeys daemon could not be reached: " + service.PublicError(err) + ". Nothing was signed."), nil
			}
			return res, nil
		})
	}
	err = local.Run(ctx, &sdk.IOTransport{Reader: cfg.In, Writer: cfg.Out})
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// bearerTransport adds the credential to every request to the daemon,
// and a user agent naming the bridge and the MCP client it serves, so the
// owner's audit log and review tell Claude Desktop from Cursor.
type bearerTransport struct {
	token  string
	base   http.RoundTripper
	client atomic.Pointer[string] // the stdio client's name, once it said it
}

func (b *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	ua := "agentkeys-mcp-bridge/" + Version
	if name := b.client.Load(); name != nil && *name != "" {
		ua += " (" + *name + ")" // bounded and made printable by the daemon's audit
	}
	r.Header.Set("User-Agent", ua)
	return b.base.RoundTrip(r)
}
