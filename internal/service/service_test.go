package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/limit"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/store"
)

// lastAudit is the newest audit record.
func lastAudit(t *testing.T, st store.Store) audit.Record {
	t.Helper()
	ctx := context.Background()
	head, err := st.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.AuditRecords(ctx, head.Seq-1, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit records after %d: %v, %v", head.Seq-1, recs, err)
	}
	return recs[0]
}

// credentialReason is the reason of err if it is a *CredentialError.
func credentialReason(t *testing.T, err error) string {
	t.Helper()
	var ce *service.CredentialError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T), want a *service.CredentialError", err, err)
	}
	return ce.Reason
}

// TestAuthenticateRefuses: a missing, malformed, unknown or wrongly keyed
// credential and a revoked key are refused with a CredentialError saying
// which, audited without any part of the credential; a session taken
// before its key was revoked cannot act after.
func TestAuthenticateRefuses(t *testing.T) {
	e := startPipeline(t)
	ctx := context.Background()
	cid := e.chain.ChainID().Uint64()
	text := fmt.Sprintf("name: t\nchains: [%d]\nlimits: [{asset: native, per_period: 1}]\nallow: [{contract: %q, functions: [{sig: receive}]}]\n", cid, stranger.Hex())
	doc, err := policy.ParseDocument([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Grant(ctx, service.GrantRequest{Agent: "bot", Doc: doc})
	if err != nil {
		t.Fatal(err)
	}
	token, keyID := res.Token.Reveal(), res.Grant.ID
	_, secret, _ := strings.Cut(strings.TrimPrefix(token, "ak_"), "_")
	info := service.RequestInfo{Method: "eth_chainId", IP: netip.MustParseAddr("192.0.2.1"), RequestID: "r1"}

	sess, err := e.svc.Authenticate(ctx, token, info)
	if err != nil || sess.KeyID() != keyID {
		t.Fatalf("the key's own credential: %+v, %v", sess, err)
	}

	tests := []struct {
		name, token, reason string
	}{
		{"missing", "", "missing credential: send Authorization: Bearer ak_..."},
		{"malformed", "Bearer hello", "unknown credential"},
		{"unknown id", "ak_aaaaaaaaaaaa_" + strings.Repeat("0", 64), "unknown credential"},
		{"known id, wrong secret", "ak_" + keyID + "_" + strings.Repeat("0", len(secret)), "unknown credential"},
		{"an admin credential", "akadm_" + keyID + "_" + secret, "unknown credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Authenticate(ctx, tt.token, info)
			if got := credentialReason(t, err); got != tt.reason {
				t.Errorf("reason %q, want %q", got, tt.reason)
			}
			if r := lastAudit(t, e.node.store); r.Method != "agentkeys_grant" {
				t.Errorf("audit record %+v appended for one failed credential; they are audited in aggregate", r)
			}
		})
	}
	// One record for the source's failures, naming each reason.
	if err := e.svc.FlushLimits(ctx, true); err != nil {
		t.Fatal(err)
	}
	r := lastAudit(t, e.node.store)
	var agg limit.Aggregate
	if err := json.Unmarshal(r.Call, &agg); err != nil || r.Method != service.MethodCredentialFailures || r.Decision != audit.DecisionDeny ||
		r.KeyID != "" || r.CallerIP != "192.0.2.1" || agg.Failed != 5 || agg.Reasons["unknown credential"] != 4 || agg.Surface != "rpc" {
		t.Errorf("aggregate record %+v %s (%v)", r, r.Call, err)
	}
	if strings.Contains(string(r.Call), secret) || strings.Contains(r.Reasons[0], secret) {
		t.Errorf("the aggregate shows a secret: %s", r.Call)
	}

	if _, err := e.svc.Revoke(ctx, keyID); err != nil {
		t.Fatal(err)
	}
	g, err := e.svc.GetGrant(ctx, keyID)
	if err != nil || g.RevokedAt == nil {
		t.Fatalf("revoked grant: %+v, %v", g, err)
	}
	wantRevoked := "credential revoked at " + g.RevokedAt.UTC().Format(time.RFC3339)
	_, err = e.svc.Authenticate(ctx, token, info)
	if got := credentialReason(t, err); got != wantRevoked {
		t.Errorf("revoked: reason %q, want %q", got, wantRevoked)
	}
	if r := lastAudit(t, e.node.store); r.KeyID != keyID || r.Decision != audit.DecisionDeny || r.Reasons[0] != wantRevoked {
		t.Errorf("revoked: audit record %+v, want the key's refusal", r)
	}
	// The session taken before the revocation is checked again inside
	// the decision.
	_, err = e.svc.Transaction(ctx, sess, service.RequestInfo{Method: "eth_sendTransaction"}, service.TxArgs{To: &stranger, Value: big.NewInt(1)}, true)
	if got := credentialReason(t, err); got != wantRevoked {
		t.Errorf("old session after revoke: reason %q, want %q", got, wantRevoked)
	}

	recs, err := e.node.store.AuditRecords(ctx, 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if s := fmt.Sprintf("%+v %s", r, r.Call); strings.Contains(s, secret) {
			t.Errorf("an audit record carries the credential's secret: %s", s)
		}
	}
}

// TestAuthenticateRefusesExpired: once its validity ends, by the
// daemon's clock, a key is refused with the time it expired, both at
// authentication and for a session taken before.
func TestAuthenticateRefusesExpired(t *testing.T) {
	h := newHarness(t)
	g, err := h.svc.GetGrant(h.ctx, h.keyID)
	if err != nil {
		t.Fatal(err)
	}
	tok := ""
	{
		// A second key, so the harness's session stays the one taken
		// before expiry.
		doc, err := h.svc.Document(h.ctx, service.GrantSpec{Agent: "later", Profile: "full-access", DailyLimit: []string{"1ETH"}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.svc.Grant(h.ctx, service.GrantRequest{Agent: "later", Doc: doc, TTL: 48 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		tok = res.Token.Reveal()
	}
	if _, err := h.send(false); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	h.clock.Advance(g.ExpiresAt.Sub(h.clock.Now()))
	want := "credential expired at " + g.ExpiresAt.UTC().Format(time.RFC3339)
	_, err = h.send(false)
	if got := credentialReason(t, err); got != want {
		t.Errorf("session at its expiry: reason %q, want %q", got, want)
	}
	if r := lastAudit(t, h.store); r.KeyID != h.keyID || r.Decision != audit.DecisionDeny || r.Reasons[0] != want {
		t.Errorf("audit record %+v, want the key's refusal", r)
	}
	// A key with a longer validity still works at the same moment.
	if _, err := h.svc.Authenticate(h.ctx, tok, h.info("eth_chainId")); err != nil {
		t.Errorf("a key valid for 48h, 24h in: %v", err)
	}
}

// TestNetworkBlockFirstLookAgrees: the first look before any node round
// trip and the decision in the store see the same caller address, so a
// key limited to a network signs for a caller inside it (a first look
// that lost the address would refuse, or fail closed) and refuses one
// outside with the policy's reason, reserving nothing and taking no
// nonce.
func TestNetworkBlockFirstLookAgrees(t *testing.T) {
	e := startPipeline(t)
	ctx := context.Background()
	sess := e.grant(t, "wallet", fmt.Sprintf(`name: lan
chains: [%d]
network: {allow_cidrs: ["10.0.0.0/8"]}
limits: [{asset: native, per_period: 1}]
allow: [{contract: %q, functions: [{sig: receive}]}]
`, e.chain.ChainID().Uint64(), stranger.Hex()))
	send := func(ip string) (*service.TxResult, error) {
		info := service.RequestInfo{Method: "eth_signTransaction", RequestID: ip}
		if ip != "" {
			info.IP = netip.MustParseAddr(ip)
		}
		return e.svc.Transaction(ctx, sess, info, service.TxArgs{To: &stranger, Value: big.NewInt(1000)}, false)
	}
	var nonces []uint64
	for _, tt := range []struct {
		ip     string
		reason string // empty: signed
	}{
		{"10.1.2.3", ""},
		{"192.0.2.7", "requests from 192.0.2.7 are not allowed: this key only accepts 10.0.0.0/8"},
		{"::ffff:10.9.9.9", ""},
		{"::ffff:192.0.2.7", "requests from 192.0.2.7 are not allowed: this key only accepts 10.0.0.0/8"},
		{"", "the caller's address is unknown; this key only accepts requests from 10.0.0.0/8"},
		{"10.255.0.1", ""},
	} {
		name := tt.ip
		if name == "" {
			name = "address unknown"
		}
		t.Run(name, func(t *testing.T) {
			res, err := send(tt.ip)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("from %s: %v; want it signed", tt.ip, err)
				}
				nonces = append(nonces, res.Tx.Nonce())
				return
			}
			var refusal *service.Refusal
			if !errors.As(err, &refusal) || len(refusal.Reasons) != 1 || refusal.Reasons[0] != tt.reason {
				t.Fatalf("from %q: %v (%T); want the refusal %q", tt.ip, err, err, tt.reason)
			}
			if r := lastAudit(t, e.node.store); r.Decision != audit.DecisionDeny || r.KeyID != sess.KeyID() || r.TxHash != "" || r.Reasons[0] != tt.reason {
				t.Errorf("audit record %+v, want the refusal", r)
			}
		})
	}
	// Refusals took no nonce: the signed ones are consecutive.
	for i := 1; i < len(nonces); i++ {
		if nonces[i] != nonces[i-1]+1 {
			t.Errorf("nonces of the signed transactions %v have a gap", nonces)
		}
	}
	// Refusals reserved nothing: pending is exactly the three signed.
	lines, err := e.svc.Budget(ctx, sess.KeyID())
	if err != nil {
		t.Fatal(err)
	}
	txs, err := e.svc.Txs(ctx, service.TxQuery{KeyID: sess.KeyID()})
	if err != nil || len(txs) != 3 {
		t.Fatalf("recorded transactions %d, %v; want 3", len(txs), err)
	}
	want := new(big.Int)
	for _, tx := range txs {
		fee, _ := new(big.Int).SetString(tx.MaxFee, 10)
		v, _ := new(big.Int).SetString(tx.Value, 10)
		want.Add(want, v).Add(want, fee.Mul(fee, new(big.Int).SetUint64(tx.Gas)))
	}
	if len(lines) != 1 || lines[0].RawPending != want.String() || lines[0].RawSpent != "0" {
		t.Errorf("budget %+v, want pending %s and nothing spent", lines, want)
	}
}

// TestPermissionsShowSpentAndPending: agentkeys_getPermissions shows a
// transaction that landed as spent (its value and actual fee), one that
// is signed but not sent as pending (its value and worst-case fee), and
// the cap less both as remaining; the owner's Budget says the same.
func TestPermissionsShowSpentAndPending(t *testing.T) {
	h := newHarness(t)
	sent, err := h.send(true)
	if err != nil {
		t.Fatal(err)
	}
	rcpt := h.receipt(sent.Hash.Hex())
	h.sweep()
	if st := h.tx(sent.Hash.Hex()).State; st != store.TxIncluded {
		t.Fatalf("sent transaction is %s after a sweep, want included", st)
	}
	signed, err := h.send(false)
	if err != nil {
		t.Fatal(err)
	}

	spent := new(big.Int).Mul(new(big.Int).SetUint64(rcpt.GasUsed), rcpt.EffectiveGasPrice)
	spent.Add(spent, sent.Tx.Value())
	pending := new(big.Int).Mul(new(big.Int).SetUint64(signed.Tx.Gas()), signed.Tx.GasFeeCap())
	pending.Add(pending, signed.Tx.Value())
	limit := new(big.Int).Mul(big.NewInt(10), big.NewInt(1e18))
	remaining := new(big.Int).Sub(new(big.Int).Sub(limit, spent), pending)

	perms, err := h.svc.Permissions(h.ctx, h.sess, h.info("agentkeys_getPermissions"))
	if err != nil {
		t.Fatal(err)
	}
	var native *service.BudgetLine
	for i := range perms.Budget {
		if perms.Budget[i].Asset == store.AssetNative {
			native = &perms.Budget[i]
		}
	}
	if native == nil {
		t.Fatalf("no native budget line in %+v", perms.Budget)
	}
	got := [3]string{native.RawSpent, native.RawPending, native.RawRemaining}
	want := [3]string{spent.String(), pending.String(), remaining.String()}
	if got != want {
		t.Errorf("spent, pending, remaining = %v, want %v", got, want)
	}
	if native.Spent != policy.FormatAmount(spent, 18) || native.Pending != policy.FormatAmount(pending, 18) {
		t.Errorf("in ETH: spent %s pending %s", native.Spent, native.Pending)
	}
	if perms.KeyID != h.keyID || perms.Address != h.wallet.Address().Hex() {
		t.Errorf("permissions of %s as %s", perms.KeyID, perms.Address)
	}
	if r := lastAudit(t, h.store); r.Method != "agentkeys_getPermissions" || r.Decision != audit.DecisionAllow || r.KeyID != h.keyID {
		t.Errorf("the permissions request was not audited: %+v", r)
	}

	owner, err := h.svc.Budget(h.ctx, h.keyID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range owner {
		if l.Asset == store.AssetNative && [3]string{l.RawSpent, l.RawPending, l.RawRemaining} != want {
			t.Errorf("the owner's budget %+v disagrees with the agent's %v", l, want)
		}
	}

	// The owner's view (the dashboard) is the agent's, in the same words,
	// and is not itself an audited request.
	head := lastAudit(t, h.store).Seq
	described, err := h.svc.Describe(h.ctx, h.keyID)
	if err != nil {
		t.Fatal(err)
	}
	type words struct {
		May, MayNot []string
		Budget      []service.BudgetLine
	}
	if diff := cmp.Diff(words{perms.May, perms.MayNot, perms.Budget}, words{described.May, described.MayNot, described.Budget}); diff != "" {
		t.Errorf("Describe differs from the agent's permissions (-agent +owner):\n%s", diff)
	}
	if r := lastAudit(t, h.store); r.Seq != head {
		t.Errorf("Describe appended audit record %+v", r)
	}
	if _, err := h.svc.Describe(h.ctx, "ak_nosuchkey"); !errors.Is(err, service.ErrNoKey) {
		t.Errorf("Describe of an unknown key: %v, want ErrNoKey", err)
	}
}
