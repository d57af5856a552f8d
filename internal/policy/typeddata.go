package policy

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	gmath "github.com/ethereum/go-ethereum/common/math"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/agentkeys/agentkeys/internal/bound"
)

func (e *evaluation) typedData(req Request) {
	td := req.TypedData
	if td == nil {
		e.refuse("no typed data was given")
		return
	}
	if _, _, err := apitypes.TypedDataAndHash(*td); err != nil {
		e.refusef(func() string { return "typed data is malformed: " + bound.Message(err.Error(), maxQuotedError) })
		return
	}
	primary, name := td.PrimaryType, td.Domain.Name
	subject := func() string {
		s := "typed data " + bound.Text(primary, bound.Prefix)
		if name != "" {
			s += " for " + bound.Quote(name)
		}
		return s
	}
	if td.Domain.ChainId == nil {
		e.refusef(func() string {
			return subject() + " is not allowed: its domain has no chainId, so the signature would be valid on every chain"
		})
		return
	}
	chain := (*big.Int)(td.Domain.ChainId)
	if !chain.IsUint64() || !e.p.chains[chain.Uint64()] || chain.Uint64() != req.ChainID {
		chain, reqChain := new(big.Int).Set(chain), req.ChainID
		e.refusef(func() string {
			return fmt.Sprintf("%s is not allowed: its domain is for chain %s, this request is on chain %d and the key signs for chain %s",
				subject(), chain, reqChain, chainList(e.p.doc.Chains))
		})
		return
	}
	e.typedSpend(td, subject)
	var failed []*typedRule
	for _, r := range e.p.typed {
		if ok, _ := r.check(td, e.vars, false); ok {
			e.allow(note{lazy: func() string { return fmt.Sprintf("%s allows %s", r.path, subject()) }})
			return
		}
		if r.primaryType == td.PrimaryType {
			failed = append(failed, r)
		}
	}
	for _, r := range failed {
		e.refusef(func() string {
			_, fails := r.check(td, e.vars, true)
			return fmt.Sprintf("%s is not allowed by %s: %s", subject(), r.path, strings.Join(fails, "; "))
		})
	}
	if len(failed) == 0 {
		e.refusef(func() string {
			return fmt.Sprintf("%s is not allowed: no typed_data rule allows this domain and primary type", subject())
		})
	}
}

// check reports whether the document matches the rule. With explain it
// also says why not, every mismatch in words; without, it stops at the
// first.
func (r *typedRule) check(td *apitypes.TypedData, vars Variables, explain bool) (bool, []string) {
	if td.PrimaryType != r.primaryType {
		if !explain {
			return false, nil
		}
		return false, []string{"primary type " + bound.Quote(td.PrimaryType)}
	}
	d := r.doc.Domain
	var fails []string
	ok := true
	// mismatch records a failed check; it reports whether to write why.
	mismatch := func() bool {
		ok = false
		return explain
	}
	if d.Name != "" && td.Domain.Name != d.Name && mismatch() {
		fails = append(fails, fmt.Sprintf("domain name must be %q, got %s", d.Name, bound.Quote(td.Domain.Name)))
	}
	if d.Version != "" && td.Domain.Version != d.Version && mismatch() {
		fails = append(fails, fmt.Sprintf("domain version must be %q, got %s", d.Version, bound.Quote(td.Domain.Version)))
	}
	if chain := (*big.Int)(td.Domain.ChainId); d.ChainID != 0 && (!chain.IsUint64() || chain.Uint64() != d.ChainID) && mismatch() {
		fails = append(fails, fmt.Sprintf("domain chainId must be %d", d.ChainID))
	}
	if r.verifying != nil {
		got := td.Domain.VerifyingContract
		if (!common.IsHexAddress(got) || common.HexToAddress(got) != *r.verifying) && mismatch() {
			fails = append(fails, fmt.Sprintf("verifying contract must be %s, got %s", shortAddr(*r.verifying), orUnknown(bound.Text(got, bound.Prefix))))
		}
	}
	for _, c := range r.conds {
		if !ok && !explain {
			break
		}
		v, err := typedValue(td, c.path)
		switch {
		case err != nil:
			if mismatch() {
				fails = append(fails, fmt.Sprintf("%s cannot be checked: %v", c.param, err))
			}
		case explain:
			if msg := c.check(v, vars); msg != "" {
				ok = false
				fails = append(fails, msg)
			}
		default:
			if holds, why := c.apply(func(o *operand) (int, string) { return compare(v, *o, vars) }); !holds || why != "" {
				ok = false
			}
		}
	}
	return ok, fails
}

var arrayType = regexp.MustCompile(`\[[0-9]*\]$`)

// typedValue reads a field of the message by dotted path, normalised by
// its declared EIP-712 type.
func typedValue(td *apitypes.TypedData, path string) (any, error) {
	typeName := td.PrimaryType
	var cur any = map[string]any(td.Message)
	for _, seg := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is not a struct", bound.Quote(typeName))
		}
		field := ""
		for _, f := range td.Types[typeName] {
			if f.Name == seg {
				field = f.Type
			}
		}
		if field == "" {
			return nil, fmt.Errorf("type %s has no field %q", bound.Quote(typeName), seg)
		}
		cur, typeName = m[seg], field
	}
	if arrayType.MatchString(typeName) {
		return nil, fmt.Errorf("%s is an array; conditions apply to single values", path)
	}
	if _, isStruct := td.Types[typeName]; isStruct {
		return nil, fmt.Errorf("%s is a struct; name one of its fields", path)
	}
	return typedScalar(typeName, cur)
}

func typedScalar(typ string, v any) (any, error) {
	switch {
	case strings.HasPrefix(typ, "uint") || strings.HasPrefix(typ, "int"):
		return typedInt(v)
	case typ == "address":
		s, ok := v.(string)
		if !ok || !common.IsHexAddress(s) {
			return nil, fmt.Errorf("expected an address, got %s", quoteValue(v))
		}
		return common.HexToAddress(s), nil
	case typ == "bool":
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("expected true or false, got %s", quoteValue(v))
		}
		return b, nil
	case typ == "string":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a string, got %s", quoteValue(v))
		}
		return s, nil
	case strings.HasPrefix(typ, "bytes"):
		s, ok := v.(string)
		if !ok || !strings.HasPrefix(s, "0x") {
			return nil, fmt.Errorf("expected 0x-prefixed bytes, got %s", quoteValue(v))
		}
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return nil, fmt.Errorf("expected hex bytes, got %s", bound.Quote(s))
		}
		return b, nil
	}
	return nil, fmt.Errorf("type %s cannot be compared", bound.Quote(typ))
}

// typedInt accepts the shapes JSON decoders produce for integers.
func typedInt(v any) (*big.Int, error) {
	switch x := v.(type) {
	case *big.Int:
		return new(big.Int).Set(x), nil
	case *gmath.HexOrDecimal256:
		return new(big.Int).Set((*big.Int)(x)), nil
	case json.Number:
		return typedInt(string(x))
	case string:
		n, ok := gmath.ParseBig256(x)
		if !ok {
			return nil, fmt.Errorf("expected an integer of at most 256 bits, got %s", bound.Quote(x))
		}
		return n, nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, fmt.Errorf("number %s is not an exact integer; send large integers as strings", bound.Text(fmt.Sprint(x), bound.Prefix))
		}
		return big.NewInt(int64(x)), nil
	case int:
		return big.NewInt(int64(x)), nil
	case int64:
		return big.NewInt(x), nil
	case uint64:
		return new(big.Int).SetUint64(x), nil
	}
	return nil, fmt.Errorf("expected an integer, got %s", quoteValue(v))
}

// maxQuotedError bounds the EIP-712 library's message in a reason: it
// may repeat a value the agent sent.
const maxQuotedError = 200

// quoteValue is a JSON value of the document as a reason may show it.
func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return bound.Quote(s)
	}
	return bound.Text(fmt.Sprint(v), bound.Prefix)
}

// permitShapes are the EIP-712 documents that grant token spending, with
// where their token and amount are found.
var permitShapes = map[string]struct {
	token, amount, list string // list: the array of {token, amount} entries
}{
	"Permit":                         {token: "@verifyingContract", amount: "value"},
	"PermitSingle":                   {token: "details.token", amount: "details.amount"},
	"PermitBatch":                    {list: "details"},
	"PermitTransferFrom":             {token: "permitted.token", amount: "permitted.amount"},
	"PermitWitnessTransferFrom":      {token: "permitted.token", amount: "permitted.amount"},
	"PermitBatchTransferFrom":        {list: "permitted"},
	"PermitBatchWitnessTransferFrom": {list: "permitted"},
}

// typedSpend counts Permit and Permit2 amounts against the token limits.
func (e *evaluation) typedSpend(td *apitypes.TypedData, subject func() string) {
	shape, ok := permitShapes[td.PrimaryType]
	if !ok {
		return
	}
	fail := func(err error) {
		e.refusef(func() string {
			return fmt.Sprintf("%s is not allowed: cannot tell what it spends (%s)", subject(), bound.Message(err.Error(), maxQuotedError))
		})
	}
	if shape.list != "" {
		items, ok := td.Message[shape.list].([]any)
		if !ok || len(items) == 0 {
			fail(fmt.Errorf("%s is not a list", shape.list))
			return
		}
		for _, it := range items {
			m, _ := it.(map[string]any)
			tok, err := typedScalar("address", m["token"])
			if err != nil {
				fail(err)
				return
			}
			amt, err := typedInt(m["amount"])
			if err != nil {
				fail(err)
				return
			}
			e.addToken(tok.(common.Address), amt)
		}
		return
	}
	var token common.Address
	if shape.token == "@verifyingContract" {
		if !common.IsHexAddress(td.Domain.VerifyingContract) {
			fail(errors.New("the domain has no verifying contract"))
			return
		}
		token = common.HexToAddress(td.Domain.VerifyingContract)
	} else {
		v, err := typedValue(td, shape.token)
		if err != nil {
			fail(err)
			return
		}
		token = v.(common.Address)
	}
	v, err := typedValue(td, shape.amount)
	if err != nil {
		fail(err)
		return
	}
	amt, ok := v.(*big.Int)
	if !ok {
		fail(fmt.Errorf("%s is not an integer", shape.amount))
		return
	}
	e.addToken(token, amt)
}

func (e *evaluation) message(req Request) {
	m := e.p.messages
	if !m.Allow {
		e.refuse("personal_sign is not allowed: the policy does not allow signing messages (messages: deny)")
		return
	}
	if len(m.Prefixes) == 0 && len(m.Domains) == 0 {
		e.allow(note{text: "messages allows any personal_sign message"})
		return
	}
	text := string(req.Message)
	for i, pfx := range m.Prefixes {
		if strings.HasPrefix(text, pfx) {
			e.allow(note{lazy: func() string { return fmt.Sprintf("messages.prefixes[%d] allows the message", i) }})
			return
		}
	}
	if dom, addr, ok := siwe(text); ok {
		for i, d := range m.Domains {
			if strings.EqualFold(dom, d) {
				if !common.IsHexAddress(addr) || common.HexToAddress(addr) != e.vars.Owner {
					e.refusef(func() string {
						return fmt.Sprintf("the Sign-In with Ethereum message for %s names account %s, not this key's account", bound.Quote(dom), bound.Quote(addr))
					})
					return
				}
				e.allow(note{lazy: func() string { return fmt.Sprintf("messages.domains[%d] allows sign-in to %s", i, dom) }})
				return
			}
		}
	}
	e.refusef(func() string {
		return fmt.Sprintf("personal_sign is not allowed: the message neither starts with an allowed prefix nor signs in to an allowed domain (%s)",
			strings.Join(append(quoteAll(m.Prefixes), m.Domains...), ", "))
	})
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strconv.Quote(x)
	}
	return out
}

// siwe recognises an EIP-4361 message and returns its domain and account.
func siwe(text string) (domain, account string, ok bool) {
	lines := strings.SplitN(text, "\n", 3)
	const suffix = " wants you to sign in with your Ethereum account:"
	if len(lines) < 2 || !strings.HasSuffix(lines[0], suffix) {
		return "", "", false
	}
	domain = strings.TrimSuffix(lines[0], suffix)
	if i := strings.Index(domain, "://"); i >= 0 {
		domain = domain[i+3:]
	}
	return domain, strings.TrimSpace(lines[1]), true
}
