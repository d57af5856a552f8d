package policy

import (
	"path/filepath"
	"strings"
	"testing"
)

// Refusal reasons quote at most a short prefix of what the agent sent and
// say how long it was: a megabyte in a typed-data document yields reasons
// of a few hundred bytes, not a megabyte each.
func TestTypedDataReasonsAreBounded(t *testing.T) {
	mega := strings.Repeat("A", 1<<20)
	for name, mutate := range map[string]func(req *Request){
		"domain name":        func(req *Request) { req.TypedData.Domain.Name = mega },
		"verifying contract": func(req *Request) { req.TypedData.Domain.VerifyingContract = "0x" + mega },
		"spender": func(req *Request) {
			req.TypedData.Message["spender"] = mega
		},
		"amount": func(req *Request) {
			req.TypedData.Message["details"].(map[string]any)["amount"] = mega
		},
		"primary type": func(req *Request) { req.TypedData.PrimaryType = mega },
	} {
		t.Run(name, func(t *testing.T) {
			pol, req, st, _ := loadCase(t, filepath.Join("testdata", "cases", "deny_permit2_wrong_verifying_contract.yaml"))
			mutate(&req)
			d := pol.Evaluate(req, st)
			if d.Allowed() || len(d.Reasons()) == 0 {
				t.Fatalf("allowed: %+v", d.Trace())
			}
			for _, r := range d.Reasons() {
				if len(r) > 600 {
					t.Errorf("a reason of %d bytes: %.200s…", len(r), r)
				}
				if strings.Contains(r, strings.Repeat("A", 100)) {
					t.Errorf("a reason repeats the value: %.200s…", r)
				}
			}
		})
	}
}

// An amount's length is checked before its digits are parsed: a
// megabyte of them is refused by its length alone, with the length said
// and the value not repeated.
func TestAmountsAreBoundedBeforeParsing(t *testing.T) {
	mega := strings.Repeat("9", 1<<20)
	for name, parse := range map[string]func() error{
		"ETH":     func() error { _, err := ParseAmount(mega, 18, "ETH"); return err },
		"units":   func() error { _, err := ParseAmount(mega+"units", 6, "USDC"); return err },
		"integer": func() error { _, err := parseInteger("0x" + mega); return err },
	} {
		err := parse()
		if err == nil || !strings.Contains(err.Error(), "at most 100 characters") || len(err.Error()) > 200 {
			t.Errorf("%s: %v", name, err)
		}
	}
	max := "115792089237316195423570985008687907853269984665640564039457584007913129639935"
	if v, err := ParseAmount(max+"wei", 18, "ETH"); err != nil || v.String() != max {
		t.Errorf("2^256-1 wei: %v %v", v, err)
	}
}
