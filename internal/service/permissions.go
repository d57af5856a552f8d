package service

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Permissions is what a key may do, in plain terms, with its remaining
// budget: the answer to agentkeys_getPermissions.
type Permissions struct {
	KeyID     string           `json:"key_id"`
	Agent     string           `json:"agent"`
	Address   string           `json:"address"`
	Mode      string           `json:"mode"`
	Chains    []uint64         `json:"chains"`
	Policy    string           `json:"policy"`
	Profile   string           `json:"profile,omitempty"`
	Warning   string           `json:"warning,omitempty"`
	ExpiresAt time.Time        `json:"expires_at"`
	Budget    []BudgetLine     `json:"budget"`
	Rate      *RateLine        `json:"rate,omitempty"`
	May       []string         `json:"may"`
	MayNot    []string         `json:"may_not"`
	Document  *policy.Document `json:"policy_document"`
}

// BudgetLine is one asset's cap and what is left of it in the current
// period. Spent counts transactions that landed (and signatures spent at
// once, like permits); Pending counts transactions signed that may still
// land, at their worst-case fee; Remaining is the cap less both. A
// transaction moves from pending to spent when it is included, and its
// pending amount is released when it provably cannot land.
type BudgetLine struct {
	Asset        string    `json:"asset"` // native, fees or a token address
	Symbol       string    `json:"symbol"`
	PerTx        string    `json:"per_tx,omitempty"`
	PerPeriod    string    `json:"per_period,omitempty"`
	Period       string    `json:"period,omitempty"`
	Spent        string    `json:"spent"`
	Pending      string    `json:"pending"`
	Remaining    string    `json:"remaining,omitempty"`
	PeriodEnds   time.Time `json:"period_ends"`
	RawSpent     string    `json:"raw_spent"`
	RawPending   string    `json:"raw_pending"`
	RawRemaining string    `json:"raw_remaining,omitempty"`
}

// RateLine is the request rate cap and its use.
type RateLine struct {
	Max  int    `json:"max"`
	Per  string `json:"per"`
	Used int    `json:"used"`
}

// Permissions describes the session's key. The request is itself decided
// and audited like a read.
func (s *Service) Permissions(ctx context.Context, sess *Session, info RequestInfo) (*Permissions, error) {
	var out *Permissions
	_, err := s.decide(ctx, sess, info, policy.Request{Kind: policy.KindRead, ChainID: s.cfg.ChainID}, nil,
		func(ctx context.Context, tx store.DecideTx, _ *policy.Decision) (string, error) {
			g, now := tx.Grant(), s.now()
			u, err := usageOf(ctx, tx, g, sess.policy, now)
			if err != nil {
				return "", err
			}
			out = describe(g, sess.policy, u, now)
			return "", nil
		})
	return out, err
}

// Describe is what the key keyID may do, with its budget, as the owner
// sees it (the dashboard): the same Permissions, in the same words, that
// the key's agent reads with agentkeys_getPermissions. Unlike Permissions
// it is not an agent request and is not audited. Errors: ErrNoKey, and an
// error for a stored policy that no longer compiles.
func (s *Service) Describe(ctx context.Context, keyID string) (*Permissions, error) {
	g, err := s.cfg.Store.GetGrant(ctx, keyID)
	if err != nil {
		return nil, err
	}
	p, err := s.policyOf(g)
	if err != nil {
		return nil, err
	}
	var out *Permissions
	err = s.cfg.Store.Decide(ctx, keyID, func(ctx context.Context, tx store.DecideTx) error {
		now := s.now()
		u, err := usageOf(ctx, tx, tx.Grant(), p, now)
		if err != nil {
			return err
		}
		out = describe(tx.Grant(), p, u, now)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read budget: %w", err)
	}
	return out, nil
}

func describe(g store.Grant, p *policy.Policy, u usage, now time.Time) *Permissions {
	doc := p.Document()
	// How anomalies are found and answered is the owner's business: an
	// agent that knew the refusal-burst threshold could probe just below
	// it.
	doc.Anomalies = nil
	out := &Permissions{KeyID: g.ID, Agent: g.Agent, Address: g.Address, Mode: g.Mode, Chains: p.Chains(), Policy: p.Name(),
		Profile: doc.Profile, Warning: p.Warning(), ExpiresAt: g.ExpiresAt, Document: doc, Budget: []BudgetLine{}}
	out.Budget = budgetLines(g, p, u, now)
	if r, ok := p.RateLimit(); ok {
		out.Rate = &RateLine{Max: r.Max, Per: policy.FormatDuration(r.Per), Used: u.requests}
	}
	out.May, out.MayNot = plainTerms(doc)
	return out
}

// budgetLines shows each limit with what was spent, what is pending and
// what is left in its current period.
func budgetLines(g store.Grant, p *policy.Policy, u usage, now time.Time) []BudgetLine {
	out := []BudgetLine{}
	for _, l := range p.Limits() {
		c := u.charged[l.Asset]
		if c.Spent == nil {
			c = store.Charged{Spent: new(big.Int), Pending: new(big.Int)}
		}
		start, lim := policy.PeriodStart(g.CreatedAt, now, l.Period), limitLine(l)
		line := BudgetLine{Asset: l.Asset, Symbol: l.Symbol, Spent: policy.FormatAmount(c.Spent, l.Decimals), RawSpent: c.Spent.String(),
			Pending: policy.FormatAmount(c.Pending, l.Decimals), RawPending: c.Pending.String(),
			PeriodEnds: start.Add(l.Period), Period: policy.FormatDuration(l.Period)}
		line.PerTx, line.PerPeriod = lim.PerTx, lim.PerPeriod
		if l.PerPeriod != nil {
			left := new(big.Int).Sub(l.PerPeriod, c.Total())
			if left.Sign() < 0 {
				left.SetInt64(0)
			}
			line.Remaining, line.RawRemaining = policy.FormatAmount(left, l.Decimals), left.String()
		}
		out = append(out, line)
	}
	return out
}

// plainTerms turns the rules into sentences an agent (or its LLM) can
// follow.
func plainTerms(doc *policy.Document) (may, mayNot []string) {
	may, mayNot = []string{}, []string{}
	for _, r := range doc.Allow {
		target := "contract " + r.Contract
		if r.Contract == "*" {
			target = "any contract"
		}
		for _, f := range r.Functions {
			line := fmt.Sprintf("call %s on %s", fnWords(f.Sig), target)
			if conds := whereWords(f.Where); conds != "" {
				line += " where " + conds
			}
			may = append(may, line)
		}
	}
	if td := doc.TypedData; td != nil {
		for _, r := range td.Allow {
			line := "sign EIP-712 " + r.PrimaryType
			if r.Domain.Name != "" {
				line += fmt.Sprintf(" for %q", r.Domain.Name)
			}
			if r.Domain.VerifyingContract != "" {
				line += " verified by " + r.Domain.VerifyingContract
			}
			if conds := whereWords(r.Where); conds != "" {
				line += " where " + conds
			}
			may = append(may, line)
		}
	}
	if m := doc.Messages; m != nil && m.Allow {
		switch {
		case len(m.Prefixes) == 0 && len(m.Domains) == 0:
			may = append(may, "sign any personal_sign message")
		default:
			may = append(may, fmt.Sprintf("sign personal_sign messages starting with %q or signing in to %s", m.Prefixes, strings.Join(m.Domains, ", ")))
		}
	} else {
		mayNot = append(mayNot, "sign personal_sign messages")
	}
	for _, r := range doc.Deny {
		var sigs []string
		for _, f := range r.Functions {
			sigs = append(sigs, fnWords(f.Sig))
		}
		line := fmt.Sprintf("call %s", strings.Join(sigs, " or "))
		if r.Reason != "" {
			line += " (" + r.Reason + ")"
		}
		mayNot = append(mayNot, line)
	}
	mayNot = append(mayNot, "use eth_sign", "sign EIP-7702 authorizations", "deploy contracts", "spend any asset without a limit", "anything not listed under may")
	return may, mayNot
}

func fnWords(sig string) string {
	switch sig {
	case "*":
		return "any function"
	case "receive":
		return "a plain ETH transfer"
	}
	return sig
}

func whereWords(w policy.Where) string {
	var parts []string
	for _, c := range w {
		for _, op := range c.Ops {
			parts = append(parts, fmt.Sprintf("%s %s %s", c.Param, op.Op, strings.Join(op.Values, "|")))
		}
	}
	return strings.Join(parts, " and ")
}
