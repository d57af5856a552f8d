package admin

import (
	"net/http"
	"strconv"
)

// The owner's passkeys and the changes waiting for them. Approving is
// done in a browser (the dashboard's approval page), where the passkey
// is; the API lists, links and rejects.

// passkeyEnroll makes a one-time link that registers a passkey.
func (h *Handler) passkeyEnroll(w http.ResponseWriter, r *http.Request) {
	e, err := h.svc.NewEnrollment(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (h *Handler) passkeys(w http.ResponseWriter, r *http.Request) {
	ps, err := h.svc.Passkeys(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"passkeys": ps})
}

// passkeyRemove removes a passkey; the last one waits for a passkey's
// approval (202 with the change).
func (h *Handler) passkeyRemove(w http.ResponseWriter, r *http.Request) {
	pc, err := h.svc.RemovePasskey(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	if pc != nil {
		writeJSON(w, http.StatusAccepted, pc)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"removed": r.PathValue("id")})
}

// changes lists the owner's changes: ?state=pending|approved|rejected|expired&limit=N.
func (h *Handler) changes(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit: expected a number from 1 to 1000")
			return
		}
		limit = n
	}
	cs, err := h.svc.Changes(r.Context(), r.URL.Query().Get("state"), limit)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"changes": cs})
}

func (h *Handler) change(w http.ResponseWriter, r *http.Request) {
	c, err := h.svc.Change(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *Handler) changeReject(w http.ResponseWriter, r *http.Request) {
	c, err := h.svc.RejectChange(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
