package onchain

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/contracts/bindings"
)

var delegateABI = bindings.NewAgentKeyDelegate()

// PackGrant encodes grant(session, cfg) for the owner to call on itself.
func PackGrant(session common.Address, cfg Config) ([]byte, error) {
	return delegateABI.TryPackGrant(session, cfg.binding())
}

// PackRevoke encodes revoke(session).
func PackRevoke(session common.Address) []byte { return delegateABI.PackRevoke(session) }

// PackRevokeAll encodes revokeAll().
func PackRevokeAll() []byte { return delegateABI.PackRevokeAll() }

// PackExecute encodes execute(target, value, data), which a session key
// sends to the owner's account.
func PackExecute(target common.Address, value *big.Int, data []byte) []byte {
	return delegateABI.PackExecute(target, value, data)
}

// Call is one call of a batch.
type Call struct {
	Target common.Address
	Value  *big.Int
	Data   []byte
}

// PackExecuteBatch encodes executeBatch(calls).
func PackExecuteBatch(calls []Call) []byte {
	bc := make([]bindings.AgentKeyDelegateCall, len(calls))
	for i, c := range calls {
		bc[i] = bindings.AgentKeyDelegateCall{Target: c.Target, Value: c.Value, Data: c.Data}
	}
	return delegateABI.PackExecuteBatch(bc)
}

// PackCheck encodes check(session, target, value, data), the contract's
// dry run of execute.
func PackCheck(session, target common.Address, value *big.Int, data []byte) []byte {
	return delegateABI.PackCheck(session, target, value, data)
}

// UnpackCheck decodes check's answer: ok, or the custom error execute
// would revert with.
func UnpackCheck(out []byte) (bool, []byte, error) {
	r, err := delegateABI.UnpackCheck(out)
	return r.Ok, r.Reason, err
}

func (c Config) binding() bindings.AgentKeyDelegateSessionConfig {
	b := bindings.AgentKeyDelegateSessionConfig{
		ValidAfter: new(big.Int).SetUint64(c.ValidAfter), ValidUntil: new(big.Int).SetUint64(c.ValidUntil), Period: c.Period,
		MaxValuePerCall: c.MaxValuePerCall, NativePerPeriod: c.NativePerPeriod, MaxCalls: c.MaxCalls,
		Permissions: []bindings.AgentKeyDelegatePermission{}, SpendRules: []bindings.AgentKeyDelegateSpendRule{}, TokenLimits: []bindings.AgentKeyDelegateTokenLimit{},
	}
	for _, p := range c.Permissions {
		bp := bindings.AgentKeyDelegatePermission{Target: p.Target, Selector: p.Selector, AnySelector: p.AnySelector, EmptyCalldata: p.EmptyCalldata,
			Conditions: []bindings.AgentKeyDelegateCondition{}}
		for _, cd := range p.Conditions {
			values := cd.Values
			if values == nil {
				values = [][32]byte{}
			}
			bp.Conditions = append(bp.Conditions, bindings.AgentKeyDelegateCondition{Loc: loc(cd.Loc), Op: cd.Op, Signed: cd.Signed, ValueKind: cd.ValueKind, Values: values})
		}
		b.Permissions = append(b.Permissions, bp)
	}
	for _, r := range c.SpendRules {
		b.SpendRules = append(b.SpendRules, bindings.AgentKeyDelegateSpendRule{Selector: r.Selector, TokenKind: r.TokenKind, Token: loc(r.Token), Amount: loc(r.Amount)})
	}
	for _, t := range c.TokenLimits {
		b.TokenLimits = append(b.TokenLimits, bindings.AgentKeyDelegateTokenLimit{Token: t.Token, PerTx: t.PerTx, PerPeriod: t.PerPeriod})
	}
	return b
}

func loc(l Loc) bindings.AgentKeyDelegateLoc {
	return bindings.AgentKeyDelegateLoc{Head: l.Head, Indirect: l.Indirect, Inner: l.Inner}
}

// CallFailedData returns what the called contract reverted with when data
// is the delegate's CallFailed(bytes) wrapper of a target's revert.
func CallFailedData(data []byte) ([]byte, bool) {
	e, ok := delegateABI.GetABI().Errors["CallFailed"]
	if !ok || len(data) < 4 || !bytes.Equal(e.ID[:4], data[:4]) {
		return nil, false
	}
	vals, err := e.Inputs.Unpack(data[4:])
	if err != nil || len(vals) != 1 {
		return nil, false
	}
	inner, ok := vals[0].([]byte)
	return inner, ok
}

// DecodeError names the delegate's custom error in revert data, with its
// arguments, like "NoPermission(0x…, 0xa9059cbb)"; "" when it is not one.
func DecodeError(data []byte) string {
	if len(data) < 4 {
		return ""
	}
	parsed := delegateABI.GetABI()
	for name, e := range parsed.Errors {
		if !bytes.Equal(e.ID[:4], data[:4]) {
			continue
		}
		vals, err := e.Inputs.Unpack(data[4:])
		if err != nil {
			return name
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case common.Address:
				parts[i] = x.Hex()
			case [4]byte:
				parts[i] = fmt.Sprintf("0x%x", x[:])
			default:
				parts[i] = fmt.Sprint(v)
			}
		}
		return name + "(" + strings.Join(parts, ", ") + ")"
	}
	return ""
}
