package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/onchain"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
)

// failure is a problem found before signing that is recorded as an
// "error" decision (for example gas estimation reverting).
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }

// signFunc produces the signature of an allowed request inside the
// decision's transaction. It returns what to record as the transaction
// hash (empty for non-transactions).
type signFunc func(ctx context.Context, tx store.DecideTx, d *policy.Decision) (txHash string, err error)

// decide evaluates req for the session inside one store transaction:
// fresh grant state, usage, evaluation, reservation, signing and the audit
// record commit together or not at all.
func (s *Service) decide(ctx context.Context, sess *Session, info RequestInfo, req policy.Request, extra map[string]any, sign signFunc) (policy.Decision, error) {
	return s.decideEach(ctx, sess, info, []policy.Request{req}, extra, sign)
}

// decideEach decides several requests as one, as for a batch: each is
// evaluated with the spend of those before it counted, all must be
// allowed, and the combined spend is reserved.
func (s *Service) decideEach(ctx context.Context, sess *Session, info RequestInfo, reqs []policy.Request, extra map[string]any, sign signFunc) (policy.Decision, error) {
	req := reqs[0]
	var (
		d       policy.Decision
		outcome error
		logged  audit.Record // what was recorded, for the log line
	)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	if s.cfg.ObserveDecision != nil {
		started := time.Now()
		defer func() { s.cfg.ObserveDecision(time.Since(started)) }()
	}
	err := s.cfg.Store.Decide(dctx, sess.grant.ID, func(ctx context.Context, tx store.DecideTx) error {
		record := func(r audit.Record) error {
			r = audit.Bound(r)
			logged = r
			_, err := tx.AppendAudit(ctx, r)
			return err
		}
		now := s.now()
		rec := info.record(now)
		var (
			reason string
			err    error
		)
		d, reason, err = s.judge(ctx, tx, sess.policy, info, reqs, now, now)
		if err != nil {
			return err
		}
		if reason != "" {
			outcome = &CredentialError{Reason: reason}
			rec.Decision, rec.Reasons = audit.DecisionDeny, []string{reason}
			return record(rec)
		}
		rec.Call = callRecord(req, d, extra)
		if !d.Allowed() {
			reasons := d.Reasons()
			outcome = &Refusal{Reasons: audit.BoundReasons(reasons)}
			rec.Decision, rec.Reasons = audit.DecisionDeny, reasons
			return record(rec)
		}
		rec.Decision = audit.DecisionAllow
		if sign != nil {
			hash, err := sign(ctx, tx, &d)
			var f *failure
			if errors.As(err, &f) {
				// Nothing was reserved or signed: record why and commit.
				outcome = f.err
				var refusal *Refusal
				if errors.As(f.err, &refusal) {
					rec.Decision, rec.Reasons = audit.DecisionDeny, refusal.Reasons
				} else {
					// What the agent reads of it: an upstream failure's
					// cause goes to the log, not the append-only audit log.
					rec.Decision, rec.Reasons = audit.DecisionError, []string{AgentError(f.err)}
					var up *UpstreamError
					if errors.As(f.err, &up) {
						s.cfg.Log.Warn("upstream", "key", sess.grant.ID, "method", info.Method, "err", f.err)
					}
				}
				return record(rec)
			}
			if err != nil {
				return err
			}
			rec.TxHash = hash
		}
		return record(rec)
	})
	if err != nil {
		// Nothing committed, so nothing signed leaves. Record the failure
		// if the store still takes writes, and fail closed.
		s.cfg.Log.Error("decide", "key", sess.grant.ID, "method", info.Method, "err", err)
		failed := info.record(s.now())
		failed.Decision, failed.Reasons = audit.DecisionError, []string{"the decision could not be recorded; nothing was signed"}
		failed.Call = json.RawMessage(fmt.Sprintf(`{"key_id":%q}`, sess.grant.ID))
		if _, aerr := s.cfg.Store.AppendAudit(dctx, failed); aerr != nil {
			s.cfg.Log.Error("audit failed decision", "key", sess.grant.ID, "err", aerr)
		}
		return d, fmt.Errorf("record decision: %w", err)
	}
	s.cfg.Log.Info("decision", "key", sess.grant.ID, "method", info.Method, "decision", logged.Decision, "reasons", logged.Reasons, "tx", logged.TxHash)
	return d, outcome
}

// judge is the decision inside the store transaction, before anything is
// reserved or signed: the grant as stored now (a non-empty reason says why
// its credential cannot act), its usage at the time, and evaluate.
// Requests and dry runs (Probe, Simulate) judge through it alike. at is
// the time the requests are judged as made: now, except for a probe of
// the key's schedule.
func (s *Service) judge(ctx context.Context, tx store.DecideTx, p *policy.Policy, info RequestInfo, reqs []policy.Request, now, at time.Time) (policy.Decision, string, error) {
	g := tx.Grant()
	if reason := s.inactive(g, now); reason != "" {
		return policy.Decision{}, reason, nil
	}
	u, err := usageOf(ctx, tx, g, p, at)
	if err != nil {
		return policy.Decision{}, "", err
	}
	return evaluate(p, g, info, reqs, at, u), "", nil
}

// usage is what a key has done lately, as far as its policy cares.
type usage struct {
	spent    map[string]*big.Int      // per asset, spent and pending, in the current period of its limit
	charged  map[string]store.Charged // the same, split into spent and pending
	requests int                      // within the rate window, not counting this one
}

// usageOf reads a key's usage inside the decision's transaction, so
// concurrent requests see each other's reservations. Each read is the
// store's running total for the limit's current period.
func usageOf(ctx context.Context, tx store.DecideTx, g store.Grant, p *policy.Policy, now time.Time) (usage, error) {
	u := usage{spent: map[string]*big.Int{}, charged: map[string]store.Charged{}}
	for _, l := range p.Limits() {
		c, err := tx.Spent(ctx, l.Asset, policy.PeriodStart(g.CreatedAt, now, l.Period))
		if err != nil {
			return u, fmt.Errorf("read spend: %w", err)
		}
		u.spent[l.Asset], u.charged[l.Asset] = c.Total(), c
	}
	if r, ok := p.RateLimit(); ok {
		n, err := tx.Requests(ctx, now.Add(-r.Per), r.Max)
		if err != nil {
			return u, fmt.Errorf("count requests: %w", err)
		}
		u.requests = n
	}
	return u, nil
}

// evaluate is the one way a request is judged against a key's policy. The
// first look before any node round trip (with no usage) and the decision
// inside the store transaction (with the key's usage) both call it with
// the same request information, so they cannot drift apart: usage can
// only narrow what the first look allowed.
func evaluate(p *policy.Policy, g store.Grant, info RequestInfo, reqs []policy.Request, now time.Time, u usage) policy.Decision {
	for i := range reqs {
		reqs[i].Method, reqs[i].SourceIP = info.Method, info.IP
	}
	spent := u.spent
	if spent == nil {
		spent = map[string]*big.Int{}
	}
	st := policy.State{Now: now, IssuedAt: g.CreatedAt, Spent: spent, Requests: u.requests,
		Vars: policy.Variables{Owner: common.HexToAddress(g.Address), Session: sessionOf(g)}}
	return p.EvaluateBatch(reqs, st)
}

// callRecord is what the audit log keeps of a request: decoded calls and
// spend, never secrets and never message contents (only their hash).
func callRecord(req policy.Request, d policy.Decision, extra map[string]any) json.RawMessage {
	m := map[string]any{"kind": req.Kind}
	for k, v := range extra {
		m[k] = v
	}
	if calls := d.Calls(); len(calls) > 0 {
		m["calls"] = calls
	}
	if len(d.Spend) > 0 {
		m["spend"] = d.Spend
	}
	if req.TypedData != nil {
		m["typed_data"] = map[string]any{"primary_type": req.TypedData.PrimaryType, "domain": req.TypedData.Domain.Map()}
	}
	if req.Message != nil {
		sum := sha256.Sum256(req.Message)
		m["message_sha256"] = hex.EncodeToString(sum[:])
		m["message_bytes"] = len(req.Message)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// reserve charges what an allowed decision spends. With a transaction
// hash the spend is pending until the transaction is settled or released
// (value, and the worst-case fee if the decision counted one); without,
// it is spent at once (typed-data permits).
func reserve(ctx context.Context, tx store.DecideTx, at time.Time, txHash string, d *policy.Decision) error {
	var spends []store.Spend
	for _, sp := range d.Spend {
		spends = append(spends, store.Spend{Asset: sp.Asset, Amount: sp.Amount, Fee: sp.Fee})
	}
	if len(spends) == 0 {
		return nil
	}
	var err error
	if txHash != "" {
		err = tx.ReserveTx(ctx, at, txHash, spends)
	} else {
		err = tx.Reserve(ctx, at, spends)
	}
	if err != nil {
		return fmt.Errorf("reserve budget: %w", err)
	}
	return nil
}

// maxFee is what a filled transaction can pay in fees at most, if it is
// charged to the key: always in wallet mode; in 7702 mode the session key
// pays gas from its stipend, which was charged to the native budget when
// the key was granted, so the fee counts only against a fees limit the
// policy sets (never twice against native).
func maxFee(p *policy.Policy, m keyMode, f *txFill) *big.Int {
	if !m.chargesFee(p) {
		return nil
	}
	return new(big.Int).Mul(new(big.Int).SetUint64(f.gas), f.feeCap)
}

// TxArgs is an agent's transaction request (eth_sendTransaction's
// parameter). Missing gas and fees are filled in; the nonce is always
// allocated by the store.
type TxArgs struct {
	From           *common.Address
	To             *common.Address
	Value          *big.Int
	Data           []byte
	Gas            *uint64
	GasPrice       *big.Int
	MaxFeePerGas   *big.Int
	MaxPriorityFee *big.Int
	Nonce          *uint64
	ChainID        *big.Int
	Authorizations int
}

// TxResult is a signed transaction.
type TxResult struct {
	Hash common.Hash
	Raw  []byte
	Tx   *types.Transaction
}

// MaxGas bounds a transaction's gas limit.
const MaxGas = 30_000_000

// Transaction decides an eth_sendTransaction (send) or
// eth_signTransaction request and returns the signed transaction. With
// send, it is broadcast only after its decision is durably recorded.
func (s *Service) Transaction(ctx context.Context, sess *Session, info RequestInfo, args TxArgs, send bool) (*TxResult, error) {
	req, out, err := s.txRequest(ctx, sess, args)
	if err != nil {
		return nil, err
	}
	return s.transact(ctx, sess, info, []policy.Request{req}, out, args, send)
}

// txRequest is what the policy judges of an agent's transaction and what
// carries it: the call itself from the owner (wallet mode), or the session
// key's execute call on the owner (7702 mode).
func (s *Service) txRequest(ctx context.Context, sess *Session, args TxArgs) (policy.Request, outgoing, error) {
	// Transports check nonce, chain id and gas bounds first (and audit a
	// refusal); these checks keep the core safe on its own.
	if args.Nonce != nil || args.ChainID != nil && args.ChainID.Cmp(s.chainID) != 0 || args.Gas != nil && (*args.Gas < 21000 || *args.Gas > MaxGas) {
		return policy.Request{}, outgoing{}, &ParamError{Field: "transaction", Msg: "nonce, chainId or gas not acceptable"}
	}
	value := args.Value
	if value == nil {
		value = new(big.Int)
	}
	req := policy.Request{Kind: policy.KindTransaction, ChainID: s.cfg.ChainID, From: args.From,
		Tx: &policy.Tx{To: args.To, Value: value, Data: args.Data, Authorizations: args.Authorizations}}
	out, err := sess.mode.carry(ctx, sess.grant, args, value)
	return req, out, err
}

// outgoing is the transaction that carries an agent's request.
type outgoing struct {
	from  common.Address
	to    *common.Address
	data  []byte
	value *big.Int
	sign  signer.Signer
}

// Batch decides a batch of calls (EIP-5792 wallet_sendCalls) and sends it
// as one executeBatch transaction of the session key: all calls happen or
// none. Batches need a 7702 key.
func (s *Service) Batch(ctx context.Context, sess *Session, info RequestInfo, calls []TxArgs) (*TxResult, error) {
	if err := sess.mode.canBatch(); err != nil {
		return nil, err
	}
	if len(calls) == 0 || len(calls) > 16 {
		return nil, &ParamError{Field: "calls", Msg: "a batch holds 1 to 16 calls"}
	}
	reqs := make([]policy.Request, len(calls))
	batch := make([]onchain.Call, len(calls))
	for i, c := range calls {
		value := c.Value
		if value == nil {
			value = new(big.Int)
		}
		if c.To == nil {
			return nil, &ParamError{Field: fmt.Sprintf("calls[%d].to", i), Msg: "required"}
		}
		reqs[i] = policy.Request{Kind: policy.KindTransaction, ChainID: s.cfg.ChainID, Tx: &policy.Tx{To: c.To, Value: value, Data: c.Data}}
		batch[i] = onchain.Call{Target: *c.To, Value: value, Data: c.Data}
	}
	out, err := sess.mode.batch(ctx, sess.grant, batch)
	if err != nil {
		return nil, err
	}
	return s.transact(ctx, sess, info, reqs, out, TxArgs{}, true)
}

// transact decides reqs and, if allowed, signs out with a store nonce
// inside the same transaction, then broadcasts it when send is set.
func (s *Service) transact(ctx context.Context, sess *Session, info RequestInfo, reqs []policy.Request, out outgoing, args TxArgs, send bool) (*TxResult, error) {
	fill, fillErr := s.prepare(ctx, sess, info, reqs, out, args)
	var result *TxResult
	extra := map[string]any{"send": send, "mode": sess.grant.Mode}
	if len(reqs) > 1 {
		extra["batch"] = len(reqs)
	}
	release := func() {}
	defer func() { release() }()
	_, err := s.decideEach(ctx, sess, info, reqs, extra, func(ctx context.Context, tx store.DecideTx, d *policy.Decision) (string, error) {
		if fillErr != nil {
			return "", &failure{fillErr}
		}
		if fill == nil {
			// The first look refused but the real decision allowed: state
			// cannot widen a policy, so this is a bug; fail closed.
			return "", errors.New("no gas and fee estimate for an allowed transaction")
		}
		nonce, err := tx.NextNonce(ctx, s.cfg.ChainID, out.from.Hex(), fill.pendingNonce)
		if err != nil {
			return "", fmt.Errorf("allocate nonce: %w", err)
		}
		if send {
			release = s.inflight.hold(out.from, nonce)
		}
		unsigned := types.NewTx(&types.DynamicFeeTx{ChainID: s.chainID, Nonce: nonce, GasTipCap: fill.tip, GasFeeCap: fill.feeCap,
			Gas: fill.gas, To: out.to, Value: out.value, Data: out.data})
		signed, err := out.sign.SignTx(unsigned, s.chainID)
		if err != nil {
			return "", err
		}
		raw, err := signed.MarshalBinary()
		if err != nil {
			return "", err
		}
		// Reserved for this very transaction (same store transaction as
		// the nonce and the signature), so it can be settled or released.
		if err := reserve(ctx, tx, s.now(), signed.Hash().Hex(), d); err != nil {
			return "", err
		}
		result = &TxResult{Hash: signed.Hash(), Raw: raw, Tx: signed}
		if err := tx.RecordTx(ctx, s.txRecord(sess.grant.ID, store.TxKindAgent, out.from, signed, raw, send)); err != nil {
			return "", err
		}
		return signed.Hash().Hex(), nil
	})
	if err != nil {
		return nil, err
	}
	if send {
		if err := s.sendRecorded(ctx, result.Tx, map[string]any{"key_id": sess.grant.ID}, func() { release() }); err != nil {
			return nil, err
		}
	}
	return result, nil
}

// prepare is the look before a transaction's decision. A first
// evaluation without usage, so requests refused anyway cost no node round
// trips; if it allows, the node's gas and fees, whose worst case reqs[0]
// then carries (the fee is spending too). The decision that counts is
// made after, in the store transaction.
func (s *Service) prepare(ctx context.Context, sess *Session, info RequestInfo, reqs []policy.Request, out outgoing, args TxArgs) (*txFill, error) {
	pre := evaluate(sess.policy, sess.grant, info, reqs, s.now(), usage{})
	if !pre.Allowed() {
		return nil, nil
	}
	fill, err := s.fill(ctx, out.from, out.to, out.value, out.data, args)
	if err != nil {
		return nil, sess.mode.explainFill(err)
	}
	reqs[0].Tx.MaxFee = maxFee(sess.policy, sess.mode, fill)
	return fill, nil
}

// sessionOf is a 7702 grant's session address ($session), or zero.
func sessionOf(g store.Grant) common.Address {
	return common.HexToAddress(g.Meta[SessionAddress])
}

type txFill struct {
	gas          uint64
	tip, feeCap  *big.Int
	pendingNonce uint64
}

// fill asks the node for what the agent left out (fees and the nonce
// floor from the followed head where there is one, heads.go; the gas
// estimate always from the node). Agent-supplied fees are
// kept only up to twice the node's suggestion, so a hijacked agent cannot
// burn the account's ether on fees.
func (s *Service) fill(ctx context.Context, from common.Address, to *common.Address, value *big.Int, data []byte, args TxArgs) (*txFill, error) {
	f := &txFill{}
	var err error
	if f.pendingNonce, err = s.nonceFloor(ctx, from); err != nil {
		return nil, err
	}
	if f.tip, f.feeCap, err = s.networkFees(ctx); err != nil {
		return nil, err
	}
	limit := new(big.Int).Mul(f.feeCap, big.NewInt(2))
	agentFee, agentTip := args.MaxFeePerGas, args.MaxPriorityFee
	if args.GasPrice != nil && agentFee == nil {
		agentFee, agentTip = args.GasPrice, args.GasPrice
	}
	if agentFee != nil {
		if agentFee.Cmp(limit) > 0 {
			return nil, &ParamError{Field: "maxFeePerGas", Msg: fmt.Sprintf("%s is more than twice the network's %s; leave fees out to let agentkeys set them", agentFee, f.feeCap)}
		}
		f.feeCap = agentFee
	}
	if agentTip != nil {
		if agentTip.Cmp(f.feeCap) > 0 {
			return nil, &ParamError{Field: "maxPriorityFeePerGas", Msg: "is more than maxFeePerGas"}
		}
		f.tip = agentTip
	}
	if f.tip.Cmp(f.feeCap) > 0 {
		f.tip = new(big.Int).Set(f.feeCap)
	}
	if args.Gas != nil {
		f.gas = *args.Gas
		return f, nil
	}
	est, err := s.cfg.Chain.EstimateGas(ctx, ethereum.CallMsg{From: from, To: to, Value: value, Data: data})
	if err != nil {
		return nil, &UpstreamError{Op: "gas estimation failed", Err: err}
	}
	f.gas = min(est+est/5, MaxGas)
	return f, nil
}

// SignTypedData decides an eth_signTypedData_v4 request and signs it.
func (s *Service) SignTypedData(ctx context.Context, sess *Session, info RequestInfo, td *apitypes.TypedData) ([]byte, error) {
	var sig []byte
	_, err := s.decide(ctx, sess, info, policy.Request{Kind: policy.KindTypedData, ChainID: s.cfg.ChainID, TypedData: td}, nil,
		func(ctx context.Context, tx store.DecideTx, d *policy.Decision) (string, error) {
			digest, err := signer.TypedDataHash(td)
			if err != nil {
				return "", &failure{err}
			}
			if s.OwnerOffline() {
				return "", &failure{&Refusal{Reasons: []string{offlineRefusal}}}
			}
			if err := reserve(ctx, tx, s.now(), "", d); err != nil {
				return "", err
			}
			sig, err = s.cfg.Wallet.SignHash(digest)
			return "", err
		})
	return sig, s.refuseOffline(err)
}

// PersonalSign decides a personal_sign request and signs it.
func (s *Service) PersonalSign(ctx context.Context, sess *Session, info RequestInfo, msg []byte) ([]byte, error) {
	var sig []byte
	_, err := s.decide(ctx, sess, info, policy.Request{Kind: policy.KindMessage, ChainID: s.cfg.ChainID, Message: msg}, nil,
		func(ctx context.Context, tx store.DecideTx, d *policy.Decision) (string, error) {
			if s.OwnerOffline() {
				return "", &failure{&Refusal{Reasons: []string{offlineRefusal}}}
			}
			var err error
			sig, err = s.cfg.Wallet.SignHash(signer.MessageHash(msg))
			return "", err
		})
	return sig, s.refuseOffline(err)
}

// Refuse records a request that is always refused (eth_sign) through the
// policy, so its reason is the policy's.
func (s *Service) Refuse(ctx context.Context, sess *Session, info RequestInfo, kind policy.Kind) error {
	_, err := s.decide(ctx, sess, info, policy.Request{Kind: kind, ChainID: s.cfg.ChainID}, nil, nil)
	if err == nil {
		return errors.New("internal: an always-refused request was allowed")
	}
	return s.refuseOffline(err)
}

// Read decides a read method; on nil the transport forwards it to the node.
func (s *Service) Read(ctx context.Context, sess *Session, info RequestInfo) error {
	_, err := s.decide(ctx, sess, info, policy.Request{Kind: policy.KindRead, ChainID: s.cfg.ChainID}, nil, nil)
	return err
}

// Invalid records a malformed or unsupported request from an
// authenticated key as a refusal with reason, so it is audited and counts
// toward the key's rate.
func (s *Service) Invalid(ctx context.Context, sess *Session, info RequestInfo, reason string) {
	rec := info.record(s.now())
	rec.Decision, rec.Reasons = audit.DecisionDeny, []string{reason}
	rec = audit.Bound(rec)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	if err := s.cfg.Store.Decide(dctx, sess.grant.ID, func(ctx context.Context, tx store.DecideTx) error {
		_, err := tx.AppendAudit(ctx, rec)
		return err
	}); err != nil {
		s.cfg.Log.Error("audit invalid request", "key", sess.grant.ID, "err", err)
	}
}
