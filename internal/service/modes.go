package service

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/onchain"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
)

// keyMode is how a key's requests become transactions. There is one
// implementation per mode: walletMode signs the agent's call with the
// owner's wallet key; sessionMode signs, with the key's own session key,
// an execute call on the owner account that AgentKeyDelegate enforces.
// Code that differs by mode asks the key's keyMode (modeOf) instead of
// comparing the mode's name.
type keyMode interface {
	// signerAddress is the account whose signature g's transactions carry.
	signerAddress(g store.Grant) common.Address
	// signer returns g's signer.
	signer(ctx context.Context, g store.Grant) (signer.Signer, error)
	// carry is the transaction that carries an agent's call to args.To.
	carry(ctx context.Context, g store.Grant, args TxArgs, value *big.Int) (outgoing, error)
	// batch is the transaction that carries several calls atomically; a
	// mode without batches returns a ParamError before looking at them.
	batch(ctx context.Context, g store.Grant, calls []onchain.Call) (outgoing, error)
	canBatch() error
	// chargesFee says whether a transaction's worst-case fee counts
	// against the key's limits under p (see maxFee).
	chargesFee(p *policy.Policy) bool
	// explainFill turns a failed gas estimate into what the agent reads.
	explainFill(err error) error
	// prepareGrant checks pol for the mode and makes the key's signer: the
	// store key id that signs and the meta the grant records.
	prepareGrant(ctx context.Context, pol *policy.Policy, meta map[string]string) (grantPrep, error)
	// finishGrant runs once the grant is stored; an error revokes it.
	finishGrant(ctx context.Context, g store.Grant, pol *policy.Policy, prep grantPrep) (*onchain.Report, error)
	// revoked runs once g is revoked here.
	revoked(ctx context.Context, g store.Grant) error
}

// grantPrep is what prepareGrant made for a new key.
type grantPrep struct {
	signerKeyID string
	meta        map[string]string
	session     *secrets.PrivateKey // sessionMode only
	pending     string              // what the stored grant waits for (store.Grant.Pending), if anything
}

var (
	_ keyMode = walletMode{}
	_ keyMode = sessionMode{}
)

// modeOf returns the implementation of a mode by its name ("" is
// ModeWallet).
func (s *Service) modeOf(name string) (keyMode, error) {
	switch name {
	case ModeWallet, "":
		return walletMode{s}, nil
	case Mode7702:
		return sessionMode{s}, nil
	}
	return nil, &ParamError{Field: "mode", Msg: fmt.Sprintf("expected wallet or 7702, got %q", name)}
}

// walletMode: the daemon signs with the owner's wallet key.
type walletMode struct{ s *Service }

func (m walletMode) signerAddress(g store.Grant) common.Address {
	return common.HexToAddress(g.Address)
}

func (m walletMode) signer(context.Context, store.Grant) (signer.Signer, error) {
	return m.s.cfg.Wallet, nil
}

func (m walletMode) carry(_ context.Context, g store.Grant, args TxArgs, value *big.Int) (outgoing, error) {
	return outgoing{from: common.HexToAddress(g.Address), to: args.To, data: args.Data, value: value, sign: m.s.cfg.Wallet}, nil
}

func (m walletMode) canBatch() error {
	return &ParamError{Field: "calls", Msg: "atomic batches need a 7702 key (key grant --mode 7702); send the calls one by one"}
}

func (m walletMode) batch(context.Context, store.Grant, []onchain.Call) (outgoing, error) {
	return outgoing{}, m.canBatch()
}

// The wallet pays the fee of every transaction it signs for the key.
func (walletMode) chargesFee(*policy.Policy) bool { return true }

func (walletMode) explainFill(err error) error { return err }

func (m walletMode) prepareGrant(_ context.Context, _ *policy.Policy, meta map[string]string) (grantPrep, error) {
	if m.s.OwnerOffline() {
		return grantPrep{}, &ParamError{Field: "mode", Msg: "wallet mode signs with the owner's key, which is not on this daemon (owner-offline mode): grant with --mode 7702, which the owner signs and the chain enforces"}
	}
	return grantPrep{signerKeyID: m.s.cfg.WalletKeyID, meta: meta}, nil
}

func (walletMode) finishGrant(context.Context, store.Grant, *policy.Policy, grantPrep) (*onchain.Report, error) {
	return nil, nil
}

func (walletMode) revoked(context.Context, store.Grant) error { return nil }

// sessionMode: the daemon signs as the key's session key, registered
// with the owner's AgentKeyDelegate (EIP-7702).
type sessionMode struct{ s *Service }

func (sessionMode) signerAddress(g store.Grant) common.Address { return sessionOf(g) }

func (m sessionMode) signer(ctx context.Context, g store.Grant) (signer.Signer, error) {
	return m.s.sessionSigner(ctx, g)
}

func (m sessionMode) carry(ctx context.Context, g store.Grant, args TxArgs, value *big.Int) (outgoing, error) {
	w, err := m.s.sessionSigner(ctx, g)
	if err != nil {
		return outgoing{}, err
	}
	out := outgoing{from: w.Address(), to: args.To, data: args.Data, value: new(big.Int), sign: w}
	if args.To != nil {
		wrapped, wdata := wrap7702(common.HexToAddress(g.Address), args, value)
		out.to, out.data = &wrapped, wdata
	}
	return out, nil
}

func (sessionMode) canBatch() error { return nil }

func (m sessionMode) batch(ctx context.Context, g store.Grant, calls []onchain.Call) (outgoing, error) {
	w, err := m.s.sessionSigner(ctx, g)
	if err != nil {
		return outgoing{}, err
	}
	owner := common.HexToAddress(g.Address)
	return outgoing{from: w.Address(), to: &owner, data: onchain.PackExecuteBatch(calls), value: new(big.Int), sign: w}, nil
}

// The session key pays gas from its stipend, charged to the native budget
// when the key was granted: the fee counts only against a fees limit the
// policy sets (never twice against native).
func (sessionMode) chargesFee(p *policy.Policy) bool {
	_, ok := p.Limit(policy.Fees)
	return ok
}

func (sessionMode) explainFill(err error) error { return explainRevert(err) }

func (m sessionMode) prepareGrant(ctx context.Context, pol *policy.Policy, reqMeta map[string]string) (grantPrep, error) {
	if err := m.s.check7702(ctx, pol); err != nil {
		return grantPrep{}, err
	}
	session, id, err := m.s.newSessionKey(ctx)
	if err != nil {
		return grantPrep{}, fmt.Errorf("grant: %w", err)
	}
	meta := map[string]string{}
	for k, v := range reqMeta {
		meta[k] = v
	}
	meta[SessionAddress] = session.Address().Hex()
	prep := grantPrep{signerKeyID: id, meta: meta, session: session}
	if m.s.OwnerOffline() {
		// The owner signs the grant; until then the key waits.
		if err := m.s.prepareSigned(ctx, meta); err != nil {
			return grantPrep{}, fmt.Errorf("grant: %w", err)
		}
		prep.pending = store.PendingSignature
	}
	return prep, nil
}

func (m sessionMode) finishGrant(ctx context.Context, g store.Grant, pol *policy.Policy, prep grantPrep) (*onchain.Report, error) {
	if prep.pending == store.PendingSignature {
		_, rep := onchain.Compile(pol, g.CreatedAt)
		rep.OnChain = append(rep.OnChain, fmt.Sprintf("session key %s registers with the owner's AgentKeyDelegate once the owner signs the grant (agentkeys key activate)", prep.session.Address().Hex()))
		return &rep, nil
	}
	rep, err := m.s.grant7702(ctx, g, pol, prep.session)
	if err != nil {
		return nil, err
	}
	return &rep, nil
}

func (m sessionMode) revoked(ctx context.Context, g store.Grant) error {
	if m.s.OwnerOffline() {
		if g.Pending != "" {
			return nil // never registered on chain
		}
		if err := m.s.revokeSelf(ctx, g); err != nil {
			return fmt.Errorf("revoked here, but the session's on-chain revokeSelf failed: %w", err)
		}
		return nil
	}
	if err := m.s.revokeOnChain(ctx, g, false); err != nil {
		return fmt.Errorf("revoked here, but the on-chain revoke failed: %w", err)
	}
	return nil
}
