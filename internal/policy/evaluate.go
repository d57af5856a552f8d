package policy

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
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
//
// The decision's verdict and spend are final when it returns; its trace
// (the rule that allowed it, every reason it was refused, the decoded
// calls) is written out when asked for, from the evaluation's own copies
// of the calldata and amounts. A typed-data request's document is read
// again then, so it must not change in between.
func (p *Policy) Evaluate(req Request, st State) Decision {
	e := &evaluation{p: p, vars: st.Vars}
	e.init()
	e.global(req, st)
	switch req.Kind {
	case KindRead:
		method := req.Method
		e.allow(note{lazy: func() string {
			return fmt.Sprintf("read method %s: every valid key may read through the proxy", orUnknown(method))
		}})
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
		kind := string(req.Kind)
		e.refusef(func() string { return fmt.Sprintf("unknown request kind %s", bound.Quote(kind)) })
	}
	e.checkLimits(st.Spent)
	d := Decision{Verdict: Allow, Spend: e.spendList(), trace: e}
	if len(e.reasons) > 0 {
		d.Verdict = Deny
	}
	return d
}

func orUnknown(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return s
}

// An evaluation decides one request and keeps what its trace needs. It
// has room inside for a typical request, so that deciding one allocates
// little more than the evaluation itself.
type evaluation struct {
	p       *Policy
	vars    Variables
	reasons []reason  // why the request is refused, in order
	notes   []note    // what allowed it
	calls   []callRec // every call, outer before inner
	spends  []*spendEntry
	value   big.Int  // the transaction's value, for the trace
	fee     *big.Int // the transaction's worst-case fee, if charged
	feeAmt  big.Int
	amount  big.Int // a call's spend as read; then scratch for checkFee
	sum     big.Int // spent so far plus this request

	callBuf   [1]callRec
	noteBuf   [1]note
	reasonBuf [1]reason
	spendPtrs [2]*spendEntry
	spendBuf  [2]spendEntry
	spendOut  [3]Spend
	// Without pointers, last: the collector need not look at them.
	words   [4][5]big.Word
	dataBuf [384]byte
}

func (e *evaluation) init() {
	e.calls, e.notes, e.reasons, e.spends = e.callBuf[:0], e.noteBuf[:0], e.reasonBuf[:0], e.spendPtrs[:0]
	for i, z := range []*big.Int{&e.value, &e.feeAmt, &e.amount, &e.sum} {
		z.SetBits(e.words[i][:0])
	}
}

// A reason is one reason for a refusal: fixed words, or words written
// when asked for.
type reason struct {
	text string
	lazy func() string
}

func (r reason) words() string {
	if r.lazy != nil {
		return r.lazy()
	}
	return r.text
}

func (e *evaluation) refuse(text string)          { e.reasons = append(e.reasons, reason{text: text}) }
func (e *evaluation) refusef(words func() string) { e.reasons = append(e.reasons, reason{lazy: words}) }

// A note says what allowed part of the request: a rule function that
// allowed a call, or words.
type note struct {
	call int // index into calls, with rf
	rf   ruleFn
	text string
	lazy func() string
}

func (e *evaluation) allow(n note) { e.notes = append(e.notes, n) }

func (e *evaluation) noteWords(n note) string {
	switch {
	case n.lazy != nil:
		return n.lazy()
	case n.rf.fr == nil:
		return n.text
	}
	path := n.rf.fr.path
	if n.rf.r.name != "" {
		path = fmt.Sprintf("%s (%s)", path, n.rf.r.name)
	}
	c := e.calls[n.call]
	return fmt.Sprintf("%s allows %s", path, e.subject(c.to, c.data))
}

// callRec is one call of the transaction, as the trace shows it.
type callRec struct {
	depth int
	to    common.Address
	data  []byte // a slice of the evaluation's copy of the calldata
	args  bool   // a built-in function's arguments decoded: the trace shows them
}

// spendEntry is what the request spends of one asset.
type spendEntry struct {
	asset  string
	lim    *Limit // nil: the policy sets none
	amount big.Int
	words  [5]big.Word
}

func (e *evaluation) global(req Request, st State) {
	p := e.p
	if !p.chains[req.ChainID] {
		id := req.ChainID
		e.refusef(func() string {
			return fmt.Sprintf("chain %d is not allowed: this key signs only for chain %s", id, chainList(p.doc.Chains))
		})
	}
	if req.From != nil && *req.From != st.Vars.Owner {
		from, owner := *req.From, st.Vars.Owner
		e.refusef(func() string { return fmt.Sprintf("from %s is not this key's account %s", from.Hex(), owner.Hex()) })
	}
	issued := st.IssuedAt
	if issued.IsZero() {
		issued = st.Now
	}
	notBefore, notAfter := p.Window(issued)
	if st.Now.Before(notBefore) {
		e.refusef(func() string {
			return fmt.Sprintf("this key is not valid until %s", notBefore.UTC().Format(time.RFC3339))
		})
	}
	if !st.Now.Before(notAfter) {
		e.refusef(func() string { return fmt.Sprintf("this key expired at %s", notAfter.UTC().Format(time.RFC3339)) })
	}
	if s := p.schedule; s != nil && !s.allows(st.Now) {
		now := st.Now
		e.refusef(func() string {
			sd := p.doc.Schedule
			return fmt.Sprintf("outside the key's schedule: %s %s in %s (it is %s there now)",
				strings.Join(sd.Days, ","), orAllDay(sd.Hours), sd.Timezone, now.In(s.loc).Format("Mon 15:04"))
		})
	}
	if r := p.rate; r != nil && st.Requests >= r.Max {
		e.refusef(func() string {
			return fmt.Sprintf("rate limit reached: at most %d requests per %s", r.Max, formatDuration(r.Per))
		})
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
			e.refusef(func() string {
				return fmt.Sprintf("the caller's address is unknown; this key only accepts requests from %s", strings.Join(p.doc.Network.AllowCIDRs, ", "))
			})
		case !allowed:
			e.refusef(func() string {
				return fmt.Sprintf("requests from %s are not allowed: this key only accepts %s", ip, strings.Join(p.doc.Network.AllowCIDRs, ", "))
			})
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
	if tx.Value != nil {
		if tx.Value.Sign() < 0 {
			e.refuse("value is negative")
			return
		}
		e.value.Set(tx.Value)
		e.addSpend(Native, e.p.limits[Native], tx.Value)
	}
	if tx.MaxFee != nil {
		if tx.MaxFee.Sign() < 0 {
			e.refuse("the transaction's maximum fee is negative")
			return
		}
		if tx.MaxFee.Sign() > 0 {
			e.fee = e.feeAmt.Set(tx.MaxFee)
		}
	}
	e.call(*tx.To, e.own(tx.Data), 0)
}

// own copies the calldata, so the trace shows what was decided whatever
// the caller does with its buffer afterwards.
func (e *evaluation) own(data []byte) []byte {
	if len(data) <= len(e.dataBuf) {
		n := copy(e.dataBuf[:], data)
		return e.dataBuf[:n:n]
	}
	return bytes.Clone(data)
}

// addSpend counts amount of asset, whose limit is lim (nil for none);
// assets keep the order they were first spent in.
func (e *evaluation) addSpend(asset string, lim *Limit, amount *big.Int) {
	if amount.Sign() <= 0 {
		return
	}
	for _, s := range e.spends {
		if s.asset == asset {
			s.amount.Add(&s.amount, amount)
			return
		}
	}
	var s *spendEntry
	if n := len(e.spends); n < len(e.spendBuf) {
		s = &e.spendBuf[n]
	} else {
		s = new(spendEntry)
	}
	s.asset, s.lim = asset, lim
	s.amount.SetBits(s.words[:0]).Add(&s.amount, amount)
	e.spends = append(e.spends, s)
}

// addToken counts amount of a token; its asset key is its lowercase 0x
// address.
func (e *evaluation) addToken(a common.Address, amount *big.Int) {
	if lim := e.p.tokenLimits[a]; lim != nil {
		e.addSpend(lim.Asset, lim, amount)
		return
	}
	e.addSpend(strings.ToLower(a.Hex()), nil, amount)
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

// subject is how reasons name a call: its function and target.
func (e *evaluation) subject(to common.Address, data []byte) string {
	h := e.p.hex(to)
	return e.describe(data) + " on " + h[:6] + "…" + h[len(h)-4:]
}

func (e *evaluation) call(to common.Address, data []byte, depth int) {
	ci := len(e.calls)
	e.calls = append(e.calls, callRec{depth: depth, to: to, data: data})
	if len(data) > 0 && len(data) < 4 {
		e.refusef(func() string {
			return fmt.Sprintf("call to %s is not allowed: calldata of %d bytes has no 4-byte function selector", shortAddr(to), len(data))
		})
		return
	}
	var sel [4]byte
	if len(data) >= 4 {
		copy(sel[:], data)
	}
	ca := callArgs{data: data}
	// Spend is counted from the built-in ABIs whatever rule allows the
	// call, so a broad rule cannot hide a token transfer.
	bi := builtins.lookup(sel)
	if bi != nil && len(data) >= 4 {
		if !ca.decode(bi.fn) {
			e.refusef(func() string {
				return fmt.Sprintf("%s is not allowed: its arguments cannot be decoded (%s)", e.subject(to, data), bound.Message(decodeError(bi.fn, data), maxQuotedError))
			})
			return
		}
		e.calls[ci].args = true
		if bi.spend.Asset != "" {
			asset, err := bi.spendAt(to, ca.args(), &e.amount)
			if err != nil {
				e.refusef(func() string {
					return fmt.Sprintf("%s is not allowed: cannot tell what it spends (%s)", e.subject(to, data), bound.Message(err.Error(), maxQuotedError))
				})
				return
			}
			e.addToken(asset, &e.amount)
		}
	}
	deny, _ := e.p.denyIndex.find(to, sel, len(data) > 0)
	for _, c := range deny {
		if c.fr.denies(&ca, e.vars) {
			e.refusef(func() string {
				why := c.r.reason
				if why == "" {
					why = "denied by " + c.fr.path
				}
				return fmt.Sprintf("%s is not allowed: %s", e.subject(to, data), why)
			})
			return
		}
	}
	if bi != nil && bi.wrapper {
		e.wrapper(to, data, bi, ca.leaves()[bi.dataLeaf], depth)
		return
	}
	allow, covered := e.p.allowIndex.find(to, sel, len(data) > 0)
	for _, c := range allow {
		if c.fr.allows(&ca, e.vars) {
			e.allow(note{call: ci, rf: c})
			return
		}
	}
	switch {
	case !covered:
		e.refusef(func() string {
			return fmt.Sprintf("%s is not allowed: no rule allows contract %s", e.subject(to, data), to.Hex())
		})
	case len(allow) == 0:
		e.refusef(func() string {
			return fmt.Sprintf("%s is not allowed: no rule allows this function on %s", e.subject(to, data), shortAddr(to))
		})
	default:
		for _, c := range allow {
			e.refusef(func() string {
				return fmt.Sprintf("%s is not allowed by %s: %s", e.subject(to, data), c.fr.path, strings.Join(c.fr.check(data, e.vars), "; "))
			})
		}
	}
}

// decodeError is why DecodeArgs refuses calldata, in its words.
func decodeError(fn *Function, data []byte) string {
	if _, err := DecodeArgs(fn, data); err != nil {
		return err.Error()
	}
	return ErrNonCanonical.Error()
}

// wrapper checks the inner calls of a multicall whose bytes[] argument
// lies at offset at of its arguments.
func (e *evaluation) wrapper(to common.Address, data []byte, bi *entry, at, depth int) {
	if depth+1 >= maxWrapDepth {
		e.refusef(func() string {
			return fmt.Sprintf("%s is not allowed: calls nested more than %d deep", e.subject(to, data), maxWrapDepth-1)
		})
		return
	}
	n := int(binary.BigEndian.Uint64(data[4+at+24 : 4+at+32]))
	switch {
	case n == 0:
		e.refusef(func() string { return fmt.Sprintf("%s is not allowed: it contains no calls", e.subject(to, data)) })
		return
	case n > maxInnerCalls:
		e.refusef(func() string {
			return fmt.Sprintf("%s is not allowed: %d inner calls, at most %d are checked", e.subject(to, data), n, maxInnerCalls)
		})
		return
	}
	// Room for the inner calls and the rules allowing them at once.
	e.calls, e.notes = slices.Grow(e.calls, n), slices.Grow(e.notes, n)
	for i := range n {
		e.call(to, bytesAt(data[4:], at, i), depth+1)
	}
}

// callArgs decodes a call's calldata once per argument shape: the
// built-in function's decoding serves the rules' conditions on the same
// function.
type callArgs struct {
	data []byte
	sig  string // the signature the leaves were found for
	ok   bool
	n    int
	buf  [16]int
	more []int // for functions of more leaves
}

func (c *callArgs) decode(fn *Function) bool {
	if c.sig != "" && c.sig == fn.Signature {
		return c.ok
	}
	c.sig, c.n, c.more = fn.Signature, fn.layout.leaves, nil
	if c.n > len(c.buf) {
		c.more = make([]int, c.n)
	}
	c.ok = fn.layout.decode(c.data, c.leaves())
	return c.ok
}

func (c *callArgs) leaves() []int {
	if c.more != nil {
		return c.more
	}
	return c.buf[:c.n]
}

func (c *callArgs) args() args { return args{buf: c.data[4:], at: c.leaves()} }

// allows reports whether every condition of an allow rule's function
// holds for the call.
func (fr *fnRule) allows(c *callArgs, vars Variables) bool {
	if len(fr.conds) == 0 {
		return true
	}
	if fr.fn.layout == nil {
		return len(fr.check(c.data, vars)) == 0
	}
	if !c.decode(fr.fn) {
		return false
	}
	a := c.args()
	for _, cd := range fr.conds {
		if holds, ok := cd.holdsFor(a.word(cd.leaf), vars); !holds || !ok {
			return false
		}
	}
	return true
}

// denies reports whether a deny rule's function covers the call. When
// its conditions cannot be evaluated it does: deny wins when unsure.
func (fr *fnRule) denies(c *callArgs, vars Variables) bool {
	if len(fr.conds) == 0 {
		return true
	}
	if fr.fn.layout == nil {
		return fr.deniesDecoded(c.data, vars)
	}
	if !c.decode(fr.fn) {
		return true
	}
	a := c.args()
	all := true
	for _, cd := range fr.conds {
		holds, ok := cd.holdsFor(a.word(cd.leaf), vars)
		if !ok {
			return true
		}
		all = all && holds
	}
	return all
}

// deniesDecoded is denies for functions without a layout.
func (fr *fnRule) deniesDecoded(data []byte, vars Variables) bool {
	args, err := DecodeArgs(fr.fn, data)
	if err != nil {
		return true
	}
	all := true
	for _, c := range fr.conds {
		v, _ := args.Get(c.path)
		if msg := c.check(v, vars); msg != "" {
			if strings.Contains(msg, "cannot be checked") {
				return true
			}
			all = false
		}
	}
	return all
}

// check returns the conditions that fail, in words; a condition that
// cannot be evaluated fails.
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

func (p *Policy) displayArgs(a Args) []Arg {
	out := make([]Arg, 0, len(a.order))
	for _, path := range a.order {
		out = append(out, Arg{Name: path, Value: p.argString(a.values[path])})
	}
	return out
}

func (p *Policy) argString(v any) string {
	switch x := v.(type) {
	case common.Address:
		return p.hex(x)
	case *big.Int:
		return x.String()
	case []byte:
		return "0x" + hex.EncodeToString(x)
	case []any:
		parts := make([]string, len(x))
		for i, el := range x {
			parts[i] = p.argString(el)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// zero is what nothing spent reads as; never written.
var zero = new(big.Int)

// used is what was spent of asset in its current period.
func used(spent map[string]*big.Int, asset string) *big.Int {
	if v := spent[asset]; v != nil {
		return v
	}
	return zero
}

// checkLimits compares what the request spends with the caps.
func (e *evaluation) checkLimits(spent map[string]*big.Int) {
	for _, s := range e.spends {
		asset, amount, lim := s.asset, &s.amount, s.lim
		if lim == nil {
			amount := new(big.Int).Set(amount)
			if asset == Native {
				e.refusef(func() string {
					return fmt.Sprintf("spends %s ETH but the policy sets no limit for ETH; add a limit for asset native", FormatAmount(amount, 18))
				})
			} else {
				e.refusef(func() string {
					return fmt.Sprintf("spends %s base units of token %s but the policy sets no limit for it; add a limit for that token", amount, common.HexToAddress(asset).Hex())
				})
			}
			continue
		}
		if lim.PerTx != nil && amount.Cmp(lim.PerTx) > 0 {
			amount := new(big.Int).Set(amount)
			e.refusef(func() string {
				return fmt.Sprintf("spends %s %s, over the per-transaction limit of %s %s",
					FormatAmount(amount, lim.Decimals), lim.Symbol, FormatAmount(lim.PerTx, lim.Decimals), lim.Symbol)
			})
		}
		if lim.PerPeriod != nil {
			u := used(spent, asset)
			if e.sum.Add(u, amount).Cmp(lim.PerPeriod) > 0 {
				amount, u := new(big.Int).Set(amount), new(big.Int).Set(u)
				e.refusef(func() string {
					return fmt.Sprintf("spends %s %s, over the limit of %s %s per %s: %s already used, %s left",
						FormatAmount(amount, lim.Decimals), lim.Symbol, FormatAmount(lim.PerPeriod, lim.Decimals), lim.Symbol,
						formatDuration(lim.Period), FormatAmount(u, lim.Decimals), FormatAmount(left(lim.PerPeriod, u), lim.Decimals))
				})
			}
		}
	}
	e.checkFee(spent)
}

// feeAsset is the budget fees count against: Fees if the policy limits
// them, else Native.
func (e *evaluation) feeAsset() string {
	if _, ok := e.p.limits[Fees]; ok {
		return Fees
	}
	return Native
}

// spent is what the request spends of asset so far.
func (e *evaluation) spent(asset string) *big.Int {
	for _, s := range e.spends {
		if s.asset == asset {
			return &s.amount
		}
	}
	return zero
}

// checkFee compares the transaction's worst-case fee with the fee limit,
// or with the native period cap on top of the value the request moves.
func (e *evaluation) checkFee(spent map[string]*big.Int) {
	if e.fee == nil {
		return
	}
	lim, ok := e.p.limits[e.feeAsset()]
	switch {
	case !ok:
		fee := new(big.Int).Set(e.fee)
		e.refusef(func() string {
			return fmt.Sprintf("fees of up to %s ETH need a budget, but the policy sets no limit for ETH or for fees; add a limit for asset native or fees", FormatAmount(fee, 18))
		})
	case lim.Asset == Fees:
		if lim.PerTx != nil && e.fee.Cmp(lim.PerTx) > 0 {
			fee := new(big.Int).Set(e.fee)
			e.refusef(func() string {
				return fmt.Sprintf("fees of up to %s ETH exceed the per-transaction fee limit of %s ETH", FormatAmount(fee, 18), FormatAmount(lim.PerTx, 18))
			})
		}
		if lim.PerPeriod != nil {
			u := used(spent, Fees)
			if e.sum.Add(u, e.fee).Cmp(lim.PerPeriod) > 0 {
				fee, u := new(big.Int).Set(e.fee), new(big.Int).Set(u)
				e.refusef(func() string {
					return fmt.Sprintf("fees of up to %s ETH would exceed the fee limit of %s ETH per %s: %s ETH already used, %s ETH left",
						FormatAmount(fee, 18), FormatAmount(lim.PerPeriod, 18), formatDuration(lim.Period), FormatAmount(u, 18), FormatAmount(left(lim.PerPeriod, u), 18))
				})
			}
		}
	case lim.PerPeriod != nil:
		// Value over the cap is reported by checkLimits; here the fee is
		// what tips the request over.
		u, value := used(spent, Native), e.spent(Native)
		withValue := e.sum.Add(u, value)
		if withValue.Cmp(lim.PerPeriod) > 0 || e.amount.Add(withValue, e.fee).Cmp(lim.PerPeriod) <= 0 {
			return
		}
		fee, u, value, withValue := new(big.Int).Set(e.fee), new(big.Int).Set(u), new(big.Int).Set(value), new(big.Int).Set(withValue)
		e.refusef(func() string {
			after := ""
			if value.Sign() > 0 {
				after = fmt.Sprintf(" after this transaction's value of %s ETH", FormatAmount(value, 18))
			}
			return fmt.Sprintf("fees of up to %s ETH would exceed the limit of %s ETH per %s: %s ETH already used, %s ETH left%s",
				FormatAmount(fee, 18), FormatAmount(lim.PerPeriod, 18), formatDuration(lim.Period), FormatAmount(u, 18), FormatAmount(left(lim.PerPeriod, withValue), 18), after)
		})
	}
}

// left is what remains of limit after used, never below zero.
func left(limit, used *big.Int) *big.Int {
	l := new(big.Int).Sub(limit, used)
	if l.Sign() < 0 {
		l.SetInt64(0)
	}
	return l
}

// spendList is the decision's spend. Its amounts are the evaluation's.
func (e *evaluation) spendList() []Spend {
	out := e.spendOut[:0]
	for _, s := range e.spends {
		sp := Spend{Asset: s.asset, Amount: &s.amount}
		if s.lim != nil {
			sp.Symbol, sp.Decimals = s.lim.Symbol, s.lim.Decimals
		} else if s.asset == Native {
			sp.Symbol, sp.Decimals = "ETH", 18
		}
		out = append(out, sp)
	}
	if e.fee != nil {
		out = append(out, Spend{Asset: e.feeAsset(), Symbol: "ETH", Decimals: 18, Amount: e.fee, Fee: true})
	}
	return out
}
