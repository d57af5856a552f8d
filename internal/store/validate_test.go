package store

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestNormalizeAsset(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"native", "native", true},
		{"NATIVE", "native", true},
		{"Fees", "fees", true},
		{"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", true},
		{"0XA0B86991C6218B36C1D19D4A2E9EB0CE3606EB48", "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", true},
		{"", "", false},
		{"ETH", "", false},
		{"A0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "", false},
		{"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB4", "", false},
		{"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB4g", "", false},
		{"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB480", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeAsset(tt.in)
			if tt.ok != (err == nil) || got != tt.want {
				t.Fatalf("NormalizeAsset = %q, %v; want %q ok=%v", got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestSpendValidate(t *testing.T) {
	max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	tests := []struct {
		name string
		s    Spend
		ok   bool
	}{
		{"zero", Spend{Asset: "native", Amount: big.NewInt(0)}, true},
		{"max", Spend{Asset: "native", Amount: max}, true},
		{"over max", Spend{Asset: "native", Amount: new(big.Int).Add(max, big.NewInt(1))}, false},
		{"negative", Spend{Asset: "native", Amount: big.NewInt(-1)}, false},
		{"nil", Spend{Asset: "native", Amount: nil}, false},
		{"bad asset", Spend{Asset: "eth", Amount: big.NewInt(1)}, false},
		{"fees", Spend{Asset: "FEES", Amount: big.NewInt(1), Fee: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Validate(); tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Errorf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestNormalizeTxHash(t *testing.T) {
	h := "0x" + strings.Repeat("aB", 32)
	if got, err := NormalizeTxHash(h); err != nil || got != strings.ToLower(h) {
		t.Errorf("NormalizeTxHash(%s) = %s, %v", h, got, err)
	}
	for _, bad := range []string{"", "0x", h[:65], h + "0", "0x" + strings.Repeat("g", 64), strings.Repeat("a", 66)} {
		if _, err := NormalizeTxHash(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeTxHash(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestGrantActive(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := Grant{ExpiresAt: t0.Add(time.Hour)}
	if !g.Active(t0) || g.Active(t0.Add(time.Hour)) {
		t.Error("expiry boundary: active before, inactive at ExpiresAt")
	}
	g.RevokedAt = &t0
	if g.Active(t0.Add(-time.Hour)) {
		t.Error("revoked grant reported active")
	}
}
