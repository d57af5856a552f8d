package policy

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/agentkeys/agentkeys/internal/bound"
)

// Kind is what a request asks for.
type Kind string

// Request kinds.
const (
	KindRead          Kind = "read"          // a read method passed to the node
	KindTransaction   Kind = "transaction"   // eth_sendTransaction, eth_signTransaction
	KindTypedData     Kind = "typed_data"    // eth_signTypedData_v4
	KindMessage       Kind = "message"       // personal_sign
	KindEthSign       Kind = "eth_sign"      // raw hash signing: always refused
	KindAuthorization Kind = "authorization" // EIP-7702 authorization: always refused
)

// Request is everything about an agent's request that a policy may judge.
type Request struct {
	Kind    Kind
	Method  string // the JSON-RPC method or tool name, for the trace
	ChainID uint64
	// From is the account the agent named, if it named one; it must be
	// the key's account.
	From      *common.Address
	Tx        *Tx
	TypedData *apitypes.TypedData
	Message   []byte
	SourceIP  netip.Addr // the zero value when unknown
}

// Tx is a transaction as an agent submits it.
type Tx struct {
	To    *common.Address // nil asks to create a contract: always refused
	Value *big.Int
	Data  []byte
	// Authorizations is the number of EIP-7702 authorizations attached;
	// any is refused.
	Authorizations int
	// MaxFee is the most the transaction can pay in fees (gas limit × max
	// fee per gas), in wei; nil when fees are not charged to the key. It
	// counts against the Fees limit if the policy sets one, else against
	// the period cap of the Native limit (never its per-transaction cap,
	// which is about value moved).
	MaxFee *big.Int
}

// State is what the caller knows at decision time. The engine never reads
// a clock or a store; the daemon fills this inside the same store
// transaction that reserves the budget.
type State struct {
	Now      time.Time
	IssuedAt time.Time // when the key was granted; anchors valid_for and budget periods
	Vars     Variables
	// Spent maps an asset key (Native, Fees or a lowercase 0x address) to
	// what was already spent (or reserved) in the current budget period of
	// its limit (see PeriodStart). Native includes fees reserved against
	// it.
	Spent map[string]*big.Int
	// Requests counts the key's requests within the rate window that ends
	// now, not counting this one.
	Requests int
}

// Verdict is allow or deny.
type Verdict string

// Verdicts.
const (
	Allow Verdict = "allow"
	Deny  Verdict = "deny"
)

// Decision is the outcome of Evaluate with its trace.
type Decision struct {
	Verdict Verdict  `json:"decision"`
	Rule    string   `json:"rule,omitempty"` // what allowed it
	Reasons []string `json:"reasons"`        // every reason it was refused
	Calls   []Call   `json:"calls,omitempty"`
	Spend   []Spend  `json:"spend,omitempty"`
}

// Allowed reports whether the request may be signed.
func (d *Decision) Allowed() bool { return d.Verdict == Allow }

// Call is one decoded call of a transaction; inner calls of a multicall
// have Depth 1 and more.
type Call struct {
	Depth    int    `json:"depth,omitempty"`
	To       string `json:"to"`
	Value    string `json:"value,omitempty"`
	Selector string `json:"selector,omitempty"`
	Function string `json:"function,omitempty"`
	Args     []Arg  `json:"args,omitempty"`
}

// Arg is a decoded argument for display and audit.
type Arg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Spend is what a request spends of one asset.
type Spend struct {
	Asset    string   `json:"asset"` // Native, Fees or a lowercase 0x address
	Symbol   string   `json:"symbol,omitempty"`
	Decimals uint8    `json:"decimals"`
	Amount   *big.Int `json:"-"`
	// Fee marks the transaction's worst-case fee (Asset Native or Fees),
	// kept apart from the value it moves.
	Fee bool `json:"fee,omitempty"`
}

// MarshalJSON writes the amount both raw and in whole units.
func (s Spend) MarshalJSON() ([]byte, error) {
	type plain Spend
	return json.Marshal(struct {
		plain
		Raw    string `json:"raw"`
		Amount string `json:"amount"`
	}{plain(s), s.Amount.String(), FormatAmount(s.Amount, s.Decimals)})
}

// maxWrapDepth bounds multicall nesting; maxInnerCalls bounds its width.
const (
	maxWrapDepth  = 4
	maxInnerCalls = 64
)

// Evaluate decides a request. It is pure and deterministic: the same
// policy, request and state always give the same decision.
func (p *Policy) Evaluate(req Request, st State) Decision {
	e := &evaluation{p: p, st: st, spend: map[string]*big.Int{}}
	e.global(req)
	switch req.Kind {
	case KindRead:
		e.rules = append(e.rules, fmt.Sprintf("read method %s: every valid key may read through the proxy", orUnknown(req.Method)))
	case KindTransaction:
		e.transaction(req)
	case KindTypedData:
		e.typedData(req)
	case KindMessage:
		e.message(req)
	case KindEthSign:
		e.refuse("eth_sign is always refused: it signs a raw hash, which can be a transaction or anything else")
	case KindAuthorization:
		e.refuse("signing an EIP-7702 authorization is always refused: it would hand control of the account to a contract")
	default:
		e.refuse(fmt.Sprintf("unknown request kind %s", bound.Quote(string(req.Kind))))
	}
	e.checkLimits()
	d := Decision{Verdict: Allow, Reasons: []string{}, Calls: e.calls, Spend: e.spends()}
	if len(e.reasons) > 0 {
		d.Verdict, d.Reasons = Deny, e.reasons
	} else {
		d.Rule = strings.Join(e.rules, "; ")
	}
	return d
}

func orUnknown(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return s
}

type evaluation struct {
	p          *Policy
	st         State
	reasons    []string
	rules      []string
	calls      []Call
	spend      map[string]*big.Int
	spendOrder []string
	fee        *big.Int // the transaction's worst-case fee, if charged
}

func (e *evaluation) refuse(reason string) { e.reasons = append(e.reasons, reason) }

func (e *evaluation) global(req Request) {
	p, st := e.p, e.st
	if !p.chains[req.ChainID] {
		e.refuse(fmt.Sprintf("chain %d is not allowed: this key signs only for chain %s", req.ChainID, chainList(p.doc.Chains)))
	}
	if req.From != nil && *req.From != st.Vars.Owner {
		e.refuse(fmt.Sprintf("from %s is not this key's account %s", req.From.Hex(), st.Vars.Owner.Hex()))
	}
	issued := st.IssuedAt
	if issued.IsZero() {
		issued = st.Now
	}
	notBefore, notAfter := p.Window(issued)
	if st.Now.Before(notBefore) {
		e.refuse(fmt.Sprintf("this key is not valid until %s", notBefore.UTC().Format(time.RFC3339)))
	}
	if !st.Now.Before(notAfter) {
		e.refuse(fmt.Sprintf("this key expired at %s", notAfter.UTC().Format(time.RFC3339)))
	}
	if s := p.schedule; s != nil && !s.allows(st.Now) {
		sd := p.doc.Schedule
		e.refuse(fmt.Sprintf("outside the key's schedule: %s %s in %s (it is %s there now)",
			strings.Join(sd.Days, ","), orAllDay(sd.Hours), sd.Timezone, st.Now.In(s.loc).Format("Mon 15:04")))
	}
	if r := p.rate; r != nil && st.Requests >= r.Max {
		e.refuse(fmt.Sprintf("rate limit reached: at most %d requests per %s", r.Max, formatDuration(r.Per)))
	}
	if len(p.cidrs) > 0 {
		ip := req.SourceIP.Unmap()
		allowed := false
		for _, pfx := range p.cidrs {
			if ip.IsValid() && pfx.Contains(ip) {
				allowed = true
			}
		}
		switch {
		case !ip.IsValid():
			e.refuse(fmt.Sprintf("the caller's address is unknown; this key only accepts requests from %s", strings.Join(p.doc.Network.AllowCIDRs, ", ")))
		case !allowed:
			e.refuse(fmt.Sprintf("requests from %s are not allowed: this key only accepts %s", ip, strings.Join(p.doc.Network.AllowCIDRs, ", ")))
		}
	}
}

func chainList(ids []uint64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return strings.Join(parts, ", ")
}

func orAllDay(h string) string {
	if h == "" {
		return "all day"
	}
	return h
}

func (e *evaluation) transaction(req Request) {
	tx := req.Tx
	if tx == nil {
		e.refuse("no transaction was given")
		return
	}
	if tx.Authorizations > 0 {
		e.refuse("transactions carrying EIP-7702 authorizations are always refused: they would hand control of an account to a contract")
	}
	if tx.To == nil {
		e.refuse("contract creation is not allowed: a key may only call existing contracts")
		return
	}
	value := tx.Value
	if value == nil {
		value = new(big.Int)
	}
	if value.Sign() < 0 {
		e.refuse("value is negative")
		return
	}
	if value.Sign() > 0 {
		e.addSpend(Native, value)
	}
	if tx.MaxFee != nil {
		if tx.MaxFee.Sign() < 0 {
			e.refuse("the transaction's maximum fee is negative")
			return
		}
		if tx.MaxFee.Sign() > 0 {
			e.fee = new(big.Int).Set(tx.MaxFee)
		}
	}
	e.call(*tx.To, value, tx.Data, 0)
}

func (e *evaluation) addSpend(asset string, amount *big.Int) {
	if amount.Sign() <= 0 {
		return
	}
	if e.spend[asset] == nil {
		e.spend[asset] = new(big.Int)
		e.spendOrder = append(e.spendOrder, asset)
	}
	e.spend[asset].Add(e.spend[asset], amount)
}

// describe names the function a call invokes, for people.
func (e *evaluation) describe(data []byte) string {
	if len(data) == 0 {
		return "plain value transfer"
	}
	if len(data) < 4 {
		return "call"
	}
	var sel [4]byte
	copy(sel[:], data)
	if en := e.p.user.lookup(sel); en != nil {
		return en.fn.Signature
	}
	if en := builtins.lookup(sel); en != nil {
		return en.fn.Signature
	}
	return "function 0x" + hex.EncodeToString(sel[:])
}

func (e *evaluation) call(to common.Address, value *big.Int, data []byte, depth int) {
	fnName := e.describe(data)
	call := Call{Depth: depth, To: to.Hex(), Function: fnName}
	if depth == 0 {
		call.Value = value.String()
	}
	subject := fmt.Sprintf("%s on %s", fnName, shortAddr(to))
	if len(data) > 0 && len(data) < 4 {
		e.calls = append(e.calls, call)
		e.refuse(fmt.Sprintf("call to %s is not allowed: calldata of %d bytes has no 4-byte function selector", shortAddr(to), len(data)))
		return
	}
	var sel [4]byte
	if len(data) >= 4 {
		copy(sel[:], data)
		call.Selector = "0x" + hex.EncodeToString(sel[:])
	}
	// Spend is counted from the built-in ABIs whatever rule allows the
	// call, so a broad rule cannot hide a token transfer.
	bi := builtins.lookup(sel)
	var biArgs Args
	if bi != nil && len(data) >= 4 {
		args, err := DecodeArgs(bi.fn, data)
		if err != nil {
			e.calls = append(e.calls, call)
			e.refuse(fmt.Sprintf("%s is not allowed: its arguments cannot be decoded (%s)", subject, bound.Message(err.Error(), maxQuotedError)))
			return
		}
		biArgs = args
		call.Args = displayArgs(args)
		if bi.spend.Asset != "" {
			asset, amount, err := spendOf(bi.spend, to, args)
			if err != nil {
				e.calls = append(e.calls, call)
				e.refuse(fmt.Sprintf("%s is not allowed: cannot tell what it spends (%s)", subject, bound.Message(err.Error(), maxQuotedError)))
				return
			}
			e.addSpend(asset, amount)
		}
	}
	e.calls = append(e.calls, call)
	for _, r := range e.p.deny {
		if path, ok := r.match(to, sel, data, e.st.Vars); ok {
			reason := r.reason
			if reason == "" {
				reason = "denied by " + path
			}
			e.refuse(fmt.Sprintf("%s is not allowed: %s", subject, reason))
			return
		}
	}
	if bi != nil && bi.wrapper {
		e.wrapper(to, subject, biArgs, depth)
		return
	}
	if rule, ok := e.allowed(to, sel, data, subject); ok {
		e.rules = append(e.rules, fmt.Sprintf("%s allows %s", rule, subject))
	}
}

func (e *evaluation) wrapper(to common.Address, subject string, args Args, depth int) {
	if depth+1 >= maxWrapDepth {
		e.refuse(fmt.Sprintf("%s is not allowed: calls nested more than %d deep", subject, maxWrapDepth-1))
		return
	}
	raw, _ := args.Get("data")
	inner, _ := raw.([]any)
	switch {
	case len(inner) == 0:
		e.refuse(fmt.Sprintf("%s is not allowed: it contains no calls", subject))
		return
	case len(inner) > maxInnerCalls:
		e.refuse(fmt.Sprintf("%s is not allowed: %d inner calls, at most %d are checked", subject, len(inner), maxInnerCalls))
		return
	}
	for _, c := range inner {
		b, _ := c.([]byte)
		e.call(to, new(big.Int), b, depth+1)
	}
}

// allowed finds the first allow rule covering the call, or records why
// none does.
func (e *evaluation) allowed(to common.Address, sel [4]byte, data []byte, subject string) (string, bool) {
	var failures []string
	contractCovered, fnCovered := false, false
	for _, r := range e.p.allow {
		if !r.any && r.contract != to {
			continue
		}
		contractCovered = true
		for _, fr := range r.fns {
			if !fr.matches(sel, data) {
				continue
			}
			fnCovered = true
			fails := fr.check(data, e.st.Vars)
			if len(fails) == 0 {
				if r.name != "" {
					return fmt.Sprintf("%s (%s)", fr.path, r.name), true
				}
				return fr.path, true
			}
			failures = append(failures, fmt.Sprintf("%s is not allowed by %s: %s", subject, fr.path, strings.Join(fails, "; ")))
		}
	}
	switch {
	case !contractCovered:
		e.refuse(fmt.Sprintf("%s is not allowed: no rule allows contract %s", subject, to.Hex()))
	case !fnCovered:
		e.refuse(fmt.Sprintf("%s is not allowed: no rule allows this function on %s", subject, shortAddr(to)))
	default:
		e.reasons = append(e.reasons, failures...)
	}
	return "", false
}

func (fr *fnRule) matches(sel [4]byte, data []byte) bool {
	switch {
	case fr.anyFn:
		return true
	case fr.receive:
		return len(data) == 0
	}
	return len(data) >= 4 && sel == fr.sel
}

// check returns the conditions that fail; a condition that cannot be
// evaluated fails.
func (fr *fnRule) check(data []byte, vars Variables) []string {
	if len(fr.conds) == 0 {
		return nil
	}
	args, err := DecodeArgs(fr.fn, data)
	if err != nil {
		return []string{fmt.Sprintf("arguments cannot be decoded as %s (%v)", fr.fn.Signature, err)}
	}
	var fails []string
	for _, c := range fr.conds {
		v, _ := args.Get(c.path)
		if msg := c.check(v, vars); msg != "" {
			fails = append(fails, msg)
		}
	}
	return fails
}

// match reports whether a deny rule covers the call. When conditions
// cannot be evaluated the rule is taken to match: deny wins when unsure.
func (r *rule) match(to common.Address, sel [4]byte, data []byte, vars Variables) (string, bool) {
	if !r.any && r.contract != to {
		return "", false
	}
	for _, fr := range r.fns {
		if !fr.matches(sel, data) {
			continue
		}
		if len(fr.conds) == 0 {
			return fr.path, true
		}
		args, err := DecodeArgs(fr.fn, data)
		if err != nil {
			return fr.path, true
		}
		all := true
		for _, c := range fr.conds {
			v, _ := args.Get(c.path)
			if msg := c.check(v, vars); msg != "" {
				if strings.Contains(msg, "cannot be checked") {
					return fr.path, true
				}
				all = false
			}
		}
		if all {
			return fr.path, true
		}
	}
	return "", false
}

func displayArgs(a Args) []Arg {
	out := make([]Arg, 0, len(a.order))
	for _, path := range a.order {
		out = append(out, Arg{Name: path, Value: argString(a.values[path])})
	}
	return out
}

func argString(v any) string {
	switch x := v.(type) {
	case common.Address:
		return x.Hex()
	case *big.Int:
		return x.String()
	case []byte:
		return "0x" + hex.EncodeToString(x)
	case []any:
		parts := make([]string, len(x))
		for i, el := range x {
			parts[i] = argString(el)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// spendOf finds the asset and amount a built-in call spends.
func spendOf(r spendRule, to common.Address, args Args) (string, *big.Int, error) {
	raw, _ := args.Get(r.Amount)
	amount, ok := raw.(*big.Int)
	if !ok {
		return "", nil, fmt.Errorf("no amount %s", r.Amount)
	}
	var asset common.Address
	switch r.Asset {
	case "@target":
		asset = to
	case "@path0":
		raw, _ := args.Get("path")
		path, _ := raw.([]any)
		if len(path) < 2 {
			return "", nil, fmt.Errorf("swap path has %d tokens, expected at least 2", len(path))
		}
		asset, ok = path[0].(common.Address)
		if !ok {
			return "", nil, fmt.Errorf("swap path is not a list of addresses")
		}
	case "@v3first", "@v3last":
		raw, _ := args.Get(r.PathArg)
		path, _ := raw.([]byte)
		if len(path) < 43 || (len(path)-20)%23 != 0 {
			return "", nil, fmt.Errorf("packed swap path of %d bytes is malformed", len(path))
		}
		if r.Asset == "@v3first" {
			asset = common.BytesToAddress(path[:20])
		} else {
			asset = common.BytesToAddress(path[len(path)-20:])
		}
	default:
		raw, _ := args.Get(r.Asset)
		asset, ok = raw.(common.Address)
		if !ok {
			return "", nil, fmt.Errorf("no token address %s", r.Asset)
		}
	}
	return strings.ToLower(asset.Hex()), amount, nil
}

// checkLimits compares what the request spends with the caps.
func (e *evaluation) checkLimits() {
	for _, asset := range e.spendOrder {
		amount := e.spend[asset]
		lim, ok := e.p.limits[asset]
		if !ok {
			if asset == Native {
				e.refuse(fmt.Sprintf("spends %s ETH but the policy sets no limit for ETH; add a limit for asset native", FormatAmount(amount, 18)))
			} else {
				e.refuse(fmt.Sprintf("spends %s base units of token %s but the policy sets no limit for it; add a limit for that token", amount, common.HexToAddress(asset).Hex()))
			}
			continue
		}
		if lim.PerTx != nil && amount.Cmp(lim.PerTx) > 0 {
			e.refuse(fmt.Sprintf("spends %s %s, over the per-transaction limit of %s %s",
				FormatAmount(amount, lim.Decimals), lim.Symbol, FormatAmount(lim.PerTx, lim.Decimals), lim.Symbol))
		}
		if lim.PerPeriod != nil {
			used := e.used(asset)
			if new(big.Int).Add(used, amount).Cmp(lim.PerPeriod) > 0 {
				e.refuse(fmt.Sprintf("spends %s %s, over the limit of %s %s per %s: %s already used, %s left",
					FormatAmount(amount, lim.Decimals), lim.Symbol, FormatAmount(lim.PerPeriod, lim.Decimals), lim.Symbol,
					formatDuration(lim.Period), FormatAmount(used, lim.Decimals), FormatAmount(left(lim.PerPeriod, used), lim.Decimals)))
			}
		}
	}
	e.checkFee()
}

// feeAsset is the budget fees count against: Fees if the policy limits
// them, else Native.
func (e *evaluation) feeAsset() string {
	if _, ok := e.p.limits[Fees]; ok {
		return Fees
	}
	return Native
}

// checkFee compares the transaction's worst-case fee with the fee limit,
// or with the native period cap on top of the value the request moves.
func (e *evaluation) checkFee() {
	if e.fee == nil {
		return
	}
	fee := FormatAmount(e.fee, 18)
	lim, ok := e.p.limits[e.feeAsset()]
	switch {
	case !ok:
		e.refuse(fmt.Sprintf("fees of up to %s ETH need a budget, but the policy sets no limit for ETH or for fees; add a limit for asset native or fees", fee))
	case lim.Asset == Fees:
		if lim.PerTx != nil && e.fee.Cmp(lim.PerTx) > 0 {
			e.refuse(fmt.Sprintf("fees of up to %s ETH exceed the per-transaction fee limit of %s ETH", fee, FormatAmount(lim.PerTx, 18)))
		}
		if lim.PerPeriod != nil {
			used := e.used(Fees)
			if new(big.Int).Add(used, e.fee).Cmp(lim.PerPeriod) > 0 {
				e.refuse(fmt.Sprintf("fees of up to %s ETH would exceed the fee limit of %s ETH per %s: %s ETH already used, %s ETH left",
					fee, FormatAmount(lim.PerPeriod, 18), formatDuration(lim.Period), FormatAmount(used, 18), FormatAmount(left(lim.PerPeriod, used), 18)))
			}
		}
	case lim.PerPeriod != nil:
		// Value over the cap is reported by checkLimits; here the fee is
		// what tips the request over.
		used := e.used(Native)
		value := e.spend[Native]
		if value == nil {
			value = new(big.Int)
		}
		withValue := new(big.Int).Add(used, value)
		if withValue.Cmp(lim.PerPeriod) > 0 || new(big.Int).Add(withValue, e.fee).Cmp(lim.PerPeriod) <= 0 {
			return
		}
		after := ""
		if value.Sign() > 0 {
			after = fmt.Sprintf(" after this transaction's value of %s ETH", FormatAmount(value, 18))
		}
		e.refuse(fmt.Sprintf("fees of up to %s ETH would exceed the limit of %s ETH per %s: %s ETH already used, %s ETH left%s",
			fee, FormatAmount(lim.PerPeriod, 18), formatDuration(lim.Period), FormatAmount(used, 18), FormatAmount(left(lim.PerPeriod, withValue), 18), after))
	}
}

// used is what was spent of asset in its current period.
func (e *evaluation) used(asset string) *big.Int {
	if v := e.st.Spent[asset]; v != nil {
		return v
	}
	return new(big.Int)
}

// left is what remains of limit after used, never below zero.
func left(limit, used *big.Int) *big.Int {
	l := new(big.Int).Sub(limit, used)
	if l.Sign() < 0 {
		l.SetInt64(0)
	}
	return l
}

func (e *evaluation) spends() []Spend {
	out := make([]Spend, 0, len(e.spendOrder))
	for _, asset := range e.spendOrder {
		s := Spend{Asset: asset, Amount: new(big.Int).Set(e.spend[asset])}
		if lim, ok := e.p.limits[asset]; ok {
			s.Symbol, s.Decimals = lim.Symbol, lim.Decimals
		} else if asset == Native {
			s.Symbol, s.Decimals = "ETH", 18
		}
		out = append(out, s)
	}
	if e.fee != nil {
		out = append(out, Spend{Asset: e.feeAsset(), Symbol: "ETH", Decimals: 18, Amount: new(big.Int).Set(e.fee), Fee: true})
	}
	return out
}
