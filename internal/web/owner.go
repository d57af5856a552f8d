package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/agentkeys/agentkeys/internal/service"
)

// The owner's passkeys and approvals. Registering opens from a one-time
// link (no sign-in: the link's secret is the credential); listing,
// removing, approving and rejecting are for a signed-in owner. The
// WebAuthn ceremonies themselves run in passkey.js against the JSON
// endpoints below; the service builds and checks everything.

// writeJSONResult answers a ceremony's JSON endpoint.
func (h *Handler) writeJSONResult(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// jsonFail answers a ceremony's JSON endpoint with what went wrong, in
// words for the owner (anything unexpected is logged, not shown).
func (h *Handler) jsonFail(w http.ResponseWriter, r *http.Request, err error) {
	var pk *service.PasskeyError
	var param *service.ParamError
	var relayer *service.RelayerError
	var refusal *service.Refusal
	status := http.StatusBadRequest
	msg := err.Error()
	switch {
	case errors.As(err, &pk), errors.As(err, &param), errors.Is(err, service.ErrEnrollment):
	case errors.Is(err, service.ErrNoChange):
		status = http.StatusNotFound
	case errors.Is(err, service.ErrChangeDecided):
		status = http.StatusConflict
	case errors.Is(err, service.ErrNoOwnerURL):
		status = http.StatusServiceUnavailable
	case errors.Is(err, service.ErrNoKey):
		status = http.StatusNotFound
	case errors.As(err, &relayer), errors.As(err, &refusal):
		status = http.StatusConflict
	default:
		h.log.Error("dashboard", "path", r.URL.Path, "err", err)
		status, msg = http.StatusInternalServerError, "something went wrong; the daemon's log says what"
	}
	h.writeJSONResult(w, status, map[string]string{"error": msg})
}

func (h *Handler) enrollPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "enroll", nil, page{Title: "Register a passkey"})
}

// enrollBegin and enrollFinish carry the registration ceremony; the
// link's token authenticates them.
func (h *Handler) enrollBegin(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		h.writeJSONResult(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused"})
		return
	}
	opts, err := h.svc.BeginRegistration(r.Context(), r.PostFormValue("token"))
	if err != nil {
		h.jsonFail(w, r, err)
		return
	}
	h.writeJSONResult(w, http.StatusOK, opts)
}

func (h *Handler) enrollFinish(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		h.writeJSONResult(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused"})
		return
	}
	res, err := h.svc.FinishRegistration(r.Context(), r.PostFormValue("token"), r.PostFormValue("name"), []byte(r.PostFormValue("credential")))
	if err != nil {
		h.jsonFail(w, r, err)
		return
	}
	h.writeJSONResult(w, http.StatusOK, res)
}

func (h *Handler) passkeys(w http.ResponseWriter, r *http.Request, ss *session) {
	ps, err := h.svc.Passkeys(r.Context())
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	h.render(w, http.StatusOK, "passkeys", ss, page{Title: "Passkeys", Nav: "passkeys", Notice: notice(r),
		Data: struct{ Passkeys []service.Passkey }{ps}})
}

// passkeyAdd opens a new one-time registration link.
func (h *Handler) passkeyAdd(w http.ResponseWriter, r *http.Request, ss *session) {
	e, err := h.svc.NewEnrollment(r.Context())
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	http.Redirect(w, r, e.URL, http.StatusSeeOther)
}

func (h *Handler) passkeyRemove(w http.ResponseWriter, r *http.Request, ss *session) {
	pc, err := h.svc.RemovePasskey(r.Context(), r.PathValue("id"))
	if errors.Is(err, service.ErrNoPasskey) {
		h.render(w, http.StatusNotFound, "error", ss, page{Title: "No such passkey", Error: err.Error()})
		return
	}
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	if pc != nil {
		http.Redirect(w, r, "/ui/approvals/"+url.PathEscape(pc.ID), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/ui/passkeys?done=passkey-removed", http.StatusSeeOther)
}

func (h *Handler) approvals(w http.ResponseWriter, r *http.Request, ss *session) {
	cs, err := h.svc.Changes(r.Context(), "", 100)
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	h.render(w, http.StatusOK, "approvals", ss, page{Title: "Approvals", Nav: "approvals", Notice: notice(r), Data: cs})
}

func (h *Handler) approval(w http.ResponseWriter, r *http.Request, ss *session) {
	c, err := h.svc.Change(r.Context(), r.PathValue("id"))
	if errors.Is(err, service.ErrNoChange) {
		h.render(w, http.StatusNotFound, "error", ss, page{Title: "No such change", Error: err.Error()})
		return
	}
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	h.render(w, http.StatusOK, "approval", ss, page{Title: "Approve a change", Nav: "approvals", Notice: notice(r),
		Data: struct {
			Change service.PendingChange
			Origin string
		}{c, h.svc.OwnerURL()}})
}

func (h *Handler) approvalBegin(w http.ResponseWriter, r *http.Request, _ *session) {
	opts, err := h.svc.BeginApproval(r.Context(), r.PathValue("id"))
	if err != nil {
		h.jsonFail(w, r, err)
		return
	}
	h.writeJSONResult(w, http.StatusOK, opts)
}

func (h *Handler) approvalFinish(w http.ResponseWriter, r *http.Request, _ *session) {
	c, err := h.svc.FinishApproval(r.Context(), r.PathValue("id"), []byte(r.PostFormValue("credential")))
	if err != nil {
		h.jsonFail(w, r, err)
		return
	}
	h.log.Info("dashboard: approved", "change", c.ID, "kind", c.Kind)
	h.writeJSONResult(w, http.StatusOK, c)
}

func (h *Handler) approvalReject(w http.ResponseWriter, r *http.Request, ss *session) {
	c, err := h.svc.RejectChange(r.Context(), r.PathValue("id"))
	if errors.Is(err, service.ErrNoChange) || errors.Is(err, service.ErrChangeDecided) {
		h.render(w, http.StatusConflict, "error", ss, page{Title: "Not rejected", Error: err.Error()})
		return
	}
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	http.Redirect(w, r, "/ui/approvals/"+url.PathEscape(c.ID)+"?done=rejected", http.StatusSeeOther)
}

// activate takes the owner's signature of a 7702 key's grant, which the
// key page had the browser wallet make (EIP-1193 eth_signTypedData_v4),
// and activates the key: the daemon checks the signature is the owner's
// over exactly this grant before its relayer registers it on chain.
func (h *Handler) activate(w http.ResponseWriter, r *http.Request, _ *session) {
	sig, err := service.ParseSignature(r.PostFormValue("signature"))
	if err != nil {
		h.jsonFail(w, r, err)
		return
	}
	g, err := h.svc.Activate(r.Context(), r.PathValue("id"), sig)
	if err != nil {
		h.jsonFail(w, r, err)
		return
	}
	h.log.Info("dashboard: activated with the owner's signature", "key_id", g.ID)
	h.writeJSONResult(w, http.StatusOK, map[string]string{"id": g.ID, "status": g.Status})
}
