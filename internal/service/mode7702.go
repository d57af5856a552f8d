package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/audit"
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
}

// Wallet reports whether the owner is delegated, to what, on which chain.
func (s *Service) Wallet(ctx context.Context) (WalletStatus, error) {
	st, err := delegation.Read(ctx, s.cfg.Chain, s.cfg.ChainID, s.Address())
	return WalletStatus{Status: st, Expected: s.delegate()}, err
}

// Upgrade delegates the owner account to AgentKeyDelegate (EIP-7702).
func (s *Service) Upgrade(ctx context.Context) (WalletStatus, error) {
	if s.cfg.OwnerKey == nil {
		return WalletStatus{}, errors.New("the owner key is not available")
	}
	delegate := s.delegate()
	if delegate == (common.Address{}) {
		return WalletStatus{}, ErrNoDelegate
	}
	rcpt, err := delegation.Delegate(ctx, s.cfg.Chain, s.cfg.ChainID, s.cfg.OwnerKey, delegate)
	s.adminAudit(ctx, "agentkeys_walletUpgrade", map[string]any{"delegate": delegate, "tx_hash": txHashOf(rcpt), "error": errString(err)})
	if err != nil {
		return WalletStatus{}, fmt.Errorf("upgrade: %w", err)
	}
	return s.Wallet(ctx)
}

// Downgrade removes the owner's delegation (delegates to the zero address).
func (s *Service) Downgrade(ctx context.Context) (WalletStatus, error) {
	if s.cfg.OwnerKey == nil {
		return WalletStatus{}, errors.New("the owner key is not available")
	}
	rcpt, err := delegation.Delegate(ctx, s.cfg.Chain, s.cfg.ChainID, s.cfg.OwnerKey, common.Address{})
	s.adminAudit(ctx, "agentkeys_walletDowngrade", map[string]any{"tx_hash": txHashOf(rcpt), "error": errString(err)})
	if err != nil {
		return WalletStatus{}, fmt.Errorf("downgrade: %w", err)
	}
	return s.Wallet(ctx)
}

func txHashOf(r *types.Receipt) string {
	if r == nil {
		return ""
	}
	return r.TxHash.Hex()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// grant7702 registers a fresh session key on chain for a grant already
// stored, and funds it with the gas stipend from the key's native budget.
func (s *Service) grant7702(ctx context.Context, g store.Grant, pol *policy.Policy, session *secrets.PrivateKey) (onchain.Report, error) {
	cfg, rep := onchain.Compile(pol, g.CreatedAt)
	data, err := onchain.PackGrant(session.Address(), cfg)
	if err != nil {
		return rep, fmt.Errorf("encode grant: %w", err)
	}
	owner := s.Address()
	if _, err := s.ownerTx(ctx, g, "agentkeys_registerSession", owner, nil, data, false); err != nil {
		return rep, fmt.Errorf("register the session key on chain: %w", err)
	}
	if _, err := s.ownerTx(ctx, g, "agentkeys_fundSession", session.Address(), s.stipend(), nil, true); err != nil {
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

// ownerTx sends a transaction from the owner for a grant: its nonce comes
// from the store and it is audited before it is broadcast. spend reserves
// value against the grant's native budget.
func (s *Service) ownerTx(ctx context.Context, g store.Grant, method string, to common.Address, value *big.Int, data []byte, spend bool) (*types.Receipt, error) {
	if value == nil {
		value = new(big.Int)
	}
	owner := s.Address()
	fill, err := s.fill(ctx, owner, &to, value, data, TxArgs{})
	if err != nil {
		return nil, err
	}
	var signed *types.Transaction
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	err = s.cfg.Store.Decide(dctx, g.ID, func(ctx context.Context, tx store.DecideTx) error {
		now := s.now()
		if spend && value.Sign() > 0 {
			if err := tx.Reserve(ctx, now, []store.Spend{{Asset: store.AssetNative, Amount: value}}); err != nil {
				return err
			}
		}
		nonce, err := tx.NextNonce(ctx, s.cfg.ChainID, owner.Hex(), fill.pendingNonce)
		if err != nil {
			return err
		}
		signed, err = s.cfg.Wallet.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: s.chainID, Nonce: nonce, GasTipCap: fill.tip, GasFeeCap: fill.feeCap,
			Gas: fill.gas, To: &to, Value: value, Data: data}), s.chainID)
		if err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, audit.Record{Time: now, Method: method, Decision: audit.DecisionAllow, Reasons: []string{}, TxHash: signed.Hash().Hex(),
			Call: callRecord(policy.Request{Kind: policy.KindTransaction}, policy.Decision{}, map[string]any{"key_id": g.ID, "to": to, "value": value.String()})})
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Chain.SendTransaction(ctx, signed); err != nil {
		return nil, &UpstreamError{Op: "send transaction", Err: err}
	}
	rcpt, err := delegation.Wait(ctx, s.cfg.Chain, signed.Hash())
	if err != nil {
		return nil, err
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return rcpt, fmt.Errorf("transaction %s reverted", signed.Hash().Hex())
	}
	return rcpt, nil
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
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", err
	}
	id := "session_" + hex.EncodeToString(b[:])
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
	if s.delegate() == (common.Address{}) || s.cfg.OwnerKey == nil {
		return nil
	}
	data := onchain.PackRevokeAll()
	if !all {
		data = onchain.PackRevoke(common.HexToAddress(g.Meta[SessionAddress]))
	}
	owner := s.Address()
	rcpt, err := delegation.Send(ctx, s.cfg.Chain, s.cfg.ChainID, s.cfg.OwnerKey, owner, nil, data)
	method := "agentkeys_revokeSession"
	if all {
		method = "agentkeys_revokeAllSessions"
	}
	s.adminAudit(ctx, method, map[string]any{"key_id": g.ID, "tx_hash": txHashOf(rcpt), "error": errString(err)})
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
