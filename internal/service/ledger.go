package service

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Budget shows a key's limits with what was spent, what is pending and
// what is left in each current period, as the owner sees it (key show,
// the admin API). Unlike Permissions it is not an agent request and is
// not audited. Errors: store.ErrNotFound for an unknown key.
func (s *Service) Budget(ctx context.Context, keyID string) ([]BudgetLine, error) {
	p, err := s.Describe(ctx, keyID)
	if err != nil {
		return nil, err
	}
	return p.Budget, nil
}

// SettleTx records that a transaction the daemon signed was included in
// a block: what it reserved becomes spent, and its worst-case fee is
// replaced by actualFee (gas used × effective gas price). Idempotent. The
// lifecycle watcher calls it for every included transaction; one that
// reserved nothing settles as a no-op.
func (s *Service) SettleTx(ctx context.Context, hash common.Hash, actualFee *big.Int) error {
	if err := s.cfg.Store.SettleTx(ctx, hash.Hex(), actualFee); err != nil {
		return fmt.Errorf("settle %s: %w", hash.Hex(), err)
	}
	return nil
}

// ReleaseTx releases what a transaction reserved because it provably
// cannot land (another transaction of the account was mined at its nonce;
// reason says which), with an audit record agentkeys_txReleased committed
// in the same store transaction, under the key that made it. It returns
// what was released: nothing if the transaction was released before or
// reserved nothing (then nothing is audited). Errors wrap
// store.ErrConflict if the transaction was settled: it landed, so its
// spend stays.
func (s *Service) ReleaseTx(ctx context.Context, hash common.Hash, reason string) (store.TxReleased, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	now := s.now()
	res, err := s.cfg.Store.ReleaseTx(rctx, store.TxRelease{Hash: hash.Hex(), At: now, Audit: func(r store.TxReleased) audit.Record {
		return releaseRecord(r, reason, now)
	}})
	if err != nil {
		return store.TxReleased{}, fmt.Errorf("release %s: %w", hash.Hex(), err)
	}
	if len(res.Released) > 0 {
		s.cfg.Log.Info("budget released", "key", res.GrantID, "tx", res.Hash, "reason", reason)
	}
	return res, nil
}

// releaseRecord is the audit record of a release. Like the owner's
// actions it names the key in its call (key_id), not as its KeyID, so it
// does not count toward the key's request rate.
func releaseRecord(r store.TxReleased, reason string, at time.Time) audit.Record {
	type line struct {
		Asset  string `json:"asset"`
		Amount string `json:"amount,omitempty"` // in ETH, for native and fees
		Raw    string `json:"raw"`
	}
	lines := make([]line, 0, len(r.Released))
	for _, sp := range r.Released {
		l := line{Asset: sp.Asset, Raw: sp.Amount.String()}
		if sp.Asset == store.AssetNative || sp.Asset == store.AssetFees {
			l.Amount = policy.FormatAmount(sp.Amount, 18)
		}
		lines = append(lines, l)
	}
	call, _ := json.Marshal(map[string]any{"key_id": r.GrantID, "tx_hash": r.Hash, "released": lines})
	if reason == "" {
		reason = "the transaction can no longer land"
	}
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen] + "…"
	}
	return audit.Record{Time: at, Method: "agentkeys_txReleased", Decision: audit.DecisionAllow,
		Reasons: []string{reason}, TxHash: r.Hash, Call: call}
}

// maxReasonLen bounds a release reason in the audit log.
const maxReasonLen = 200
