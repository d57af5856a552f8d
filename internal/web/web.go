// Package web is the owner's dashboard at /ui on the admin listener:
// server-rendered pages (html/template, every asset embedded) behind a
// sign-in with the admin credential. It shows each key's usage against
// its caps, its policy in the words its agent reads, its activity, spend,
// refusals and anomalies, a live feed of the audit log (server-sent
// events), and lets the owner grant and revoke keys. It is a transport:
// everything goes through package service, so every action is the same
// audited service call the CLI makes. Package server mounts it.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/clientip"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names. The sign-in cookie carries the sign-in form's CSRF token
// before there is a session (double submit).
const (
	sessionCookie = "agentkeys_session"
	signInCookie  = "agentkeys_signin"
)

// Config assembles the dashboard.
type Config struct {
	Service *service.Service
	// VerifyAdmin checks the admin credential typed at sign-in (the admin
	// API's check).
	VerifyAdmin func(token string) error
	// Now is the daemon's clock: sessions and the sign-in limiter expire
	// by it. Default time.Now.
	Now func() time.Time
	Log *slog.Logger
	// SessionTTL, SessionIdle, SignInLimit and SignInWindow default to
	// the Default* constants.
	SessionTTL, SessionIdle time.Duration
	SignInLimit             int
	SignInWindow            time.Duration
}

// maxForm bounds a posted form.
const maxForm = 1 << 20

// Handler serves /ui and everything under it.
type Handler struct {
	svc      *service.Service
	verify   func(string) error
	now      func() time.Time
	log      *slog.Logger
	sessions *sessions
	limiter  *limiter
	index    *index
	pages    map[string]*template.Template
	mux      *http.ServeMux

	// done ends the live feeds' streams when the server shuts down.
	done      chan struct{}
	closeOnce sync.Once
}

// New returns the dashboard. It follows the audit log through the
// service's feed, from its first record, so it must be created before the
// feed first runs (the daemon starts the server first).
func New(cfg Config) (*Handler, error) {
	if cfg.Service == nil || cfg.VerifyAdmin == nil {
		return nil, errors.New("web: a service and an admin credential check are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.SessionTTL = or(cfg.SessionTTL, DefaultSessionTTL)
	cfg.SessionIdle = or(cfg.SessionIdle, DefaultSessionIdle)
	cfg.SignInWindow = or(cfg.SignInWindow, DefaultSignInWindow)
	cfg.SignInLimit = or(cfg.SignInLimit, DefaultSignInLimit)
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: cfg.Service, verify: cfg.VerifyAdmin, now: cfg.Now, log: cfg.Log,
		sessions: newSessions(cfg.Now, cfg.SessionTTL, cfg.SessionIdle), limiter: newLimiter(cfg.Now, cfg.SignInLimit, cfg.SignInWindow),
		index: newIndex(), pages: pages, mux: http.NewServeMux(), done: make(chan struct{})}
	cfg.Service.Feed().Handle(h.index.add)

	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	h.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/", http.StatusSeeOther) })
	h.mux.HandleFunc("GET /ui/{$}", h.home)
	h.mux.HandleFunc("GET /ui/signin", h.signInForm)
	h.mux.HandleFunc("POST /ui/signin", h.signIn)
	h.mux.Handle("POST /ui/signout", h.signedIn(h.signOut))
	h.mux.Handle("GET /ui/keys", h.signedIn(h.keys))
	h.mux.Handle("GET /ui/keys/{id}", h.signedIn(h.key))
	h.mux.Handle("GET /ui/review", h.signedIn(h.review))
	h.mux.Handle("POST /ui/keys/{id}/revoke", h.signedIn(h.revoke))
	h.mux.Handle("POST /ui/keys/{id}/resume", h.signedIn(h.resume))
	h.mux.Handle("POST /ui/keys/{id}/activate", h.signedIn(h.activate))
	h.mux.Handle("POST /ui/revoke-all", h.signedIn(h.revokeAll))
	h.mux.Handle("GET /ui/grant", h.signedIn(h.grantForm))
	h.mux.Handle("POST /ui/grant", h.signedIn(h.grant))
	h.mux.Handle("GET /ui/feed", h.signedIn(h.feed))
	h.mux.Handle("GET /ui/events", h.signedIn(h.events))
	h.mux.HandleFunc("GET /ui/enroll", h.enrollPage)
	h.mux.HandleFunc("POST /ui/enroll/begin", h.enrollBegin)
	h.mux.HandleFunc("POST /ui/enroll/finish", h.enrollFinish)
	h.mux.Handle("GET /ui/passkeys", h.signedIn(h.passkeys))
	h.mux.Handle("POST /ui/passkeys/add", h.signedIn(h.passkeyAdd))
	h.mux.Handle("POST /ui/passkeys/{id}/remove", h.signedIn(h.passkeyRemove))
	h.mux.Handle("GET /ui/approvals", h.signedIn(h.approvals))
	h.mux.Handle("GET /ui/approvals/{id}", h.signedIn(h.approval))
	h.mux.Handle("POST /ui/approvals/{id}/begin", h.signedIn(h.approvalBegin))
	h.mux.Handle("POST /ui/approvals/{id}/finish", h.signedIn(h.approvalFinish))
	h.mux.Handle("POST /ui/approvals/{id}/reject", h.signedIn(h.approvalReject))
	return h, nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Close ends the live feeds' streams, so the server's shutdown does not
// wait for them.
func (h *Handler) Close() { h.closeOnce.Do(func() { close(h.done) }) }

// ServeHTTP sets the headers every dashboard response carries, then
// routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// Only this origin's own files: no inline script or style, no
	// framing, no form posts elsewhere.
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer browsers send
	// "Origin: null" on form posts, which sameOrigin refuses.
	hd.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/ui/static/") {
		hd.Set("Cache-Control", "no-store") // pages show balances, and once a credential
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm) // a pasted policy is the largest form
	}
	h.mux.ServeHTTP(w, r)
}

// signedIn runs next for a request of a live session; a POST must also
// carry the session's CSRF token and come from this origin.
func (h *Handler) signedIn(next func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ss *session
		if c, err := r.Cookie(sessionCookie); err == nil {
			ss = h.sessions.get(c.Value)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if ss == nil || !sameOrigin(r) || !sameSecret(r.PostFormValue("csrf"), ss.csrf) {
				h.forbidden(w)
				return
			}
		}
		if ss == nil {
			if r.URL.Path == "/ui/events" {
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
			return
		}
		next(w, r, ss)
	})
}

// sameOrigin refuses a request whose Origin header names another site
// (browsers send it with every POST); SameSite=Strict and the CSRF token
// are the main defence, this is a second.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (h *Handler) forbidden(w http.ResponseWriter) {
	h.render(w, http.StatusForbidden, "error", nil, page{Title: "Refused",
		Error: "This form was refused: it did not carry this session's security token, or the session ended. Open the page again and retry."})
}

// page is what every template gets.
type page struct {
	Title  string
	Nav    string // which menu entry is current
	CSRF   string // empty when signed out
	Now    time.Time
	Notice string
	Error  string
	Data   any
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, ss *session, p page) {
	t := h.pages[name]
	if ss != nil {
		p.CSRF = ss.csrf
	}
	p.Now = h.now().UTC()
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		h.log.Error("dashboard: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail shows a service error: a missing key, a bad field, or (logged, not
// shown) anything else.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, ss *session, err error) {
	var param *service.ParamError
	switch {
	case errors.Is(err, service.ErrNoKey):
		h.render(w, http.StatusNotFound, "error", ss, page{Title: "No such key", Error: "There is no key with this id."})
	case errors.As(err, &param), errors.Is(err, service.ErrBadAgent):
		h.render(w, http.StatusBadRequest, "error", ss, page{Title: "Refused", Error: err.Error()})
	default:
		h.log.Error("dashboard", "path", r.URL.Path, "err", err)
		h.render(w, http.StatusInternalServerError, "error", ss, page{Title: "Error",
			Error: "Something went wrong; the daemon's log says what."})
	}
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && h.sessions.get(c.Value) != nil {
		http.Redirect(w, r, "/ui/keys", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
}

func (h *Handler) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/ui", MaxAge: maxAge, HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode}
}

func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request) {
	h.showSignIn(w, r, http.StatusOK, "")
}

func (h *Handler) showSignIn(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok, err := newSecret()
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, h.cookie(r, signInCookie, tok, 3600))
	h.render(w, status, "signin", nil, page{Title: "Sign in", CSRF: tok, Error: msg})
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(signInCookie)
	if err != nil || !sameOrigin(r) || !sameSecret(r.PostFormValue("csrf"), c.Value) {
		h.forbidden(w)
		return
	}
	who := client(clientip.FromRequest(r))
	if !h.limiter.allow(who) {
		h.log.Warn("dashboard: sign-in refused, too many failures", "client", who.String())
		h.showSignIn(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from your address. Wait a while and try again.")
		return
	}
	if err := h.verify(strings.TrimSpace(r.PostFormValue("credential"))); err != nil {
		h.limiter.fail(who)
		h.svc.AdminFailed(clientip.FromRequest(r)) // audited in aggregate, and may raise credential_failures
		h.log.Warn("dashboard: sign-in failed", "client", who.String())
		h.showSignIn(w, r, http.StatusUnauthorized, "That is not the admin credential.")
		return
	}
	h.limiter.succeed(who)
	id, err := h.sessions.create()
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, h.cookie(r, signInCookie, "", -1))
	http.SetCookie(w, h.cookie(r, sessionCookie, id, 0))
	h.log.Info("dashboard: signed in", "client", who.String())
	http.Redirect(w, r, "/ui/keys", http.StatusSeeOther)
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, _ *session) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		h.sessions.drop(c.Value)
	}
	http.SetCookie(w, h.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
}

// notices are the messages a redirect after an action may ask for; only
// these, so a link cannot make the dashboard say anything else.
var notices = map[string]string{
	"revoked":         "The key is revoked: its next request is refused.",
	"revoked-all":     "Every key is revoked.",
	"resumed":         "The key is resumed: it acts again. New anomalies suspend it again if its policy says so.",
	"activated":       "The owner's signature is registered on chain: the key acts from its next request, within what was signed.",
	"approved":        "Approved with your passkey: the change took effect.",
	"rejected":        "Rejected: the change never takes effect.",
	"passkey-removed": "The passkey is removed.",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("done")] }

// keyRow is a key on the keys page.
type keyRow struct {
	service.GrantInfo
	Bars   []bar
	Broken bool // the stored policy no longer compiles
}

// keysPage is how many keys the keys page shows at a time.
const keysPage = 50

// keys shows a page of the keys, newest first: ?status=S&cursor=C, the
// cursor from the page before's link to older keys.
func (h *Handler) keys(w http.ResponseWriter, r *http.Request, ss *session) {
	status, cursor := r.URL.Query().Get("status"), r.URL.Query().Get("cursor")
	gs, err := h.svc.FindGrants(r.Context(), service.GrantQuery{Status: status, Newest: true, Limit: keysPage, Cursor: cursor})
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	rows := make([]keyRow, 0, len(gs.Keys))
	for _, g := range gs.Keys {
		row := keyRow{GrantInfo: g, Broken: g.Policy == nil}
		if !row.Broken {
			budget, err := h.svc.Budget(r.Context(), g.ID)
			if err != nil {
				h.fail(w, r, ss, err)
				return
			}
			row.Bars = bars(g.Limits, budget)
		}
		rows = append(rows, row)
	}
	var older string
	if gs.NextCursor != "" {
		q := url.Values{"cursor": {gs.NextCursor}}
		if status != "" {
			q.Set("status", status)
		}
		older = "/ui/keys?" + q.Encode()
	}
	h.render(w, http.StatusOK, "keys", ss, page{Title: "Keys", Nav: "keys", Notice: notice(r),
		Data: struct {
			Keys     []keyRow
			Status   string
			Statuses []string
			Older    string // the next page's link, "" on the last
			Paged    bool   // not the first page
		}{rows, status, service.KeyStatuses, older, cursor != ""}})
}

// review is the weekly review (?since=30d for the monthly checklist) on
// one page: what each key did, what was refused, what looked wrong,
// which keys should go (with their revoke buttons) and whether the audit
// log verifies; the same as agentkeys review.
func (h *Handler) review(w http.ResponseWriter, r *http.Request, ss *session) {
	since := r.URL.Query().Get("since")
	if since == "" {
		since = "7d"
	}
	rv, err := h.svc.Review(r.Context(), service.ReviewQuery{Since: since})
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	agents := map[string]string{}
	for _, k := range rv.Keys {
		agents[k.ID] = k.Agent
	}
	h.render(w, http.StatusOK, "review", ss, page{Title: "Review", Nav: "review", Notice: notice(r),
		Data: struct {
			service.Review
			Since  string
			Agents map[string]string
		}{rv, since, agents}})
}

// keyPage is what the key page shows.
type keyPage struct {
	service.GrantInfo
	Usage    service.KeyUsage
	Perms    *service.Permissions // nil when the stored policy no longer compiles
	Bars     []bar
	Charts   []chart
	Activity keyView
	// Sign is what the owner's wallet signs to activate a 7702 key in the
	// owner-offline mode; nil unless the key waits for that signature.
	Sign *service.SignatureRequest
}

func (h *Handler) key(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx := r.Context()
	g, err := h.svc.GetGrant(ctx, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	kp := keyPage{GrantInfo: g}
	if g.Status == service.StatusPendingSignature {
		if kp.Sign, err = h.svc.SignatureRequest(ctx, g.ID); err != nil {
			h.fail(w, r, ss, err)
			return
		}
	}
	if kp.Usage, err = h.svc.Usage(ctx, g.ID); err != nil {
		h.fail(w, r, ss, err)
		return
	}
	if g.Policy != nil {
		if kp.Perms, err = h.svc.Describe(ctx, g.ID); err != nil {
			h.fail(w, r, ss, err)
			return
		}
		kp.Bars = bars(g.Limits, kp.Perms.Budget)
	}
	h.catchUp(r)
	kp.Activity = h.index.key(g.ID)
	start := g.CreatedAt
	for _, s := range kp.Activity.Spend {
		kp.Charts = append(kp.Charts, spendChart(s, start, h.now()))
	}
	h.render(w, http.StatusOK, "key", ss, page{Title: "Key " + g.ID, Nav: "keys", Notice: notice(r), Data: kp})
}

// catchUp makes the feed hand every record committed so far to its
// handlers (this dashboard's index among them), so the page shows all of
// them. It runs detached from the request: a browser that goes away must
// not cancel another handler (anomaly detection) in the middle of a
// record, which the feed would then not offer it again.
func (h *Handler) catchUp(r *http.Request) {
	if err := h.svc.Feed().Sync(context.WithoutCancel(r.Context())); err != nil {
		h.log.Error("dashboard: follow the audit log", "err", err)
	}
}

// confirmed reports whether a destructive form was confirmed; if not, it
// shows the confirmation page (the one-click button confirms in the
// browser and says so; without JavaScript this page asks instead).
func (h *Handler) confirmed(w http.ResponseWriter, r *http.Request, ss *session, action, question string) bool {
	if r.PostFormValue("confirm") == "yes" {
		return true
	}
	h.render(w, http.StatusOK, "confirm", ss, page{Title: "Confirm", Nav: "keys",
		Data: struct{ Action, Question string }{action, question}})
	return false
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request, ss *session) {
	id := r.PathValue("id")
	g, err := h.svc.GetGrant(r.Context(), id)
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	if !h.confirmed(w, r, ss, "/ui/keys/"+g.ID+"/revoke", revokeQuestion(g.ID, g.Agent)) {
		return
	}
	if _, err := h.svc.Revoke(r.Context(), g.ID); err != nil {
		if errors.Is(err, service.ErrNoKey) {
			h.fail(w, r, ss, err)
			return
		}
		// In 7702 mode the key is revoked here even when the on-chain step
		// failed; say so.
		h.log.Error("dashboard: revoke", "key", g.ID, "err", err)
		h.render(w, http.StatusBadGateway, "error", ss, page{Title: "Revoked here only",
			Error: "The key is revoked in the daemon, but revoking it on chain failed: " + service.PublicError(err)})
		return
	}
	h.log.Info("dashboard: revoked", "key", g.ID)
	http.Redirect(w, r, "/ui/keys/"+url.PathEscape(g.ID)+"?done=revoked", http.StatusSeeOther)
}

// resume lets a suspended key act again, after a confirmation.
func (h *Handler) resume(w http.ResponseWriter, r *http.Request, ss *session) {
	g, err := h.svc.GetGrant(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	if !h.confirmed(w, r, ss, "/ui/keys/"+g.ID+"/resume", resumeQuestion(g.ID, g.Agent)) {
		return
	}
	if _, err := h.svc.Resume(r.Context(), g.ID); err != nil {
		var pending *service.ApprovalPending
		if errors.As(err, &pending) {
			http.Redirect(w, r, "/ui/approvals/"+url.PathEscape(pending.Change.ID), http.StatusSeeOther)
			return
		}
		h.fail(w, r, ss, err)
		return
	}
	h.log.Info("dashboard: resumed", "key", g.ID)
	http.Redirect(w, r, "/ui/keys/"+url.PathEscape(g.ID)+"?done=resumed", http.StatusSeeOther)
}

// The confirmations of the key buttons, asked by the browser before it
// posts and by the confirmation page without JavaScript.
func revokeQuestion(id, agent string) string {
	return fmt.Sprintf("Revoke key %s of agent %s? Its next request will be refused.", id, agent)
}

func resumeQuestion(id, agent string) string {
	return fmt.Sprintf("Resume key %s of agent %s? It acts again within its policy.", id, agent)
}

func (h *Handler) revokeAll(w http.ResponseWriter, r *http.Request, ss *session) {
	if !h.confirmed(w, r, ss, "/ui/revoke-all", "Revoke every key? Every agent's next request will be refused.") {
		return
	}
	n, err := h.svc.RevokeAll(r.Context())
	if err != nil {
		h.log.Error("dashboard: revoke all", "revoked", n, "err", err)
		h.render(w, http.StatusBadGateway, "error", ss, page{Title: "Revoke all",
			Error: fmt.Sprintf("%d keys are revoked in the daemon, but: %s", n, service.PublicError(err))})
		return
	}
	h.log.Info("dashboard: revoked all", "revoked", n)
	http.Redirect(w, r, "/ui/keys?done=revoked-all", http.StatusSeeOther)
}

// grantFormData is the grant form, filled with what was sent when it is
// shown again with an error.
type grantFormData struct {
	Profiles                          []string
	Agent, Profile, Mode, TTL, Policy string
	Routers, DailyLimit, Permit2      string
}

func (h *Handler) grantForm(w http.ResponseWriter, r *http.Request, ss *session) {
	h.render(w, http.StatusOK, "grant", ss, page{Title: "Grant a key", Nav: "grant",
		Data: grantFormData{Profiles: policy.Profiles, Profile: policy.ProfileSwapOnly, Mode: service.ModeWallet, TTL: "24h"}})
}

// grantResult is the page that shows a new key's credential, once: it is
// the response to the form's POST and is never stored.
type grantResult struct {
	Key     service.GrantInfo
	Token   string
	Pending *service.PendingChange // set when the key waits for a passkey's approval
}

func (h *Handler) grant(w http.ResponseWriter, r *http.Request, ss *session) {
	f := grantFormData{Profiles: policy.Profiles, Agent: strings.TrimSpace(r.PostFormValue("agent")), Profile: r.PostFormValue("profile"),
		Mode: r.PostFormValue("mode"), TTL: strings.TrimSpace(r.PostFormValue("ttl")), Policy: r.PostFormValue("policy"),
		Routers: r.PostFormValue("routers"), DailyLimit: r.PostFormValue("daily_limit"), Permit2: strings.TrimSpace(r.PostFormValue("permit2"))}
	spec := service.GrantSpec{Agent: f.Agent, Mode: f.Mode, Profile: f.Profile, Policy: f.Policy, Routers: lines(f.Routers),
		DailyLimit: lines(f.DailyLimit), Permit2: f.Permit2, TTL: f.TTL}
	if strings.TrimSpace(spec.Policy) != "" {
		spec.Profile = ""
	}
	res, err := h.svc.GrantFrom(r.Context(), spec)
	var param *service.ParamError
	if errors.As(err, &param) || errors.Is(err, service.ErrBadAgent) {
		h.render(w, http.StatusBadRequest, "grant", ss, page{Title: "Grant a key", Nav: "grant", Error: bound.Text(err.Error(), 400), Data: f})
		return
	}
	if err != nil {
		h.fail(w, r, ss, err)
		return
	}
	h.log.Info("dashboard: granted", "key", res.Grant.ID, "agent", res.Grant.Agent)
	h.render(w, http.StatusCreated, "granted", ss, page{Title: "Key granted", Nav: "grant",
		Data: grantResult{Key: res.Grant, Token: res.Token.Reveal(), Pending: res.Pending}})
}

// lines splits a textarea into its non-empty lines (commas separate
// too).
func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (h *Handler) feed(w http.ResponseWriter, r *http.Request, ss *session) {
	h.catchUp(r)
	recent := h.index.recent(0)
	last := int64(0)
	if len(recent) > 0 {
		last = recent[len(recent)-1].Seq
	}
	h.render(w, http.StatusOK, "feed", ss, page{Title: "Live feed", Nav: "feed",
		Data: struct {
			Entries []entry
			Last    string
		}{newestFirst(recent), strconv.FormatInt(last, 10)}})
}

// parsePages parses each page with the layout it fills.
func parsePages() (map[string]*template.Template, error) {
	names := []string{"signin", "keys", "key", "review", "confirm", "grant", "granted", "feed", "error", "enroll", "passkeys", "approvals", "approval"}
	out := map[string]*template.Template{}
	for _, n := range names {
		t, err := template.New(n).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		out[n] = t
	}
	return out, nil
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"short": func(s string) string {
		if len(s) <= 14 {
			return s
		}
		return s[:8] + "…" + s[len(s)-4:]
	},
	"join": strings.Join,
	// revocable is whether a key's status leaves something to revoke: an
	// active key, or one suspended until the owner resumes it.
	"revocable": func(status string) bool {
		return status != service.StatusRevoked && status != service.StatusExpired
	},
	// revokeForm and resumeForm are the arguments of the key-button
	// template for a key's two actions.
	"revokeForm": func(id, agent, csrf string) map[string]string {
		return map[string]string{"ID": id, "CSRF": csrf, "Action": "revoke", "Label": "Revoke", "Class": "danger", "Question": revokeQuestion(id, agent)}
	},
	"resumeForm": func(id, agent, csrf string) map[string]string {
		return map[string]string{"ID": id, "CSRF": csrf, "Action": "resume", "Label": "Resume", "Class": "", "Question": resumeQuestion(id, agent)}
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}
