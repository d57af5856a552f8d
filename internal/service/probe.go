package service

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Dry runs judge a request exactly as the real one would be judged (the
// key's grant as stored, its usage read in the store transaction,
// evaluate) and stop there: nothing is reserved, no nonce is taken,
// nothing is signed.
//
// Two kinds differ in whose request they are. An agent's simulation
// (Simulate, the MCP simulate_transaction tool) is the agent's request:
// it is audited under the key like any other and counts toward its rate
// limit and anomaly detection, so a hijacked agent cannot map its box for
// free. The owner's probe (Probe, agentkeys policy probe) is the owner's
// act: its records carry the key only in Call under MethodProbe, so a
// battery of deliberate refusals neither uses up the key's rate nor
// raises a refusal burst (IsAgentRequest excludes agentkeys_ methods).

// MethodProbe is the audit method of an owner's probe attempt; the probed
// key and method are in the record's Call.
const MethodProbe = "agentkeys_probe"

// Simulation is what an agent's transaction would do: the policy's
// decision and the node's eth_call of what would be signed.
type Simulation struct {
	Decision policy.Decision `json:"decision"`
	// Error is why the request could not be prepared although the policy
	// allows it (gas estimation failed: the call reverts), or "".
	Error string `json:"error,omitempty"`
	// Result is the eth_call's return data; CallError its failure
	// (a revert), or "".
	Result    hexutil.Bytes `json:"result"`
	CallError string        `json:"call_error,omitempty"`
}

// Simulate decides args for the session as Transaction would, counting
// the worst-case fee, and runs it as an eth_call; nothing is signed or
// spent. A refusal is in the returned Decision, not an error; errors are
// bad parameters, credentials that cannot act and failures to record.
func (s *Service) Simulate(ctx context.Context, sess *Session, info RequestInfo, args TxArgs) (*Simulation, error) {
	req, out, err := s.txRequest(ctx, sess, args)
	if err != nil {
		return nil, err
	}
	reqs := []policy.Request{req}
	_, fillErr := s.prepare(ctx, sess, info, reqs, out, args)
	d, err := s.decideEach(ctx, sess, info, reqs, map[string]any{"simulate": true, "mode": sess.grant.Mode},
		func(context.Context, store.DecideTx, *policy.Decision) (string, error) {
			if fillErr != nil {
				return "", &failure{fillErr}
			}
			return "", nil
		})
	sim := &Simulation{Decision: d}
	var refusal *Refusal
	switch {
	case errors.As(err, &refusal):
	case err != nil && fillErr != nil && errors.Is(err, fillErr):
		sim.Error = AgentError(err)
	case err != nil:
		return nil, err
	}
	res, err := s.cfg.Chain.CallContract(ctx, ethereum.CallMsg{From: out.from, To: out.to, Value: out.value, Data: out.data}, nil)
	if err != nil {
		sim.CallError = (&UpstreamError{Op: "eth_call", Err: err}).Public()
	}
	sim.Result = res
	return sim, nil
}

// ProbeAttempt is one request a probe makes as a key.
type ProbeAttempt struct {
	Name string
	// Expect is policy.Allow or policy.Deny: what a key that holds its
	// box answers.
	Expect policy.Verdict
	// Method is the JSON-RPC method the attempt stands for:
	// eth_sendTransaction (Txs), eth_signTypedData_v4 (TypedData),
	// personal_sign (Message) or eth_sign.
	Method    string
	Txs       []TxArgs
	TypedData *apitypes.TypedData
	Message   []byte
	// At, if set, judges the attempt as made at that time (a call outside
	// the key's schedule); otherwise now.
	At time.Time
	// IP, if valid, is the caller address the attempt is judged as coming
	// from (a policy with allowed networks refuses an unknown one).
	IP netip.Addr
}

// ProbeResult is how the key answered one attempt.
type ProbeResult struct {
	Attempt string         `json:"attempt"`
	Method  string         `json:"method"`
	Expect  policy.Verdict `json:"expect"`
	Got     policy.Verdict `json:"got"`
	Rule    string         `json:"rule,omitempty"`
	Reasons []string       `json:"reasons"`
	// Pass reports whether Got is Expect.
	Pass bool `json:"pass"`
	// Seq is the attempt's audit record.
	Seq int64 `json:"seq"`
}

// MaxProbeAttempts bounds one probe.
const MaxProbeAttempts = 64

// Probe judges each attempt as key keyID, as the owner: the key's full
// decision path with nothing reserved or signed, each attempt audited
// under MethodProbe. An attempt the audit log cannot record fails the
// probe. Errors: ErrNoKey, *ParamError for an attempt that is not a
// request.
func (s *Service) Probe(ctx context.Context, keyID string, info RequestInfo, attempts []ProbeAttempt) ([]ProbeResult, error) {
	if len(attempts) == 0 || len(attempts) > MaxProbeAttempts {
		return nil, &ParamError{Field: "attempts", Msg: fmt.Sprintf("a probe makes 1 to %d attempts", MaxProbeAttempts)}
	}
	sess, err := s.keySession(ctx, keyID)
	if err != nil {
		return nil, err
	}
	out := make([]ProbeResult, 0, len(attempts))
	for i, a := range attempts {
		reqs, err := s.probeRequests(a)
		if err != nil {
			return nil, &ParamError{Field: fmt.Sprintf("attempts[%d]", i), Msg: err.Error()}
		}
		r, err := s.probe(ctx, sess, info, a, reqs)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// keySession is key id's session for the owner's probe: no credential.
func (s *Service) keySession(ctx context.Context, id string) (*Session, error) {
	g, err := s.cfg.Store.GetGrant(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := s.policyOf(g)
	if err != nil {
		return nil, err
	}
	m, err := s.modeOf(g.Mode)
	if err != nil {
		return nil, fmt.Errorf("probe: key %s: %w", g.ID, err)
	}
	return &Session{grant: g, policy: p, mode: m}, nil
}

// probeRequests is what the policy judges of an attempt; several
// transactions are judged as one, each with the spend of those before it
// counted (a spend split into pieces).
func (s *Service) probeRequests(a ProbeAttempt) ([]policy.Request, error) {
	if a.Expect != policy.Allow && a.Expect != policy.Deny {
		return nil, fmt.Errorf("expect: want %q or %q", policy.Allow, policy.Deny)
	}
	switch a.Method {
	case "eth_sendTransaction":
		if len(a.Txs) == 0 || len(a.Txs) > 16 {
			return nil, errors.New("an eth_sendTransaction attempt holds 1 to 16 transactions")
		}
		reqs := make([]policy.Request, len(a.Txs))
		for i, t := range a.Txs {
			value := t.Value
			if value == nil {
				value = new(big.Int)
			}
			reqs[i] = policy.Request{Kind: policy.KindTransaction, ChainID: s.cfg.ChainID,
				Tx: &policy.Tx{To: t.To, Value: value, Data: t.Data, Authorizations: t.Authorizations}}
		}
		return reqs, nil
	case "eth_signTypedData_v4":
		if a.TypedData == nil {
			return nil, errors.New("an eth_signTypedData_v4 attempt needs a typed-data document")
		}
		return []policy.Request{{Kind: policy.KindTypedData, ChainID: s.cfg.ChainID, TypedData: a.TypedData}}, nil
	case "personal_sign":
		return []policy.Request{{Kind: policy.KindMessage, ChainID: s.cfg.ChainID, Message: a.Message}}, nil
	case "eth_sign":
		return []policy.Request{{Kind: policy.KindEthSign, ChainID: s.cfg.ChainID}}, nil
	}
	return nil, errors.New("method: want eth_sendTransaction, eth_signTypedData_v4, personal_sign or eth_sign")
}

// probe judges one attempt in the key's store transaction, which writes
// nothing, then records it apart: a probe record names no key, so it is
// not the key's use.
func (s *Service) probe(ctx context.Context, sess *Session, info RequestInfo, a ProbeAttempt, reqs []policy.Request) (ProbeResult, error) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	var (
		d      policy.Decision
		reason string
	)
	now := s.now()
	at := now
	if !a.At.IsZero() {
		at = a.At.UTC()
	}
	pinfo := info
	pinfo.Method = a.Method
	if a.IP.IsValid() {
		pinfo.IP = a.IP
	}
	err := s.cfg.Store.Decide(dctx, sess.grant.ID, func(ctx context.Context, tx store.DecideTx) error {
		var err error
		d, reason, err = s.judge(ctx, tx, sess.policy, pinfo, reqs, now, at)
		return err
	})
	if err != nil {
		return ProbeResult{}, fmt.Errorf("probe %s: %w", a.Name, err)
	}
	if reason != "" {
		d = policy.Denied(reason)
	}
	extra := map[string]any{"key_id": sess.grant.ID, "attempt": a.Name, "method": a.Method, "expect": a.Expect}
	if len(reqs) > 1 {
		extra["sequence"] = len(reqs)
	}
	if at != now {
		extra["at"] = at
	}
	if a.IP.IsValid() {
		extra["as_ip"] = a.IP.String()
	}
	rec := info.record(now)
	rec.Method, rec.Call = MethodProbe, callRecord(reqs[0], d, extra)
	reasons := d.Reasons()
	rec.Decision, rec.Reasons = audit.DecisionAllow, []string{}
	if !d.Allowed() {
		rec.Decision, rec.Reasons = audit.DecisionDeny, reasons
	}
	stored, err := s.cfg.Store.AppendAudit(dctx, audit.Bound(rec))
	if err != nil {
		return ProbeResult{}, fmt.Errorf("probe %s: record: %w", a.Name, err)
	}
	return ProbeResult{Attempt: a.Name, Method: a.Method, Expect: a.Expect, Got: d.Verdict, Rule: d.Rule(), Reasons: reasons,
		Pass: d.Verdict == a.Expect, Seq: stored.Seq}, nil
}

// ProbeKey probes key keyID with attempts, or, with none, the standard
// battery (Battery) built from its policy: what it must refuse and what
// it names as allowed. Errors: those of Probe.
func (s *Service) ProbeKey(ctx context.Context, keyID string, info RequestInfo, attempts []ProbeAttempt) (*ProbeReport, error) {
	sess, err := s.keySession(ctx, keyID)
	if err != nil {
		return nil, err
	}
	var skipped []string
	if len(attempts) == 0 {
		b := Battery(sess.policy, BatteryParams{Owner: sess.Owner(), ChainID: s.cfg.ChainID, Now: s.now()})
		attempts, skipped = b.Attempts, b.Skipped
	}
	results, err := s.Probe(ctx, keyID, info, attempts)
	if err != nil {
		return nil, err
	}
	return NewProbeReport(keyID, sess.policy.Name(), results, skipped), nil
}

// ProbeReport is a probe's outcome.
type ProbeReport struct {
	KeyID   string        `json:"key_id,omitempty"`
	Policy  string        `json:"policy"`
	Results []ProbeResult `json:"results"`
	// Skipped names the attempts the policy gave nothing to build from.
	Skipped []string `json:"skipped"`
	// Failed counts the attempts whose answer was not the expected one:
	// a forbidden attempt allowed or an allowed one refused.
	Failed int `json:"failed"`
}

// NewProbeReport sums up results.
func NewProbeReport(keyID, policyName string, results []ProbeResult, skipped []string) *ProbeReport {
	r := &ProbeReport{KeyID: keyID, Policy: policyName, Results: results, Skipped: skipped}
	if r.Skipped == nil {
		r.Skipped = []string{}
	}
	for _, res := range results {
		if !res.Pass {
			r.Failed++
		}
	}
	return r
}
