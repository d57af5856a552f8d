package service

import (
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/policy"
)

// Token is a known ERC-20 token, so owners can write amounts like 250USDC.
type Token struct {
	Symbol   string
	Address  common.Address
	Decimals uint8
}

// GrantSpec is a grant as an owner writes it on the command line or in the
// admin API: a profile with parameters, or a policy document.
type GrantSpec struct {
	Agent      string   `json:"agent"`
	Mode       string   `json:"mode,omitempty"` // wallet (default) or 7702
	Profile    string   `json:"profile,omitempty"`
	Policy     string   `json:"policy,omitempty"` // YAML or JSON policy text
	Routers    []string `json:"routers,omitempty"`
	Permit2    string   `json:"permit2,omitempty"`
	DailyLimit []string `json:"daily_limit,omitempty"` // amounts like 0.5ETH or 250USDC
	TTL        string   `json:"ttl,omitempty"`         // like 1h or 7d
}

// Document builds the policy document a spec describes.
func (s *Service) Document(spec GrantSpec) (*policy.Document, error) {
	switch {
	case spec.Profile != "" && spec.Policy != "":
		return nil, &ParamError{Field: "policy", Msg: "give a profile or a policy, not both"}
	case spec.Policy != "":
		if len(spec.Routers) > 0 || len(spec.DailyLimit) > 0 || spec.Permit2 != "" {
			return nil, &ParamError{Field: "profile", Msg: "routers, permit2 and daily_limit only apply to profiles"}
		}
		return policy.ParseDocument([]byte(spec.Policy))
	case spec.Profile == "":
		return nil, &ParamError{Field: "profile", Msg: "give a profile (" + strings.Join(policy.Profiles, ", ") + ") or a policy"}
	}
	pp := policy.ProfileParams{Chains: []uint64{s.cfg.ChainID}}
	for i, r := range spec.Routers {
		a, err := hexAddress(fmt.Sprintf("routers[%d]", i), r)
		if err != nil {
			return nil, err
		}
		pp.Routers = append(pp.Routers, a)
	}
	if spec.Permit2 != "" {
		a, err := hexAddress("permit2", spec.Permit2)
		if err != nil {
			return nil, err
		}
		pp.Permit2 = &a
	}
	for i, amount := range spec.DailyLimit {
		l, err := s.dailyLimit(amount)
		if err != nil {
			return nil, &ParamError{Field: fmt.Sprintf("daily_limit[%d]", i), Msg: err.Error()}
		}
		pp.Limits = append(pp.Limits, l)
	}
	return policy.ProfileDocument(spec.Profile, pp)
}

// dailyLimit turns "0.5ETH", "0.5", "250USDC" or "1000units" (ETH) into a
// 24h limit.
func (s *Service) dailyLimit(amount string) (policy.LimitDoc, error) {
	a := strings.TrimSpace(amount)
	for _, t := range s.cfg.Tokens {
		if len(a) > len(t.Symbol) && strings.EqualFold(a[len(a)-len(t.Symbol):], t.Symbol) {
			v, err := policy.ParseAmount(a, t.Decimals, t.Symbol)
			if err != nil {
				return policy.LimitDoc{}, err
			}
			dec := int(t.Decimals)
			return policy.LimitDoc{Asset: t.Address.Hex(), Symbol: t.Symbol, Decimals: &dec, PerPeriod: policy.FormatAmount(v, t.Decimals), Period: "24h"}, nil
		}
	}
	v, err := policy.ParseAmount(a, 18, "ETH")
	if err != nil {
		known := []string{"ETH"}
		for _, t := range s.cfg.Tokens {
			known = append(known, t.Symbol)
		}
		return policy.LimitDoc{}, fmt.Errorf("%v (known symbols: %s)", err, strings.Join(known, ", "))
	}
	return policy.LimitDoc{Asset: policy.Native, PerPeriod: policy.FormatAmount(v, 18), Period: "24h"}, nil
}

func hexAddress(field, s string) (common.Address, error) {
	if !strings.HasPrefix(s, "0x") || len(s) != 42 || !common.IsHexAddress(s) {
		return common.Address{}, &ParamError{Field: field, Msg: fmt.Sprintf("expected an address (0x followed by 40 hex digits), got %q", s)}
	}
	return common.HexToAddress(s), nil
}
