package policy

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// Options supply what compiling a policy may need from outside, so the
// package itself stays free of I/O.
type Options struct {
	// ReadFile loads ABI files named in abis[].file. Nil refuses them.
	ReadFile func(name string) ([]byte, error)
	// TokenDecimals gives an ERC-20 token's decimals when a limit does
	// not state them (the daemon reads them from the chain). Nil means
	// limits must state them.
	TokenDecimals func(token common.Address) (uint8, error)
}

// Native is the asset key of the chain's native currency.
const Native = "native"

// Fees is the asset key of a limit on transaction fees (paid in the native
// currency). Without one, fees count against the Native limit.
const Fees = "fees"

// DefaultValidity is how long a key lives when the policy names no window.
const DefaultValidity = 24 * time.Hour

// Policy is a compiled, validated policy. It is immutable and safe for
// concurrent use.
type Policy struct {
	doc        Document
	chains     map[uint64]bool
	validFrom  time.Time
	validFor   time.Duration
	validUntil time.Time
	schedule   *schedule
	limits     map[string]*Limit
	rate       *Rate
	cidrs      []netip.Prefix
	user       *registry
	allow      []*rule
	deny       []*rule
	allowIndex *ruleIndex
	denyIndex  *ruleIndex
	// tokenLimits finds a token's limit by address, so a decision names
	// a spent token without formatting its address.
	tokenLimits map[common.Address]*Limit
	// checksums are the EIP-55 forms of the addresses the policy names,
	// which traces show often: each costs a Keccak hash to write.
	checksums  map[common.Address]string
	typed      []*typedRule
	messages   MessagesDoc
	staleAfter time.Duration
	anomalies  Anomalies
}

// Limit is a compiled spending cap for one asset, in base units.
type Limit struct {
	Asset     string // Native or a lowercase 0x address
	Symbol    string
	Decimals  uint8
	PerTx     *big.Int      // nil: no per-transaction cap
	PerPeriod *big.Int      // nil: no period cap
	Period    time.Duration // length of a budget period
}

// Rate caps requests per sliding window.
type Rate struct {
	Max int
	Per time.Duration
}

type rule struct {
	path     string
	any      bool
	contract common.Address
	name     string
	reason   string
	fns      []*fnRule
}

type fnRule struct {
	path    string
	anyFn   bool
	receive bool
	sel     [4]byte
	fn      *Function // nil for a bare selector
	conds   []*cond
}

type typedRule struct {
	path        string
	doc         TypedRuleDoc
	verifying   *common.Address
	primaryType string
	conds       []*cond
}

// Document returns the normalised document the policy was compiled from.
func (p *Policy) Document() *Document {
	d := p.doc
	return &d
}

// Name is the policy's name.
func (p *Policy) Name() string { return p.doc.Name }

// Warning is a caution to show whenever the policy is displayed.
func (p *Policy) Warning() string { return p.doc.Warning }

// Chains lists the chain ids the policy signs for.
func (p *Policy) Chains() []uint64 { return append([]uint64(nil), p.doc.Chains...) }

// Limits lists the spending caps in document order.
func (p *Policy) Limits() []Limit {
	out := make([]Limit, 0, len(p.limits))
	for _, l := range p.doc.Limits {
		out = append(out, *p.limits[assetKey(l.Asset)])
	}
	return out
}

// Limit returns the cap for an asset (Native or a 0x address).
func (p *Policy) Limit(asset string) (Limit, bool) {
	l, ok := p.limits[assetKey(asset)]
	if !ok {
		return Limit{}, false
	}
	return *l, true
}

// RateLimit returns the request rate cap, if any.
func (p *Policy) RateLimit() (Rate, bool) {
	if p.rate == nil {
		return Rate{}, false
	}
	return *p.rate, true
}

// Window gives the validity window of a key issued at issuedAt.
func (p *Policy) Window(issuedAt time.Time) (notBefore, notAfter time.Time) {
	notBefore = issuedAt
	if !p.validFrom.IsZero() && p.validFrom.After(issuedAt) {
		notBefore = p.validFrom
	}
	if !p.validUntil.IsZero() {
		return notBefore, p.validUntil
	}
	return notBefore, notBefore.Add(p.validFor)
}

// PeriodStart returns the start of the budget period containing now, for
// periods of length period counted from anchor (the key's issue time).
// Periods are fixed windows so the on-chain delegate can enforce the very
// same budget.
func PeriodStart(anchor, now time.Time, period time.Duration) time.Time {
	if period <= 0 || now.Before(anchor) {
		return anchor
	}
	n := now.Sub(anchor) / period
	return anchor.Add(n * period)
}

func assetKey(a string) string {
	return strings.ToLower(a) // Native and Fees are lowercase
}

// Parse reads and compiles a policy in one step.
func Parse(data []byte, opts Options) (*Policy, error) {
	d, err := ParseDocument(data)
	if err != nil {
		return nil, err
	}
	return Compile(d, opts)
}

// Compile validates a document and builds the policy. Every error is a
// *FieldError naming the field and what was expected.
func Compile(d *Document, opts Options) (*Policy, error) {
	c := &compiler{opts: opts, p: &Policy{chains: map[uint64]bool{}, limits: map[string]*Limit{}, tokenLimits: map[common.Address]*Limit{}}}
	c.p.doc = Document{Name: d.Name, Description: d.Description, Profile: d.Profile, Warning: d.Warning}
	steps := []func(*Document) error{c.header, c.validity, c.scheduleStep, c.limitsStep, c.rateStep, c.networkStep,
		c.abisStep, c.rulesStep, c.typedStep, c.messagesStep, c.anomaliesStep}
	for _, step := range steps {
		if err := step(d); err != nil {
			return nil, err
		}
	}
	c.p.checksums = map[common.Address]string{}
	for _, r := range append(c.p.allow[:len(c.p.allow):len(c.p.allow)], c.p.deny...) {
		c.p.remember(r.contract)
		for _, fr := range r.fns {
			for _, cd := range fr.conds {
				for _, o := range cd.args {
					if o.addr != nil {
						c.p.remember(*o.addr)
					}
				}
			}
		}
	}
	for a := range c.p.tokenLimits {
		c.p.remember(a)
	}
	return c.p, nil
}

func (p *Policy) remember(a common.Address) { p.checksums[a] = a.Hex() }

// hex is a.Hex(), from memory for the addresses the policy names.
func (p *Policy) hex(a common.Address) string {
	if h, ok := p.checksums[a]; ok {
		return h
	}
	return a.Hex()
}

type compiler struct {
	opts Options
	p    *Policy
}

func ferr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (c *compiler) header(d *Document) error {
	if strings.TrimSpace(d.Name) == "" {
		return ferr("name", "required: give the policy a name")
	}
	if len(d.Chains) == 0 {
		return ferr("chains", "required: list the chain ids this key may sign for, like [1] or [31337]")
	}
	for i, id := range d.Chains {
		if id == 0 {
			return ferr(fmt.Sprintf("chains[%d]", i), "chain id 0 is not a chain; signatures must be bound to one chain")
		}
		if c.p.chains[id] {
			return ferr(fmt.Sprintf("chains[%d]", i), "chain %d is listed twice", id)
		}
		c.p.chains[id] = true
		c.p.doc.Chains = append(c.p.doc.Chains, id)
	}
	return nil
}

// ParseDuration accepts Go durations plus whole days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("expected a duration like 30m, 24h or 7d, got %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("expected a duration like 30m, 24h or 7d, got %q", s)
	}
	return v, nil
}

func positiveDuration(field, s string) (time.Duration, error) {
	v, err := ParseDuration(s)
	if err != nil {
		return 0, ferr(field, "%v", err)
	}
	if v <= 0 {
		return 0, ferr(field, "must be longer than zero, got %q", s)
	}
	return v, nil
}

// FormatDuration prints a duration as policies write it: 30m, 24h, 7d.
func FormatDuration(d time.Duration) string { return formatDuration(d) }

func formatDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 && d > 24*time.Hour {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	s = strings.Replace(s, "m0s", "m", 1)
	s = strings.Replace(s, "h0m", "h", 1)
	return s
}

func (c *compiler) validity(d *Document) error {
	p := c.p
	if d.ValidFrom != "" {
		t, err := time.Parse(time.RFC3339, d.ValidFrom)
		if err != nil {
			return ferr("valid_from", "expected an RFC 3339 time like 2026-12-01T00:00:00Z, got %q", d.ValidFrom)
		}
		p.validFrom = t.UTC()
		p.doc.ValidFrom = p.validFrom.Format(time.RFC3339)
	}
	switch {
	case d.ValidFor != "" && d.ValidUntil != "":
		return ferr("valid_until", "set either valid_for or valid_until, not both")
	case d.ValidUntil != "":
		t, err := time.Parse(time.RFC3339, d.ValidUntil)
		if err != nil {
			return ferr("valid_until", "expected an RFC 3339 time like 2026-12-01T00:00:00Z, got %q", d.ValidUntil)
		}
		p.validUntil = t.UTC()
		if !p.validFrom.IsZero() && !p.validUntil.After(p.validFrom) {
			return ferr("valid_until", "%s is not after valid_from %s: the key could never be used", p.doc.ValidFrom, d.ValidFrom)
		}
		p.doc.ValidUntil = p.validUntil.Format(time.RFC3339)
	default:
		v := DefaultValidity
		if d.ValidFor != "" {
			var err error
			if v, err = positiveDuration("valid_for", d.ValidFor); err != nil {
				return err
			}
		}
		p.validFor = v
		p.doc.ValidFor = formatDuration(v)
	}
	return nil
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

type schedule struct {
	loc        *time.Location
	days       [7]bool
	start, end int // minutes after midnight; end may be < start (overnight)
}

func (c *compiler) scheduleStep(d *Document) error {
	if d.Schedule == nil {
		return nil
	}
	s := &schedule{}
	doc := ScheduleDoc{Timezone: d.Schedule.Timezone}
	if doc.Timezone == "" {
		return ferr("schedule.timezone", "required: name an IANA time zone like Europe/Berlin or UTC")
	}
	loc, err := time.LoadLocation(doc.Timezone)
	if err != nil {
		return ferr("schedule.timezone", "unknown time zone %q; expected an IANA name like Europe/Berlin or UTC", doc.Timezone)
	}
	s.loc = loc
	if d.Schedule.Days == nil {
		for i := range s.days {
			s.days[i] = true
		}
	} else if len(d.Schedule.Days) == 0 {
		return ferr("schedule.days", "empty: the key could never be used; list days like [mon, tue] or leave days out for every day")
	}
	for i, day := range d.Schedule.Days {
		idx := -1
		for j, n := range dayNames {
			if strings.EqualFold(day, n) {
				idx = j
			}
		}
		if idx < 0 {
			return ferr(fmt.Sprintf("schedule.days[%d]", i), "expected one of %s, got %q", strings.Join(dayNames, ", "), day)
		}
		if s.days[idx] {
			return ferr(fmt.Sprintf("schedule.days[%d]", i), "%s is listed twice", day)
		}
		s.days[idx] = true
	}
	for _, n := range []int{1, 2, 3, 4, 5, 6, 0} {
		if s.days[n] {
			doc.Days = append(doc.Days, dayNames[n])
		}
	}
	s.start, s.end = 0, 24*60
	if d.Schedule.Hours != "" {
		a, b, ok := strings.Cut(d.Schedule.Hours, "-")
		start, err1 := clockMinutes(a)
		end, err2 := clockMinutes(b)
		if !ok || err1 != nil || err2 != nil {
			return ferr("schedule.hours", "expected a range like 08:00-20:00, got %q", d.Schedule.Hours)
		}
		if start == end || start == 24*60 {
			return ferr("schedule.hours", "%q is an empty window: the key could never be used", d.Schedule.Hours)
		}
		s.start, s.end = start, end
		doc.Hours = fmt.Sprintf("%02d:%02d-%02d:%02d", start/60, start%60, end/60, end%60)
	}
	c.p.schedule = s
	c.p.doc.Schedule = &doc
	return nil
}

func clockMinutes(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}

// allows reports whether t falls inside the schedule.
func (s *schedule) allows(t time.Time) bool {
	lt := t.In(s.loc)
	min := lt.Hour()*60 + lt.Minute()
	day := int(lt.Weekday())
	if s.start < s.end {
		return s.days[day] && min >= s.start && min < s.end
	}
	// Overnight window: the late part belongs to the day it starts on.
	if min >= s.start {
		return s.days[day]
	}
	return min < s.end && s.days[(day+6)%7]
}

// address parses a 0x address, checking the EIP-55 checksum when the
// input is mixed case.
func address(field, s string) (common.Address, error) {
	if !strings.HasPrefix(s, "0x") || len(s) != 42 || !common.IsHexAddress(s) {
		return common.Address{}, ferr(field, "expected an address (0x followed by 40 hex digits), got %q", s)
	}
	a := common.HexToAddress(s)
	lower, upper := strings.ToLower(s[2:]), strings.ToUpper(s[2:])
	if s[2:] != lower && s[2:] != upper && a.Hex() != s {
		return common.Address{}, ferr(field, "%q has a bad EIP-55 checksum (did you mean %s?)", s, a.Hex())
	}
	return a, nil
}

func (c *compiler) limitsStep(d *Document) error {
	for i, l := range d.Limits {
		path := fmt.Sprintf("limits[%d]", i)
		lim := &Limit{Period: 24 * time.Hour}
		doc := LimitDoc{}
		switch {
		case strings.EqualFold(l.Asset, Native):
			lim.Asset, lim.Decimals, lim.Symbol = Native, 18, "ETH"
			if l.Decimals != nil && *l.Decimals != 18 {
				return ferr(path+".decimals", "the native asset has 18 decimals, got %d", *l.Decimals)
			}
		case strings.EqualFold(l.Asset, Fees):
			lim.Asset, lim.Decimals, lim.Symbol = Fees, 18, "ETH"
			if l.Decimals != nil && *l.Decimals != 18 {
				return ferr(path+".decimals", "fees are paid in the native currency, which has 18 decimals, got %d", *l.Decimals)
			}
		case l.Asset == "":
			return ferr(path+".asset", "required: native, fees, or a token address")
		default:
			a, err := address(path+".asset", l.Asset)
			if err != nil {
				return err
			}
			lim.Asset = strings.ToLower(a.Hex())
			lim.Symbol = shortAddr(a)
			c.p.tokenLimits[a] = lim
			switch {
			case l.Decimals != nil:
				lim.Decimals = uint8(*l.Decimals)
			case c.opts.TokenDecimals != nil:
				dec, err := c.opts.TokenDecimals(a)
				if err != nil {
					return ferr(path+".decimals", "not given, and reading them from the token failed: %v", err)
				}
				lim.Decimals = dec
			default:
				return ferr(path+".decimals", "required for token %s: give the token's decimals (USDC has 6, most tokens 18)", a.Hex())
			}
		}
		if l.Symbol != "" {
			if strings.ContainsAny(l.Symbol, " \t\n") || len(l.Symbol) > 16 {
				return ferr(path+".symbol", "expected a short ticker like USDC, got %q", l.Symbol)
			}
			lim.Symbol = l.Symbol
		}
		if _, dup := c.p.limits[lim.Asset]; dup {
			return ferr(path+".asset", "%s already has a limit; give one limit per asset", l.Asset)
		}
		if l.PerTx == "" && l.PerPeriod == "" {
			return ferr(path, "give per_tx, per_period or both")
		}
		var err error
		if l.PerTx != "" {
			if lim.PerTx, err = ParseAmount(l.PerTx, lim.Decimals, lim.Symbol); err != nil {
				return ferr(path+".per_tx", "%v", err)
			}
		}
		if l.PerPeriod != "" {
			if lim.PerPeriod, err = ParseAmount(l.PerPeriod, lim.Decimals, lim.Symbol); err != nil {
				return ferr(path+".per_period", "%v", err)
			}
		}
		if l.Period != "" {
			if lim.Period, err = positiveDuration(path+".period", l.Period); err != nil {
				return err
			}
		}
		if lim.PerTx != nil && lim.PerPeriod != nil && lim.PerTx.Cmp(lim.PerPeriod) > 0 {
			return ferr(path+".per_tx", "%s is more than per_period %s; lower per_tx or raise per_period", l.PerTx, l.PerPeriod)
		}
		doc.Asset = lim.Asset
		if lim.Asset != Native && lim.Asset != Fees {
			doc.Asset = common.HexToAddress(lim.Asset).Hex()
		}
		dec := int(lim.Decimals)
		doc.Symbol, doc.Decimals = lim.Symbol, &dec
		if lim.PerTx != nil {
			doc.PerTx = FormatAmount(lim.PerTx, lim.Decimals)
		}
		if lim.PerPeriod != nil {
			doc.PerPeriod = FormatAmount(lim.PerPeriod, lim.Decimals)
			doc.Period = formatDuration(lim.Period)
		}
		c.p.limits[lim.Asset] = lim
		c.p.doc.Limits = append(c.p.doc.Limits, doc)
	}
	return nil
}

func (c *compiler) rateStep(d *Document) error {
	if d.Rate == nil {
		return nil
	}
	if d.Rate.Max <= 0 {
		return ferr("rate.max", "expected a positive number of requests")
	}
	if d.Rate.Per == "" {
		return ferr("rate.per", "required: a window like 1m")
	}
	per, err := positiveDuration("rate.per", d.Rate.Per)
	if err != nil {
		return err
	}
	c.p.rate = &Rate{Max: d.Rate.Max, Per: per}
	c.p.doc.Rate = &RateDoc{Max: d.Rate.Max, Per: formatDuration(per)}
	return nil
}

func (c *compiler) networkStep(d *Document) error {
	if d.Network == nil {
		return nil
	}
	if len(d.Network.AllowCIDRs) == 0 {
		return ferr("network.allow_cidrs", "empty: no caller could ever use the key; list CIDRs like 127.0.0.0/8 or leave network out")
	}
	doc := &NetworkDoc{}
	for i, s := range d.Network.AllowCIDRs {
		field := fmt.Sprintf("network.allow_cidrs[%d]", i)
		pfx, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			ip, ipErr := netip.ParseAddr(strings.TrimSpace(s))
			if ipErr != nil {
				return ferr(field, "expected a CIDR like 10.0.0.0/8 or an IP address, got %q", s)
			}
			pfx = netip.PrefixFrom(ip, ip.BitLen())
		}
		pfx = pfx.Masked()
		c.p.cidrs = append(c.p.cidrs, pfx)
		doc.AllowCIDRs = append(doc.AllowCIDRs, pfx.String())
	}
	c.p.doc.Network = doc
	return nil
}

func (c *compiler) abisStep(d *Document) error {
	c.p.user = &registry{bySelector: map[[4]byte]*entry{}, bySig: map[string]*entry{}}
	var sigs []string
	add := func(field string, fn *Function) error {
		if !fn.Named {
			return ferr(field, "%s: name every parameter, like transfer(address to,uint256 amount), so conditions can refer to them", fn.Signature)
		}
		if old, ok := c.p.user.bySelector[fn.Selector]; ok {
			if old.fn.Signature != fn.Signature {
				return ferr(field, "%s has the same selector as %s", fn.Signature, old.fn.Signature)
			}
			return nil // the same function twice is harmless
		}
		e := &entry{fn: fn}
		c.p.user.bySelector[fn.Selector] = e
		c.p.user.bySig[fn.Signature] = e
		sigs = append(sigs, fn.Display())
		return nil
	}
	for i, a := range d.ABIs {
		path := fmt.Sprintf("abis[%d]", i)
		set := 0
		for _, s := range []bool{a.File != "", a.JSON != "", a.Signatures != nil} {
			if s {
				set++
			}
		}
		if set != 1 {
			return ferr(path, "give exactly one of file, json or signatures")
		}
		jsonABI := a.JSON
		if a.File != "" {
			if c.opts.ReadFile == nil {
				return ferr(path+".file", "ABI files cannot be read here; inline the ABI with json or signatures")
			}
			b, err := c.opts.ReadFile(a.File)
			if err != nil {
				return ferr(path+".file", "cannot read %s: %v", a.File, err)
			}
			jsonABI = string(b)
		}
		if jsonABI != "" {
			field := path + ".json"
			if a.File != "" {
				field = path + ".file"
			}
			parsed, err := abi.JSON(strings.NewReader(jsonABI))
			if err != nil {
				return ferr(field, "not a valid JSON ABI: %v", err)
			}
			for _, name := range sortedMethodNames(parsed) {
				fn, err := functionFromABI(parsed.Methods[name])
				if err != nil {
					return ferr(field, "method %s: %v", name, err)
				}
				if err := add(field, fn); err != nil {
					return err
				}
			}
			continue
		}
		if len(a.Signatures) == 0 {
			return ferr(path+".signatures", "empty: list signatures like \"transfer(address to,uint256 amount)\"")
		}
		for j, s := range a.Signatures {
			field := fmt.Sprintf("%s.signatures[%d]", path, j)
			fn, err := ParseSignature(s)
			if err != nil {
				return ferr(field, "%v", err)
			}
			if err := add(field, fn); err != nil {
				return err
			}
		}
	}
	if len(sigs) > 0 {
		c.p.doc.ABIs = []ABIDoc{{Signatures: sigs}}
	}
	return nil
}

func sortedMethodNames(a abi.ABI) []string {
	names := make([]string, 0, len(a.Methods))
	for n := range a.Methods {
		names = append(names, n)
	}
	// Deterministic output for the normalised document.
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

// resolveFunction finds a function by signature or selector, taking
// parameter names from the signature itself, the policy's ABIs or the
// built-in ABIs, in that order.
func (c *compiler) resolveFunction(field, sig string) (*Function, [4]byte, error) {
	var sel [4]byte
	if strings.HasPrefix(sig, "0x") {
		b, err := hex.DecodeString(sig[2:])
		if err != nil || len(b) != 4 {
			return nil, sel, ferr(field, "expected a function signature like transfer(address,uint256) or a 4-byte selector like 0xa9059cbb, got %q", sig)
		}
		copy(sel[:], b)
		if e := c.p.user.lookup(sel); e != nil {
			return e.fn, sel, nil
		}
		if e := builtins.lookup(sel); e != nil {
			return e.fn, sel, nil
		}
		return nil, sel, nil
	}
	fn, err := ParseSignature(sig)
	if err != nil {
		return nil, sel, ferr(field, "expected a function signature like transfer(address,uint256): %v", err)
	}
	if !fn.Named {
		for _, r := range []*registry{c.p.user, builtins} {
			if e := r.bySig[fn.Signature]; e != nil {
				return e.fn, fn.Selector, nil
			}
		}
	}
	return fn, fn.Selector, nil
}

func (c *compiler) rulesStep(d *Document) error {
	for _, set := range []struct {
		name string
		in   []RuleDoc
		out  *[]*rule
		doc  *[]RuleDoc
	}{{"allow", d.Allow, &c.p.allow, &c.p.doc.Allow}, {"deny", d.Deny, &c.p.deny, &c.p.doc.Deny}} {
		for i, rd := range set.in {
			path := fmt.Sprintf("%s[%d]", set.name, i)
			r, doc, err := c.rule(path, rd)
			if err != nil {
				return err
			}
			*set.out = append(*set.out, r)
			*set.doc = append(*set.doc, doc)
		}
	}
	c.p.allowIndex, c.p.denyIndex = newRuleIndex(c.p.allow), newRuleIndex(c.p.deny)
	return nil
}

func (c *compiler) rule(path string, rd RuleDoc) (*rule, RuleDoc, error) {
	r := &rule{path: path, name: rd.Name, reason: rd.Reason}
	doc := RuleDoc{Name: rd.Name, Reason: rd.Reason}
	switch rd.Contract {
	case "":
		return nil, doc, ferr(path+".contract", "required: a contract address, or \"*\" for any contract")
	case "*":
		r.any = true
		doc.Contract = "*"
	default:
		a, err := address(path+".contract", rd.Contract)
		if err != nil {
			return nil, doc, err
		}
		r.contract = a
		doc.Contract = a.Hex()
	}
	if len(rd.Functions) == 0 {
		return nil, doc, ferr(path+".functions", "required: list functions by signature, or \"*\" for any function")
	}
	for j, fd := range rd.Functions {
		fpath := fmt.Sprintf("%s.functions[%d]", path, j)
		fr := &fnRule{path: fpath}
		fdoc := FunctionDoc{Sig: strings.TrimSpace(fd.Sig)}
		switch fdoc.Sig {
		case "":
			return nil, doc, ferr(fpath+".sig", "required: a function signature, \"*\" or \"receive\"")
		case "*", "receive":
			fr.anyFn, fr.receive = fdoc.Sig == "*", fdoc.Sig == "receive"
			if len(fd.Where) > 0 {
				return nil, doc, ferr(fpath+".where", "conditions need a function signature, not %q", fdoc.Sig)
			}
		default:
			fn, sel, err := c.resolveFunction(fpath+".sig", fdoc.Sig)
			if err != nil {
				return nil, doc, err
			}
			fr.fn, fr.sel = fn, sel
			if fn != nil && fn.Named {
				fdoc.Sig = fn.Display()
			} else if fn != nil {
				fdoc.Sig = fn.Signature
			}
			for _, cd := range fd.Where {
				cpath := fpath + ".where." + cd.Param
				if fn == nil {
					return nil, doc, ferr(cpath, "selector %s has no known ABI; add it under abis to name its parameters", fdoc.Sig)
				}
				if !fn.Named {
					return nil, doc, ferr(cpath, "name the parameters in the signature, like transfer(address to,uint256 amount), or add the ABI under abis")
				}
				argPath, typ, err := resolvePath(fn, cd.Param)
				if err != nil {
					return nil, doc, ferr(cpath, "%v", err)
				}
				for _, op := range cd.Ops {
					cc, msg := compileCond(cd, op, argPath, &typ)
					if msg != "" {
						return nil, doc, ferr(cpath, "%s", msg)
					}
					cc.leaf = fn.leaf(argPath)
					fr.conds = append(fr.conds, cc)
				}
			}
			fdoc.Where = fd.Where
		}
		r.fns = append(r.fns, fr)
		doc.Functions = append(doc.Functions, fdoc)
	}
	return r, doc, nil
}

func (c *compiler) typedStep(d *Document) error {
	if d.TypedData == nil {
		return nil
	}
	doc := &TypedDataDoc{Allow: []TypedRuleDoc{}}
	for i, td := range d.TypedData.Allow {
		path := fmt.Sprintf("typed_data.allow[%d]", i)
		tr := &typedRule{path: path, doc: td, primaryType: strings.TrimSpace(td.PrimaryType)}
		if tr.primaryType == "" {
			return ferr(path+".primary_type", "required: the EIP-712 primary type, like Permit or PermitSingle")
		}
		if td.Domain.VerifyingContract != "" {
			a, err := address(path+".domain.verifying_contract", td.Domain.VerifyingContract)
			if err != nil {
				return err
			}
			tr.verifying = &a
			tr.doc.Domain.VerifyingContract = a.Hex()
		}
		if td.Domain.ChainID != 0 && !c.p.chains[td.Domain.ChainID] {
			return ferr(path+".domain.chain_id", "%d is not one of the policy's chains %v", td.Domain.ChainID, c.p.doc.Chains)
		}
		for _, cd := range td.Where {
			for _, op := range cd.Ops {
				cc, msg := compileCond(cd, op, cd.Param, nil)
				if msg != "" {
					return ferr(path+".where."+cd.Param, "%s", msg)
				}
				tr.conds = append(tr.conds, cc)
			}
		}
		c.p.typed = append(c.p.typed, tr)
		doc.Allow = append(doc.Allow, tr.doc)
	}
	c.p.doc.TypedData = doc
	return nil
}

func (c *compiler) messagesStep(d *Document) error {
	m := MessagesDoc{}
	if d.Messages != nil {
		m = *d.Messages
		if !m.Allow && (len(m.Prefixes) > 0 || len(m.Domains) > 0) {
			return ferr("messages.allow", "prefixes and domains only apply when allow is true")
		}
		for i, pfx := range m.Prefixes {
			if pfx == "" {
				return ferr(fmt.Sprintf("messages.prefixes[%d]", i), "an empty prefix would allow every message; set allow: true without prefixes for that")
			}
		}
		for i, dom := range m.Domains {
			if dom == "" || strings.ContainsAny(dom, " /\n") {
				return ferr(fmt.Sprintf("messages.domains[%d]", i), "expected a domain like app.example.com, got %q", dom)
			}
		}
	}
	c.p.messages = m
	c.p.doc.Messages = &m
	return nil
}
