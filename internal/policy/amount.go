package policy

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// maxUint256 bounds every amount: nothing on an EVM chain is larger.
var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// ParseAmount parses an amount given in whole units of an asset with the
// given decimals: "0.5", "0.5ETH", "250 USDC", "1e3". An integer followed
// by "wei" (native only) or "units" is a raw base-unit amount. A symbol
// suffix must match the asset's symbol (case-insensitive).
func ParseAmount(s string, decimals uint8, symbol string) (*big.Int, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return nil, errors.New("expected an amount like 0.5 or 250USDC, got nothing")
	}
	if len(in) > maxAmountText {
		// Checked before any digit is parsed: a megabyte of digits costs
		// seconds to turn into a number, and no 256-bit amount needs it.
		return nil, fmt.Errorf("expected an amount of at most %d characters (a 256-bit number has 78 digits), got %d", maxAmountText, len(in))
	}
	num, unit := splitUnit(in)
	switch {
	case unit == "":
	case strings.EqualFold(unit, "units"), strings.EqualFold(unit, "wei") && strings.EqualFold(symbol, "ETH"):
		v, ok := new(big.Int).SetString(num, 10)
		if !ok || v.Sign() < 0 || v.Cmp(maxUint256) > 0 {
			return nil, fmt.Errorf("expected a whole number of base units before %q, got %q", unit, num)
		}
		return v, nil
	case strings.EqualFold(unit, "gwei") && strings.EqualFold(symbol, "ETH"):
		decimals -= 9
	case symbol != "" && strings.EqualFold(unit, symbol):
	case strings.EqualFold(unit, "ether") && strings.EqualFold(symbol, "ETH"):
	default:
		want := "a bare number"
		if symbol != "" {
			want = fmt.Sprintf("a bare number or one ending in %s", symbol)
		}
		return nil, fmt.Errorf("unknown unit %q in amount %q; expected %s", unit, in, want)
	}
	v, err := parseDecimal(num, decimals)
	if err != nil {
		return nil, fmt.Errorf("amount %q: %v", in, err)
	}
	return v, nil
}

func splitUnit(s string) (num, unit string) {
	i := len(s)
	for i > 0 {
		c := s[i-1]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			i--
			continue
		}
		break
	}
	// "1e18" is a number, not 1 of unit "e18".
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') && i > 0 && i+1 < len(s) && isDigits(s[i+1:]) {
		return s, ""
	}
	return strings.TrimSpace(s[:i]), s[i:]
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseDecimal turns "1.25" or "1.25e3" into an integer scaled by 10^decimals,
// refusing anything that would need rounding or exceed uint256.
func parseDecimal(s string, decimals uint8) (*big.Int, error) {
	if s == "" || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return nil, errors.New("expected a non-negative decimal number")
	}
	exp := int64(decimals)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, ok := new(big.Int).SetString(s[i+1:], 10)
		if !ok || !e.IsInt64() || e.Int64() > 100 || e.Int64() < -100 {
			return nil, errors.New("bad exponent")
		}
		exp += e.Int64()
		s = s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" {
		intPart = "0"
	}
	if !isDigits(intPart) || frac != "" && !isDigits(frac) {
		return nil, errors.New("expected a non-negative decimal number")
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= int64(len(frac))
	if digits == "" {
		return new(big.Int), nil
	}
	if exp < 0 {
		if int64(len(digits)) <= -exp || strings.Trim(digits[int64(len(digits))+exp:], "0") != "" {
			return nil, fmt.Errorf("has more than %d decimal places", decimals)
		}
		digits = digits[:int64(len(digits))+exp]
		exp = 0
	}
	if int64(len(digits))+exp > 78 {
		return nil, errors.New("is larger than 2^256-1")
	}
	v, _ := new(big.Int).SetString(digits+strings.Repeat("0", int(exp)), 10)
	if v.Cmp(maxUint256) > 0 {
		return nil, errors.New("is larger than 2^256-1")
	}
	return v, nil
}

// FormatAmount prints base units as a decimal in whole units, trimming
// trailing zeros: 1500000 with 6 decimals is "1.5".
func FormatAmount(v *big.Int, decimals uint8) string {
	if v == nil {
		return "0"
	}
	s := v.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	d := int(decimals)
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	out := s[:len(s)-d]
	if frac := strings.TrimRight(s[len(s)-d:], "0"); frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// parseInteger parses an integer operand of a condition: decimal, 0x hex,
// "1000e6", or with an ether/gwei suffix. Negative values are allowed for
// int types.
// maxAmountText bounds the text of an amount: the 78 digits of 2^256, a
// decimal point, a unit and room for an exponent.
const maxAmountText = 100

func parseInteger(s string) (*big.Int, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxAmountText {
		return nil, fmt.Errorf("expected an integer of at most %d characters, got %d", maxAmountText, len(s))
	}
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	var v *big.Int
	switch {
	case strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X"):
		x, ok := new(big.Int).SetString(body[2:], 16)
		if !ok {
			return nil, fmt.Errorf("expected an integer, got %q", s)
		}
		v = x
	default:
		var err error
		v, err = ParseAmount(body, 0, "")
		if err != nil {
			num, unit := splitUnit(body)
			switch strings.ToLower(unit) {
			case "ether", "eth":
				v, err = parseDecimal(num, 18)
			case "gwei":
				v, err = parseDecimal(num, 9)
			}
			if err != nil {
				return nil, fmt.Errorf("expected an integer (like 1000, 1000e6, 0x3e8 or 0.5ether), got %q", s)
			}
		}
	}
	if neg {
		v.Neg(v)
	}
	return v, nil
}
