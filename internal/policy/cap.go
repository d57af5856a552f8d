package policy

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/bound"
)

// Token is an ERC-20 token known by symbol, so owners can write caps like
// 250USDC.
type Token struct {
	Symbol   string         `json:"symbol"`
	Address  common.Address `json:"address"`
	Decimals uint8          `json:"decimals"`
}

// TokenSource tells ParseCap what it needs to know of tokens. Known lists
// the tokens that may be named by symbol; Lookup gives a token's decimals
// (and symbol, if it has a usable one) by address, failing for an address
// that is not an ERC-20 token. Either may be nil: caps that need it are
// then refused.
type TokenSource struct {
	Known  func() ([]Token, error)
	Lookup func(common.Address) (Token, error)
}

// CapSyntax says how a cap is written, for error messages and help.
const CapSyntax = "0.5ETH (or 0.5), 250USDC (a token symbol the home knows), 100@0xTOKEN (whole tokens), 1000units@0xTOKEN (base units) or 0xTOKEN:DECIMALS:AMOUNT"

var tokenSymbol = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,15}$`)

// reservedUnits can never be token symbols: they mean ether or base units.
var reservedUnits = []string{"eth", "ether", "wei", "gwei", "units", "native"}

// CheckSymbol says whether s can name a token in caps: 1 to 16 letters,
// digits, '.', '_' or '-', starting with a letter, and not a unit of
// ether.
func CheckSymbol(s string) error {
	if !tokenSymbol.MatchString(s) {
		return fmt.Errorf("expected 1 to 16 letters, digits, '.', '_' or '-' starting with a letter, like USDC, got %s", quoteCap(s))
	}
	for _, r := range reservedUnits {
		if strings.EqualFold(s, r) {
			return fmt.Errorf("%s is reserved for ether and base units; choose another symbol", s)
		}
	}
	return nil
}

// ParseCap turns a cap as an owner writes it on the command line or in
// the admin API into a 24h limit. The forms are CapSyntax's:
//
//	0.5ETH, 0.5, 1e9gwei, 1000wei   ether
//	250USDC                         a token src.Known names
//	100@0xTOKEN                     whole tokens; decimals from src.Lookup
//	1000units@0xTOKEN               base units of that token
//	0xTOKEN:DECIMALS:AMOUNT         decimals given, nothing looked up
//
// A bare "1000units" is refused: units are base units of a named asset.
// Errors say what was expected and quote at most a short prefix of s.
func ParseCap(s string, src TokenSource) (LimitDoc, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return LimitDoc{}, errors.New("expected a cap like " + CapSyntax + ", got nothing")
	}
	if len(in) > 128 {
		return LimitDoc{}, fmt.Errorf("expected a cap like 100@0xTOKEN, got %d characters", len(in))
	}
	if amount, token, ok := strings.Cut(in, "@"); ok {
		return capAt(in, strings.TrimSpace(amount), strings.TrimSpace(token), src)
	}
	if strings.HasPrefix(in, "0x") && strings.Count(in, ":") == 2 {
		return capColon(in)
	}
	num, unit := splitUnit(in)
	switch {
	case unit == "" || strings.EqualFold(unit, "ETH") || strings.EqualFold(unit, "ether") || strings.EqualFold(unit, "wei") || strings.EqualFold(unit, "gwei"):
		v, err := ParseAmount(in, 18, "ETH")
		if err != nil {
			return LimitDoc{}, err
		}
		return LimitDoc{Asset: Native, PerPeriod: FormatAmount(v, 18), Period: "24h"}, nil
	case strings.EqualFold(unit, "units"):
		n := num
		if !isDigits(n) {
			n = "1000"
		}
		return LimitDoc{}, fmt.Errorf("%s: units are base units of a named asset; write %sunits@0xTOKEN for a token's base units, or %swei for ether", quoteCap(in), n, n)
	}
	var (
		known   []Token
		listErr error
	)
	if src.Known != nil {
		known, listErr = src.Known()
	}
	// Match whole symbols as suffixes, longest first, so USDC.e or
	// symbols with digits work where splitUnit sees only letters.
	var best *Token
	for i, t := range known {
		if len(in) > len(t.Symbol) && strings.EqualFold(in[len(in)-len(t.Symbol):], t.Symbol) && (best == nil || len(t.Symbol) > len(best.Symbol)) {
			best = &known[i]
		}
	}
	if best == nil {
		syms := []string{"ETH"}
		for _, t := range known {
			syms = append(syms, t.Symbol)
		}
		msg := fmt.Sprintf("unknown unit %s in %s: expected ETH, a token symbol this home knows (%s), or AMOUNT@0xTOKEN", quoteCap(unit), quoteCap(in), strings.Join(syms, ", "))
		if listErr != nil {
			return LimitDoc{}, fmt.Errorf("%s; the home's token list could not be read: %w", msg, listErr)
		}
		if num == "" {
			return LimitDoc{}, fmt.Errorf("%s, with an amount before the unit like 250USDC", msg)
		}
		return LimitDoc{}, fmt.Errorf("%s; add a token with agentkeys token add 0xTOKEN", msg)
	}
	num = strings.TrimSpace(in[:len(in)-len(best.Symbol)])
	v, err := ParseAmount(num, best.Decimals, "")
	if err != nil {
		return LimitDoc{}, fmt.Errorf("%s: %v", quoteCap(in), err)
	}
	return tokenCap(*best, v.String()+"units")
}

// capAt parses AMOUNT@0xTOKEN and AMOUNTunits@0xTOKEN.
func capAt(in, amount, token string, src TokenSource) (LimitDoc, error) {
	if !strings.HasPrefix(token, "0x") || len(token) != 42 || !common.IsHexAddress(token) {
		return LimitDoc{}, fmt.Errorf("%s: after @ expected a token address (0x followed by 40 hex digits), got %s", quoteCap(in), quoteCap(token))
	}
	num, unit := splitUnit(amount)
	if unit != "" && !strings.EqualFold(unit, "units") {
		return LimitDoc{}, fmt.Errorf("%s: expected AMOUNT@0xTOKEN in whole tokens or AMOUNTunits@0xTOKEN in base units, got unit %s", quoteCap(in), quoteCap(unit))
	}
	if num == "" {
		return LimitDoc{}, fmt.Errorf("%s: expected an amount before @, like 100@0xTOKEN", quoteCap(in))
	}
	if src.Lookup == nil {
		return LimitDoc{}, fmt.Errorf("%s: the token's decimals cannot be read here; write 0xTOKEN:DECIMALS:AMOUNT", quoteCap(in))
	}
	t, err := src.Lookup(common.HexToAddress(token))
	if err != nil {
		return LimitDoc{}, fmt.Errorf("%s: %w", quoteCap(in), err)
	}
	v, err := ParseAmount(amount, t.Decimals, "")
	if err != nil {
		return LimitDoc{}, fmt.Errorf("%s: %v", quoteCap(in), err)
	}
	return tokenCap(t, v.String()+"units")
}

// capColon parses the older 0xTOKEN:DECIMALS:AMOUNT form.
func capColon(in string) (LimitDoc, error) {
	parts := strings.Split(in, ":")
	want := "expected 0xTOKEN:DECIMALS:AMOUNT like 0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48:6:1000"
	if len(parts[0]) != 42 || !common.IsHexAddress(parts[0]) {
		return LimitDoc{}, fmt.Errorf("%s: %s", quoteCap(in), want)
	}
	dec, err := strconv.Atoi(parts[1])
	if err != nil || dec < 0 || dec > 77 {
		return LimitDoc{}, fmt.Errorf("%s: decimals must be 0..77; %s", quoteCap(in), want)
	}
	v, err := ParseAmount(parts[2], uint8(dec), "")
	if err != nil {
		return LimitDoc{}, fmt.Errorf("%s: %v", quoteCap(in), err)
	}
	return tokenCap(Token{Address: common.HexToAddress(parts[0]), Decimals: uint8(dec)}, v.String()+"units")
}

// tokenCap writes the limit in base units, so no rounding can happen
// between here and Compile, which prints it back in whole tokens.
func tokenCap(t Token, perPeriod string) (LimitDoc, error) {
	dec := int(t.Decimals)
	l := LimitDoc{Asset: t.Address.Hex(), Decimals: &dec, PerPeriod: perPeriod, Period: "24h"}
	if CheckSymbol(t.Symbol) == nil {
		l.Symbol = t.Symbol
	}
	return l, nil
}

// quoteCap quotes a limit's text in an error: long enough for
// AMOUNT@0xTOKEN to show whole, bounded for anything longer.
func quoteCap(s string) string { return bound.QuoteN(s, 64) }
