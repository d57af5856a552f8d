package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/holiman/uint256"

	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/onchain"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
)

// offlineEnv is a daemon without the owner's key: the test holds the
// owner's key as the owner's own wallet would.
type offlineEnv struct {
	svc     *service.Service
	chain   *devchain.Chain
	node    *auditedChain
	h       *home.Home
	clk     *clock.Fake
	owner   *secrets.PrivateKey
	relayer *secrets.PrivateKey
	sink    common.Address
}

func startOffline(t *testing.T) *offlineEnv {
	t.Helper()
	ctx := context.Background()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	h, _, err := home.Init(ctx, t.TempDir(), home.InitOptions{Passphrase: []byte("owner offline test passphrase"), KDF: &kdf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	owner, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	relayer, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	// The relayer starts without ETH, to see the daemon say so.
	chain, err := devchain.Start(ctx, devchain.Config{Fund: []common.Address{owner.Address()}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	node := &auditedChain{Client: chain.Client(), store: h.Store, sent: map[common.Address]map[uint64]common.Hash{}}
	svc, err := service.New(service.Config{Store: h.Store, Chain: node, ChainID: chain.ChainID().Uint64(),
		Wallet: signer.NewWatch(owner.Address()), Relayer: signer.NewWallet(relayer),
		Delegate: chain.AgentKeyDelegate(), Vault: h.Master, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &offlineEnv{svc: svc, chain: chain, node: node, h: h, clk: clk, owner: owner, relayer: relayer,
		sink: common.HexToAddress("0x00000000000000000000000000000000005e11e5")}
}

// upgrade delegates the owner's account the owner-offline way: the owner
// signs the authorization the daemon asks for (as cast wallet sign-auth
// prints it), and the relayer submits it.
func (e *offlineEnv) upgrade(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	req, err := e.svc.AuthorizationToSign(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	auth := e.signAuth(t, e.owner, req)
	if _, err := e.svc.ApplyAuthorization(ctx, auth, false); err != nil {
		t.Fatal(err)
	}
}

func (e *offlineEnv) signAuth(t *testing.T, key *secrets.PrivateKey, req service.AuthorizationRequest) types.SetCodeAuthorization {
	t.Helper()
	a, err := types.SignSetCode(key.ECDSA(), types.SetCodeAuthorization{ChainID: *uint256.NewInt(req.ChainID), Address: req.Delegate, Nonce: req.Nonce})
	if err != nil {
		t.Fatal(err)
	}
	// Through the encoding cast prints, as the CLI takes it.
	raw, err := rlp.EncodeToBytes(&a)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := service.ParseAuthorization(hexutil.Encode(raw))
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

// signTyped signs typed data as a wallet's eth_signTypedData_v4 does: from
// its JSON, r||s||v with v 27 or 28.
func signTyped(t *testing.T, key *secrets.PrivateKey, td apitypes.TypedData) []byte {
	t.Helper()
	b, err := json.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}
	var wire apitypes.TypedData
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatal(err)
	}
	digest, _, err := apitypes.TypedDataAndHash(wire)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := crypto.Sign(digest, key.ECDSA())
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return sig
}

func (e *offlineEnv) grantDoc(t *testing.T) *policy.Document {
	t.Helper()
	doc, err := policy.ParseDocument([]byte(fmt.Sprintf(`name: offline
chains: [%d]
limits: [{asset: native, per_tx: 0.001, per_period: 0.01}]
allow: [{contract: "%s", functions: [{sig: "receive"}]}]
typed_data: {allow: [{domain: {name: "Any"}, primary_type: M}]}
messages: {allow: true}
`, e.chain.ChainID().Uint64(), e.sink.Hex())))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// wait waits for a transaction's receipt.
func (e *offlineEnv) wait(t *testing.T, h common.Hash) *types.Receipt {
	t.Helper()
	r, err := delegation.Wait(context.Background(), e.chain.Client(), h)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestOwnerOfflineGrantActivate: a daemon without the owner's key refuses
// wallet mode and owner transactions, has the owner's signed
// authorization submitted by its relayer (refused while the relayer has
// no ETH), makes a 7702 key pending the owner's signature (refused with
// 4100 meanwhile), refuses signatures that are not the owner's over this
// grant, activates it with the owner's, after which the agent transacts
// within its limits; messages and typed data are refused with the reason;
// a revoke has the session revoke itself on chain.
func TestOwnerOfflineGrantActivate(t *testing.T) {
	e := startOffline(t)
	ctx := context.Background()
	if !e.svc.OwnerOffline() {
		t.Fatal("OwnerOffline() = false with a Watch wallet")
	}

	if _, err := e.svc.Upgrade(ctx); !errors.Is(err, service.ErrOwnerOffline) {
		t.Fatalf("Upgrade without the owner's key: %v, want ErrOwnerOffline", err)
	}
	if _, err := e.svc.Grant(ctx, service.GrantRequest{Agent: "bot", Mode: service.ModeWallet, Doc: e.grantDoc(t)}); err == nil || !strings.Contains(err.Error(), "--mode 7702") {
		t.Fatalf("wallet-mode grant: %v, want a refusal pointing to --mode 7702", err)
	}

	req, err := e.svc.AuthorizationToSign(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if req.Owner != e.owner.Address() || req.Delegate != e.chain.AgentKeyDelegate() || req.Relayer != e.relayer.Address() {
		t.Fatalf("authorization request %+v", req)
	}
	var rerr *service.RelayerError
	if _, err := e.svc.ApplyAuthorization(ctx, e.signAuth(t, e.owner, req), false); !errors.As(err, &rerr) || rerr.Relayer != e.relayer.Address() {
		t.Fatalf("upgrade with an unfunded relayer: %v, want a RelayerError naming it", err)
	}
	if err := e.chain.Fund(ctx, e.relayer.Address()); err != nil {
		t.Fatal(err)
	}
	var pe *service.ParamError
	if _, err := e.svc.ApplyAuthorization(ctx, e.signAuth(t, e.relayer, req), false); !errors.As(err, &pe) || pe.Field != "authorization" {
		t.Fatalf("authorization signed by the relayer: %v, want a ParamError on authorization", err)
	}
	stale := req
	stale.Nonce++
	if _, err := e.svc.ApplyAuthorization(ctx, e.signAuth(t, e.owner, stale), false); !errors.As(err, &pe) || !strings.Contains(pe.Msg, "nonce") {
		t.Fatalf("authorization at another nonce: %v", err)
	}
	e.upgrade(t)
	st, err := e.svc.Wallet(ctx)
	if err != nil || !st.Delegated || st.Delegate != e.chain.AgentKeyDelegate() {
		t.Fatalf("after the relayed upgrade: %+v, %v", st, err)
	}

	res, err := e.svc.Grant(ctx, service.GrantRequest{Agent: "bot", Mode: service.Mode7702, Doc: e.grantDoc(t)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Grant.Status != store.StatusPendingSignature || res.Signature == nil {
		t.Fatalf("grant: status %q, signature request %v; want pending_signature with typed data", res.Grant.Status, res.Signature)
	}
	sr := res.Signature
	if sr.Signer != e.owner.Address() || sr.TypedData.PrimaryType != onchain.GrantPrimaryType || sr.TypedData.Domain.VerifyingContract != e.owner.Address().Hex() {
		t.Fatalf("signature request: signer %s, type %s, domain %+v", sr.Signer.Hex(), sr.TypedData.PrimaryType, sr.TypedData.Domain)
	}
	if want := e.clk.Now().Add(service.DefaultSignatureTTL).Unix(); sr.Deadline.Unix() != want {
		t.Errorf("deadline %s, want %s", sr.Deadline, time.Unix(want, 0))
	}
	// The same request again from the store (GET of a pending key).
	again, err := e.svc.SignatureRequest(ctx, res.Grant.ID)
	if err != nil || again.Digest != sr.Digest {
		t.Fatalf("SignatureRequest: %v, digest %v vs %s", err, again, sr.Digest.Hex())
	}
	token := res.Token.Reveal()
	_, err = e.svc.Authenticate(ctx, token, service.RequestInfo{Method: "eth_sendTransaction"})
	var ce *service.CredentialError
	if !errors.As(err, &ce) || ce.Reason != service.CredentialPendingSignature {
		t.Fatalf("pending key: %v, want CredentialError %q", err, service.CredentialPendingSignature)
	}

	// A second pending grant gets another nonce; its owner signature does
	// not activate the first.
	other, err := e.svc.Grant(ctx, service.GrantRequest{Agent: "bot2", Mode: service.Mode7702, Doc: e.grantDoc(t)})
	if err != nil {
		t.Fatal(err)
	}
	if other.Signature.Nonce == sr.Nonce {
		t.Fatalf("two pending grants share nonce %d", sr.Nonce)
	}
	broadcasts := e.node.broadcasts
	for name, sig := range map[string][]byte{
		"relayer's signature":          signTyped(t, e.relayer, sr.TypedData),
		"owner's signature of another": signTyped(t, e.owner, other.Signature.TypedData),
	} {
		if _, err := e.svc.Activate(ctx, res.Grant.ID, sig); !errors.As(err, &pe) || pe.Field != "signature" {
			t.Errorf("%s: %v, want a ParamError on signature", name, err)
		}
	}
	if e.node.broadcasts != broadcasts {
		t.Errorf("refused signatures sent %d transactions", e.node.broadcasts-broadcasts)
	}
	// Each refused signature is in the owner's log, naming the key.
	recs, err := e.h.Store.AuditRecords(ctx, 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, r := range recs {
		if r.Method == service.MethodActivateRefused && strings.Contains(string(r.Call), res.Grant.ID) {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("%d %s records for the key, want 2", refused, service.MethodActivateRefused)
	}

	info, err := e.svc.Activate(ctx, res.Grant.ID, signTyped(t, e.owner, sr.TypedData))
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != store.StatusActive || info.Meta[service.MetaGrantTx] == "" {
		t.Fatalf("after Activate: status %q, meta %v", info.Status, info.Meta)
	}
	if _, err := e.svc.Activate(ctx, res.Grant.ID, signTyped(t, e.owner, sr.TypedData)); !errors.As(err, &pe) {
		t.Errorf("activating twice: %v, want a ParamError", err)
	}
	reg := e.wait(t, common.HexToHash(info.Meta[service.MetaGrantTx]))
	t.Logf("grantWithSignature by the relayer (1 permission, stipend): %d gas", reg.GasUsed)
	sess, err := e.svc.Authenticate(ctx, token, service.RequestInfo{Method: "eth_sendTransaction"})
	if err != nil {
		t.Fatal(err)
	}
	before, err := e.chain.Client().BalanceAt(ctx, e.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := e.svc.Transaction(ctx, sess, service.RequestInfo{Method: "eth_sendTransaction"}, service.TxArgs{To: &e.sink, Value: big.NewInt(1e15)}, true)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.wait(t, tx.Hash); r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("the agent's transaction reverted")
	}
	after, err := e.chain.Client().BalanceAt(ctx, e.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	if new(big.Int).Sub(after, before).Cmp(big.NewInt(1e15)) != 0 {
		t.Errorf("sink received %s, want 1e15", new(big.Int).Sub(after, before))
	}
	var refusal *service.Refusal
	if _, err := e.svc.Transaction(ctx, sess, service.RequestInfo{Method: "eth_sendTransaction"}, service.TxArgs{To: &e.sink, Value: big.NewInt(2e15)}, true); !errors.As(err, &refusal) {
		t.Errorf("above per_tx: %v, want a Refusal", err)
	}
	td := apitypes.TypedData{Types: apitypes.Types{"EIP712Domain": {{Name: "name", Type: "string"}}, "M": {{Name: "x", Type: "uint256"}}},
		PrimaryType: "M", Domain: apitypes.TypedDataDomain{Name: "Any"}, Message: apitypes.TypedDataMessage{"x": "1"}}
	if _, err := e.svc.SignTypedData(ctx, sess, service.RequestInfo{Method: "eth_signTypedData_v4"}, &td); !errors.As(err, &refusal) || !strings.Contains(refusal.Error(), "only the owner") {
		t.Errorf("typed data the policy allows: %v, want refused as only the owner's to sign", err)
	}
	if _, err := e.svc.PersonalSign(ctx, sess, service.RequestInfo{Method: "personal_sign"}, []byte("hello")); !errors.As(err, &refusal) || !strings.Contains(refusal.Error(), "only the owner") {
		t.Errorf("personal_sign: %v, want refused as only the owner's to sign", err)
	}

	// Revoke: the session key revokes itself on chain.
	sessionAddr := common.HexToAddress(info.Session)
	if _, err := e.svc.Revoke(ctx, res.Grant.ID); err != nil {
		t.Fatal(err)
	}
	if ok := e.sessionMay(t, sessionAddr, big.NewInt(1)); ok {
		t.Error("after revoke, the chain still lets the session act")
	}
	// Revoking the key still pending sends nothing.
	broadcasts = e.node.broadcasts
	if _, err := e.svc.Revoke(ctx, other.Grant.ID); err != nil {
		t.Fatal(err)
	}
	if e.node.broadcasts != broadcasts {
		t.Errorf("revoking a pending key sent %d transactions", e.node.broadcasts-broadcasts)
	}
	if len(e.node.unaudited) > 0 || len(e.node.reused) > 0 {
		t.Errorf("unaudited broadcasts %v, reused nonces %v", e.node.unaudited, e.node.reused)
	}
}

// sessionMay asks the delegate whether session may send value to the
// sink now (its check view, as the chain would decide execute).
func (e *offlineEnv) sessionMay(t *testing.T, session common.Address, value *big.Int) bool {
	t.Helper()
	owner := e.owner.Address()
	out, err := e.chain.Client().CallContract(context.Background(), ethereum.CallMsg{To: &owner, Data: onchain.PackCheck(session, e.sink, value, nil)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := onchain.UnpackCheck(out)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestOwnerOfflineDeadline: a signature brought after the grant's
// deadline is refused before anything is sent.
func TestOwnerOfflineDeadline(t *testing.T) {
	e := startOffline(t)
	ctx := context.Background()
	if err := e.chain.Fund(ctx, e.relayer.Address()); err != nil {
		t.Fatal(err)
	}
	e.upgrade(t)
	res, err := e.svc.Grant(ctx, service.GrantRequest{Agent: "bot", Mode: service.Mode7702, Doc: e.grantDoc(t)})
	if err != nil {
		t.Fatal(err)
	}
	sig := signTyped(t, e.owner, res.Signature.TypedData)
	e.clk.Advance(service.DefaultSignatureTTL + time.Second)
	broadcasts := e.node.broadcasts
	var pe *service.ParamError
	if _, err := e.svc.Activate(ctx, res.Grant.ID, sig); !errors.As(err, &pe) || !strings.Contains(pe.Msg, "deadline") {
		t.Fatalf("after the deadline: %v, want a ParamError on the deadline", err)
	}
	if e.node.broadcasts != broadcasts {
		t.Error("a late signature was sent")
	}
}

// activeKey grants a 7702 key, has the owner sign it and activates it.
func (e *offlineEnv) activeKey(t *testing.T, agent string) (*service.GrantResult, service.GrantInfo) {
	t.Helper()
	ctx := context.Background()
	res, err := e.svc.Grant(ctx, service.GrantRequest{Agent: agent, Mode: service.Mode7702, Doc: e.grantDoc(t)})
	if err != nil {
		t.Fatal(err)
	}
	info, err := e.svc.Activate(ctx, res.Grant.ID, signTyped(t, e.owner, res.Signature.TypedData))
	if err != nil {
		t.Fatal(err)
	}
	return res, info
}

// TestOwnerOfflineStolenDaemon: a thief holds everything the daemon's
// host has: the database with every sealed key and the master key that
// opens them (so every session key and the relayer), the admin
// credential (the service itself), and a grant the owner signed that was
// not yet submitted. It cannot register a session the owner did not sign
// (with the daemon or around it), re-use the owner's signature for
// another session, a wider grant or twice, or exceed the signed caps with
// a raw session key; the owner's balance pays only for what the owner
// signed. The owner's revokeAll from its own wallet then stops every
// session, the daemon's too, and voids the signed grant not yet
// submitted.
func TestOwnerOfflineStolenDaemon(t *testing.T) {
	e := startOffline(t)
	ctx := context.Background()
	if err := e.chain.Fund(ctx, e.relayer.Address()); err != nil {
		t.Fatal(err)
	}
	e.upgrade(t)
	resA, infoA := e.activeKey(t, "a")
	// A grant the owner signed, handed to the daemon, not yet submitted.
	resB, err := e.svc.Grant(ctx, service.GrantRequest{Agent: "b", Mode: service.Mode7702, Doc: e.grantDoc(t)})
	if err != nil {
		t.Fatal(err)
	}
	sigB := signTyped(t, e.owner, resB.Signature.TypedData)

	// What the thief reads off the host: every session key, unsealed.
	stolen := func(info service.GrantInfo) *secrets.PrivateKey {
		g, err := e.h.Store.GetGrant(ctx, info.ID)
		if err != nil {
			t.Fatal(err)
		}
		k, err := e.h.Store.GetKey(ctx, g.SignerKeyID)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := e.h.Master.Open(k.ID, k.Sealed)
		if err != nil {
			t.Fatal(err)
		}
		key, err := secrets.PrivateKeyFromBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	keyA := stolen(infoA)
	if keyA.Address() != common.HexToAddress(infoA.Session) {
		t.Fatalf("stolen key %s is not session %s", keyA.Address().Hex(), infoA.Session)
	}
	thief, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	owner := e.owner.Address()
	ownerBefore, err := e.chain.Client().BalanceAt(ctx, owner, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The owner's signature of A, as grantWithSignature takes it.
	reqA := resA.Signature
	sgA := signedGrantFrom(t, e, resA.Grant.ID)
	sigA := signTyped(t, e.owner, reqA.TypedData)
	wide := sgA.Config
	wide.MaxValuePerCall = new(big.Int).Mul(wide.MaxValuePerCall, big.NewInt(1000))
	sgThief := sgA
	sgThief.Session = thief.Address()
	sgWide := sgThief
	sgWide.Config = wide
	sgOwnNonce := sgThief
	sgOwnNonce.Nonce = 1 << 40

	// Through the daemon, with the admin credential: a new key stays
	// pending, and only the owner's signature activates it.
	resT, err := e.svc.Grant(ctx, service.GrantRequest{Agent: "thief", Mode: service.Mode7702, Doc: e.grantDoc(t)})
	if err != nil {
		t.Fatal(err)
	}
	var pe *service.ParamError
	for name, sig := range map[string][]byte{
		"the thief's own signature":  signTyped(t, thief, resT.Signature.TypedData),
		"a session key's signature":  signTyped(t, keyA, resT.Signature.TypedData),
		"the relayer's signature":    signTyped(t, e.relayer, resT.Signature.TypedData),
		"the owner's signature of A": sigA,
		"the owner's signature of B": sigB,
	} {
		if _, err := e.svc.Activate(ctx, resT.Grant.ID, sig); !errors.As(err, &pe) {
			t.Errorf("activate the thief's key with %s: %v, want refused", name, err)
		}
	}

	// Around the daemon, straight to the chain, paying with the stolen
	// session key's stipend.
	thiefSigned := func(g onchain.SignedGrant) []byte {
		d, err := g.Digest(e.chain.ChainID(), owner)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := crypto.Sign(d[:], thief.ECDSA())
		if err != nil {
			t.Fatal(err)
		}
		sig[64] += 27
		return sig
	}
	for name, call := range map[string]struct {
		g   onchain.SignedGrant
		sig []byte
	}{
		"a grant for the thief signed by the thief":   {sgThief, thiefSigned(sgThief)},
		"A's owner signature for the thief's session": {sgThief, sigA},
		"A's owner signature for a wider grant":       {sgWide, sigA},
		"A's owner signature with another nonce":      {sgOwnNonce, sigA},
		"A's owner signature again, for A (replay)":   {sgA, sigA},
	} {
		data, err := onchain.PackGrantWithSignature(call.g, call.sig)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.chain.SendAs(ctx, keyA, devchain.Tx{To: &owner, Data: data, Gas: 2_000_000}); err == nil {
			t.Errorf("%s: the chain took it", name)
		}
	}
	if e.sessionMay(t, thief.Address(), big.NewInt(1)) {
		t.Error("the thief's session may act")
	}
	// The raw session key beyond its signed caps: per call, and to
	// anything but the sink.
	other := common.HexToAddress("0x000000000000000000000000000000000000beef")
	for name, data := range map[string][]byte{
		"above the per-call cap": onchain.PackExecute(e.sink, big.NewInt(2e15), nil),
		"to another target":      onchain.PackExecute(other, big.NewInt(1), nil),
		"the owner's revoke":     onchain.PackRevokeAll(),
	} {
		if _, err := e.chain.SendAs(ctx, keyA, devchain.Tx{To: &owner, Data: data, Gas: 500_000}); err == nil {
			t.Errorf("raw session key, %s: the chain took it", name)
		}
	}
	// Within the signed grant the stolen key works, as signed.
	if _, err := e.chain.SendAs(ctx, keyA, devchain.Tx{To: &owner, Data: onchain.PackExecute(e.sink, big.NewInt(1e15), nil)}); err != nil {
		t.Fatalf("raw session key within its grant: %v", err)
	}
	ownerAfter, err := e.chain.Client().BalanceAt(ctx, owner, nil)
	if err != nil {
		t.Fatal(err)
	}
	if spent := new(big.Int).Sub(ownerBefore, ownerAfter); spent.Cmp(big.NewInt(1e15)) != 0 {
		t.Errorf("the owner's balance moved by %s, want only the 1e15 the signed grant allows", spent)
	}

	// The owner's answer, from its own wallet.
	if _, err := e.chain.SendAs(ctx, e.owner, devchain.Tx{To: &owner, Data: hexutil.MustDecode(e.svc.OwnerRevokeAll().Data)}); err != nil {
		t.Fatal(err)
	}
	if e.sessionMay(t, keyA.Address(), big.NewInt(1)) {
		t.Error("after the owner's revokeAll, session A may still act")
	}
	if _, err := e.chain.SendAs(ctx, keyA, devchain.Tx{To: &owner, Data: onchain.PackExecute(e.sink, big.NewInt(1e14), nil), Gas: 500_000}); err == nil {
		t.Error("after the owner's revokeAll, the raw session key still sends")
	}
	sess, err := e.svc.Authenticate(ctx, resA.Token.Reveal(), service.RequestInfo{Method: "eth_sendTransaction"})
	if err != nil {
		t.Fatal(err)
	}
	var refusal *service.Refusal
	if _, err := e.svc.Transaction(ctx, sess, service.RequestInfo{Method: "eth_sendTransaction"}, service.TxArgs{To: &e.sink, Value: big.NewInt(1e14)}, true); !errors.As(err, &refusal) {
		t.Errorf("the daemon's key A after revokeAll: %v, want refused on chain", err)
	}
	// The signed grant B, not yet submitted, is void: through the daemon
	// and around it.
	if _, err := e.svc.Activate(ctx, resB.Grant.ID, sigB); !errors.As(err, &refusal) || !strings.Contains(err.Error(), "StaleEpoch") {
		t.Errorf("activate B after revokeAll: %v, want refused on chain (StaleEpoch)", err)
	}
	sgB := signedGrantFrom(t, e, resB.Grant.ID)
	dataB, err := onchain.PackGrantWithSignature(sgB, sigB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.chain.SendAs(ctx, keyA, devchain.Tx{To: &owner, Data: dataB, Gas: 2_000_000}); err == nil {
		t.Error("B submitted by the thief after revokeAll: the chain took it")
	}
	if e.sessionMay(t, common.HexToAddress(resB.Grant.Session), big.NewInt(1)) {
		t.Error("session B may act after revokeAll")
	}
}

// signedGrantFrom rebuilds the onchain.SignedGrant of a signature request
// from the grant stored for it, as a thief with the database could.
func signedGrantFrom(t *testing.T, e *offlineEnv, id string) onchain.SignedGrant {
	t.Helper()
	sg, err := e.svc.SignedGrant(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}
