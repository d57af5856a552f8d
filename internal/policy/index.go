package policy

import "github.com/ethereum/go-ethereum/common"

// A ruleIndex finds the rule functions that may cover a call from its
// target and selector, in the policy's order, without scanning the rules:
// a policy is indexed once when it is compiled, and a decision costs two
// map lookups however many rules the policy has.
type ruleIndex struct {
	targets map[common.Address]*targetRules
	other   targetRules // a target no rule names: the "*" rules
}

// targetRules are the rule functions covering calls to one target.
type targetRules struct {
	covered  bool // a rule names the target, or "*"
	bySel    map[[4]byte][]ruleFn
	otherSel []ruleFn // a selector no covering rule names: the "*" functions
	empty    []ruleFn // no calldata: the "*" and receive functions
}

// ruleFn is one function entry of a rule.
type ruleFn struct {
	r  *rule
	fr *fnRule
}

func newRuleIndex(rules []*rule) *ruleIndex {
	idx := &ruleIndex{targets: map[common.Address]*targetRules{}}
	for _, r := range rules {
		if !r.any && idx.targets[r.contract] == nil {
			t := &targetRules{}
			t.fill(rules, r.contract, true)
			idx.targets[r.contract] = t
		}
	}
	idx.other.fill(rules, common.Address{}, false)
	return idx
}

// fill lists, in rule order, the functions of the rules covering the
// target (named, or only "*" rules when named is false).
func (t *targetRules) fill(rules []*rule, target common.Address, named bool) {
	covers := func(r *rule) bool { return r.any || named && r.contract == target }
	t.bySel = map[[4]byte][]ruleFn{}
	for _, r := range rules {
		for _, fr := range r.fns {
			if covers(r) && !fr.anyFn && !fr.receive {
				t.bySel[fr.sel] = nil
			}
		}
	}
	for _, r := range rules {
		if !covers(r) {
			continue
		}
		t.covered = true
		for _, fr := range r.fns {
			c := ruleFn{r, fr}
			switch {
			case fr.anyFn:
				for sel := range t.bySel {
					t.bySel[sel] = append(t.bySel[sel], c)
				}
				t.otherSel = append(t.otherSel, c)
				t.empty = append(t.empty, c)
			case fr.receive:
				t.empty = append(t.empty, c)
			default:
				t.bySel[fr.sel] = append(t.bySel[fr.sel], c)
			}
		}
	}
}

// find returns the rule functions that may cover a call, in order, and
// whether any rule covers its target at all. Calls without calldata are
// matched by "*" and receive; others by "*" and their selector.
func (idx *ruleIndex) find(to common.Address, sel [4]byte, hasData bool) ([]ruleFn, bool) {
	t := idx.targets[to]
	if t == nil {
		t = &idx.other
	}
	if !hasData {
		return t.empty, t.covered
	}
	if c, ok := t.bySel[sel]; ok {
		return c, t.covered
	}
	return t.otherSel, t.covered
}
