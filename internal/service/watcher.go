package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
)

// The watcher follows every transaction the daemon signed to its fate
// (store.TxRecord's states). It keeps no state of its own: each Sweep
// starts from the store, so it resumes after a restart by construction.

const (
	// DefaultStuckAfter is how long a signed transaction may stay away
	// from the node before the watcher cancels it.
	DefaultStuckAfter = 2 * time.Minute
	// DefaultSweepLimit bounds the transactions one Sweep looks at.
	DefaultSweepLimit = 64
	// DefaultWatchEvery is how often serve and sandbox sweep.
	DefaultWatchEvery = 2 * time.Second
	// MethodTxCancelled is the audit method of a cancel.
	MethodTxCancelled = "agentkeys_txCancelled"
)

// ErrNoTx is returned for a transaction hash the store does not hold.
var ErrNoTx = errors.New("no such transaction signed by this daemon (see agentkeys tx list)")

// SweepReport says what one Sweep did, by transaction hash.
type SweepReport struct {
	Checked     int      // transactions looked at
	Included    []string // mined
	Replaced    []string // another transaction took their nonce
	Cancelled   []string // our cancel took their nonce
	Seen        []string // found at the node: now broadcast
	Rebroadcast []string // the node did not hold them: sent again
	CancelSent  []string // stuck: a cancel was signed, recorded and sent for them
	Errors      int      // transactions left for the next sweep after an error (logged)
	// Follower is set when another replica sharing the store leads the
	// watcher: this sweep looked at nothing.
	Follower bool
}

// leading is a store shared by several replicas that lets one of them at
// a time follow transactions (store/postgres: an advisory lock held by a
// session, taken over when its holder dies). Stores without it are one
// process's: it always leads.
type leading interface {
	Lead(ctx context.Context) (bool, error)
}

func (s *Service) stuckAfter() time.Duration {
	if s.cfg.StuckAfter > 0 {
		return s.cfg.StuckAfter
	}
	return DefaultStuckAfter
}

// Watch sweeps (and revokes stale keys, RevokeStale) at once and then
// every interval until ctx ends. serve and
// sandbox run it in a goroutine; tests call Sweep instead.
func (s *Service) Watch(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultWatchEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rep, err := s.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("watch transactions", "err", err)
		}
		if !rep.Follower {
			if _, err := s.RevokeStale(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Log.Error("revoke stale keys", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// leads reports whether this replica does the work that one replica at a
// time does (following transactions, posting alerts): always, unless the
// store is shared (leading) and another replica holds the lead.
func (s *Service) leads(ctx context.Context) (bool, error) {
	l, ok := s.feed.st.(leading)
	if !ok {
		return true, nil
	}
	return l.Lead(ctx)
}

// Sweep looks at up to Config.SweepLimit transactions not yet final,
// oldest first, and moves each toward its fate: a receipt makes it
// included; a nonce the chain has moved past without it makes it replaced
// (or cancelled, when our cancel took the nonce); one the node does not
// hold is broadcast again if the daemon was to send it, or cancelled once
// it has been signed for longer than Config.StuckAfter without reaching
// the node. Errors with one transaction are logged and counted, and it is
// looked at again next time; the error returned is the store's. On a
// replica that does not lead the watcher (a leading store), it does
// nothing and says so (SweepReport.Follower).
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	var rep SweepReport
	lead, err := s.leads(ctx)
	if err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	if lead != s.led {
		s.led = lead
		s.cfg.Log.Info("transaction watcher", "leads", lead)
	}
	if rep.Follower = !lead; rep.Follower {
		return rep, nil
	}
	limit := s.cfg.SweepLimit
	if limit <= 0 {
		limit = DefaultSweepLimit
	}
	txs, err := s.cfg.Store.ListTxs(ctx, store.TxFilter{ChainID: s.cfg.ChainID, NonFinal: true, Limit: limit})
	if err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	latest := map[string]uint64{} // the sender's mined nonce, read once per sweep before any receipt
	for _, t := range txs {
		rep.Checked++
		if err := s.follow(ctx, t, latest, &rep); err != nil {
			rep.Errors++
			s.cfg.Log.Error("follow transaction", "tx", t.Hash, "key", t.GrantID, "nonce", t.Nonce, "err", err)
		}
	}
	return rep, nil
}

// follow moves one transaction on.
func (s *Service) follow(ctx context.Context, t store.TxRecord, latest map[string]uint64, rep *SweepReport) error {
	// The nonce is read before the receipt: a transaction mined in
	// between then shows its receipt, instead of passing for replaced.
	mined, ok := latest[t.Sender]
	if !ok {
		n, err := s.cfg.Chain.NonceAt(ctx, common.HexToAddress(t.Sender), nil)
		if err != nil {
			return fmt.Errorf("read nonce: %w", err)
		}
		latest[t.Sender], mined = n, n
	}
	rcpt, err := s.receipt(ctx, t.Hash)
	if err != nil {
		return err
	}
	if rcpt != nil {
		if s.finish(ctx, t, store.TxUpdate{State: store.TxIncluded, Block: rcpt.BlockNumber.Uint64(), Status: rcpt.Status}, rcpt) {
			rep.Included = append(rep.Included, t.Hash)
		}
		return nil
	}
	if mined > t.Nonce {
		return s.settleNonce(ctx, t, rep)
	}
	// The nonce is still free.
	_, _, err = s.cfg.Chain.TransactionByHash(ctx, common.HexToHash(t.Hash))
	switch {
	case err == nil:
		if t.State == store.TxSigned && s.update(ctx, t.Hash, store.TxUpdate{State: store.TxBroadcast}) {
			rep.Seen = append(rep.Seen, t.Hash)
		}
		return nil
	case !errors.Is(err, ethereum.NotFound):
		return fmt.Errorf("look the transaction up: %w", err)
	}
	stuck := t.State == store.TxSigned && t.Kind != store.TxKindCancel && s.now().Sub(t.CreatedAt) >= s.stuckAfter()
	switch {
	case stuck && t.CancelledBy == "":
		if _, err := s.cancel(ctx, t, "the watcher", fmt.Sprintf("signed %s ago and never reached the node (stuck-after %s)",
			s.now().Sub(t.CreatedAt).Round(time.Second), s.stuckAfter())); err != nil {
			return fmt.Errorf("cancel: %w", err)
		}
		rep.CancelSent = append(rep.CancelSent, t.Hash)
	case stuck:
		// Its cancel is recorded and followed on its own.
	case t.State == store.TxBroadcast || t.Send:
		if err := s.rebroadcast(ctx, t); err != nil {
			return fmt.Errorf("broadcast again: %w", err)
		}
		rep.Rebroadcast = append(rep.Rebroadcast, t.Hash)
	default:
		// An eth_signTransaction result the agent has not broadcast yet.
	}
	return nil
}

// settleNonce finishes a transaction whose nonce the chain has used for
// another transaction: our cancel (cancelled), the transaction a cancel
// was meant to cancel (the cancel is replaced by it), or one unknown here.
func (s *Service) settleNonce(ctx context.Context, t store.TxRecord, rep *SweepReport) error {
	for _, other := range []string{t.CancelledBy, t.Cancels} {
		if other == "" {
			continue
		}
		r, err := s.receipt(ctx, other)
		if err != nil {
			return err
		}
		if r == nil {
			continue
		}
		if other == t.CancelledBy {
			if s.finish(ctx, t, store.TxUpdate{State: store.TxCancelled, CancelledBy: other}, nil) {
				rep.Cancelled = append(rep.Cancelled, t.Hash)
			}
			return nil
		}
		if s.finish(ctx, t, store.TxUpdate{State: store.TxReplaced, ReplacedBy: other}, nil) {
			rep.Replaced = append(rep.Replaced, t.Hash)
		}
		return nil
	}
	if s.finish(ctx, t, store.TxUpdate{State: store.TxReplaced}, nil) {
		rep.Replaced = append(rep.Replaced, t.Hash)
	}
	return nil
}

// receipt returns the transaction's receipt, or nil if the node has none.
func (s *Service) receipt(ctx context.Context, hash string) (*types.Receipt, error) {
	r, err := s.cfg.Chain.TransactionReceipt(ctx, common.HexToHash(hash))
	if errors.Is(err, ethereum.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read receipt of %s: %w", hash, err)
	}
	return r, nil
}

// finish moves t to a final state. It is the one place where a
// transaction's fate becomes known for good, so the budget follows it
// here: an included transaction (rcpt) is settled at its actual fee (a
// reverted one too: it paid its fee, and its spend stays counted, erring
// on the owner's side), and one whose nonce another transaction took can
// never land, so what it reserved is released, with an audit record.
//
// The budget moves before the state does: both are idempotent, and a
// crash between them leaves the transaction open, so the next sweep (in
// this process or after a restart) finishes it. The other order would
// leave a final transaction whose reservation stays pending for good. It
// reports whether this call made the state change (a concurrent one may
// have made it first); on a store error it changes nothing final and the
// next sweep tries again.
func (s *Service) finish(ctx context.Context, t store.TxRecord, u store.TxUpdate, rcpt *types.Receipt) bool {
	hash := common.HexToHash(t.Hash)
	switch {
	case rcpt != nil:
		fee := new(big.Int).SetUint64(rcpt.GasUsed)
		if rcpt.EffectiveGasPrice != nil {
			fee.Mul(fee, rcpt.EffectiveGasPrice)
		}
		if err := s.SettleTx(ctx, hash, fee); err != nil {
			s.cfg.Log.Error("settle budget", "tx", t.Hash, "err", err)
			return false
		}
	case u.State == store.TxReplaced || u.State == store.TxCancelled:
		by := u.ReplacedBy
		if by == "" {
			by = u.CancelledBy
		}
		reason := fmt.Sprintf("transaction %s can no longer land: the chain used its nonce %d for another transaction", t.Hash, t.Nonce)
		if by != "" {
			reason = fmt.Sprintf("transaction %s can no longer land: %s was mined at its nonce %d", t.Hash, by, t.Nonce)
		}
		// ErrConflict: its spend was settled (it landed after all, as
		// the chain said earlier), so the spend stays and the state moves.
		if _, err := s.ReleaseTx(ctx, hash, reason); err != nil && !errors.Is(err, store.ErrConflict) {
			s.cfg.Log.Error("release budget", "tx", t.Hash, "err", err)
			return false
		}
	}
	if !s.update(ctx, t.Hash, u) {
		return false
	}
	s.cfg.Log.Info("transaction final", "tx", t.Hash, "key", t.GrantID, "kind", t.Kind, "nonce", t.Nonce, "state", u.State,
		"block", u.Block, "status", u.Status, "replaced_by", u.ReplacedBy, "cancelled_by", u.CancelledBy)
	return true
}

// update applies u (at the service's now) and reports whether it did; a
// transaction already final is left as it is.
func (s *Service) update(ctx context.Context, hash string, u store.TxUpdate) bool {
	u.At = s.now()
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	if _, err := s.cfg.Store.UpdateTx(actx, hash, u); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			s.cfg.Log.Error("record transaction state", "tx", hash, "state", u.State, "err", err)
		}
		return false
	}
	return true
}

// markBroadcast records that a node took the transaction.
func (s *Service) markBroadcast(ctx context.Context, hash common.Hash) {
	s.update(ctx, hash.Hex(), store.TxUpdate{State: store.TxBroadcast})
}

// rebroadcast sends the stored bytes again. A node that already holds
// them counts as success.
func (s *Service) rebroadcast(ctx context.Context, t store.TxRecord) error {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(t.Raw); err != nil {
		return fmt.Errorf("decode stored transaction: %w", err)
	}
	if err := s.cfg.Chain.SendTransaction(ctx, tx); err != nil && !strings.Contains(err.Error(), "already known") {
		return err
	}
	s.update(ctx, t.Hash, store.TxUpdate{State: store.TxBroadcast})
	return nil
}

// txRecord is the store's record of a transaction just signed.
func (s *Service) txRecord(grantID, kind string, from common.Address, signed *types.Transaction, raw []byte, send bool) store.TxRecord {
	return store.TxRecord{Hash: signed.Hash().Hex(), ChainID: s.cfg.ChainID, Sender: from.Hex(), Nonce: signed.Nonce(), GrantID: grantID,
		Kind: kind, Send: send, Raw: raw, State: store.TxSigned, CreatedAt: s.now()}
}

// signerFor is the signer that made t: the wallet key, or the session key
// of t's 7702 grant.
func (s *Service) signerFor(ctx context.Context, t store.TxRecord) (signer.Signer, error) {
	sender := common.HexToAddress(t.Sender)
	if sender == s.cfg.Wallet.Address() {
		return s.cfg.Wallet, nil
	}
	if s.cfg.Relayer != nil && sender == s.cfg.Relayer.Address() {
		return s.cfg.Relayer, nil
	}
	if t.GrantID != "" {
		g, err := s.cfg.Store.GetGrant(ctx, t.GrantID)
		if err != nil {
			return nil, fmt.Errorf("read key %s: %w", t.GrantID, err)
		}
		if m, err := s.modeOf(g.Mode); err == nil && m.signerAddress(g) == sender {
			return m.signer(ctx, g)
		}
	}
	return nil, fmt.Errorf("no key of this daemon signs for %s", sender.Hex())
}

// bump is v raised by a tenth and one wei: go-ethereum's pool takes a
// replacement only with a tip and fee cap at least 10% above the old.
func bump(v *big.Int) *big.Int {
	out := new(big.Int).Div(v, big.NewInt(10))
	return out.Add(out, v).Add(out, big.NewInt(1))
}

func maxBig(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// cancel signs a zero-value self-transfer at t's nonce with fees above
// both t's and the network's, records it (kind cancel, audited as
// agentkeys_txCancelled) and then broadcasts it. by and why say who
// cancelled and why, for the audit record. A failed broadcast leaves the
// cancel signed, for the watcher to send again.
func (s *Service) cancel(ctx context.Context, t store.TxRecord, by, why string) (store.TxRecord, error) {
	sg, err := s.signerFor(ctx, t)
	if err != nil {
		return store.TxRecord{}, err
	}
	orig := new(types.Transaction)
	if err := orig.UnmarshalBinary(t.Raw); err != nil {
		return store.TxRecord{}, fmt.Errorf("decode stored transaction: %w", err)
	}
	netTip, netFee, err := s.networkFees(ctx)
	if err != nil {
		return store.TxRecord{}, err
	}
	tip := bump(maxBig(orig.GasTipCap(), netTip))
	feeCap := maxBig(bump(maxBig(orig.GasFeeCap(), netFee)), tip)
	from := common.HexToAddress(t.Sender)
	gas := uint64(21000)
	// A delegated (EIP-7702) account runs code on a plain transfer.
	if est, err := s.cfg.Chain.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &from, Value: new(big.Int)}); err == nil && est > gas {
		gas = min(est+est/5, MaxGas)
	}
	signed, err := sg.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: s.chainID, Nonce: t.Nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: gas, To: &from, Value: new(big.Int)}), s.chainID)
	if err != nil {
		return store.TxRecord{}, err
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		return store.TxRecord{}, err
	}
	rec := s.txRecord(t.GrantID, store.TxKindCancel, from, signed, raw, true)
	rec.Cancels = t.Hash
	call, _ := json.Marshal(map[string]any{"tx_hash": t.Hash, "key_id": t.GrantID, "nonce": t.Nonce, "sender": t.Sender,
		"cancel_tx_hash": rec.Hash, "by": by})
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	if _, err := s.cfg.Store.RecordTx(actx, rec, audit.Record{Time: rec.CreatedAt, Method: MethodTxCancelled, Call: call,
		Decision: audit.DecisionAllow, Reasons: []string{why}, TxHash: rec.Hash}); err != nil {
		return store.TxRecord{}, fmt.Errorf("record the cancel: %w", err)
	}
	s.cfg.Log.Info("cancel", "tx", t.Hash, "key", t.GrantID, "nonce", t.Nonce, "cancel_tx", rec.Hash, "by", by)
	if err := s.cfg.Chain.SendTransaction(ctx, signed); err != nil {
		s.cfg.Log.Error("broadcast cancel", "tx", rec.Hash, "err", err)
		return rec, nil
	}
	s.markBroadcast(ctx, signed.Hash())
	rec.State = store.TxBroadcast
	return rec, nil
}
