package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/agentkeys/agentkeys/internal/policy"
)

//go:embed swap_only.rego
var swapOnlyRego string

// seed makes the recorded requests; every run decides the same ones.
const seed = 12

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "opa:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("opa", flag.ContinueOnError)
	n := fs.Int("requests", 1000, "recorded requests")
	rounds := fs.Int("rounds", 30, "passes over the requests per engine; the median pass counts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *rounds < 1 {
		return errors.New("-requests and -rounds must be at least 1")
	}
	s, err := newSideBySide(ctx, *n)
	if err != nil {
		return err
	}
	allowed, err := s.agree(ctx)
	if err != nil {
		return err
	}
	ours, theirs, err := s.time(ctx, *rounds)
	if err != nil {
		return err
	}
	prep, err := s.timeInputs(*rounds)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d recorded requests (%d allowed, %d refused); both engines decide every one alike\n", *n, allowed, *n-allowed)
	fmt.Fprintf(w, "agentkeys: %8.0f ns per decision (median of %d passes; decodes the calldata itself)\n", perDecision(ours, *n), *rounds)
	fmt.Fprintf(w, "OPA:       %8.0f ns per decision (median of %d passes; input decoded beforehand, query prepared once)\n", perDecision(theirs, *n), *rounds)
	fmt.Fprintf(w, "OPA takes %.1f× as long per decision\n", float64(theirs)/float64(ours))
	fmt.Fprintf(w, "(decoding a request and converting it to OPA's input, not counted above, takes another %.0f ns)\n", perDecision(prep, *n))
	return nil
}

func perDecision(pass time.Duration, n int) float64 { return float64(pass.Nanoseconds()) / float64(n) }

// sideBySide holds the recorded requests and both engines, ready.
type sideBySide struct {
	reqs   []recorded
	inputs []ast.Value // OPA's inputs, converted once
	ours   *policy.Policy
	opa    rego.PreparedEvalQuery
}

func newSideBySide(ctx context.Context, n int) (*sideBySide, error) {
	p, err := swapOnly()
	if err != nil {
		return nil, fmt.Errorf("compile the swap-only policy: %w", err)
	}
	q, err := rego.New(rego.Query("data.agentkeys.swaponly.allow"), rego.Module("swap_only.rego", swapOnlyRego)).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare the Rego policy: %w", err)
	}
	s := &sideBySide{reqs: generate(n, seed), ours: p, opa: q}
	for _, r := range s.reqs {
		v, err := ast.InterfaceToValue(r.input)
		if err != nil {
			return nil, fmt.Errorf("OPA input of a %s: %w", r.what, err)
		}
		s.inputs = append(s.inputs, v)
	}
	return s, nil
}

// decideOurs is agentkeys' verdict on request i.
func (s *sideBySide) decideOurs(i int) bool {
	r := &s.reqs[i]
	return s.ours.Evaluate(r.req, r.st).Allowed()
}

// decideOPA is OPA's verdict on request i.
func (s *sideBySide) decideOPA(ctx context.Context, i int) (bool, error) {
	rs, err := s.opa.Eval(ctx, rego.EvalParsedInput(s.inputs[i]))
	if err != nil {
		return false, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return false, fmt.Errorf("OPA answered %v", rs)
	}
	allowed, ok := rs[0].Expressions[0].Value.(bool)
	if !ok {
		return false, fmt.Errorf("OPA answered %v, not a boolean", rs[0].Expressions[0].Value)
	}
	return allowed, nil
}

// agree decides every request with both engines and fails on the first
// disagreement; it returns how many were allowed.
func (s *sideBySide) agree(ctx context.Context) (int, error) {
	allowed := 0
	for i, r := range s.reqs {
		ours := s.decideOurs(i)
		theirs, err := s.decideOPA(ctx, i)
		if err != nil {
			return 0, fmt.Errorf("request %d (%s): %w", i, r.what, err)
		}
		if ours != theirs {
			return 0, fmt.Errorf("request %d (%s): agentkeys allowed=%v (%q), OPA allowed=%v; OPA input %v",
				i, r.what, ours, s.ours.Evaluate(r.req, r.st).Reasons(), theirs, s.inputs[i])
		}
		if ours {
			allowed++
		}
	}
	return allowed, nil
}

// time runs rounds passes over the requests with each engine, the
// engines taking turns, and returns each engine's median pass. Each pass
// starts on a collected heap, so that neither engine pays for collecting
// the other's garbage.
func (s *sideBySide) time(ctx context.Context, rounds int) (ours, theirs time.Duration, err error) {
	var a, b []time.Duration
	for range rounds {
		runtime.GC()
		start := time.Now()
		for i := range s.reqs {
			s.decideOurs(i)
		}
		a = append(a, time.Since(start))
		runtime.GC()
		start = time.Now()
		for i := range s.reqs {
			if _, err := s.decideOPA(ctx, i); err != nil {
				return 0, 0, err
			}
		}
		b = append(b, time.Since(start))
	}
	return median(a), median(b), nil
}

// timeInputs times what OPA's figure leaves out: decoding each request
// into OPA's input and converting that to its AST.
func (s *sideBySide) timeInputs(rounds int) (time.Duration, error) {
	var d []time.Duration
	for range rounds {
		runtime.GC()
		start := time.Now()
		for _, r := range s.reqs {
			if _, err := ast.InterfaceToValue(opaInput(r.req, r.st)); err != nil {
				return 0, err
			}
		}
		d = append(d, time.Since(start))
	}
	return median(d), nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
