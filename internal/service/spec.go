package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/policy"
)

// GrantSpec is a grant as an owner writes it on the command line or in the
// admin API: a profile with parameters, or a policy document.
type GrantSpec struct {
	Agent      string   `json:"agent"`
	Mode       string   `json:"mode,omitempty"` // wallet (default) or 7702
	Profile    string   `json:"profile,omitempty"`
	Policy     string   `json:"policy,omitempty"` // YAML or JSON policy text
	Routers    []string `json:"routers,omitempty"`
	Permit2    string   `json:"permit2,omitempty"`
	DailyLimit []string `json:"daily_limit,omitempty"` // caps like 0.5ETH, 250USDC or 100@0xTOKEN (policy.ParseCap)
	TTL        string   `json:"ttl,omitempty"`         // like 1h or 7d
}

// GrantFrom creates a key from a spec, as the admin API and the
// dashboard's grant form write it. Errors: *ParamError naming the field,
// ErrBadAgent, and Grant's.
func (s *Service) GrantFrom(ctx context.Context, spec GrantSpec) (*GrantResult, error) {
	doc, err := s.Document(ctx, spec)
	if err != nil {
		return nil, err
	}
	var ttl time.Duration
	if spec.TTL != "" {
		if ttl, err = policy.ParseDuration(spec.TTL); err != nil || ttl <= 0 {
			return nil, &ParamError{Field: "ttl", Msg: fmt.Sprintf("expected a positive duration like 1h or 7d, got %s", bound.Quote(spec.TTL))}
		}
	}
	return s.Grant(ctx, GrantRequest{Agent: spec.Agent, Mode: spec.Mode, Doc: doc, TTL: ttl})
}

// Document builds the policy document a spec describes. Caps naming a
// token are resolved through the home's token list and the chain.
func (s *Service) Document(ctx context.Context, spec GrantSpec) (*policy.Document, error) {
	doc, err := s.document(ctx, spec)
	return doc, paramError(err)
}

func (s *Service) document(ctx context.Context, spec GrantSpec) (*policy.Document, error) {
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
	src := s.tokenSource(ctx)
	for i, amount := range spec.DailyLimit {
		l, err := policy.ParseCap(amount, src)
		if err != nil {
			return nil, &ParamError{Field: fmt.Sprintf("daily_limit[%d]", i), Msg: err.Error()}
		}
		pp.Limits = append(pp.Limits, l)
	}
	return policy.ProfileDocument(spec.Profile, pp)
}

func hexAddress(field, s string) (common.Address, error) {
	if !strings.HasPrefix(s, "0x") || len(s) != 42 || !common.IsHexAddress(s) {
		return common.Address{}, &ParamError{Field: field, Msg: fmt.Sprintf("expected an address (0x followed by 40 hex digits), got %q", s)}
	}
	return common.HexToAddress(s), nil
}
