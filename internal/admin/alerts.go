package admin

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/agentkeys/agentkeys/internal/service"
)

// AlertAdd is the body of POST /v1/alerts. Secret travels only in this
// request, to the admin listener; the daemon seals it at once and never
// shows it again.
type AlertAdd struct {
	URL         string `json:"url"`
	Secret      string `json:"secret,omitempty"`
	MinSeverity string `json:"min_severity,omitempty"`
	Name        string `json:"name,omitempty"`
}

func (h *Handler) alertAdd(w http.ResponseWriter, r *http.Request) {
	var req AlertAdd
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "request body: "+strings.TrimPrefix(err.Error(), "json: "))
		return
	}
	secret := service.AlertSecret(req.Secret)
	defer clear(secret)
	v, err := h.svc.AddAlertHook(r.Context(), service.AlertHookSpec{URL: req.URL, Secret: secret, MinSeverity: req.MinSeverity, Name: req.Name})
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (h *Handler) alerts(w http.ResponseWriter, r *http.Request) {
	hs, err := h.svc.AlertHooks(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, hs)
}

func (h *Handler) alertRemove(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.RemoveAlertHook(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *Handler) alertTest(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.TestAlertHook(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// alertDeliveries lists deliveries, newest first: ?hook=ID&state=S&limit=N.
func (h *Handler) alertDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			h.fail(w, &service.ParamError{Field: "limit", Msg: "expected a number from 1 to 1000"})
			return
		}
		limit = n
	}
	ds, err := h.svc.AlertDeliveries(r.Context(), service.AlertDeliveryQuery{HookID: q.Get("hook"), State: q.Get("state"), Limit: limit})
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ds)
}
