package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/holiman/uint256"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/onchain"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
)

// The owner-offline mode (docs/owner-offline.md): the daemon holds no
// owner key. Config.Wallet is a signer.Watch of the owner's address; the
// owner signs, with its own wallet, the EIP-7702 authorization once and
// each 7702 grant as EIP-712 typed data; the daemon's relayer (a gas
// account of its own) submits them. Every transaction still leaves
// through sendOwner: the relayer's and the session keys' like the
// owner's.

// MethodActivateRefused is the audit method of an activation refused
// because its signature is not the owner's over the key's grant.
const MethodActivateRefused = "agentkeys_activateRefused"

// DefaultSignatureTTL is how long the owner has, by default, to sign a
// grant and have it activated: the deadline in the signed grant.
const DefaultSignatureTTL = time.Hour

// Grant meta keys of a 7702 grant the owner signs: what its typed data
// holds besides the policy and the session.
const (
	MetaGrantNonce    = "signed_grant_nonce"
	MetaGrantEpoch    = "signed_grant_epoch"
	MetaGrantDeadline = "signed_grant_deadline" // unix seconds
	MetaGrantStipend  = "signed_grant_stipend"  // wei
	MetaGrantTx       = "signed_grant_tx"       // the grantWithSignature transaction, once activated
)

// ErrOwnerOffline is wrapped by every refusal of something only the
// owner's key could do in the owner-offline mode (OwnerOfflineError).
var ErrOwnerOffline = errors.New("the owner's key is not on this daemon (owner-offline mode)")

// OwnerOfflineError refuses what needs the owner's key, saying what the
// owner does instead.
type OwnerOfflineError struct {
	Op   string // what was asked
	Hint string // what to do instead
}

func (e *OwnerOfflineError) Error() string {
	return e.Op + ": " + ErrOwnerOffline.Error() + "; " + e.Hint
}

func (e *OwnerOfflineError) Unwrap() error { return ErrOwnerOffline }

// ownerOfflineError is the refusal of an owner transaction named by its
// audit method.
func ownerOfflineError(method string) error {
	switch method {
	case "agentkeys_walletUpgrade", "agentkeys_walletDowngrade":
		return &OwnerOfflineError{Op: "wallet change", Hint: "the owner signs the EIP-7702 authorization with its own wallet: run agentkeys wallet upgrade (or downgrade) without --authorization to see what to sign"}
	case "agentkeys_revokeAllSessions":
		return &OwnerOfflineError{Op: "on-chain revokeAll", Hint: "the owner calls revokeAll() on its own account from its wallet"}
	}
	return &OwnerOfflineError{Op: strings.TrimPrefix(method, "agentkeys_"), Hint: "the owner sends it from its own wallet"}
}

// RelayerError is a relayer without the ETH for a transaction's gas.
type RelayerError struct {
	Relayer    common.Address
	Have, Need *big.Int
}

func (e *RelayerError) Error() string {
	return fmt.Sprintf("the relayer %s holds %s ETH and this transaction may cost up to %s ETH: send the relayer some ETH "+
		"(it only pays gas; it has no power over the owner's account)", e.Relayer.Hex(), policy.FormatAmount(e.Have, 18), policy.FormatAmount(e.Need, 18))
}

// OwnerOffline reports whether the daemon runs without the owner's key.
func (s *Service) OwnerOffline() bool { return !signer.HoldsKey(s.cfg.Wallet) }

// RelayerAddress is the daemon's gas account, zero if it has none.
func (s *Service) RelayerAddress() common.Address {
	if s.cfg.Relayer == nil {
		return common.Address{}
	}
	return s.cfg.Relayer.Address()
}

func (s *Service) isRelayer(sg signer.Signer) bool {
	return s.cfg.Relayer != nil && sg.Address() == s.cfg.Relayer.Address()
}

type balanceReader interface {
	BalanceAt(ctx context.Context, account common.Address, block *big.Int) (*big.Int, error)
}

// RelayerBalance is the relayer's balance, nil if the node cannot say or
// there is no relayer.
func (s *Service) RelayerBalance(ctx context.Context) (*big.Int, error) {
	b, ok := s.calls.Chain.(balanceReader)
	if !ok || s.cfg.Relayer == nil {
		return nil, nil
	}
	return b.BalanceAt(ctx, s.cfg.Relayer.Address(), nil)
}

// checkFunded refuses, before anything is signed, a relayer transaction
// its sender cannot pay for (so no transaction is recorded that could
// never be sent).
func (s *Service) checkFunded(ctx context.Context, addr common.Address, fill *txFill, value *big.Int) error {
	b, ok := s.calls.Chain.(balanceReader)
	if !ok {
		return nil
	}
	have, err := b.BalanceAt(ctx, addr, nil)
	if err != nil {
		return &UpstreamError{Op: "read the relayer's balance", Err: err}
	}
	need := new(big.Int).Mul(new(big.Int).SetUint64(fill.gas), fill.feeCap)
	need.Add(need, value)
	if have.Cmp(need) < 0 {
		return &RelayerError{Relayer: addr, Have: have, Need: need}
	}
	return nil
}

// SignatureRequest is what the owner signs to activate a 7702 grant in
// the owner-offline mode: TypedData for eth_signTypedData_v4 (or cast
// wallet sign --data), whose EIP-712 hash is Digest.
type SignatureRequest struct {
	Signer    common.Address     `json:"signer"` // the owner: only its signature activates the grant
	Digest    common.Hash        `json:"digest"`
	Deadline  time.Time          `json:"deadline"` // sign and activate before this
	Nonce     uint64             `json:"nonce"`
	Epoch     uint32             `json:"epoch"`
	Stipend   string             `json:"stipend_wei"`
	TypedData apitypes.TypedData `json:"typed_data"`
}

// signedGrantOf rebuilds the grant the owner signs for g from its stored
// policy, creation time and meta: the same bytes whenever asked.
func (s *Service) signedGrantOf(g store.Grant, pol *policy.Policy) (onchain.SignedGrant, error) {
	cfg, _ := onchain.Compile(pol, g.CreatedAt)
	sg := onchain.SignedGrant{Session: sessionOf(g), Config: cfg}
	nonce, err1 := strconv.ParseUint(g.Meta[MetaGrantNonce], 10, 64)
	epoch, err2 := strconv.ParseUint(g.Meta[MetaGrantEpoch], 10, 32)
	deadline, err3 := strconv.ParseUint(g.Meta[MetaGrantDeadline], 10, 64)
	stipend, ok := new(big.Int).SetString(g.Meta[MetaGrantStipend], 10)
	if err := errors.Join(err1, err2, err3); err != nil || !ok || sg.Session == (common.Address{}) {
		return sg, fmt.Errorf("key %s holds no grant for the owner to sign", g.ID)
	}
	sg.Nonce, sg.Epoch, sg.Deadline, sg.Stipend = nonce, uint32(epoch), deadline, stipend
	return sg, nil
}

// signatureRequest is g's SignatureRequest, nil if g does not wait for
// the owner's signature.
func (s *Service) signatureRequest(g store.Grant) *SignatureRequest {
	if g.Pending != store.PendingSignature {
		return nil
	}
	pol, err := s.policyOf(g)
	if err != nil {
		return nil
	}
	sg, err := s.signedGrantOf(g, pol)
	if err != nil {
		return nil
	}
	owner := common.HexToAddress(g.Address)
	digest, err := sg.Digest(s.chainID, owner)
	if err != nil {
		return nil
	}
	return &SignatureRequest{Signer: owner, Digest: digest, Deadline: time.Unix(int64(sg.Deadline), 0).UTC(), Nonce: sg.Nonce,
		Epoch: sg.Epoch, Stipend: sg.Stipend.String(), TypedData: sg.TypedData(s.chainID, owner)}
}

// SignatureRequest returns what the owner signs to activate key id.
// Errors: ErrNoKey, a ParamError if the key does not wait for a
// signature.
func (s *Service) SignatureRequest(ctx context.Context, id string) (*SignatureRequest, error) {
	g, err := s.cfg.Store.GetGrant(ctx, id)
	if err != nil {
		return nil, err
	}
	req := s.signatureRequest(g)
	if req == nil || g.Status(s.now()) != store.StatusPendingSignature {
		return nil, &ParamError{Field: "id", Msg: fmt.Sprintf("key %s is %s, not waiting for the owner's signature", g.ID, g.Status(s.now()))}
	}
	return req, nil
}

// SignedGrant is the grant the owner signs for the 7702 key id in the
// owner-offline mode (pending or not). Errors: ErrNoKey, or one for a
// key that holds none.
func (s *Service) SignedGrant(ctx context.Context, id string) (onchain.SignedGrant, error) {
	g, err := s.cfg.Store.GetGrant(ctx, id)
	if err != nil {
		return onchain.SignedGrant{}, err
	}
	pol, err := s.policyOf(g)
	if err != nil {
		return onchain.SignedGrant{}, err
	}
	return s.signedGrantOf(g, pol)
}

// readDelegate calls a view of the owner's delegate.
func (s *Service) readDelegate(ctx context.Context, data []byte) ([]byte, error) {
	owner := s.Address()
	out, err := s.cfg.Chain.CallContract(ctx, ethereum.CallMsg{To: &owner, Data: data}, nil)
	if err != nil {
		return nil, &UpstreamError{Op: "read the owner's AgentKeyDelegate", Err: err}
	}
	return out, nil
}

// grantNonceAccount is the store's nonce counter of signed grant nonces
// of owner: an address nobody holds a key for, so the counter is never
// one of an account that sends transactions.
func grantNonceAccount(owner common.Address) common.Address {
	return common.BytesToAddress(crypto.Keccak256([]byte("agentkeys signed grant nonces"), owner.Bytes())[12:])
}

// prepareSigned fills the meta of a 7702 grant the owner will sign: the
// delegate's epoch now, a nonce the store allocates (never below the
// delegate's nextNonce, never twice, across replicas too), the deadline
// and the stipend.
func (s *Service) prepareSigned(ctx context.Context, meta map[string]string) error {
	out, err := s.readDelegate(ctx, onchain.PackEpoch())
	if err != nil {
		return err
	}
	epoch, err := onchain.UnpackEpoch(out)
	if err != nil {
		return fmt.Errorf("read epoch: %w", err)
	}
	if out, err = s.readDelegate(ctx, onchain.PackNextNonce()); err != nil {
		return err
	}
	next, err := onchain.UnpackNextNonce(out)
	if err != nil {
		return fmt.Errorf("read nextNonce: %w", err)
	}
	if !next.IsInt64() {
		return fmt.Errorf("the delegate's nextNonce %s is beyond the nonces this daemon allocates", next)
	}
	var nonce uint64
	if err := s.cfg.Store.Owner(ctx, func(ctx context.Context, tx store.OwnerTx) error {
		nonce, err = tx.NextNonce(ctx, s.cfg.ChainID, grantNonceAccount(s.Address()).Hex(), next.Uint64())
		return err
	}); err != nil {
		return fmt.Errorf("allocate the signed grant's nonce: %w", err)
	}
	meta[MetaGrantNonce] = strconv.FormatUint(nonce, 10)
	meta[MetaGrantEpoch] = strconv.FormatUint(uint64(epoch), 10)
	meta[MetaGrantDeadline] = strconv.FormatInt(s.now().Add(s.cfg.SignatureTTL).Unix(), 10)
	meta[MetaGrantStipend] = s.stipend().String()
	return nil
}

// ParseSignature reads a 65-byte r||s||v signature as hex (v 27/28 or
// 0/1), as wallets return from eth_signTypedData_v4 and cast wallet sign.
func ParseSignature(text string) ([]byte, error) {
	sig, err := hexutil.Decode(strings.TrimSpace(text))
	if err != nil || len(sig) != 65 {
		return nil, &ParamError{Field: "signature", Msg: "expected 0x and 130 hex digits (r, s, v: 65 bytes)"}
	}
	return sig, nil
}

// Activate activates a 7702 key waiting for the owner's signature: it
// checks, before anything is sent, that sig is the owner's signature of
// exactly this key's grant; then the relayer submits grantWithSignature
// through the pipeline, and once its receipt shows it registered the key
// is activated (Store.ActivateGrant, audited). Errors: ErrNoKey; a
// ParamError for a key not waiting, a signature that is not the owner's
// over this grant, or a passed deadline; a RelayerError for a relayer
// without gas money; a Refusal if the delegate refuses it.
func (s *Service) Activate(ctx context.Context, id string, sig []byte) (GrantInfo, error) {
	s.activateMu.Lock()
	defer s.activateMu.Unlock()
	g, err := s.cfg.Store.GetGrant(ctx, id)
	if err != nil {
		return GrantInfo{}, err
	}
	if !s.sealHolds(g) {
		return GrantInfo{}, errUnsealed
	}
	if st := g.Status(s.now()); st != store.StatusPendingSignature {
		return GrantInfo{}, &ParamError{Field: "id", Msg: fmt.Sprintf("key %s is %s, not waiting for the owner's signature", g.ID, st)}
	}
	if s.cfg.Relayer == nil {
		return GrantInfo{}, errors.New("activate: this daemon has no relayer to submit the signed grant")
	}
	pol, err := s.policyOf(g)
	if err != nil {
		return GrantInfo{}, err
	}
	sg, err := s.signedGrantOf(g, pol)
	if err != nil {
		return GrantInfo{}, err
	}
	owner := common.HexToAddress(g.Address)
	digest, err := sg.Digest(s.chainID, owner)
	if err != nil {
		return GrantInfo{}, err
	}
	if err := checkOwnerSignature(digest, sig, owner); err != nil {
		// Someone with the admin credential offered a signature that is
		// not the owner's: the owner reads it in the log.
		s.adminAudit(ctx, MethodActivateRefused, map[string]any{"key_id": g.ID, "reason": err.Error()})
		return GrantInfo{}, err
	}
	if s.now().Unix() > int64(sg.Deadline) {
		return GrantInfo{}, &ParamError{Field: "signature", Msg: fmt.Sprintf("the grant's deadline %s has passed: revoke key %s and grant again",
			time.Unix(int64(sg.Deadline), 0).UTC().Format(time.RFC3339), g.ID)}
	}
	data, err := onchain.PackGrantWithSignature(sg, sig)
	if err != nil {
		return GrantInfo{}, fmt.Errorf("encode grantWithSignature: %w", err)
	}
	signed, _, err := s.sendOwner(ctx, ownerCall{method: "agentkeys_grantWithSignature", grant: &g, spend: true, charge: sg.Stipend,
		sender: s.cfg.Relayer, to: &owner, data: data,
		detail: map[string]any{"session": sg.Session.Hex(), "nonce": sg.Nonce, "digest": digest.Hex()}})
	if err != nil {
		return s.info(g), fmt.Errorf("activate: %w", explainFillError(err))
	}
	call, _ := json.Marshal(map[string]any{"key_id": g.ID, "session": sg.Session.Hex(), "signer": owner.Hex(), "digest": digest.Hex(), "tx_hash": signed.Hash().Hex()})
	ok, err := s.activatePending(context.WithoutCancel(ctx), g.ID, store.PendingSignature, map[string]string{MetaGrantTx: signed.Hash().Hex()},
		audit.Record{Time: s.now(), Method: "agentkeys_activate", Call: call, Decision: audit.DecisionAllow, Reasons: []string{}, TxHash: signed.Hash().Hex()})
	if err != nil {
		return s.info(g), fmt.Errorf("activate: registered on chain in %s, but: %w", signed.Hash().Hex(), err)
	}
	stored, gerr := s.cfg.Store.GetGrant(ctx, g.ID)
	if gerr != nil {
		return s.info(g), gerr
	}
	if !ok {
		// Revoked here while its grant was being registered: end it on
		// chain too.
		g.Pending = ""
		if err := s.revokeSelf(ctx, g); err != nil {
			return s.info(stored), fmt.Errorf("activate: key %s was revoked meanwhile, and its on-chain revokeSelf failed: %w", g.ID, err)
		}
		return s.info(stored), &ParamError{Field: "id", Msg: fmt.Sprintf("key %s was revoked while its grant was registered; its session revoked itself on chain", g.ID)}
	}
	return s.info(stored), nil
}

// explainFillError turns a delegate's refusal found by gas estimation
// into its name.
func explainFillError(err error) error {
	var up *UpstreamError
	if errors.As(err, &up) {
		if e := explainRevert(up.Err); e != up.Err {
			return e
		}
	}
	return err
}

// checkOwnerSignature refuses sig unless it is owner's signature of
// digest in the form the delegate accepts (low s, v 27/28 or 0/1).
func checkOwnerSignature(digest common.Hash, sig []byte, owner common.Address) error {
	if len(sig) != 65 {
		return &ParamError{Field: "signature", Msg: "expected 65 bytes (r, s, v)"}
	}
	rs := make([]byte, 65)
	copy(rs, sig)
	if rs[64] >= 27 {
		rs[64] -= 27
	}
	r, sv := new(big.Int).SetBytes(rs[:32]), new(big.Int).SetBytes(rs[32:64])
	if !crypto.ValidateSignatureValues(rs[64], r, sv, true) {
		return &ParamError{Field: "signature", Msg: "not a valid signature (v must be 27 or 28, s in the lower half)"}
	}
	pub, err := crypto.SigToPub(digest[:], rs)
	if err != nil {
		return &ParamError{Field: "signature", Msg: "not a valid signature"}
	}
	if by := crypto.PubkeyToAddress(*pub); by != owner {
		return &ParamError{Field: "signature", Msg: fmt.Sprintf("it is not the owner %s's signature of this grant (digest %s): signed by another key, or over other data (another grant, chain or account)",
			owner.Hex(), digest.Hex())}
	}
	return nil
}

// revokeSelf has g's session key end its own grant on chain (the
// owner-offline mode's on-chain revoke), paying with its stipend.
func (s *Service) revokeSelf(ctx context.Context, g store.Grant) error {
	w, err := s.sessionSigner(ctx, g)
	if err != nil {
		return err
	}
	owner := common.HexToAddress(g.Address)
	_, _, err = s.sendOwner(ctx, ownerCall{method: "agentkeys_revokeSelf", grant: &g, sender: w, to: &owner, data: onchain.PackRevokeSelf()})
	return explainFillError(err)
}

// OwnerCall is a transaction the owner sends from its own wallet.
type OwnerCall struct {
	To   common.Address `json:"to"`
	Data string         `json:"data"`
	// Cast is the same with Foundry's cast (add the wallet's flag:
	// --ledger, --trezor, --account NAME).
	Cast string `json:"cast"`
}

// OwnerRevokeAll is the owner's revokeAll() on its own account: every
// session ends and every signed grant not yet submitted is void.
func (s *Service) OwnerRevokeAll() OwnerCall {
	o := s.Address()
	return OwnerCall{To: o, Data: hexutil.Encode(onchain.PackRevokeAll()),
		Cast: fmt.Sprintf("cast send %s 'revokeAll()' --from %s --chain %d --rpc-url $RPC_URL", o.Hex(), o.Hex(), s.cfg.ChainID)}
}

// AuthorizationRequest is the EIP-7702 authorization the owner signs to
// delegate its account to Delegate (the zero address removes the
// delegation), for the relayer to submit.
type AuthorizationRequest struct {
	ChainID  uint64         `json:"chain_id"`
	Owner    common.Address `json:"owner"`
	Delegate common.Address `json:"delegate"`
	Nonce    uint64         `json:"nonce"` // the owner's account nonce: the authorization is valid only at it
	Relayer  common.Address `json:"relayer"`
	// Cast signs it with Foundry (add the wallet's flag); its output is
	// what --authorization takes.
	Cast string `json:"cast"`
}

// AuthorizationToSign is what the owner signs to upgrade (or, with
// downgrade, to remove the delegation).
func (s *Service) AuthorizationToSign(ctx context.Context, downgrade bool) (AuthorizationRequest, error) {
	delegate := common.Address{}
	if !downgrade {
		if delegate = s.delegate(); delegate == (common.Address{}) {
			return AuthorizationRequest{}, ErrNoDelegate
		}
	}
	nonce, err := s.cfg.Chain.PendingNonceAt(ctx, s.Address())
	if err != nil {
		return AuthorizationRequest{}, &UpstreamError{Op: "read the owner's nonce", Err: err}
	}
	return AuthorizationRequest{ChainID: s.cfg.ChainID, Owner: s.Address(), Delegate: delegate, Nonce: nonce, Relayer: s.RelayerAddress(),
		Cast: fmt.Sprintf("cast wallet sign-auth %s --chain %d --nonce %d --from %s", delegate.Hex(), s.cfg.ChainID, nonce, s.Address().Hex())}, nil
}

// ParseAuthorization reads a signed EIP-7702 authorization: the hex RLP
// list [chainId, address, nonce, yParity, r, s] that cast wallet
// sign-auth prints, or its JSON form (chainId, address, nonce, yParity,
// r, s, as in a type-4 transaction's authorizationList).
func ParseAuthorization(text string) (types.SetCodeAuthorization, error) {
	var a types.SetCodeAuthorization
	text = strings.TrimSpace(text)
	bad := &ParamError{Field: "authorization", Msg: "expected the hex that cast wallet sign-auth prints, or a JSON object {chainId, address, nonce, yParity, r, s}"}
	if strings.HasPrefix(text, "{") {
		if err := json.Unmarshal([]byte(text), &a); err != nil {
			return a, bad
		}
		return a, nil
	}
	raw, err := hexutil.Decode(text)
	if err != nil || len(raw) > 1024 {
		return a, bad
	}
	if err := rlp.DecodeBytes(raw, &a); err != nil {
		return a, bad
	}
	return a, nil
}

// ApplyAuthorization has the relayer submit an EIP-7702 authorization the
// owner signed (a type-0x04 transaction to the owner's account carrying
// it), after checking it: this chain (never chain id 0), the daemon's
// delegate (or the zero address, with downgrade), the owner's signature
// and its current nonce.
func (s *Service) ApplyAuthorization(ctx context.Context, auth types.SetCodeAuthorization, downgrade bool) (WalletStatus, error) {
	if s.cfg.Relayer == nil {
		return WalletStatus{}, errors.New("this daemon has no relayer to submit the authorization")
	}
	want, err := s.AuthorizationToSign(ctx, downgrade)
	if err != nil {
		return WalletStatus{}, err
	}
	switch {
	case auth.ChainID.IsZero():
		return WalletStatus{}, &ParamError{Field: "authorization", Msg: "chain id 0 would be valid on every chain; sign it for chain " + strconv.FormatUint(s.cfg.ChainID, 10)}
	case !auth.ChainID.Eq(uint256.NewInt(s.cfg.ChainID)):
		return WalletStatus{}, &ParamError{Field: "authorization", Msg: fmt.Sprintf("signed for chain %s, this daemon's chain is %d", auth.ChainID.Dec(), s.cfg.ChainID)}
	case auth.Address != want.Delegate:
		return WalletStatus{}, &ParamError{Field: "authorization", Msg: fmt.Sprintf("it delegates to %s, expected %s", auth.Address.Hex(), want.Delegate.Hex())}
	case auth.Nonce != want.Nonce:
		return WalletStatus{}, &ParamError{Field: "authorization", Msg: fmt.Sprintf("nonce %d, the owner's account is at %d: sign again with --nonce %d", auth.Nonce, want.Nonce, want.Nonce)}
	}
	if by, err := auth.Authority(); err != nil || by != s.Address() {
		return WalletStatus{}, &ParamError{Field: "authorization", Msg: "it is not signed by the owner " + s.Address().Hex()}
	}
	method := "agentkeys_walletUpgrade"
	if downgrade {
		method = "agentkeys_walletDowngrade"
	}
	owner := s.Address()
	if _, _, err := s.sendOwner(ctx, ownerCall{method: method, sender: s.cfg.Relayer, to: &owner, auths: []types.SetCodeAuthorization{auth}}); err != nil {
		return WalletStatus{}, fmt.Errorf("%s: %w", strings.TrimPrefix(method, "agentkeys_"), err)
	}
	return s.Wallet(ctx)
}

// offlineRefusal is the reason an agent reads for a signature only the
// owner's key could make.
const offlineRefusal = "only the owner can sign messages and typed data for this account: its key is not on agentkeys (owner-offline mode)"

// refuseOffline adds the owner-offline reason to a refusal of a message
// or typed-data signature.
func (s *Service) refuseOffline(err error) error {
	var r *Refusal
	if s.OwnerOffline() && errors.As(err, &r) && !containsReason(r.Reasons, offlineRefusal) {
		r.Reasons = append(r.Reasons, offlineRefusal)
	}
	return err
}

func containsReason(rs []string, want string) bool {
	for _, r := range rs {
		if r == want {
			return true
		}
	}
	return false
}
