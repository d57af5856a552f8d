// Package admin is the owner's HTTP API under /v1, behind its own
// credential (akadm_...). The CLI (key, wallet, token, tx, alert) uses
// it; it calls the service core for everything.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/clientip"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/request"
	"github.com/agentkeys/agentkeys/internal/service"
)

// Handler serves /v1/.
type Handler struct {
	svc    *service.Service
	verify func(token string) error
	log    *slog.Logger
	mux    *http.ServeMux
}

// New returns the admin API. verify checks an admin bearer token.
func New(svc *service.Service, verify func(token string) error, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{svc: svc, verify: verify, log: log, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST /v1/grants", h.grant)
	h.mux.HandleFunc("GET /v1/grants", h.list)
	h.mux.HandleFunc("GET /v1/grants/{id}", h.show)
	h.mux.HandleFunc("POST /v1/grants/{id}/revoke", h.revoke)
	h.mux.HandleFunc("POST /v1/grants/{id}/activate", h.activate)
	h.mux.HandleFunc("GET /v1/wallet/authorization", h.walletAuthorization)
	h.mux.HandleFunc("POST /v1/grants/{id}/suspend", h.suspend)
	h.mux.HandleFunc("POST /v1/grants/{id}/resume", h.resume)
	h.mux.HandleFunc("POST /v1/grants/{id}/probe", h.probe)
	h.mux.HandleFunc("GET /v1/anomalies", h.anomalies)
	h.mux.HandleFunc("POST /v1/revoke-all", h.revokeAll)
	h.mux.HandleFunc("GET /v1/wallet", h.wallet)
	h.mux.HandleFunc("POST /v1/wallet/upgrade", h.walletChange)
	h.mux.HandleFunc("POST /v1/wallet/downgrade", h.walletChange)
	h.mux.HandleFunc("GET /v1/tokens", h.tokens)
	h.mux.HandleFunc("POST /v1/tokens", h.tokenAdd)
	h.mux.HandleFunc("GET /v1/tokens/{address}", h.tokenLookup)
	h.mux.HandleFunc("DELETE /v1/tokens/{ref}", h.tokenRemove)
	h.mux.HandleFunc("POST /v1/wallet/deploy-delegate", h.deployDelegate)
	h.mux.HandleFunc("GET /v1/review", h.review)
	h.mux.HandleFunc("GET /v1/txs", h.txs)
	h.mux.HandleFunc("GET /v1/txs/{hash}", h.tx)
	h.mux.HandleFunc("POST /v1/txs/{hash}/cancel", h.txCancel)
	h.mux.HandleFunc("POST /v1/alerts", h.alertAdd)
	h.mux.HandleFunc("GET /v1/alerts", h.alerts)
	h.mux.HandleFunc("DELETE /v1/alerts/{id}", h.alertRemove)
	h.mux.HandleFunc("POST /v1/alerts/{id}/test", h.alertTest)
	h.mux.HandleFunc("GET /v1/alerts/deliveries", h.alertDeliveries)
	h.mux.HandleFunc("POST /v1/owner/passkeys/enroll", h.passkeyEnroll)
	h.mux.HandleFunc("GET /v1/owner/passkeys", h.passkeys)
	h.mux.HandleFunc("DELETE /v1/owner/passkeys/{id}", h.passkeyRemove)
	h.mux.HandleFunc("GET /v1/owner/changes", h.changes)
	h.mux.HandleFunc("GET /v1/owner/changes/{id}", h.change)
	h.mux.HandleFunc("POST /v1/owner/changes/{id}/reject", h.changeReject)
	return h
}

// ServeHTTP checks the admin credential, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.Guard(h.mux).ServeHTTP(w, r) }

// Guard serves next only to requests carrying the admin credential
// (Authorization: Bearer akadm_...), as for the admin API itself.
func (h *Handler) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientip.FromRequest(r)
		var lim *service.LimitError
		if err := h.svc.AdminAllowed(ip); errors.As(err, &lim) {
			w.Header().Set("Retry-After", strconv.Itoa(lim.RetrySeconds()))
			writeError(w, http.StatusTooManyRequests, lim.Error())
			return
		}
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if err := h.verify(strings.TrimSpace(tok)); err != nil {
			// Counted toward the source's backoff and audited in
			// aggregate (Service.FlushLimits), not a record per attempt.
			h.svc.AdminFailed(ip)
			writeError(w, http.StatusUnauthorized, "admin credential missing or not valid: send Authorization: Bearer akadm_...")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// GrantView is a key as the API shows it. It never carries the
// credential, except Token in the response that creates the key.
type GrantView struct {
	KeyID     string      `json:"key_id"`
	Token     string      `json:"token,omitempty"`
	Agent     string      `json:"agent"`
	Mode      string      `json:"mode"`
	Address   string      `json:"address"`
	Status    string      `json:"status"`
	Policy    string      `json:"policy"`
	Profile   string      `json:"profile,omitempty"`
	Warning   string      `json:"warning,omitempty"`
	Limits    []LimitView `json:"limits"`
	CreatedAt time.Time   `json:"created_at"`
	ExpiresAt time.Time   `json:"expires_at"`
	RevokedAt *time.Time  `json:"revoked_at,omitempty"`
	// SuspendedAt and SuspendReason are set while the key is suspended
	// (status "suspended"); the reason is for the owner only.
	SuspendedAt   *time.Time      `json:"suspended_at,omitempty"`
	SuspendReason string          `json:"suspend_reason,omitempty"`
	Document      json.RawMessage `json:"policy_document,omitempty"`
	Session       string          `json:"session,omitempty"` // 7702 mode: the session key's address
	// Enforcement says which rules the chain holds (7702 grants, on
	// creation).
	Enforcement *service.EnforcementReport `json:"enforcement,omitempty"`
	Meta        map[string]string          `json:"meta,omitempty"`
	// SignatureRequest, for a 7702 key waiting for the owner's signature
	// (status pending_signature, owner-offline mode), is the EIP-712
	// typed data the owner signs (eth_signTypedData_v4) and its digest;
	// POST /v1/grants/{id}/activate takes the signature.
	SignatureRequest *service.SignatureRequest `json:"signature_request,omitempty"`
	// Budget is each limit's spent, pending and left in its current
	// period (GET /v1/grants and GET /v1/grants/{id}).
	Budget []service.BudgetLine `json:"budget,omitempty"`
	// Usage is the key's last request and its requests and refusals in
	// the last 24h (GET /v1/grants and GET /v1/grants/{id}).
	Usage *service.KeyUsage `json:"usage,omitempty"`
	// Anomalies are the key's most recent anomalies, newest first (GET
	// /v1/grants/{id}).
	Anomalies []service.AnomalyEvent `json:"anomalies,omitempty"`
	// ChangeID and ApproveURL are set (status "pending_approval") when
	// the new key waits for the owner's passkey; Summary and Details say
	// in plain words what the approval would allow.
	ChangeID   string   `json:"change_id,omitempty"`
	ApproveURL string   `json:"approve_url,omitempty"`
	Summary    string   `json:"summary,omitempty"`
	Details    []string `json:"details,omitempty"`
}

// RecentAnomalies is how many of a key's anomalies GET /v1/grants/{id}
// shows.
const RecentAnomalies = 10

// LimitView echoes a cap in whole units and base units; it is the
// service's one limit view.
type LimitView = service.LimitLine

func (h *Handler) view(g service.GrantInfo, withDoc bool) GrantView {
	v := GrantView{KeyID: g.ID, Agent: g.Agent, Mode: g.Mode, Address: g.Address, Status: g.Status, CreatedAt: g.CreatedAt,
		ExpiresAt: g.ExpiresAt, RevokedAt: g.RevokedAt, SuspendedAt: g.SuspendedAt, SuspendReason: g.SuspendReason,
		Meta: g.Meta, Limits: g.Limits, Session: g.Session}
	if p := g.Policy; p != nil {
		v.Policy, v.Profile, v.Warning = p.Name(), p.Document().Profile, p.Warning()
	}
	if withDoc {
		// One key's full view (its grant, GET of it): with what the owner
		// signs if it waits for that.
		v.Document, v.SignatureRequest = g.Document, g.Signature
	}
	return v
}

func (h *Handler) grant(w http.ResponseWriter, r *http.Request) {
	var spec service.GrantSpec
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		writeError(w, http.StatusBadRequest, "request body: "+strings.TrimPrefix(err.Error(), "json: "))
		return
	}
	res, err := h.svc.GrantFrom(r.Context(), spec)
	if err != nil {
		h.fail(w, err)
		return
	}
	v := h.view(res.Grant, true)
	v.Token = res.Token.Reveal()
	v.Enforcement = res.Report
	status := http.StatusCreated
	if pc := res.Pending; pc != nil {
		// The key exists but acts only once the owner approves it.
		v.ChangeID, v.ApproveURL, v.Summary, v.Details, status = pc.ID, pc.ApproveURL, pc.Summary, pc.Details, http.StatusAccepted
	}
	writeJSON(w, status, v)
}

// GrantList is the answer of GET /v1/grants: a page of keys, and the
// cursor of the next page when more remain.
type GrantList struct {
	Keys       []GrantView `json:"keys"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// list lists a page of the keys:
// ?status=S&unused_for=7d&order=oldest|newest&limit=N&cursor=C.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	gq := service.GrantQuery{Status: q.Get("status"), UnusedFor: q.Get("unused_for"), Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > service.MaxGrantPage {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: expected a number from 1 to %d, got %s", service.MaxGrantPage, bound.Quote(l)))
			return
		}
		gq.Limit = n
	}
	switch o := q.Get("order"); o {
	case "", "oldest":
	case "newest":
		gq.Newest = true
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("order: expected oldest or newest, got %s", bound.Quote(o)))
		return
	}
	page, err := h.svc.FindGrants(r.Context(), gq)
	if err != nil {
		h.fail(w, err)
		return
	}
	out := GrantList{Keys: make([]GrantView, 0, len(page.Keys)), NextCursor: page.NextCursor}
	for _, g := range page.Keys {
		v := h.view(g, false)
		v.Usage = g.Usage
		if g.Policy != nil { // a stored policy that no longer compiles has no budget to show
			if v.Budget, err = h.svc.Budget(r.Context(), g.ID); err != nil {
				h.fail(w, err)
				return
			}
		}
		out.Keys = append(out.Keys, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) show(w http.ResponseWriter, r *http.Request) {
	g, err := h.svc.GetGrant(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	v := h.view(g, true)
	if v.Budget, err = h.svc.Budget(r.Context(), g.ID); err != nil {
		h.fail(w, err)
		return
	}
	u, err := h.svc.Usage(r.Context(), g.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	v.Usage = &u
	if v.Anomalies, err = h.svc.Anomalies(r.Context(), service.AnomalyQuery{KeyID: g.ID, Limit: RecentAnomalies}); err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// review is the owner's periodic review:
// ?since=7d&unused_for=7d&expiring_within=7d.
func (h *Handler) review(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rv, err := h.svc.Review(r.Context(), service.ReviewQuery{Since: q.Get("since"), UnusedFor: q.Get("unused_for"), ExpiringWithin: q.Get("expiring_within")})
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rv)
}

// SuspendRequest is the optional body of POST /v1/grants/{id}/suspend.
type SuspendRequest struct {
	Reason string `json:"reason,omitempty"`
}

// decodeOptional reads an optional JSON body into v; on a bad body it
// answers 400 and returns false.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	if r.ContentLength == 0 {
		return true
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "request body: "+strings.TrimPrefix(err.Error(), "json: "))
		return false
	}
	return true
}

// suspend stops a key until it is resumed; it answers with the key.
func (h *Handler) suspend(w http.ResponseWriter, r *http.Request) {
	var req SuspendRequest
	if !decodeOptional(w, r, &req, 1<<16) {
		return
	}
	g, err := h.svc.Suspend(r.Context(), r.PathValue("id"), req.Reason)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.view(g, false))
}

// ProbeRequest is the optional body of POST /v1/grants/{id}/probe: the
// attempts to make, or a named battery.
type ProbeRequest struct {
	// Battery names the attempts: "standard" (the default), the battery
	// service.Battery builds from the key's policy.
	Battery string `json:"battery,omitempty"`
	// Attempts, if given, are made instead of a battery.
	Attempts []ProbeAttempt `json:"attempts,omitempty"`
}

// ProbeAttempt is one attempt of a probe as the API takes it.
type ProbeAttempt struct {
	Name   string `json:"name"`
	Expect string `json:"expect"` // allow or deny
	// Method is eth_sendTransaction (Txs), eth_signTypedData_v4
	// (TypedData), personal_sign (Message) or eth_sign.
	Method string `json:"method"`
	// Txs are eth_sendTransaction parameters; several are judged as one
	// sequence, each seeing the spend of those before it.
	Txs       []json.RawMessage `json:"txs,omitempty"`
	TypedData json.RawMessage   `json:"typed_data,omitempty"`
	Message   string            `json:"message,omitempty"`
	// At judges the attempt as made at that time; IP as coming from that
	// address.
	At *time.Time `json:"at,omitempty"`
	IP string     `json:"ip,omitempty"`
}

// attempt turns a into the service's attempt; errors name the field.
func (a ProbeAttempt) attempt(i int) (service.ProbeAttempt, error) {
	field := fmt.Sprintf("attempts[%d]", i)
	out := service.ProbeAttempt{Name: a.Name, Expect: policy.Verdict(a.Expect), Method: a.Method, Message: []byte(a.Message)}
	if a.Name == "" || len(a.Name) > 200 {
		return out, &service.ParamError{Field: field + ".name", Msg: "expected a name of 1 to 200 characters"}
	}
	for j, raw := range a.Txs {
		p, err := request.DecodeTxParam(raw, true)
		if err != nil {
			return out, &service.ParamError{Field: fmt.Sprintf("%s.txs[%d]", field, j), Msg: err.Error()}
		}
		out.Txs = append(out.Txs, service.TxArgs{To: p.To, Value: p.Amount(), Data: p.CallData(), Authorizations: len(p.AuthorizationList)})
	}
	if len(a.TypedData) > 0 {
		td, err := request.ParseTypedData(a.TypedData)
		if err != nil {
			return out, &service.ParamError{Field: field + ".typed_data", Msg: err.Error()}
		}
		out.TypedData = td
	}
	if a.At != nil {
		out.At = *a.At
	}
	if a.IP != "" {
		ip, err := netip.ParseAddr(a.IP)
		if err != nil {
			return out, &service.ParamError{Field: field + ".ip", Msg: fmt.Sprintf("expected an IP address, got %s", bound.Quote(a.IP))}
		}
		out.IP = ip
	}
	return out, nil
}

// probe makes a probe's attempts through the key's decision path as a dry
// run and answers with a service.ProbeReport; nothing is signed or spent,
// and the attempts are not the key's use.
func (h *Handler) probe(w http.ResponseWriter, r *http.Request) {
	var req ProbeRequest
	if !decodeOptional(w, r, &req, 1<<20) {
		return
	}
	var attempts []service.ProbeAttempt
	switch {
	case len(req.Attempts) > 0 && req.Battery != "":
		writeError(w, http.StatusBadRequest, "give attempts or a battery, not both")
		return
	case req.Battery != "" && req.Battery != "standard":
		writeError(w, http.StatusBadRequest, fmt.Sprintf("battery: expected \"standard\", got %s", bound.Quote(req.Battery)))
		return
	case len(req.Attempts) > service.MaxProbeAttempts:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("attempts: at most %d", service.MaxProbeAttempts))
		return
	}
	for i, a := range req.Attempts {
		sa, err := a.attempt(i)
		if err != nil {
			h.fail(w, err)
			return
		}
		attempts = append(attempts, sa)
	}
	rep, err := h.svc.ProbeKey(r.Context(), r.PathValue("id"), service.RequestInfo{Method: service.MethodProbe, UserAgent: r.UserAgent()}, attempts)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// resume lets a suspended key act again; it answers with the key.
func (h *Handler) resume(w http.ResponseWriter, r *http.Request) {
	g, err := h.svc.Resume(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.view(g, false))
}

// anomalies lists anomalies, newest first: ?key=ID&since=24h&limit=N.
func (h *Handler) anomalies(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	aq := service.AnomalyQuery{KeyID: q.Get("key"), Since: q.Get("since")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 10000 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: expected a number from 1 to 10000, got %s", bound.Quote(l)))
			return
		}
		aq.Limit = n
	}
	as, err := h.svc.Anomalies(r.Context(), aq)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, as)
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	g, err := h.svc.Revoke(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.view(g, false))
}

// RevokeAllResult is the answer of POST /v1/revoke-all.
type RevokeAllResult struct {
	Revoked int `json:"revoked"`
	// OwnerAction, without the owner's key on the daemon, is the
	// revokeAll() the owner sends from its own wallet to end every session
	// on chain and void every signed grant not yet submitted.
	OwnerAction *service.OwnerCall `json:"owner_action,omitempty"`
}

func (h *Handler) revokeAll(w http.ResponseWriter, r *http.Request) {
	n, err := h.svc.RevokeAll(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	res := RevokeAllResult{Revoked: n}
	if h.svc.OwnerOffline() {
		c := h.svc.OwnerRevokeAll()
		res.OwnerAction = &c
	}
	writeJSON(w, http.StatusOK, res)
}

// ActivateRequest is the body of POST /v1/grants/{id}/activate: the
// owner's signature (0x, 65 bytes) of the key's signature_request.
type ActivateRequest struct {
	Signature string `json:"signature"`
}

// activate checks the owner's signature of a pending 7702 key's grant,
// has the relayer register it on chain and then activates the key.
func (h *Handler) activate(w http.ResponseWriter, r *http.Request) {
	var req ActivateRequest
	if !decodeBody(w, r, &req) {
		return
	}
	sig, err := service.ParseSignature(req.Signature)
	if err != nil {
		h.fail(w, err)
		return
	}
	g, err := h.svc.Activate(r.Context(), r.PathValue("id"), sig)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.view(g, false))
}

// WalletChangeRequest is the optional body of POST /v1/wallet/upgrade and
// /downgrade: without the owner's key on the daemon, the EIP-7702
// authorization the owner signed (what cast wallet sign-auth prints, or
// its JSON), which the relayer submits.
type WalletChangeRequest struct {
	Authorization string `json:"authorization,omitempty"`
}

// walletAuthorization is GET /v1/wallet/authorization[?downgrade=1]: the
// authorization the owner signs to (un)delegate its account.
func (h *Handler) walletAuthorization(w http.ResponseWriter, r *http.Request) {
	req, err := h.svc.AuthorizationToSign(r.Context(), r.URL.Query().Get("downgrade") != "")
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, req)
}

func (h *Handler) wallet(w http.ResponseWriter, r *http.Request) {
	st, err := h.svc.Wallet(r.Context())
	if err != nil {
		h.log.Error("wallet", "err", err)
		writeError(w, http.StatusBadGateway, service.PublicError(err))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *Handler) walletChange(w http.ResponseWriter, r *http.Request) {
	var req WalletChangeRequest
	if !decodeBody(w, r, &req) {
		return
	}
	downgrade := strings.HasSuffix(r.URL.Path, "/downgrade")
	change := h.svc.Upgrade
	if downgrade {
		change = h.svc.Downgrade
	}
	if req.Authorization != "" {
		auth, err := service.ParseAuthorization(req.Authorization)
		if err != nil {
			h.fail(w, err)
			return
		}
		change = func(ctx context.Context) (service.WalletStatus, error) {
			return h.svc.ApplyAuthorization(ctx, auth, downgrade)
		}
	}
	st, err := change(r.Context())
	var param *service.ParamError
	var pending *service.ApprovalPending
	if errors.Is(err, service.ErrOwnerOffline) || errors.As(err, &param) || isRelayerError(err) || errors.As(err, &pending) {
		h.fail(w, err)
		return
	}
	if err != nil {
		h.log.Error("wallet", "err", err)
		// A transport error quotes the upstream URL, which may carry the
		// provider's API key.
		writeError(w, http.StatusBadGateway, service.PublicError(err))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// TokenView is a token of the home's list as the API shows it.
type TokenView struct {
	Symbol   string `json:"symbol,omitempty"`
	Address  string `json:"address"`
	Decimals uint8  `json:"decimals"`
	ChainID  uint64 `json:"chain_id"`
}

func (h *Handler) tokenView(t service.Token) TokenView {
	return TokenView{Symbol: t.Symbol, Address: t.Address.Hex(), Decimals: t.Decimals, ChainID: h.svc.ChainID()}
}

func (h *Handler) tokens(w http.ResponseWriter, r *http.Request) {
	ts, err := h.svc.Tokens(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]TokenView, 0, len(ts))
	for _, t := range ts {
		out = append(out, h.tokenView(t))
	}
	writeJSON(w, http.StatusOK, out)
}

// TokenAdd is the body of POST /v1/tokens.
type TokenAdd struct {
	Address string `json:"address"`
	Symbol  string `json:"symbol,omitempty"` // default: the token's symbol()
}

func (h *Handler) tokenAdd(w http.ResponseWriter, r *http.Request) {
	var req TokenAdd
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "request body: "+strings.TrimPrefix(err.Error(), "json: "))
		return
	}
	a, err := tokenAddress("address", req.Address)
	if err != nil {
		h.fail(w, err)
		return
	}
	t, err := h.svc.AddToken(r.Context(), a, req.Symbol)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, h.tokenView(t))
}

func (h *Handler) tokenLookup(w http.ResponseWriter, r *http.Request) {
	a, err := tokenAddress("address", r.PathValue("address"))
	if err != nil {
		h.fail(w, err)
		return
	}
	t, err := h.svc.LookupToken(r.Context(), a)
	if err != nil {
		h.fail(w, &service.ParamError{Field: "address", Msg: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, h.tokenView(t))
}

func (h *Handler) tokenRemove(w http.ResponseWriter, r *http.Request) {
	t, err := h.svc.RemoveToken(r.Context(), r.PathValue("ref"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.tokenView(t))
}

func tokenAddress(field, s string) (common.Address, error) {
	if !strings.HasPrefix(s, "0x") || len(s) != 42 || !common.IsHexAddress(s) {
		if len(s) > 64 {
			s = s[:64] + "…"
		}
		return common.Address{}, &service.ParamError{Field: field, Msg: fmt.Sprintf("expected a token address (0x followed by 40 hex digits), got %q", s)}
	}
	return common.HexToAddress(s), nil
}

func (h *Handler) deployDelegate(w http.ResponseWriter, r *http.Request) {
	var opts service.DeployOptions
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&opts); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "request body: "+strings.TrimPrefix(err.Error(), "json: "))
		return
	}
	res, err := h.svc.DeployDelegate(r.Context(), opts)
	if err != nil {
		h.log.Error("deploy delegate", "err", err)
		writeError(w, http.StatusBadGateway, service.PublicError(err))
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// txs lists the transactions the daemon signed: ?key=ID&state=S.
func (h *Handler) txs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	txs, err := h.svc.Txs(r.Context(), service.TxQuery{KeyID: q.Get("key"), State: q.Get("state")})
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, txs)
}

func (h *Handler) tx(w http.ResponseWriter, r *http.Request) {
	tx, err := h.svc.Tx(r.Context(), r.PathValue("hash"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, tx)
}

// txCancel cancels a transaction not yet final; it answers with the
// cancel.
func (h *Handler) txCancel(w http.ResponseWriter, r *http.Request) {
	c, err := h.svc.CancelTx(r.Context(), r.PathValue("hash"))
	var up *service.UpstreamError
	if errors.As(err, &up) {
		h.log.Error("cancel transaction", "err", err)
		writeError(w, http.StatusBadGateway, "the node did not answer (see the daemon's log)")
		return
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	var param *service.ParamError
	var refusal *service.Refusal
	var pending *service.ApprovalPending
	var pk *service.PasskeyError
	switch {
	case errors.As(err, &pending):
		// Nothing took effect: the change waits for the owner's passkey.
		writeJSON(w, http.StatusAccepted, pending.Change)
	case errors.Is(err, service.ErrNoChange), errors.Is(err, service.ErrNoPasskey):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, service.ErrChangeDecided):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, service.ErrNoOwnerURL):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case errors.As(err, &pk), errors.Is(err, service.ErrEnrollment):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, service.ErrNoToken), errors.Is(err, service.ErrNoTx), errors.Is(err, service.ErrNoAlertHook):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, service.ErrNoKey):
		writeError(w, http.StatusNotFound, "no such key")
	case errors.As(err, &param), errors.Is(err, service.ErrBadAgent):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, service.ErrOwnerOffline), isRelayerError(err), errors.As(err, &refusal):
		// What the owner must do instead, a relayer to fund, or the
		// delegate's refusal: the request cannot succeed as it stands.
		writeError(w, http.StatusConflict, service.PublicError(err))
	default:
		h.log.Error("admin", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func isRelayerError(err error) bool {
	var re *service.RelayerError
	return errors.As(err, &re)
}

// decodeBody reads an optional JSON body into v, answering 400 for a
// malformed one.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "request body: "+strings.TrimPrefix(err.Error(), "json: "))
		return false
	}
	return true
}
