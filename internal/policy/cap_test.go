package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestParseCap(t *testing.T) {
	usdc := Token{Symbol: "USDC", Address: common.HexToAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), Decimals: 6}
	usdce := Token{Symbol: "USDC.e", Address: common.HexToAddress("0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"), Decimals: 6}
	odd := common.HexToAddress("0x00000000000000000000000000000000000000aa") // 0 decimals, no symbol
	eoa := common.HexToAddress("0x9999999999999999999999999999999999999999")
	src := TokenSource{
		Known: func() ([]Token, error) { return []Token{usdc, usdce}, nil },
		Lookup: func(a common.Address) (Token, error) {
			switch a {
			case usdc.Address:
				return usdc, nil
			case odd:
				return Token{Address: odd}, nil
			}
			return Token{}, fmt.Errorf("%s does not answer decimals() like an ERC-20 token", a.Hex())
		},
	}
	type want struct{ Asset, Symbol, PerPeriod string } // perPeriod normalised by Compile
	tests := []struct {
		in      string
		want    want
		wantErr string
	}{
		{in: "0.5ETH", want: want{"native", "ETH", "0.5"}},
		{in: "0.5", want: want{"native", "ETH", "0.5"}},
		{in: "21000wei", want: want{"native", "ETH", "0.000000000000021"}},
		{in: "250USDC", want: want{usdc.Address.Hex(), "USDC", "250"}},
		{in: "250 usdc", want: want{usdc.Address.Hex(), "USDC", "250"}},
		{in: "1.5USDC.e", want: want{usdce.Address.Hex(), "USDC.e", "1.5"}},
		{in: "100@" + usdc.Address.Hex(), want: want{usdc.Address.Hex(), "USDC", "100"}},
		{in: "100@" + strings.ToLower(usdc.Address.Hex()), want: want{usdc.Address.Hex(), "USDC", "100"}},
		{in: "0.25@" + usdc.Address.Hex(), want: want{usdc.Address.Hex(), "USDC", "0.25"}},
		{in: "1000units@" + usdc.Address.Hex(), want: want{usdc.Address.Hex(), "USDC", "0.001"}},
		{in: "7@" + odd.Hex(), want: want{odd.Hex(), "0x0000…00AA", "7"}},
		{in: usdc.Address.Hex() + ":6:1000", want: want{usdc.Address.Hex(), "0xA0b8…eB48", "1000"}},
		{in: "", wantErr: "expected a cap like"},
		{in: "1000units", wantErr: `"1000units": units are base units of a named asset; write 1000units@0xTOKEN`},
		{in: "5GOLD", wantErr: `unknown unit "GOLD" in "5GOLD": expected ETH, a token symbol this home knows (ETH, USDC, USDC.e), or AMOUNT@0xTOKEN`},
		{in: "USDC", wantErr: "with an amount before the unit like 250USDC"},
		{in: "100@0x1234", wantErr: "after @ expected a token address"},
		{in: "100@USDC", wantErr: "after @ expected a token address"},
		{in: "100DAI@" + usdc.Address.Hex(), wantErr: `got unit "DAI"`},
		{in: "@" + usdc.Address.Hex(), wantErr: "expected an amount before @"},
		{in: "0.0000001@" + usdc.Address.Hex(), wantErr: "more than 6 decimal places"},
		{in: "1.5units@" + usdc.Address.Hex(), wantErr: "whole number of base units"},
		{in: "100@" + eoa.Hex(), wantErr: "does not answer decimals() like an ERC-20 token"},
		{in: "0.5@" + odd.Hex(), wantErr: "more than 0 decimal places"},
		{in: usdc.Address.Hex() + ":99:1", wantErr: "decimals must be 0..77"},
		{in: strings.Repeat("9", 200), wantErr: "got 200 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			l, err := ParseCap(tt.in, src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if len(err.Error()) > 400 {
					t.Errorf("error of %d bytes echoes too much: %s", len(err.Error()), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The limit must compile as written, with nothing left to look up.
			p, err := Compile(&Document{Name: "t", Chains: []uint64{1}, Limits: []LimitDoc{l}}, Options{})
			if err != nil {
				t.Fatalf("compile %+v: %v", l, err)
			}
			got := p.Document().Limits[0]
			if d := cmpDiff(tt.want, want{got.Asset, got.Symbol, got.PerPeriod}); d != "" || got.Period != "24h" {
				t.Errorf("limit (-want +got):\n%s period %s", d, got.Period)
			}
		})
	}
}

func TestParseCapSources(t *testing.T) {
	addr := "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
	if _, err := ParseCap("100@"+addr, TokenSource{}); err == nil || !strings.Contains(err.Error(), "write 0xTOKEN:DECIMALS:AMOUNT") {
		t.Errorf("no lookup: %v", err)
	}
	broken := TokenSource{Known: func() ([]Token, error) { return nil, errors.New("daemon unreachable") }}
	if _, err := ParseCap("5USDC", broken); err == nil || !strings.Contains(err.Error(), "daemon unreachable") {
		t.Errorf("known list failing: %v", err)
	}
	if _, err := ParseCap("0.5ETH", broken); err != nil {
		t.Errorf("ether needs no token list: %v", err)
	}
}

func TestCheckSymbol(t *testing.T) {
	for _, ok := range []string{"USDC", "USDC.e", "wstETH", "A", "DAI-2"} {
		if err := CheckSymbol(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1INCH", "ETH", "units", "Wei", "US DC", "TOOLONGSYMBOL12345", "X\n"} {
		if err := CheckSymbol(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
