package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
)

// ownerCall is a transaction of the owner's own account: a wallet upgrade
// or downgrade, registering, funding or revoking a session on chain, or
// deploying the delegate.
type ownerCall struct {
	method string       // what the audit record calls it, e.g. agentkeys_walletUpgrade
	grant  *store.Grant // the grant acted on, if any; with spend, its native budget pays value
	spend  bool
	charge *big.Int        // with spend, what the grant's budget pays if not value (a signed grant's stipend)
	to     *common.Address // nil creates a contract
	value  *big.Int
	data   []byte
	// authorize, when set, makes a type-0x04 transaction whose one
	// authorization points the owner's account at this code (the zero
	// address removes the delegation).
	authorize *common.Address
	// auths, when set, makes a type-0x04 transaction carrying these
	// authorizations, signed elsewhere (the owner's own wallet in the
	// owner-offline mode); the sender sponsors them.
	auths  []types.SetCodeAuthorization
	detail map[string]any // more for the audit record
	// sender signs the transaction: nil is the owner's wallet; the
	// relayer or a session key in the owner-offline mode.
	sender signer.Signer
}

// from is the signer of c: its sender, else the owner's wallet.
func (s *Service) from(c ownerCall) signer.Signer {
	if c.sender != nil {
		return c.sender
	}
	return s.cfg.Wallet
}

// sendOwner takes an owner transaction through the pipeline every
// transaction of the daemon takes: gas and fees from fill, then, in one
// store transaction, the reservation (if it spends a grant's budget), a
// store nonce shared with the agents' transactions of the account, the
// signature by signer.Signer and the audit record. Only after that commits
// is the transaction broadcast. It waits for the receipt; a revert is an
// error (the receipt is returned with it).
func (s *Service) sendOwner(ctx context.Context, c ownerCall) (*types.Transaction, *types.Receipt, error) {
	value := c.value
	if value == nil {
		value = new(big.Int)
	}
	sender := s.from(c)
	if !signer.HoldsKey(sender) {
		return nil, nil, ownerOfflineError(c.method)
	}
	owner := sender.Address()
	fill, err := s.fill(ctx, owner, c.to, value, c.data, TxArgs{})
	if err != nil {
		return nil, nil, err
	}
	if c.authorize != nil || len(c.auths) > 0 {
		// Estimated without the authorization, which is signed only once
		// the store has given its nonce; the authorization itself costs at
		// most this much more (EIP-7702's PER_EMPTY_ACCOUNT_COST).
		fill.gas += params.CallNewAccountGas * uint64(max(1, len(c.auths)))
	}
	if s.isRelayer(sender) {
		if err := s.checkFunded(ctx, sender.Address(), fill, value); err != nil {
			return nil, nil, err
		}
	}
	var signed *types.Transaction
	release := func() {}
	defer func() { release() }()
	// sign runs inside the store transaction; a decision on a grant offers
	// the same nonce and audit methods as an owner transaction.
	sign := func(ctx context.Context, tx store.OwnerTx) error {
		nonce, err := tx.NextNonce(ctx, s.cfg.ChainID, owner.Hex(), fill.pendingNonce)
		if err != nil {
			return fmt.Errorf("allocate nonce: %w", err)
		}
		release = s.inflight.hold(owner, nonce)
		if c.authorize != nil {
			// A self-sponsored authorization bumps the account's nonce a
			// second time: nonce+1 is the authorization's, and must never
			// be handed to another transaction.
			authNonce, err := tx.NextNonce(ctx, s.cfg.ChainID, owner.Hex(), nonce+1)
			if err != nil {
				return fmt.Errorf("allocate the authorization's nonce: %w", err)
			}
			if authNonce != nonce+1 {
				return fmt.Errorf("allocate the authorization's nonce: got %d after %d", authNonce, nonce)
			}
		}
		if signed, err = s.signOwner(c, sender, value, nonce, fill); err != nil {
			return err
		}
		detail := map[string]any{"nonce": nonce, "value": value.String()}
		if c.to != nil {
			detail["to"] = c.to.Hex()
		} else {
			detail["creates"] = crypto.CreateAddress(owner, nonce).Hex()
		}
		if c.authorize != nil {
			detail["authorize"] = c.authorize.Hex()
		}
		for _, a := range c.auths {
			detail["authorize"] = a.Address.Hex()
		}
		if sender != s.cfg.Wallet {
			detail["from"] = owner.Hex()
		}
		keyID := ""
		if c.grant != nil {
			keyID, detail["key_id"] = c.grant.ID, c.grant.ID
		}
		for k, v := range c.detail {
			detail[k] = v
		}
		call, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		raw, err := signed.MarshalBinary()
		if err != nil {
			return err
		}
		if err := tx.RecordTx(ctx, s.txRecord(keyID, store.TxKindOwner, owner, signed, raw, true)); err != nil {
			return err
		}
		// The owner's transaction names its key in the call, not as the
		// record's KeyID: it is not the key's use, so it must not count
		// toward the key's rate, last use or anomalies.
		_, err = tx.AppendAudit(ctx, audit.Record{Time: s.now(), Method: c.method, Decision: audit.DecisionAllow,
			Reasons: []string{}, TxHash: signed.Hash().Hex(), Call: call})
		return err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	if c.grant != nil {
		err = s.cfg.Store.Decide(dctx, c.grant.ID, func(ctx context.Context, tx store.DecideTx) error {
			if err := sign(ctx, tx); err != nil {
				return err
			}
			amount := value
			if c.charge != nil {
				amount = c.charge
			}
			if !c.spend || amount.Sign() == 0 {
				return nil
			}
			// Reserved for this transaction, so the watcher settles it
			// when it lands or releases it if it never can. The grant's
			// row lock serialises its budget, so the order does not matter.
			if err := tx.ReserveTx(ctx, s.now(), signed.Hash().Hex(), []store.Spend{{Asset: store.AssetNative, Amount: amount}}); err != nil {
				return fmt.Errorf("reserve budget: %w", err)
			}
			return nil
		})
	} else {
		err = s.cfg.Store.Owner(dctx, sign)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: record the owner's transaction (nothing was sent): %w", c.method, err)
	}
	if err := s.sendRecorded(ctx, signed, map[string]any{"method": c.method}, func() { release() }); err != nil {
		return signed, nil, err
	}
	rcpt, err := delegation.Wait(ctx, s.cfg.Chain, signed.Hash())
	if err != nil {
		return signed, nil, err
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return signed, rcpt, fmt.Errorf("transaction %s reverted", signed.Hash().Hex())
	}
	return signed, rcpt, nil
}

// signOwner builds and signs an owner transaction with its store nonce.
// A delegation's authorization carries nonce+1: the sender's nonce is
// bumped before authorizations are processed.
func (s *Service) signOwner(c ownerCall, w signer.Signer, value *big.Int, nonce uint64, fill *txFill) (*types.Transaction, error) {
	if len(c.auths) > 0 {
		if c.to == nil {
			return nil, errors.New("an EIP-7702 transaction needs a recipient")
		}
		return w.SignTx(types.NewTx(&types.SetCodeTx{ChainID: uint256.NewInt(s.cfg.ChainID), Nonce: nonce,
			GasTipCap: uint256.MustFromBig(fill.tip), GasFeeCap: uint256.MustFromBig(fill.feeCap), Gas: fill.gas, To: *c.to,
			Value: uint256.MustFromBig(value), Data: c.data, AuthList: c.auths}), s.chainID)
	}
	if c.authorize == nil {
		return w.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: s.chainID, Nonce: nonce, GasTipCap: fill.tip, GasFeeCap: fill.feeCap,
			Gas: fill.gas, To: c.to, Value: value, Data: c.data}), s.chainID)
	}
	if c.to == nil {
		return nil, errors.New("an EIP-7702 transaction needs a recipient")
	}
	auth, err := w.SignAuthorization(types.SetCodeAuthorization{ChainID: *uint256.NewInt(s.cfg.ChainID), Address: *c.authorize, Nonce: nonce + 1})
	if err != nil {
		return nil, err
	}
	return w.SignTx(types.NewTx(&types.SetCodeTx{ChainID: uint256.NewInt(s.cfg.ChainID), Nonce: nonce,
		GasTipCap: uint256.MustFromBig(fill.tip), GasFeeCap: uint256.MustFromBig(fill.feeCap), Gas: fill.gas, To: *c.to,
		Value: uint256.MustFromBig(value), Data: c.data, AuthList: []types.SetCodeAuthorization{auth}}), s.chainID)
}
