// Package mcp is the agents' Model Context Protocol endpoint: wallet tools
// for LLM agents (Claude Desktop, Cursor, agent frameworks) served over
// streamable HTTP at /mcp with the agent's bearer credential, and the
// stdio bridge behind `agentkeys mcp`, which forwards every tool call to
// that endpoint so decisions stay in the daemon.
//
// It is a transport like package rpc: every tool authenticates the key
// and goes through the same service methods as /rpc, so decision, budget,
// ledger and audit are identical; the audit record's method is the tool's
// name prefixed with "mcp:". A refusal is a tool error whose text gives
// the reasons and what the key may still do. Only packages server and cli
// import it.
package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentkeys/agentkeys/internal/clientip"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
)

// MethodPrefix starts the audit method of every tool call ("mcp:swap"),
// so the log tells MCP calls from JSON-RPC ones.
const MethodPrefix = "mcp:"

// methodConnect is the audit method of a credential refused before any
// tool is known (the HTTP request carrying it).
const methodConnect = MethodPrefix + "connect"

// Upstream answers the read methods tools need (balances, eth_call).
type Upstream interface {
	CallContext(ctx context.Context, result any, method string, args ...any) error
}

// Server serves /mcp.
type Server struct {
	svc      *service.Service
	upstream Upstream
	log      *slog.Logger
	observe  func(method string, d time.Duration)
	mcp      *sdk.Server
	http     http.Handler
}

// Version is the implementation version the server and the bridge
// announce: the module's version from the build information.
var Version = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "dev"
}()

// New returns the /mcp handler for agents.
func New(svc *service.Service, upstream Upstream, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{svc: svc, upstream: upstream, log: log}
	s.mcp = sdk.NewServer(&sdk.Implementation{Name: "agentkeys", Title: "agentkeys wallet", Version: Version},
		&sdk.ServerOptions{Instructions: instructions})
	for _, t := range tools {
		s.mcp.AddTool(t.tool(), s.handle(t))
	}
	// Every request carries the bearer credential, so the SDK's guard
	// against DNS rebinding of unauthenticated local servers adds nothing
	// and would refuse a reverse proxy's Host header. Stateless: each POST
	// stands alone, as each /rpc request does, and nothing is kept per
	// client between them.
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s.mcp },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, DisableLocalhostProtection: true, Logger: log})
	s.http = s.authenticate(auth.RequireBearerToken(sessionOf, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h))
	return s
}

// instructions is what an MCP client tells its model about this server.
const instructions = "These tools act on one Ethereum wallet through an agentkeys key: a temporary, least-privilege grant. " +
	"Call wallet_info first to learn the address, the chain, what the key may and may not do, and what is left of its budgets. " +
	"Every request is checked against the key's policy and recorded; a refused request returns an error that says why and what is still allowed. " +
	"Do not retry a refused request unchanged: change it to fit the rules, or tell the user what the key does not allow."

// Observe makes the server tell fn how long each tool call took, by its
// audit method (for latency metrics). Call it before serving.
func (s *Server) Observe(fn func(method string, d time.Duration)) { s.observe = fn }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.http.ServeHTTP(w, r) }

// caller is an authenticated HTTP request as a tool sees it.
type caller struct {
	sess *service.Session
	info service.RequestInfo
}

type callerKey struct{}

// authenticate checks the bearer credential of every HTTP request before
// the SDK reads it, so a missing, unknown, expired, revoked or suspended
// key gets 401 with the service's reason and is audited as rpc's are.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := service.RequestInfo{Method: methodConnect, IP: clientip.FromRequest(r), UserAgent: r.UserAgent()}
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sess, err := s.svc.Authenticate(r.Context(), strings.TrimSpace(tok), info)
		if err != nil {
			var (
				cred *service.CredentialError
				lim  *service.LimitError
			)
			if errors.As(err, &lim) {
				w.Header().Set("Retry-After", strconv.Itoa(lim.RetrySeconds()))
				http.Error(w, "agentkeys: "+lim.Error(), http.StatusTooManyRequests)
				return
			}
			if errors.As(err, &cred) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="agentkeys"`)
				http.Error(w, "agentkeys: "+cred.Reason, http.StatusUnauthorized)
				return
			}
			s.log.Error("mcp authenticate", "err", err)
			http.Error(w, "agentkeys: internal error", http.StatusInternalServerError)
			return
		}
		// The credential is checked; the SDK's bearer middleware only
		// carries the session to the tool handlers, in TokenInfo.
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller{sess: sess, info: info})))
	})
}

// sessionOf is the SDK's token verifier: it passes on what authenticate
// found for this request.
func sessionOf(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
	c, ok := ctx.Value(callerKey{}).(caller)
	if !ok {
		return nil, auth.ErrInvalidToken
	}
	return &auth.TokenInfo{UserID: c.sess.KeyID(), Extra: map[string]any{"caller": c}}, nil
}

// handle runs one tool for the key of the request carrying the call.
func (s *Server) handle(t tool) sdk.ToolHandler {
	method := MethodPrefix + t.name
	return func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		if s.observe != nil {
			started := time.Now()
			defer func() { s.observe(method, time.Since(started)) }()
		}
		var c caller
		if req.Extra != nil && req.Extra.TokenInfo != nil {
			c, _ = req.Extra.TokenInfo.Extra["caller"].(caller)
		}
		if c.sess == nil {
			// Not reachable through ServeHTTP; refuse rather than act
			// without a key.
			return errorResult("agentkeys: no credential: send Authorization: Bearer ak_..."), nil
		}
		c.info.Method = method
		out, err := t.run(s, ctx, c, req.Params.Arguments)
		if err != nil {
			var param *service.ParamError
			if errors.As(err, &param) {
				s.svc.Invalid(ctx, c.sess, c.info, "invalid params: "+param.Error())
			}
			return s.toolError(ctx, c, err), nil
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return nil, err
		}
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(b)}}, StructuredContent: out}, nil
	}
}

func errorResult(text string) *sdk.CallToolResult {
	return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: text}}}
}

// toolError is an error as the model reads it: what went wrong and, for
// a refusal, what the key may still do, so it can adapt instead of
// retrying.
func (s *Server) toolError(ctx context.Context, c caller, err error) *sdk.CallToolResult {
	var (
		refusal *service.Refusal
		cred    *service.CredentialError
		param   *service.ParamError
		up      *service.UpstreamError
	)
	switch {
	case errors.As(err, &refusal):
		var b strings.Builder
		b.WriteString("Refused by the key's policy (nothing was signed or spent):\n")
		for _, r := range refusal.Reasons {
			fmt.Fprintf(&b, "- %s\n", r)
		}
		s.stillAllowed(ctx, c, &b)
		b.WriteString("Do not retry this request unchanged.")
		return errorResult(b.String())
	case errors.As(err, &cred):
		return errorResult("The key cannot act: " + cred.Reason + ". Tell the user; retrying will not help.")
	case errors.As(err, &param):
		return errorResult("Invalid input: " + param.Error())
	case errors.Is(err, service.ErrNoTx):
		return errorResult("No transaction with that hash was sent with this key.")
	case errors.As(err, &up):
		if _, _, _, ok := service.NodeError(up.Err); ok || up.Said != "" {
			return errorResult("The Ethereum node answered: " + up.Public())
		}
		s.log.Warn("upstream", "method", c.info.Method, "err", err)
		return errorResult("The Ethereum node is unavailable (" + up.Op + "); try again later.")
	}
	s.log.Error("mcp tool internal error", "method", c.info.Method, "err", err)
	return errorResult("Internal error: the request was not signed.")
}

// stillAllowed writes what the key may do and its budgets left, from the
// same description wallet_info gives.
func (s *Server) stillAllowed(ctx context.Context, c caller, b *strings.Builder) {
	p, err := s.svc.Describe(ctx, c.sess.KeyID())
	if err != nil {
		s.log.Error("mcp describe key", "key", c.sess.KeyID(), "err", err)
		return
	}
	b.WriteString("This key may only:\n")
	for _, m := range p.May {
		fmt.Fprintf(b, "- %s\n", m)
	}
	if len(p.May) == 0 {
		b.WriteString("- read the chain (it may sign nothing)\n")
	}
	if len(p.Budget) > 0 {
		b.WriteString("Budget left:\n")
		for _, l := range p.Budget {
			fmt.Fprintf(b, "- %s\n", budgetWords(l))
		}
	}
	fmt.Fprintf(b, "The key expires at %s.\n", p.ExpiresAt.UTC().Format(time.RFC3339))
}

// budgetWords is one budget line in words.
func budgetWords(l service.BudgetLine) string {
	name := l.Symbol
	if name == "" {
		name = l.Asset
	}
	if l.Asset == policy.Fees {
		name += " for fees"
	}
	var parts []string
	if l.Remaining != "" {
		parts = append(parts, fmt.Sprintf("%s %s left of %s per %s (until %s)", l.Remaining, name, l.PerPeriod, l.Period, l.PeriodEnds.UTC().Format(time.RFC3339)))
	}
	if l.PerTx != "" {
		parts = append(parts, fmt.Sprintf("at most %s %s per transaction", l.PerTx, name))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%s: %s spent, %s pending", name, l.Spent, l.Pending)
	}
	return strings.Join(parts, "; ")
}

// Supported reports whether method is the audit method of a tool: metrics
// label requests by it, and by "other" for the rest.
func Supported(method string) bool {
	name, ok := strings.CutPrefix(method, MethodPrefix)
	if !ok {
		return false
	}
	for _, t := range tools {
		if t.name == name {
			return true
		}
	}
	return false
}
