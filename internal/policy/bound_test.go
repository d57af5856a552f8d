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
			if d.Allowed() || len(d.Reasons) == 0 {
				t.Fatalf("allowed: %+v", d)
			}
			for _, r := range d.Reasons {
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
