package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/request"
)

func newPolicyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check policies, explain decisions and probe keys",
	}
	cmd.AddCommand(newPolicyCheckCmd(e), newPolicyExplainCmd(e), newPolicyProbeCmd(e))
	return cmd
}

func newPolicyCheckCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a policy file and print it normalised",
		Long: "Validate a policy (YAML or JSON, - for standard input) and print its normalised form.\n" +
			"Exits non-zero with the offending field and what was expected when the policy is invalid.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputFlag(output, "yaml", "json"); err != nil {
				return err
			}
			p, err := loadPolicy(e, args[0])
			if err != nil {
				return err
			}
			var out []byte
			if output == "json" {
				out, err = p.Document().JSON()
				out = append(out, '\n')
			} else {
				out, err = p.Document().YAML()
			}
			if err != nil {
				return err
			}
			if w := p.Warning(); w != "" {
				fmt.Fprintln(e.io.Err, "WARNING:", w)
			}
			_, err = e.io.Out.Write(out)
			return err
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}

// loadPolicy reads and compiles a policy file; ABI files it names are read
// relative to it.
func loadPolicy(e *env, name string) (*policy.Policy, error) {
	var (
		src []byte
		err error
		dir = filepath.Dir(name)
	)
	if name == "-" {
		src, err = io.ReadAll(io.LimitReader(e.io.In, policy.MaxDocumentSize+1))
		dir = "."
	} else {
		src, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	p, err := policy.Parse(src, policy.Options{ReadFile: func(f string) ([]byte, error) {
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		return os.ReadFile(f)
	}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

type explainFlags struct {
	policyFile, profile      string
	routers                  []string
	permit2                  string
	dailyLimits              []string
	tokenLimits              []string
	owner, session           string
	chainID                  uint64
	tx, typedData, message   string
	ethSign                  bool
	at, issuedAt, ip, output string
	spent                    []string
	requests                 int
}

func newPolicyExplainCmd(e *env) *cobra.Command {
	f := &explainFlags{}
	cmd := &cobra.Command{
		Use:   "explain (--policy FILE | --profile NAME) --owner ADDR (--tx JSON | --typed-data FILE | --message TEXT)",
		Short: "Decide one request against a policy and print the decision with its reasons",
		Long: `Decide one request as the daemon would, without signing anything.

--tx takes a JSON object shaped like the parameter of eth_sendTransaction
(from, to, value, data, hex quantities); prefix a file name with @ to read it.
--typed-data takes an EIP-712 document as given to eth_signTypedData_v4
(a file name, or @file, or - for standard input).

The exit code is 0 whenever a decision was made, allow or deny, and
non-zero only for bad input.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runExplain(e, f, daemonTokens(cmd)) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.policyFile, "policy", "", "policy file (YAML or JSON)")
	fl.StringVar(&f.profile, "profile", "", "built-in profile: "+strings.Join(policy.Profiles, ", "))
	fl.StringSliceVar(&f.routers, "router", nil, "swap-only: DEX router address (repeatable)")
	fl.StringVar(&f.permit2, "permit2", "", "swap-only: Permit2 address, to allow PermitSingle signatures to the routers")
	fl.StringArrayVar(&f.dailyLimits, "daily-limit", nil, "profiles: a cap per 24h as for key grant: 0.5ETH, 250USDC, 100@0xTOKEN or 0xTOKEN:DECIMALS:AMOUNT (repeatable; default "+policy.DefaultNativeCap+"ETH)")
	fl.StringArrayVar(&f.tokenLimits, "token-limit", nil, "profiles: same as --daily-limit (kept for 0xTOKEN:DECIMALS:AMOUNT, which needs no daemon)")
	fl.String("admin-url", "", "admin API base URL, to resolve token symbols and @0xTOKEN through the running daemon")
	fl.StringVar(&f.owner, "owner", "", "the account the agent acts as ($owner)")
	fl.StringVar(&f.session, "session", "", "the session key address ($session), if any")
	fl.Uint64Var(&f.chainID, "chain-id", 0, "chain of the request (default: the policy's first chain)")
	fl.StringVar(&f.tx, "tx", "", "transaction as for eth_sendTransaction, JSON or @file")
	fl.StringVar(&f.typedData, "typed-data", "", "EIP-712 document file as for eth_signTypedData_v4 (- for stdin)")
	fl.StringVar(&f.message, "message", "", "text to sign with personal_sign")
	fl.BoolVar(&f.ethSign, "eth-sign", false, "ask for an eth_sign signature (always refused)")
	fl.StringVar(&f.at, "at", "", "decide as of this RFC 3339 time (default: now)")
	fl.StringVar(&f.issuedAt, "issued-at", "", "when the key was granted, RFC 3339 (default: --at)")
	fl.StringVar(&f.ip, "ip", "127.0.0.1", "the caller's IP address")
	fl.StringArrayVar(&f.spent, "spent", nil, "ASSET=AMOUNT already spent this period, ASSET native, fees or a token address, AMOUNT in base units (repeatable)")
	fl.IntVar(&f.requests, "requests", 0, "requests already made in the rate window")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	return cmd
}

// daemonTokens resolves the tokens named in explain's caps as key grant
// does: through the running daemon, which knows the home's token list and
// reads decimals from its chain. It is only reached when a cap names a
// token by symbol or @0xTOKEN.
func daemonTokens(cmd *cobra.Command) policy.TokenSource {
	client := func() (*admin.Client, error) {
		c, err := newAdminClient(cmd)
		if err != nil {
			return nil, fmt.Errorf("token symbols and @0xTOKEN are resolved by the running daemon (%w); or write 0xTOKEN:DECIMALS:AMOUNT", err)
		}
		return c, nil
	}
	return policy.TokenSource{
		Known: func() ([]policy.Token, error) {
			c, err := client()
			if err != nil {
				return nil, err
			}
			var vs []admin.TokenView
			if err := c.Do(cmd.Context(), "GET", "/v1/tokens", nil, &vs); err != nil {
				return nil, err
			}
			out := make([]policy.Token, 0, len(vs))
			for _, v := range vs {
				out = append(out, policy.Token{Symbol: v.Symbol, Address: common.HexToAddress(v.Address), Decimals: v.Decimals})
			}
			return out, nil
		},
		Lookup: func(a common.Address) (policy.Token, error) {
			c, err := client()
			if err != nil {
				return policy.Token{}, err
			}
			var v admin.TokenView
			if err := c.Do(cmd.Context(), "GET", "/v1/tokens/"+a.Hex(), nil, &v); err != nil {
				return policy.Token{}, err
			}
			return policy.Token{Symbol: v.Symbol, Address: a, Decimals: v.Decimals}, nil
		},
	}
}

func runExplain(e *env, f *explainFlags, tokens policy.TokenSource) error {
	if err := outputFlag(f.output, "text", "json"); err != nil {
		return err
	}
	p, err := explainPolicy(e, f, tokens)
	if err != nil {
		return err
	}
	owner, err := flagAddress("--owner", f.owner, true)
	if err != nil {
		return err
	}
	session, err := flagAddress("--session", f.session, false)
	if err != nil {
		return err
	}
	st := policy.State{Now: e.now().UTC(), Vars: policy.Variables{Owner: owner, Session: session}, Spent: map[string]*big.Int{}, Requests: f.requests}
	if f.at != "" {
		if st.Now, err = time.Parse(time.RFC3339, f.at); err != nil {
			return fmt.Errorf("--at: expected an RFC 3339 time like 2026-11-25T12:00:00Z, got %q", f.at)
		}
	}
	st.IssuedAt = st.Now
	if f.issuedAt != "" {
		if st.IssuedAt, err = time.Parse(time.RFC3339, f.issuedAt); err != nil {
			return fmt.Errorf("--issued-at: expected an RFC 3339 time, got %q", f.issuedAt)
		}
	}
	for _, s := range f.spent {
		asset, amount, ok := strings.Cut(s, "=")
		n, okN := new(big.Int).SetString(strings.TrimSpace(amount), 10)
		if !ok || !okN || n.Sign() < 0 || (asset != policy.Native && asset != policy.Fees && !common.IsHexAddress(asset)) {
			return fmt.Errorf("--spent: expected ASSET=AMOUNT with ASSET native, fees or a token address and AMOUNT in base units, got %q", s)
		}
		if asset != policy.Native && asset != policy.Fees {
			asset = strings.ToLower(common.HexToAddress(asset).Hex())
		}
		st.Spent[asset] = n
	}
	req, err := explainRequest(e, f, p)
	if err != nil {
		return err
	}
	d := p.Evaluate(req, st).Trace()
	if f.output == "json" {
		return writeJSON(e.io.Out, struct {
			policy.Trace
			Policy  string `json:"policy"`
			Warning string `json:"warning,omitempty"`
		}{d, p.Name(), p.Warning()})
	}
	printDecision(e.io.Out, p, d)
	return nil
}

func explainPolicy(e *env, f *explainFlags, tokens policy.TokenSource) (*policy.Policy, error) {
	switch {
	case f.policyFile != "" && f.profile != "":
		return nil, errors.New("give --policy or --profile, not both")
	case f.policyFile != "":
		if len(f.routers) > 0 || len(f.dailyLimits) > 0 || len(f.tokenLimits) > 0 || f.permit2 != "" {
			return nil, errors.New("--router, --permit2, --daily-limit and --token-limit only apply to --profile")
		}
		return loadPolicy(e, f.policyFile)
	case f.profile == "":
		return nil, errors.New("give --policy FILE or --profile NAME (" + strings.Join(policy.Profiles, ", ") + ")")
	}
	pp := policy.ProfileParams{Chains: []uint64{31337}}
	if f.chainID != 0 {
		pp.Chains = []uint64{f.chainID}
	}
	for _, r := range f.routers {
		a, err := flagAddress("--router", r, true)
		if err != nil {
			return nil, err
		}
		pp.Routers = append(pp.Routers, a)
	}
	if f.permit2 != "" {
		a, err := flagAddress("--permit2", f.permit2, true)
		if err != nil {
			return nil, err
		}
		pp.Permit2 = &a
	}
	for _, c := range []struct {
		flag string
		caps []string
	}{{"--daily-limit", f.dailyLimits}, {"--token-limit", f.tokenLimits}} {
		for _, cp := range c.caps {
			l, err := policy.ParseCap(cp, tokens)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.flag, err)
			}
			pp.Limits = append(pp.Limits, l)
		}
	}
	doc, err := policy.ProfileDocument(f.profile, pp)
	if err != nil {
		return nil, err
	}
	p, err := policy.Compile(doc, policy.Options{})
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", f.profile, err)
	}
	return p, nil
}

func flagAddress(flag, s string, required bool) (common.Address, error) {
	if s == "" {
		if required {
			return common.Address{}, fmt.Errorf("%s is required: an address like 0x1111111111111111111111111111111111111111", flag)
		}
		return common.Address{}, nil
	}
	if !strings.HasPrefix(s, "0x") || len(s) != 42 || !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("%s: expected an address (0x followed by 40 hex digits), got %q", flag, s)
	}
	return common.HexToAddress(s), nil
}

func explainRequest(e *env, f *explainFlags, p *policy.Policy) (policy.Request, error) {
	req := policy.Request{ChainID: f.chainID}
	if req.ChainID == 0 {
		req.ChainID = p.Chains()[0]
	}
	if f.ip != "" {
		ip, err := netip.ParseAddr(f.ip)
		if err != nil {
			return req, fmt.Errorf("--ip: expected an IP address, got %q", f.ip)
		}
		req.SourceIP = ip
	}
	given := 0
	for _, set := range []bool{f.tx != "", f.typedData != "", f.message != "", f.ethSign} {
		if set {
			given++
		}
	}
	if given != 1 {
		return req, errors.New("give exactly one of --tx, --typed-data, --message or --eth-sign")
	}
	switch {
	case f.tx != "":
		src, err := readArg(e, f.tx)
		if err != nil {
			return req, fmt.Errorf("--tx: %w", err)
		}
		tx, from, chainID, err := request.ParseTxParam(src)
		if err != nil {
			return req, fmt.Errorf("--tx: %w", err)
		}
		req.Kind, req.Method, req.Tx, req.From = policy.KindTransaction, "eth_sendTransaction", tx, from
		if chainID != 0 {
			req.ChainID = chainID
		}
	case f.typedData != "":
		name := strings.TrimPrefix(f.typedData, "@")
		src, err := readArg(e, "@"+name)
		if err != nil {
			return req, fmt.Errorf("--typed-data: %w", err)
		}
		td, err := request.ParseTypedData(src)
		if err != nil {
			return req, fmt.Errorf("--typed-data: %w", err)
		}
		req.Kind, req.Method, req.TypedData = policy.KindTypedData, "eth_signTypedData_v4", td
	case f.message != "":
		req.Kind, req.Method, req.Message = policy.KindMessage, "personal_sign", []byte(f.message)
	default:
		req.Kind, req.Method = policy.KindEthSign, "eth_sign"
	}
	return req, nil
}

// readArg returns s itself, or the contents of a file for "@name" ("@-"
// reads standard input).
func readArg(e *env, s string) ([]byte, error) {
	name, ok := strings.CutPrefix(s, "@")
	if !ok {
		return []byte(s), nil
	}
	if name == "-" {
		return io.ReadAll(io.LimitReader(e.io.In, 1<<20))
	}
	return os.ReadFile(name)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func printDecision(w io.Writer, p *policy.Policy, d policy.Trace) {
	if warn := p.Warning(); warn != "" {
		fmt.Fprintf(w, "WARNING: %s\n\n", warn)
	}
	fmt.Fprintf(w, "decision: %s (policy %s)\n", d.Verdict, p.Name())
	if d.Verdict == policy.Allow {
		for _, r := range strings.Split(d.Rule, "; ") {
			fmt.Fprintf(w, "  ✓ %s\n", r)
		}
	}
	for _, r := range d.Reasons {
		fmt.Fprintf(w, "  ✗ %s\n", r)
	}
	if len(d.Calls) > 0 {
		fmt.Fprintln(w, "calls:")
		for _, c := range d.Calls {
			var args []string
			for _, a := range c.Args {
				args = append(args, a.Name+"="+a.Value)
			}
			indent := strings.Repeat("  ", c.Depth+1)
			fmt.Fprintf(w, "%s%s %s %s\n", indent, c.To, c.Function, strings.Join(args, " "))
		}
	}
	if len(d.Spend) > 0 {
		fmt.Fprintln(w, "spends:")
		for _, s := range d.Spend {
			sym := s.Symbol
			if sym == "" {
				sym = "base units of " + s.Asset
				fmt.Fprintf(w, "  %s %s\n", s.Amount, sym)
				continue
			}
			fmt.Fprintf(w, "  %s %s\n", policy.FormatAmount(s.Amount, s.Decimals), sym)
		}
	}
}
