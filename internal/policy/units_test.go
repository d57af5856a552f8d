package policy

import (
	"strings"
	"testing"
	"time"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in       string
		decimals uint8
		symbol   string
		want     string // base units, or "error: substring"
	}{
		{"0.5", 18, "ETH", "500000000000000000"},
		{"0.5ETH", 18, "ETH", "500000000000000000"},
		{"0.5 eth", 18, "ETH", "500000000000000000"},
		{"250USDC", 6, "USDC", "250000000"},
		{"250 usdc", 6, "USDC", "250000000"},
		{"1e3", 6, "USDC", "1000000000"},
		{"1.5e-3", 6, "USDC", "1500"},
		{"1000000units", 6, "USDC", "1000000"},
		{"21000wei", 18, "ETH", "21000"},
		{"2gwei", 18, "ETH", "2000000000"},
		{".25", 2, "", "25"},
		{"0", 18, "", "0"},
		{"", 18, "", "error: got nothing"},
		{"0.0000001", 6, "USDC", "error: more than 6 decimal places"},
		{"250DAI", 6, "USDC", `error: unknown unit "DAI"`},
		{"-1", 18, "", "error: non-negative"},
		{"1.2.3", 18, "", "error: non-negative decimal"},
		{"1wei", 6, "USDC", `error: unknown unit "wei"`},
		{"1e80", 0, "", "error: larger than 2^256-1"},
		{"115792089237316195423570985008687907853269984665640564039457584007913129639936units", 0, "", "error: whole number of base units"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAmount(tt.in, tt.decimals, tt.symbol)
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want %q", err, want)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("= %v, %v; want %s", got, err, tt.want)
			}
			if back, err := ParseAmount(FormatAmount(got, tt.decimals), tt.decimals, tt.symbol); err != nil || back.Cmp(got) != 0 {
				t.Errorf("FormatAmount %q does not round-trip: %v %v", FormatAmount(got, tt.decimals), back, err)
			}
		})
	}
}

func TestParseSignature(t *testing.T) {
	tests := []struct {
		in, canonical, display, selector string
		named                            bool
	}{
		{"transfer(address,uint256)", "transfer(address,uint256)", "transfer(address,uint256)", "0xa9059cbb", false},
		{"function transfer(address to, uint amount) external returns (bool)", "transfer(address,uint256)", "transfer(address to,uint256 amount)", "0xa9059cbb", true},
		{"multicall(bytes[] calldata data)", "multicall(bytes[])", "multicall(bytes[] data)", "0xac9650d8", true},
		{"exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 deadline,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96) params)",
			"exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", "", "0x414bf389", true},
		{"f(tuple(uint8 a, bytes32[2] b)[] xs)", "f((uint8,bytes32[2])[])", "f((uint8 a,bytes32[2] b)[] xs)", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			fn, err := ParseSignature(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if fn.Signature != tt.canonical || fn.Named != tt.named {
				t.Errorf("= %q named=%v, want %q named=%v", fn.Signature, fn.Named, tt.canonical, tt.named)
			}
			if tt.display != "" && fn.Display() != tt.display {
				t.Errorf("display = %q, want %q", fn.Display(), tt.display)
			}
			if tt.selector != "" && fn.SelectorHex() != tt.selector {
				t.Errorf("selector = %s, want %s", fn.SelectorHex(), tt.selector)
			}
		})
	}
	for _, bad := range []string{"", "()", "f(", "f(uint7)", "f(bytes33)", "f(address,)", "f(uint256) garbage", "f(((((((((((uint8)))))))))))"} {
		if _, err := ParseSignature(bad); err == nil {
			t.Errorf("ParseSignature(%q) accepted", bad)
		}
	}
}

func TestScheduleOvernightAndZones(t *testing.T) {
	doc := &Document{Name: "s", Chains: []uint64{1}, Schedule: &ScheduleDoc{Timezone: "America/New_York", Days: []string{"fri"}, Hours: "22:00-06:00"}}
	p, err := Compile(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 11, 27, 23, 0, 0, 0, ny), true},  // Friday night
		{time.Date(2026, 11, 28, 5, 59, 0, 0, ny), true},  // Saturday early: the Friday window
		{time.Date(2026, 11, 28, 6, 0, 0, 0, ny), false},  // window ends
		{time.Date(2026, 11, 27, 5, 0, 0, 0, ny), false},  // Friday early belongs to Thursday
		{time.Date(2026, 11, 28, 23, 0, 0, 0, ny), false}, // Saturday night
	}
	for _, tt := range tests {
		if got := p.schedule.allows(tt.at.UTC()); got != tt.want {
			t.Errorf("%s: allows = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestPeriodStartIsFixedWindowFromAnchor(t *testing.T) {
	anchor := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	tests := []struct{ now, want time.Time }{
		{anchor, anchor},
		{anchor.Add(23 * time.Hour), anchor},
		{anchor.Add(24 * time.Hour), anchor.Add(24 * time.Hour)},
		{anchor.Add(49 * time.Hour), anchor.Add(48 * time.Hour)},
		{anchor.Add(-time.Hour), anchor},
	}
	for _, tt := range tests {
		if got := PeriodStart(anchor, tt.now, 24*time.Hour); !got.Equal(tt.want) {
			t.Errorf("PeriodStart(%s) = %s, want %s", tt.now, got, tt.want)
		}
	}
}

func TestWindow(t *testing.T) {
	issued := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p, err := Parse([]byte("name: w\nchains: [1]\nvalid_for: 2h\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	nb, na := p.Window(issued)
	if !nb.Equal(issued) || !na.Equal(issued.Add(2*time.Hour)) {
		t.Errorf("window = %s..%s", nb, na)
	}
	p, _ = Parse([]byte("name: w\nchains: [1]\n"), Options{})
	if _, na := p.Window(issued); !na.Equal(issued.Add(DefaultValidity)) {
		t.Errorf("default validity ends %s", na)
	}
}
