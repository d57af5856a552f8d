package onchain

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/policy"
)

func TestLocate(t *testing.T) {
	tests := []struct {
		sig, path string
		want      Loc
		err       string
	}{
		{"transfer(address to,uint256 amount)", "amount", Loc{Head: 32}, ""},
		{"swapExactTokensForTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)", "to", Loc{Head: 96}, ""},
		{"swapExactTokensForTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)", "path", Loc{}, "not a one-word value"},
		{"exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96) params)", "params.recipient", Loc{Head: 96}, ""},
		{"exactInput((bytes path,address recipient,uint256 amountIn,uint256 amountOutMinimum) params)", "params.recipient", Loc{Head: 0, Indirect: true, Inner: 32}, ""},
		{"f(uint256 a,(uint256 x,(address y,uint8 z) w) t,bytes b,uint256 c)", "t.w.z", Loc{Head: 96}, ""},
		{"f(uint256 a,(uint256 x,(address y,uint8 z) w) t,bytes b,uint256 c)", "c", Loc{Head: 160}, ""},
		{"f(uint256[3] a,uint256 b)", "b", Loc{Head: 96}, ""},
		{"f((bytes p,(bytes q,uint256 r) s) t)", "t.s.r", Loc{}, "behind a second pointer"},
	}
	for _, tt := range tests {
		t.Run(tt.sig+"/"+tt.path, func(t *testing.T) {
			fn, err := policy.ParseSignature(tt.sig)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := Locate(fn, tt.path)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileReportsWhatStaysOffChain(t *testing.T) {
	src, err := os.ReadFile("../policy/testdata/policies/valid_uniswap_swapper.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(src, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cfg, rep := Compile(p, issued)
	if cfg.ValidAfter != uint64(issued.Unix()) || cfg.ValidUntil != uint64(issued.Add(24*time.Hour).Unix()) || cfg.Period != 86400 {
		t.Errorf("window %d..%d period %d", cfg.ValidAfter, cfg.ValidUntil, cfg.Period)
	}
	if len(cfg.Permissions) != 8 || len(cfg.TokenLimits) != 2 || cfg.MaxValuePerCall.String() != "100000000000000000" {
		t.Errorf("permissions %d, token limits %d, max value %s", len(cfg.Permissions), len(cfg.TokenLimits), cfg.MaxValuePerCall)
	}
	off := strings.Join(rep.OffChainOnly, "\n")
	for _, want := range []string{"schedule", "rate limit", "source network", "typed data", "personal_sign", "deny[0]: deny rule"} {
		if !strings.Contains(off, want) {
			t.Errorf("off-chain-only lacks %q:\n%s", want, off)
		}
	}
	// to == $owner compiles to a check against the account itself.
	first := cfg.Permissions[0]
	if len(first.Conditions) != 2 || first.Conditions[0].ValueKind != ValueSelf || first.Conditions[0].Loc.Head != 96 {
		t.Errorf("first permission conditions = %+v", first.Conditions)
	}
	if len(cfg.SpendRules) < 10 {
		t.Errorf("only %d spend rules", len(cfg.SpendRules))
	}
}

// TestCompileKeepsTheFeeLimitOffChain: a fees limit is the daemon's; it
// never becomes a token limit (of the zero address) on chain.
func TestCompileKeepsTheFeeLimitOffChain(t *testing.T) {
	src, err := os.ReadFile("../policy/testdata/policies/valid_fees_limit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(src, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, rep := Compile(p, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	if len(cfg.TokenLimits) != 0 || cfg.NativePerPeriod.String() != "500000000000000000" || cfg.Period != 86400 {
		t.Errorf("token limits %+v, native per period %s, period %d", cfg.TokenLimits, cfg.NativePerPeriod, cfg.Period)
	}
	if off := strings.Join(rep.OffChainOnly, "\n"); !strings.Contains(off, "the fee limit") {
		t.Errorf("off-chain-only lacks the fee limit:\n%s", off)
	}
}

// Suspension on an anomaly is the daemon's alone: the report says so, and
// only for a policy that suspends.
func TestCompileReportsSuspensionOffChain(t *testing.T) {
	for _, c := range []struct {
		src  string
		want bool
	}{
		{"name: a\nchains: [31337]\nanomalies: {refusal_burst: {on_anomaly: suspend}}\n", true},
		{"name: a\nchains: [31337]\nanomalies: {refusal_burst: {on_anomaly: alert}}\n", false},
	} {
		p, err := policy.Parse([]byte(c.src), policy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, rep := Compile(p, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
		if got := strings.Contains(strings.Join(rep.OffChainOnly, "\n"), "suspension on anomalies"); got != c.want {
			t.Errorf("%q: reports suspension off chain = %v, want %v", c.src, got, c.want)
		}
	}
}
