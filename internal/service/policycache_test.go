package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/agentkeys/agentkeys/internal/lru"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// TestPolicyCacheEvictsAndReuses: a grant's policy is compiled once while
// it stays among the most recently used, compiled again after it was
// evicted, and the cache never holds more than its size; a stored policy
// that does not compile is refused every time and never held.
func TestPolicyCacheEvictsAndReuses(t *testing.T) {
	s := &Service{policies: lru.New[string, *policy.Policy](2)}
	grantOf := func(id string) store.Grant {
		p, err := policy.Parse(fmt.Appendf(nil, "name: %s\nchains: [31337]\nvalid_for: 1h\nallow: []\n", id), policy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := json.Marshal(p.Document())
		return store.Grant{ID: id, Policy: doc}
	}
	a, b, c := grantOf("a"), grantOf("b"), grantOf("c")
	compile := func(g store.Grant) *policy.Policy {
		t.Helper()
		p, err := s.policyOf(g)
		if err != nil {
			t.Fatalf("policyOf(%s): %v", g.ID, err)
		}
		if p.Name() != g.ID {
			t.Fatalf("policyOf(%s) is the policy %q", g.ID, p.Name())
		}
		return p
	}
	pa := compile(a)
	if compile(a) != pa {
		t.Fatal("a's policy was compiled again while cached")
	}
	compile(b)
	if compile(a) != pa { // a is now the most recently used
		t.Fatal("a's policy was compiled again while cached")
	}
	compile(c) // evicts b
	if s.policies.Len() != 2 {
		t.Fatalf("the cache holds %d policies, over its size 2", s.policies.Len())
	}
	if compile(a) != pa {
		t.Fatal("a was evicted instead of b, the least recently used")
	}
	before := s.policies.Stats().Misses
	pb := compile(b) // compiled again, evicting c
	if s.policies.Stats().Misses != before+1 {
		t.Fatal("b was not compiled again after its eviction")
	}
	if compile(b) != pb {
		t.Fatal("b's new policy was not reused")
	}
	if st := s.policies.Stats(); st.Evictions != 2 {
		t.Fatalf("evictions = %d, want 2 (b, then c)", st.Evictions)
	}

	broken := store.Grant{ID: "broken", Policy: []byte(`{"name": 7}`)}
	for range 2 {
		_, err := s.policyOf(broken)
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Fatalf("policyOf(broken) = %v, want a ParamError", err)
		}
	}
	if st := s.policies.Stats(); st.Misses != before+3 {
		t.Fatalf("a policy that does not compile was held: %+v", st)
	}
}
