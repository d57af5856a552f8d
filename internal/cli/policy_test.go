package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// run executes the command line in-process.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return out.String(), errb.String(), code
}

const (
	owner    = "0x1111111111111111111111111111111111111111"
	router   = "0xc317d3c0B3666A6BF430ABBB834D151DA55C646B" // the sandbox's DemoRouter, as in examples/
	usdc     = "0x7512195096df8a1b347efA439F7994b78494d72A" // the sandbox's USDC
	stranger = "0x9999999999999999999999999999999999999999"
)

func TestPolicyCheck(t *testing.T) {
	out, errOut, code := run(t, "", "policy", "check", "../../examples/swapper.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"name: uniswap-swapper", "valid_for: 24h", "symbol: ETH", "eq: \"$owner\"", "on_anomaly: suspend"} {
		if !strings.Contains(out, want) {
			t.Errorf("normalised output lacks %q:\n%s", want, out)
		}
	}
	// The normalised output is itself a valid policy that normalises to itself.
	again, _, code := run(t, out, "policy", "check", "-")
	if code != 0 || again != out {
		t.Errorf("normalised policy is not a fixed point (exit %d):\n%s", code, cmp.Diff(out, again))
	}
	js, _, code := run(t, "", "policy", "check", "-o", "json", "../../examples/swapper.yaml")
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(js), &doc) != nil || doc["name"] != "uniswap-swapper" {
		t.Errorf("json output (exit %d): %s", code, js)
	}
}

func TestPolicyCheckRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, stdin string
		args        []string
		wantErr     string
	}{
		{"unknown field", "name: x\nchains: [1]\nalow: []\n", []string{"policy", "check", "-"}, "-: line 3: alow: unknown field"},
		{"bad address", "name: x\nchains: [1]\nallow: [{contract: '0x12', functions: ['*']}]\n", []string{"policy", "check", "-"}, "allow[0].contract: expected an address"},
		{"bad anomaly response", "name: x\nchains: [1]\nanomalies: {new_ip: {on_anomaly: block}}\n", []string{"policy", "check", "-"}, `anomalies.new_ip.on_anomaly: expected alert or suspend, got "block"`},
		{"missing file", "", []string{"policy", "check", "nope.yaml"}, "read policy:"},
		{"bad output", "", []string{"policy", "check", "-o", "xml", "-"}, "--output: expected one of"},
		{"no file", "", []string{"policy", "check"}, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.stdin, tt.args...)
			if code == 0 || !strings.Contains(errOut, tt.wantErr) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want failure containing %q", code, out, errOut, tt.wantErr)
			}
		})
	}
}

func TestPolicyExplain(t *testing.T) {
	transfer := `{"from":"` + owner + `","to":"` + usdc + `","data":"0xa9059cbb000000000000000000000000999999999999999999999999999999999999999900000000000000000000000000000000000000000000000000000000000f4240"}`
	tests := []struct {
		name     string
		args     []string
		decision string
		reasons  []string
	}{
		{"swap to owner allowed", []string{"--policy", "../../examples/swapper.yaml", "--tx", "@../../examples/swap-to-owner.json"}, "allow", nil},
		{"swap to stranger refused", []string{"--policy", "../../examples/swapper.yaml", "--tx", "@../../examples/swap-to-stranger.json"}, "deny",
			[]string{"to must be $owner (0x1111…1111), got 0x9999…9999"}},
		{"transfer refused by swap-only", []string{"--profile", "swap-only", "--router", router, "--token-limit", usdc + ":6:1000", "--tx", transfer}, "deny",
			[]string{"transfer(address,uint256) on 0x7512…d72A is not allowed: profile swap-only blocks token transfers"}},
		{"permit to stranger refused", []string{"--policy", "../../examples/swapper.yaml", "--typed-data", "../../examples/permit-to-stranger.json"}, "deny",
			[]string{"no typed_data rule allows this domain and primary type"}},
		{"eth_sign refused", []string{"--profile", "full-access", "--eth-sign"}, "deny", []string{"eth_sign is always refused"}},
		{"message allowed by full-access", []string{"--profile", "full-access", "--message", "hello"}, "allow", nil},
		{"wrong chain", []string{"--policy", "../../examples/swapper.yaml", "--chain-id", "1", "--tx", "@../../examples/swap-to-owner.json"}, "deny",
			[]string{"chain 1 is not allowed"}},
		{"ip outside", []string{"--policy", "../../examples/swapper.yaml", "--ip", "192.0.2.1", "--tx", "@../../examples/swap-to-owner.json"}, "deny",
			[]string{"requests from 192.0.2.1 are not allowed"}},
		{"daily cap from spent", []string{"--policy", "../../examples/swapper.yaml", "--spent", usdc + "=950000000", "--tx", "@../../examples/swap-to-owner.json"}, "deny",
			[]string{"950 already used, 50 left"}},
		{"worst-case fee over the native cap", []string{"--profile", "full-access", "--spent", "native=99990000000000000",
			"--tx", `{"to":"` + stranger + `","data":"0xdeadbeef","gas":"0x186a0","maxFeePerGas":"0x3b9aca00"}`}, "deny",
			[]string{"fees of up to 0.0001 ETH would exceed the limit of 0.1 ETH per 24h: 0.09999 ETH already used, 0.00001 ETH left"}},
		{"no fee counted without gas", []string{"--profile", "full-access", "--spent", "native=99990000000000000",
			"--tx", `{"to":"` + stranger + `","data":"0xdeadbeef","maxFeePerGas":"0x3b9aca00"}`}, "allow", nil},
		{"expired", []string{"--policy", "../../examples/swapper.yaml", "--issued-at", "2026-11-01T00:00:00Z", "--at", "2026-11-03T00:00:00Z", "--tx", "@../../examples/swap-to-owner.json"}, "deny",
			[]string{"this key expired at 2026-11-02T00:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"policy", "explain", "--owner", owner, "-o", "json"}, tt.args...)
			out, errOut, code := run(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got struct {
				Decision string   `json:"decision"`
				Reasons  []string `json:"reasons"`
				Warning  string   `json:"warning"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if got.Decision != tt.decision {
				t.Fatalf("decision %s, want %s; reasons %q", got.Decision, tt.decision, got.Reasons)
			}
			for _, want := range tt.reasons {
				if !strings.Contains(strings.Join(got.Reasons, "\n"), want) {
					t.Errorf("reasons %q lack %q", got.Reasons, want)
				}
			}
		})
	}
}

func TestPolicyExplainText(t *testing.T) {
	out, _, code := run(t, "", "policy", "explain", "--profile", "full-access", "--owner", owner, "--tx", `{"to":"`+stranger+`","data":"0xdeadbeef"}`)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"WARNING: FULL ACCESS", "decision: allow", "✓ allow[0].functions[0] (anything) allows function 0xdeadbeef"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPolicyExplainBadInput(t *testing.T) {
	base := []string{"policy", "explain", "--profile", "full-access"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no owner", []string{"--tx", "{}"}, "--owner is required"},
		{"bad owner", []string{"--owner", "0x12", "--tx", "{}"}, "--owner: expected an address"},
		{"no request", []string{"--owner", owner}, "give exactly one of --tx, --typed-data, --message or --eth-sign"},
		{"unknown tx field", []string{"--owner", owner, "--tx", `{"too":"0x"}`}, `--tx: unknown field "too"`},
		{"bad value", []string{"--owner", owner, "--tx", `{"value":"12"}`}, "--tx: value: expected a 0x-prefixed hex quantity"},
		{"bad to", []string{"--owner", owner, "--tx", `{"to":5}`}, "--tx: to: expected an address"},
		{"not typed data", []string{"--owner", owner, "--typed-data", "-"}, "--typed-data: not an EIP-712 document"},
		{"both policy and profile", []string{"--owner", owner, "--policy", "x.yaml", "--tx", "{}"}, "give --policy or --profile, not both"},
		{"bad at", []string{"--owner", owner, "--at", "noon", "--tx", "{}"}, "--at: expected an RFC 3339 time"},
		{"bad spent", []string{"--owner", owner, "--spent", "gold=1", "--tx", "{}"}, "--spent: expected ASSET=AMOUNT"},
		{"bad daily limit", []string{"--owner", owner, "--daily-limit", "lots", "--tx", "{}"}, "--daily-limit: unknown unit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, "{}", append(base, tt.args...)...)
			if code == 0 || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want failure containing %q", code, errOut, tt.wantErr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "", "version", "-o", "json")
	var v buildVersion
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Version == "" || v.Go == "" {
		t.Errorf("version: exit %d %q", code, out)
	}
}
