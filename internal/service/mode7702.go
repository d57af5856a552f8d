package service

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/onchain"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Vault seals keys at rest, binding each to its record id
// (secrets.MasterKey).
type Vault interface {
	Seal(recordID string, plaintext []byte) ([]byte, error)
	Open(recordID string, sealed []byte) ([]byte, error)
}

// DefaultGasStipend is what a 7702 session key receives for gas, taken
// from the key's native budget.
var DefaultGasStipend = big.NewInt(5e15) // 0.005 ETH

// SessionAddress is the grant meta key holding a 7702 session's address.
const SessionAddress = "session"

// WalletStatus describes the owner account's delegation.
type WalletStatus struct {
	delegation.Status
	Expected common.Address `json:"expected_delegate"` // the AgentKeyDelegate this daemon uses
	// OwnerOffline: the daemon holds no owner key (docs/owner-offline.md);
	// Relayer is then its gas account and RelayerBalance its balance in
	// wei (empty if the node could not say).
	OwnerOffline   bool            `json:"owner_offline"`
	Relayer        *common.Address `json:"relayer,omitempty"`
	RelayerBalance string          `json:"relayer_balance_wei,omitempty"`
}

// Wallet reports whether the owner is delegated, to what, on which chain.
func (s *Service) Wallet(ctx context.Context) (WalletStatus, error) {
	st, err := delegation.Read(ctx, s.cfg.Chain, s.cfg.ChainID, s.Address())
	ws := WalletStatus{Status: st, Expected: s.delegate(), OwnerOffline: s.OwnerOffline()}
	if s.cfg.Relayer != nil {
		r := s.cfg.Relayer.Address()
		ws.Relayer = &r
		if b, berr := s.RelayerBalance(ctx); berr == nil && b != nil {
			ws.RelayerBalance = b.String()
		}
	}
	return ws, err
}

// Upgrade delegates the owner account to AgentKeyDelegate (EIP-7702).
// Once the owner has a passkey it waits for one (*ApprovalPending): 7702
// keys act only through the delegation.
func (s *Service) Upgrade(ctx context.Context) (WalletStatus, error) {
	delegate := s.delegate()
	if delegate == (common.Address{}) {
		return WalletStatus{}, ErrNoDelegate
	}
	if err := s.pending(ctx, KindWalletUpgrade, "", walletUpgrade{Kind: KindWalletUpgrade, ChainID: s.cfg.ChainID,
		Owner: s.Address().Hex(), Delegate: delegate.Hex()}); err != nil {
		return WalletStatus{}, err
	}
	return s.upgrade(ctx)
}

func (s *Service) upgrade(ctx context.Context) (WalletStatus, error) {
	delegate := s.delegate()
	owner := s.Address()
	if _, _, err := s.sendOwner(ctx, ownerCall{method: "agentkeys_walletUpgrade", to: &owner, authorize: &delegate}); err != nil {
		return WalletStatus{}, fmt.Errorf("upgrade: %w", err)
	}
	return s.Wallet(ctx)
}

// Downgrade removes the owner's delegation (delegates to the zero address).
func (s *Service) Downgrade(ctx context.Context) (WalletStatus, error) {
	owner := s.Address()
	if _, _, err := s.sendOwner(ctx, ownerCall{method: "agentkeys_walletDowngrade", to: &owner, authorize: &common.Address{}}); err != nil {
		return WalletStatus{}, fmt.Errorf("downgrade: %w", err)
	}
	return s.Wallet(ctx)
}

// grant7702 registers a fresh session key on chain for a grant already
// stored, and funds it with the gas stipend from the key's native budget.
func (s *Service) grant7702(ctx context.Context, g store.Grant, pol *policy.Policy, session *secrets.PrivateKey) (onchain.Report, error) {
	cfg, rep := onchain.Compile(pol, g.CreatedAt)
	data, err := onchain.PackGrant(session.Address(), cfg)
	if err != nil {
		return rep, fmt.Errorf("encode grant: %w", err)
	}
	owner, sessionAddr := s.Address(), session.Address()
	if _, _, err := s.sendOwner(ctx, ownerCall{method: "agentkeys_registerSession", grant: &g, to: &owner, data: data}); err != nil {
		return rep, fmt.Errorf("register the session key on chain: %w", err)
	}
	if _, _, err := s.sendOwner(ctx, ownerCall{method: "agentkeys_fundSession", grant: &g, spend: true, to: &sessionAddr, value: s.stipend()}); err != nil {
		return rep, fmt.Errorf("fund the session key's gas: %w", err)
	}
	rep.OnChain = append(rep.OnChain, fmt.Sprintf("session key %s registered with the owner's AgentKeyDelegate", session.Address().Hex()))
	return rep, nil
}

func (s *Service) stipend() *big.Int {
	if s.cfg.GasStipend != nil {
		return s.cfg.GasStipend
	}
	return DefaultGasStipend
}

// sessionSigner unseals a 7702 grant's session key.
func (s *Service) sessionSigner(ctx context.Context, g store.Grant) (*signer.Wallet, error) {
	if v, ok := s.sessions.Load(g.SignerKeyID); ok {
		return v.(*signer.Wallet), nil
	}
	if s.cfg.Vault == nil {
		return nil, errors.New("no vault to open session keys")
	}
	k, err := s.cfg.Store.GetKey(ctx, g.SignerKeyID)
	if err != nil {
		return nil, fmt.Errorf("load session key: %w", err)
	}
	raw, err := s.cfg.Vault.Open(k.ID, k.Sealed)
	if err != nil {
		return nil, fmt.Errorf("open session key: %w", err)
	}
	key, err := secrets.PrivateKeyFromBytes(raw)
	clear(raw)
	if err != nil {
		return nil, err
	}
	w := signer.NewWallet(key)
	s.sessions.Store(g.SignerKeyID, w)
	return w, nil
}

// newSessionKey makes and seals a fresh session key.
func (s *Service) newSessionKey(ctx context.Context) (*secrets.PrivateKey, string, error) {
	if s.cfg.Vault == nil {
		return nil, "", errors.New("7702 mode needs the home's vault")
	}
	key, err := secrets.GenerateKey()
	if err != nil {
		return nil, "", err
	}
	id, err := randomID("session_", 8)
	if err != nil {
		return nil, "", err
	}
	sealed, err := s.cfg.Vault.Seal(id, key.Bytes())
	if err != nil {
		return nil, "", err
	}
	if err := s.cfg.Store.PutKey(ctx, store.Key{ID: id, Kind: store.KeyKindSession, Address: key.Address().Hex(), Sealed: sealed, CreatedAt: s.now()}); err != nil {
		return nil, "", err
	}
	return key, id, nil
}

// check7702 refuses a 7702 grant the chain could not hold.
func (s *Service) check7702(ctx context.Context, pol *policy.Policy) error {
	delegate := s.delegate()
	if delegate == (common.Address{}) {
		return &ParamError{Field: "mode", Msg: "7702 mode needs " + ErrNoDelegate.Error()}
	}
	st, err := delegation.Read(ctx, s.cfg.Chain, s.cfg.ChainID, s.Address())
	if err != nil {
		return err
	}
	if !st.Delegated || st.Delegate != delegate {
		return &ParamError{Field: "mode", Msg: fmt.Sprintf("the owner %s is not delegated to AgentKeyDelegate %s; run agentkeys wallet upgrade", s.Address().Hex(), delegate.Hex())}
	}
	lim, ok := pol.Limit(policy.Native)
	if !ok || lim.PerPeriod != nil && lim.PerPeriod.Cmp(s.stipend()) < 0 {
		return &ParamError{Field: "limits", Msg: fmt.Sprintf("7702 keys pay gas from a stipend of %s ETH taken from the native budget; give a native limit of at least that per period", policy.FormatAmount(s.stipend(), 18))}
	}
	return nil
}

// wrap7702 turns an agent's call into the session key's execute call on
// the owner's account.
func wrap7702(owner common.Address, args TxArgs, value *big.Int) (common.Address, []byte) {
	return owner, onchain.PackExecute(*args.To, value, args.Data)
}

// revokeOnChain revokes a 7702 session (or every session) on chain after
// the daemon has stopped honouring it.
func (s *Service) revokeOnChain(ctx context.Context, g store.Grant, all bool) error {
	if s.delegate() == (common.Address{}) {
		return nil
	}
	owner := s.Address()
	c := ownerCall{method: "agentkeys_revokeAllSessions", to: &owner, data: onchain.PackRevokeAll()}
	if !all {
		c.method, c.grant, c.data = "agentkeys_revokeSession", &g, onchain.PackRevoke(common.HexToAddress(g.Meta[SessionAddress]))
	}
	_, _, err := s.sendOwner(ctx, c)
	return err
}

// explainRevert reads why a 7702 call's gas estimation reverted. A
// refusal by AgentKeyDelegate is the chain's answer to the request, so it
// becomes a Refusal naming the delegate's reason (4001 for the agent, a
// deny in the audit log). A revert of the called contract itself, which
// the delegate wraps in CallFailed(bytes), is unwrapped and passed on as a
// node would report it (code 3, "execution reverted", the target's revert
// data), so viem and ethers decode it as they would without agentkeys.
func explainRevert(err error) error {
	var de interface{ ErrorData() any }
	if !errors.As(err, &de) {
		return err
	}
	hexData, _ := de.ErrorData().(string)
	data := common.FromHex(hexData)
	if inner, ok := onchain.CallFailedData(data); ok {
		return &UpstreamError{Op: "gas estimation failed", Err: &RevertError{Data: inner}}
	}
	if name := onchain.DecodeError(data); name != "" {
		return &Refusal{Reasons: []string{"refused on chain by AgentKeyDelegate: " + name}}
	}
	return err
}
