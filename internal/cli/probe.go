package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/rpc"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/service"
)

func newPolicyProbeCmd(e *env) *cobra.Command {
	var output, key, file, attempts string
	cmd := &cobra.Command{
		Use:   "probe --key KEY_ID | --policy FILE",
		Short: "Prove a key holds: try what it must refuse and what it must allow",
		Long: "Runs a battery of attempts as a key: what no agent key should do (token transfers, approvals and\n" +
			"increaseAllowance to a stranger, an unlimited approve, swaps paying a stranger through V2, V3 and\n" +
			"multicall, sweep and unwrap to a stranger, a spend split under the per-transaction cap past the\n" +
			"period cap, a swap outside the schedule, Permit and Permit2 to a stranger, eth_sign, a 7702\n" +
			"authorization, contract creation, a native send to a stranger) and the swaps and approvals the\n" +
			"policy names on its routers. Prints attempt, expected, got and reason; exits non-zero if anything\n" +
			"forbidden was allowed or anything allowed was refused.\n\n" +
			"--key ID probes a key of the running daemon through its decision path as a dry run: nothing is\n" +
			"signed or spent, and each attempt is audited as agentkeys_probe without counting as the key's use.\n" +
			"--attempts FILE makes your own attempts instead of the battery (a JSON list, see docs/policy.md).\n" +
			"--policy FILE grants the policy to a key of a fresh in-process sandbox and makes the attempts for\n" +
			"real there: allowed transactions are signed and mined on the sandbox's dev chain.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (key == "") == (file == "") {
				return errors.New("probe: give exactly one of --key KEY_ID (a key of the running daemon) or --policy FILE (a fresh sandbox)")
			}
			if attempts != "" && file != "" {
				return errors.New("probe: --attempts goes with --key; --policy runs the standard battery")
			}
			if file != "" {
				if err := outputFlag(output, "text", "json"); err != nil {
					return err
				}
				rep, err := probeInSandbox(cmd, e, file)
				if err != nil {
					return err
				}
				return printProbe(e, output, rep)
			}
			var body admin.ProbeRequest
			if attempts != "" {
				var err error
				if body.Attempts, err = readAttempts(e, attempts); err != nil {
					return err
				}
			}
			return runAdmin(e, cmd, output, adminRequest[service.ProbeReport]{method: "POST", path: "/v1/grants/" + url.PathEscape(key) + "/probe",
				body: body, what: "probe " + bound.Quote(key), text: writeProbe, check: probeFailed})
		},
	}
	f := cmd.Flags()
	f.StringVar(&key, "key", "", "probe this key of the running daemon (a dry run)")
	f.StringVar(&file, "policy", "", "probe this policy `FILE` in a fresh sandbox, for real")
	f.StringVar(&attempts, "attempts", "", "with --key: make the attempts in this JSON `FILE` (- for standard input) instead of the battery")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// readAttempts reads a JSON list of probe attempts as the admin API takes
// them; unknown fields are errors.
func readAttempts(e *env, name string) ([]admin.ProbeAttempt, error) {
	src, err := readArg(e, "@"+name)
	if err != nil {
		return nil, fmt.Errorf("--attempts: %w", err)
	}
	var out []admin.ProbeAttempt
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("--attempts %s: expected a JSON list of attempts ({name, expect, method, txs, typed_data, message, at, ip}): %v", bound.Quote(name), err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--attempts %s: the list is empty", bound.Quote(name))
	}
	return out, nil
}

// printProbe writes a report in the output format and fails if the key
// did not hold.
func printProbe(e *env, output string, rep *service.ProbeReport) error {
	var err error
	if output == "json" {
		err = writeJSON(e.io.Out, rep)
	} else {
		err = writeProbe(e.io.Out, *rep)
	}
	if err != nil {
		return err
	}
	return probeFailed(*rep)
}

// writeProbe prints one line per attempt and what was skipped.
func writeProbe(w io.Writer, rep service.ProbeReport) error {
	fmt.Fprintf(w, "probe of policy %q", bound.Escape(rep.Policy))
	if rep.KeyID != "" {
		fmt.Fprintf(w, " (key %s)", rep.KeyID)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tATTEMPT\tEXPECTED\tGOT\tREASON")
	for _, r := range rep.Results {
		mark := "ok"
		if !r.Pass {
			mark = "FAIL"
		}
		why := r.Rule
		if len(r.Reasons) > 0 {
			why = strings.Join(r.Reasons, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark, bound.Escape(r.Attempt), r.Expect, r.Got, bound.Escape(why))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "skipped: %s\n", bound.Escape(s))
	}
	if rep.Failed == 0 {
		_, err := fmt.Fprintf(w, "the key held: %d attempts answered as expected\n", len(rep.Results))
		return err
	}
	_, err := fmt.Fprintf(w, "THE KEY DID NOT HOLD: %d of %d attempts answered otherwise\n", rep.Failed, len(rep.Results))
	return err
}

// probeFailed is the command's failure when an attempt was not answered
// as expected: it names each one.
func probeFailed(rep service.ProbeReport) error {
	var bad []string
	for _, r := range rep.Results {
		if !r.Pass {
			bad = append(bad, fmt.Sprintf("%s: expected %s, got %s", r.Attempt, r.Expect, r.Got))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("probe: the key did not hold: %s", strings.Join(bad, "; "))
}

// probeInSandbox grants the policy in file to a key of a fresh sandbox
// (a temporary home, removed after) and makes the battery's attempts as
// that key through the sandbox's /rpc, for real.
func probeInSandbox(cmd *cobra.Command, e *env, file string) (*service.ProbeReport, error) {
	p, err := loadPolicy(e, file)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "agentkeys-probe-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	pass := make([]byte, 32)
	if _, err := rand.Read(pass); err != nil {
		return nil, err
	}
	ctx := cmd.Context()
	// The sandbox's daemon and chain read a clock of the probe's own: it
	// starts at the first hour the policy's schedule allows (now if it
	// has none), and moves forward only, to make an attempt at another
	// time last, so block times never go back.
	clk := &probeClock{base: e.now}
	clk.set(firstInSchedule(p, e.now()))
	sb, err := sandbox.Start(ctx, sandbox.Config{Home: dir, Passphrase: []byte(hex.EncodeToString(pass)), ChainID: p.Chains()[0], Now: clk.Now})
	if err != nil {
		return nil, fmt.Errorf("start a sandbox: %w", err)
	}
	defer sb.Close()
	g, err := sb.Service.Grant(ctx, service.GrantRequest{Agent: "probe", Doc: p.Document()})
	if err != nil {
		return nil, fmt.Errorf("grant %s in the sandbox: %w", file, err)
	}
	agent, err := gethrpc.DialOptions(ctx, sb.Info.RPCURL, gethrpc.WithHeader("Authorization", "Bearer "+g.Token.Reveal()))
	if err != nil {
		return nil, err
	}
	defer agent.Close()
	var token common.Address
	if usdc, ok := sb.Info.Tokens["USDC"]; ok {
		token = common.HexToAddress(usdc)
	}
	b := service.Battery(p, service.BatteryParams{Owner: sb.Service.Address(), ChainID: sb.Info.ChainID, Now: clk.Now(),
		WETH: common.HexToAddress(sb.Info.WETH), Token: token})
	var (
		results []service.ProbeResult
		now     []service.ProbeAttempt
		later   []service.ProbeAttempt
	)
	skipped := b.Skipped
	for _, a := range b.Attempts {
		switch {
		case a.IP.IsValid() && !a.IP.IsLoopback():
			skipped = append(skipped, a.Name+": the sandbox's requests come from 127.0.0.1; probe a granted key (--key) to judge another address")
		case a.At.IsZero():
			now = append(now, a)
		default:
			later = append(later, a)
		}
	}
	slices.SortStableFunc(later, func(x, y service.ProbeAttempt) int { return x.At.Compare(y.At) })
	for _, a := range append(now, later...) {
		if !a.At.IsZero() {
			if !a.At.After(clk.Now()) {
				skipped = append(skipped, a.Name+": the sandbox's clock cannot go back to "+a.At.Format(time.RFC3339))
				continue
			}
			clk.set(a.At)
		}
		if err := resumeIfSuspended(ctx, sb.Service, g.Grant.ID); err != nil {
			return nil, err
		}
		got, reasons, done := sandboxAttempt(ctx, agent, sb.Chain.Client(), sb.Service.Address(), a)
		results = append(results, service.ProbeResult{Attempt: a.Name, Method: a.Method, Expect: a.Expect, Got: got,
			Rule: done, Reasons: reasons, Pass: got == a.Expect})
	}
	return service.NewProbeReport("", p.Name(), results, skipped), nil
}

// sandboxAttempt makes one attempt through /rpc: allow if everything it
// asks was signed (and sent), with what was done, deny with the reasons of
// the first refusal, or "error" with the error.
func sandboxAttempt(ctx context.Context, agent *gethrpc.Client, node *ethclient.Client, owner common.Address, a service.ProbeAttempt) (policy.Verdict, []string, string) {
	var hashes []common.Hash
	verdict, reasons := sandboxCall(ctx, agent, owner, a, &hashes)
	if verdict != policy.Allow {
		return verdict, reasons, ""
	}
	if a.Method != "eth_sendTransaction" {
		return verdict, reasons, "signed"
	}
	for _, h := range hashes {
		if err := succeeded(ctx, node, h); err != nil {
			return "error", []string{err.Error()}, ""
		}
	}
	return verdict, reasons, fmt.Sprintf("signed, sent and mined %d transaction(s)", len(hashes))
}

// succeeded waits, up to a minute, for the dev chain to mine h, and fails
// if it reverted.
func succeeded(ctx context.Context, node *ethclient.Client, h common.Hash) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		r, err := node.TransactionReceipt(ctx, h)
		if err == nil {
			if r.Status != types.ReceiptStatusSuccessful {
				return fmt.Errorf("transaction %s was mined but reverted", h.Hex())
			}
			return nil
		}
		if !errors.Is(err, ethereum.NotFound) {
			return fmt.Errorf("receipt of %s: %w", h.Hex(), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("transaction %s was not mined: %w", h.Hex(), ctx.Err())
		case <-tick.C:
		}
	}
}

func sandboxCall(ctx context.Context, agent *gethrpc.Client, owner common.Address, a service.ProbeAttempt, hashes *[]common.Hash) (policy.Verdict, []string) {
	answer := func(err error) (policy.Verdict, []string) {
		var de gethrpc.DataError
		if ec, ok := err.(gethrpc.Error); ok && ec.ErrorCode() == rpc.CodeRefused {
			if errors.As(err, &de) {
				if m, ok := de.ErrorData().(map[string]any); ok {
					if rs, ok := m["reasons"].([]any); ok {
						out := make([]string, 0, len(rs))
						for _, r := range rs {
							out = append(out, fmt.Sprint(r))
						}
						return policy.Deny, out
					}
				}
			}
			return policy.Deny, []string{err.Error()}
		}
		return "error", []string{err.Error()}
	}
	var raw json.RawMessage
	switch a.Method {
	case "eth_sendTransaction":
		for _, t := range a.Txs {
			arg := map[string]any{"data": hexutil.Bytes(t.Data)}
			if t.To != nil {
				arg["to"] = t.To
			}
			if t.Value != nil {
				arg["value"] = (*hexutil.Big)(t.Value)
			}
			if t.Authorizations > 0 {
				arg["authorizationList"] = []any{map[string]any{"chainId": "0x0", "address": t.To, "nonce": "0x0"}}
			}
			var h common.Hash
			if err := agent.CallContext(ctx, &h, a.Method, arg); err != nil {
				return answer(err)
			}
			*hashes = append(*hashes, h)
		}
		return policy.Allow, []string{}
	case "eth_signTypedData_v4":
		doc, err := json.Marshal(a.TypedData)
		if err != nil {
			return "error", []string{err.Error()}
		}
		if err := agent.CallContext(ctx, &raw, a.Method, owner, string(doc)); err != nil {
			return answer(err)
		}
	case "personal_sign":
		if err := agent.CallContext(ctx, &raw, a.Method, hexutil.Bytes(a.Message), owner); err != nil {
			return answer(err)
		}
	case "eth_sign":
		if err := agent.CallContext(ctx, &raw, a.Method, owner, hexutil.Bytes(make([]byte, 32))); err != nil {
			return answer(err)
		}
	default:
		return "error", []string{"unknown method " + a.Method}
	}
	return policy.Allow, []string{}
}

// resumeIfSuspended resumes the probed key if its anomaly responses
// suspended it (a policy that suspends on a refusal burst does so midway
// through a battery of refusals), so every attempt is judged on its own
// rather than refused as the suspended key's.
func resumeIfSuspended(ctx context.Context, svc *service.Service, id string) error {
	if err := svc.Feed().Sync(ctx); err != nil {
		return err
	}
	g, err := svc.GetGrant(ctx, id)
	if err != nil {
		return err
	}
	if g.Status != service.StatusSuspended {
		return nil
	}
	_, err = svc.Resume(ctx, id)
	return err
}

// probeClock is the sandbox's clock in a probe: the command's clock moved
// by an offset.
type probeClock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds
}

// Now is the probe's time.
func (c *probeClock) Now() time.Time { return c.base().Add(time.Duration(c.offset.Load())) }

// set moves the clock to read t now.
func (c *probeClock) set(t time.Time) { c.offset.Store(int64(t.Sub(c.base()))) }

// firstInSchedule is the first half hour from t, within a week, that the
// policy's schedule allows; t if it has none or allows none.
func firstInSchedule(p *policy.Policy, t time.Time) time.Time {
	if p.Document().Schedule == nil || p.InSchedule(t) {
		return t
	}
	at := t.Truncate(time.Hour).Add(30 * time.Minute)
	for range 7 * 24 {
		if at.After(t) && p.InSchedule(at) {
			return at
		}
		at = at.Add(time.Hour)
	}
	return t
}
