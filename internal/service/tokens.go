package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Token is an ERC-20 token the home knows by symbol, so owners can write
// caps like 250USDC.
type Token = policy.Token

// metaTokens is the store setting holding the home's token list (a JSON
// array of storedToken), shared by every chain the home serves; each
// service sees the entries of its own chain.
const metaTokens = "tokens"

type storedToken struct {
	ChainID uint64 `json:"chain_id"`
	Token
}

// ErrNoToken is returned when a token to remove is not in the list.
var ErrNoToken = errors.New("no such token in this home's list for this chain (see agentkeys token list)")

// Tokens lists the tokens the home knows on this service's chain, by
// symbol.
func (s *Service) Tokens(ctx context.Context) ([]Token, error) {
	all, err := s.storedTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := []Token{}
	for _, t := range all {
		if t.ChainID == s.cfg.ChainID {
			out = append(out, t.Token)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Symbol) < strings.ToLower(out[j].Symbol) })
	return out, nil
}

func (s *Service) storedTokens(ctx context.Context) ([]storedToken, error) {
	v, err := s.cfg.Store.GetMeta(ctx, metaTokens)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read token list: %w", err)
	}
	var all []storedToken
	if err := json.Unmarshal([]byte(v), &all); err != nil {
		return nil, fmt.Errorf("read token list: %w", err)
	}
	return all, nil
}

// LookupToken reads a token's decimals() from the chain, failing for an
// address that does not answer like an ERC-20 token. Its symbol is the
// one in the home's list, else its symbol() when that is usable in caps,
// else empty.
func (s *Service) LookupToken(ctx context.Context, addr common.Address) (Token, error) {
	dec, err := s.tokenDecimals(ctx)(addr)
	if err != nil {
		return Token{}, err
	}
	t := Token{Address: addr, Decimals: dec}
	known, err := s.Tokens(ctx)
	if err != nil {
		return Token{}, err
	}
	for _, k := range known {
		if k.Address == addr {
			t.Symbol = k.Symbol
			return t, nil
		}
	}
	if sym, err := s.tokenSymbol(ctx, addr); err == nil && policy.CheckSymbol(sym) == nil {
		t.Symbol = sym
	}
	return t, nil
}

// AddToken adds a token to the home's list for this chain, reading its
// decimals and (unless symbol is given) its symbol from the chain. Adding
// a listed address again refreshes it. A symbol another address already
// has is refused.
func (s *Service) AddToken(ctx context.Context, addr common.Address, symbol string) (Token, error) {
	if addr == (common.Address{}) {
		return Token{}, &ParamError{Field: "address", Msg: "expected a token address, got the zero address"}
	}
	dec, err := s.tokenDecimals(ctx)(addr)
	if err != nil {
		return Token{}, &ParamError{Field: "address", Msg: err.Error()}
	}
	if symbol == "" {
		sym, err := s.tokenSymbol(ctx, addr)
		if err != nil {
			return Token{}, &ParamError{Field: "symbol", Msg: fmt.Sprintf("%s has no usable symbol() (%v); give one", addr.Hex(), err)}
		}
		if err := policy.CheckSymbol(sym); err != nil {
			return Token{}, &ParamError{Field: "symbol", Msg: fmt.Sprintf("the token's own symbol() cannot name it in caps (%v); give one", err)}
		}
		symbol = sym
	} else if err := policy.CheckSymbol(symbol); err != nil {
		return Token{}, &ParamError{Field: "symbol", Msg: err.Error()}
	}
	t := Token{Symbol: symbol, Address: addr, Decimals: dec}
	if err := s.putTokens(ctx, []Token{t}, false); err != nil {
		return Token{}, err
	}
	s.adminAudit(ctx, "agentkeys_tokenAdd", map[string]any{"symbol": t.Symbol, "address": t.Address.Hex(), "decimals": t.Decimals})
	return t, nil
}

// SaveTokens puts tokens the caller vouches for (the sandbox's own) in
// the home's list for this chain, replacing entries with the same symbol
// or address.
func (s *Service) SaveTokens(ctx context.Context, tokens []Token) error {
	for _, t := range tokens {
		if err := policy.CheckSymbol(t.Symbol); err != nil {
			return fmt.Errorf("save token %s: %w", t.Address.Hex(), err)
		}
	}
	return s.putTokens(ctx, tokens, true)
}

func (s *Service) putTokens(ctx context.Context, tokens []Token, replace bool) error {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	all, err := s.storedTokens(ctx)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		kept := all[:0:0]
		for _, o := range all {
			if o.ChainID == s.cfg.ChainID && (o.Address == t.Address || strings.EqualFold(o.Symbol, t.Symbol)) {
				if !replace && o.Address != t.Address {
					return &ParamError{Field: "symbol", Msg: fmt.Sprintf("%s already names %s in this home; remove it first (agentkeys token remove %s) or give another symbol", o.Symbol, o.Address.Hex(), o.Symbol)}
				}
				continue
			}
			kept = append(kept, o)
		}
		all = append(kept, storedToken{ChainID: s.cfg.ChainID, Token: t})
	}
	b, err := json.Marshal(all)
	if err != nil {
		return fmt.Errorf("save token list: %w", err)
	}
	if err := s.cfg.Store.SetMeta(ctx, metaTokens, string(b)); err != nil {
		return fmt.Errorf("save token list: %w", err)
	}
	return nil
}

// RemoveToken removes a token, named by symbol or address, from the
// home's list for this chain. Errors: ErrNoToken.
func (s *Service) RemoveToken(ctx context.Context, ref string) (Token, error) {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	all, err := s.storedTokens(ctx)
	if err != nil {
		return Token{}, err
	}
	byAddr := strings.HasPrefix(ref, "0x") && len(ref) == 42 && common.IsHexAddress(ref)
	var removed *Token
	kept := all[:0:0]
	for _, o := range all {
		if o.ChainID == s.cfg.ChainID && removed == nil && (byAddr && o.Address == common.HexToAddress(ref) || !byAddr && strings.EqualFold(o.Symbol, ref)) {
			t := o.Token
			removed = &t
			continue
		}
		kept = append(kept, o)
	}
	if removed == nil {
		return Token{}, ErrNoToken
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return Token{}, fmt.Errorf("save token list: %w", err)
	}
	if err := s.cfg.Store.SetMeta(ctx, metaTokens, string(b)); err != nil {
		return Token{}, fmt.Errorf("save token list: %w", err)
	}
	s.adminAudit(ctx, "agentkeys_tokenRemove", map[string]any{"symbol": removed.Symbol, "address": removed.Address.Hex()})
	return *removed, nil
}

// tokenSource resolves the tokens named in caps: symbols from the home's
// list, addresses through the chain.
func (s *Service) tokenSource(ctx context.Context) policy.TokenSource {
	return policy.TokenSource{
		Known:  func() ([]Token, error) { return s.Tokens(ctx) },
		Lookup: func(a common.Address) (Token, error) { return s.LookupToken(ctx, a) },
	}
}

// tokenSymbol reads symbol() as an ABI string, or as the bytes32 some old
// tokens return.
func (s *Service) tokenSymbol(ctx context.Context, token common.Address) (string, error) {
	out, err := s.cfg.Chain.CallContract(ctx, ethereum.CallMsg{To: &token, Data: common.FromHex("0x95d89b41")}, nil)
	if err != nil {
		return "", errors.New("symbol() failed")
	}
	switch {
	case len(out) == 32:
		return strings.TrimRight(string(out), "\x00"), nil
	case len(out) >= 64 && new(big.Int).SetBytes(out[:32]).Cmp(big.NewInt(32)) == 0:
		n := new(big.Int).SetBytes(out[32:64])
		if !n.IsInt64() || n.Int64() > int64(len(out)-64) || n.Int64() > 64 {
			return "", errors.New("symbol() answered a malformed string")
		}
		return string(out[64 : 64+n.Int64()]), nil
	}
	return "", errors.New("symbol() answered nothing like a string")
}
