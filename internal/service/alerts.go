package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Alerts: every anomaly the audit feed carries is written to the daemon's
// log once, and a delivery to each webhook whose minimum severity it
// reaches is stored in the same store transaction that marks the anomaly
// alerted. The feed handler only writes those rows; the dispatcher
// (Dispatch, DeliverDue) posts them apart from it, so a slow webhook never
// holds up the feed or a decision.
const (
	// DefaultAlertAttempts is how many times a delivery is tried before it
	// is failed.
	DefaultAlertAttempts = 8
	// DefaultAlertBackoff is the wait after the first failed attempt; each
	// later one doubles it, up to MaxAlertBackoff.
	DefaultAlertBackoff = 30 * time.Second
	MaxAlertBackoff     = time.Hour
	// DefaultAlertTimeout bounds one webhook request.
	DefaultAlertTimeout = 10 * time.Second
	// DefaultDispatchEvery is how often the dispatcher looks for
	// deliveries due; new ones wake it at once.
	DefaultDispatchEvery = 5 * time.Second
	// dispatchBatch bounds the deliveries one DeliverDue attempts.
	dispatchBatch = 32
)

// Webhook request headers.
const (
	HeaderSignature = "X-AgentKeys-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderTimestamp = "X-AgentKeys-Timestamp" // Unix seconds of the attempt
	HeaderDelivery  = "X-AgentKeys-Delivery"  // the delivery id, the same on every attempt
)

// Limits of a hook's fields.
const (
	MinAlertSecret = 16
	maxAlertSecret = 1024
	maxAlertURL    = 2048
	maxAlertName   = 64
	maxSummary     = 512
)

// AlertSecret is a webhook's signing secret. It redacts itself when
// printed, logged or marshalled.
type AlertSecret []byte

const alertSecretRedacted = "AlertSecret(redacted)"

func (AlertSecret) String() string                { return alertSecretRedacted }
func (AlertSecret) GoString() string              { return alertSecretRedacted }
func (AlertSecret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(alertSecretRedacted)) }
func (AlertSecret) LogValue() slog.Value          { return slog.StringValue(alertSecretRedacted) }
func (AlertSecret) MarshalText() ([]byte, error)  { return []byte(alertSecretRedacted), nil }
func (AlertSecret) MarshalJSON() ([]byte, error)  { return json.Marshal(alertSecretRedacted) }

// AlertHookSpec asks for a webhook.
type AlertHookSpec struct {
	URL         string      // http(s), without user information
	Secret      AlertSecret // signs every delivery; empty: unsigned
	MinSeverity string      // lowest severity sent; default info (all)
	Name        string      // default: the URL's host
}

// AlertHook is a webhook as the owner sees it: never its secret, and its
// URL only as scheme and host.
type AlertHook struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	URL         string    `json:"url"` // scheme://host, "/…" if it has a path or query
	MinSeverity string    `json:"min_severity"`
	Signed      bool      `json:"signed"`
	CreatedAt   time.Time `json:"created_at"`
	Warning     string    `json:"warning,omitempty"`
	// Pending and Failed count its deliveries in those states; Last is
	// its newest delivery (AlertHooks only).
	Pending int            `json:"pending"`
	Failed  int            `json:"failed"`
	Last    *AlertDelivery `json:"last,omitempty"`
}

// AlertDelivery is one message to one webhook and where it stands.
type AlertDelivery struct {
	ID            string     `json:"id"`
	HookID        string     `json:"hook_id"`
	Test          bool       `json:"test"`
	AuditSeq      int64      `json:"audit_seq,omitempty"` // the anomaly's audit record
	Kind          string     `json:"kind"`
	Severity      string     `json:"severity"`
	KeyID         string     `json:"key_id,omitempty"`
	State         string     `json:"state"` // pending, delivered or failed
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"` // pending only
	LastStatus    int        `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// AlertBody is the JSON a webhook receives (docs/alerts.md).
type AlertBody struct {
	Type       string    `json:"type"` // "anomaly", or "test" for agentkeys alert test
	Test       bool      `json:"test"`
	DeliveryID string    `json:"delivery_id"`
	EventID    string    `json:"event_id"`
	Kind       string    `json:"kind"`
	Severity   string    `json:"severity"`
	KeyID      string    `json:"key_id"`
	Summary    string    `json:"summary"`
	At         time.Time `json:"at"`
	AuditSeq   int64     `json:"audit_seq"` // the anomaly's own audit record (0 for a test)
	Records    []int64   `json:"records"`   // the audit records that raised it
	Response   string    `json:"response,omitempty"`
	ChainID    uint64    `json:"chain_id"`
	Account    string    `json:"account"` // the owner's account the daemon serves
	Hook       string    `json:"hook"`    // the hook's name
	Hint       string    `json:"hint"`    // the command that shows the key's activity
}

// AlertDeliveryQuery narrows AlertDeliveries.
type AlertDeliveryQuery struct {
	HookID string
	State  string
	Limit  int // default 50
}

// DeliveryReport counts what one DeliverDue did.
type DeliveryReport struct {
	Delivered, Retrying, Failed int
	// Follower is set when another replica sharing the store posts the
	// alerts: nothing was looked at.
	Follower bool
}

// ErrNoAlertHook: no webhook has that id.
var ErrNoAlertHook = errors.New("no such alert webhook (see agentkeys alert list)")

func alertURLRecord(id string) string    { return "alert-url:" + id }
func alertSecretRecord(id string) string { return "alert-secret:" + id }

// CheckAlertURL returns a ParamError naming field unless u is an absolute
// http(s) URL with a host and no user information. It never quotes more
// of u than its scheme and host.
func CheckAlertURL(field, u string) error {
	bad := func(msg string) error { return &ParamError{Field: field, Msg: msg} }
	if len(u) > maxAlertURL {
		return bad(fmt.Sprintf("expected a URL of at most %d characters, got %d", maxAlertURL, len(u)))
	}
	p, err := url.Parse(u)
	if err != nil || !p.IsAbs() {
		return bad("expected an absolute http:// or https:// URL")
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https":
	default:
		return bad(fmt.Sprintf("expected an http:// or https:// URL, got scheme %s", bound.Quote(p.Scheme)))
	}
	if p.User != nil {
		return bad("must not carry user information (user:password@): put a token in the path if the receiver needs one, and sign with --secret-env")
	}
	if p.Hostname() == "" {
		return bad("expected an http:// or https:// URL with a host")
	}
	return nil
}

// plainHTTPWarning warns of a hook reached over plain http beyond this
// machine.
func plainHTTPWarning(u string) string {
	p, err := url.Parse(u)
	if err != nil || !strings.EqualFold(p.Scheme, "http") {
		return ""
	}
	if ip := net.ParseIP(p.Hostname()); p.Hostname() == "localhost" || ip != nil && ip.IsLoopback() {
		return ""
	}
	return "deliveries go over plain http: anyone on the path can read them; use https"
}

// AddAlertHook stores a webhook, its URL and secret sealed under the
// home's master key. Anomalies already alerted are not sent to it.
func (s *Service) AddAlertHook(ctx context.Context, spec AlertHookSpec) (AlertHook, error) {
	if err := CheckAlertURL("url", spec.URL); err != nil {
		return AlertHook{}, err
	}
	if spec.MinSeverity == "" {
		spec.MinSeverity = SeverityInfo
	}
	if SeverityRank(spec.MinSeverity) == 0 {
		return AlertHook{}, &ParamError{Field: "min_severity", Msg: fmt.Sprintf("expected info, warning or critical, got %s", bound.Quote(spec.MinSeverity))}
	}
	if n := len(spec.Secret); n > 0 && (n < MinAlertSecret || n > maxAlertSecret) {
		return AlertHook{}, &ParamError{Field: "secret", Msg: fmt.Sprintf("expected %d to %d bytes, got %d", MinAlertSecret, maxAlertSecret, n)}
	}
	p, _ := url.Parse(spec.URL)
	if spec.Name == "" {
		spec.Name = p.Hostname()
	}
	if len(spec.Name) > maxAlertName || strings.IndexFunc(spec.Name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return AlertHook{}, &ParamError{Field: "name", Msg: fmt.Sprintf("expected up to %d printable characters", maxAlertName)}
	}
	if s.cfg.Vault == nil {
		return AlertHook{}, errors.New("add alert hook: the service has no vault to seal the webhook's URL and secret")
	}
	id, err := randomID("hook_", 8)
	if err != nil {
		return AlertHook{}, err
	}
	h := store.AlertHook{ID: id, Name: spec.Name, URLShown: secrets.RedactURL(spec.URL), MinSeverity: spec.MinSeverity, CreatedAt: s.now()}
	if h.SealedURL, err = s.cfg.Vault.Seal(alertURLRecord(id), []byte(spec.URL)); err != nil {
		return AlertHook{}, fmt.Errorf("add alert hook: seal its URL: %w", err)
	}
	if len(spec.Secret) > 0 {
		if h.SealedSecret, err = s.cfg.Vault.Seal(alertSecretRecord(id), spec.Secret); err != nil {
			return AlertHook{}, fmt.Errorf("add alert hook: seal its secret: %w", err)
		}
	}
	// A webhook receives what alerts say of keys and agents: once the
	// owner has a passkey, it waits for one (*ApprovalPending).
	if err := s.pending(ctx, KindAlertAdd, "", alertAdd{Kind: KindAlertAdd, HookID: h.ID, Name: h.Name, URLShown: h.URLShown,
		MinSeverity: h.MinSeverity, SealedURL: h.SealedURL, SealedSecret: h.SealedSecret, CreatedAt: h.CreatedAt}); err != nil {
		return AlertHook{}, err
	}
	if err := s.putAlertHook(ctx, h); err != nil {
		return AlertHook{}, err
	}
	v := hookView(h)
	v.Warning = plainHTTPWarning(spec.URL)
	if h.SealedSecret == nil {
		v.Warning = strings.TrimPrefix(v.Warning+"; deliveries are not signed: give a secret with --secret-env so the receiver can check they come from this daemon", "; ")
	}
	return v, nil
}

// putAlertHook stores h and audits it.
func (s *Service) putAlertHook(ctx context.Context, h store.AlertHook) error {
	if err := s.cfg.Store.PutAlertHook(ctx, h); err != nil {
		return fmt.Errorf("add alert hook: %w", err)
	}
	s.adminAudit(ctx, "agentkeys_alertAdd", map[string]any{"hook_id": h.ID, "name": h.Name, "url": h.URLShown,
		"min_severity": h.MinSeverity, "signed": h.SealedSecret != nil})
	return nil
}

func hookView(h store.AlertHook) AlertHook {
	return AlertHook{ID: h.ID, Name: h.Name, URL: h.URLShown, MinSeverity: h.MinSeverity, Signed: h.SealedSecret != nil, CreatedAt: h.CreatedAt}
}

// AlertHooks lists the webhooks with their pending and failed deliveries
// and their newest one.
func (s *Service) AlertHooks(ctx context.Context) ([]AlertHook, error) {
	hs, err := s.cfg.Store.ListAlertHooks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AlertHook, 0, len(hs))
	for _, h := range hs {
		v := hookView(h)
		for _, c := range []struct {
			state string
			n     *int
		}{{store.DeliveryPending, &v.Pending}, {store.DeliveryFailed, &v.Failed}} {
			ds, err := s.cfg.Store.ListAlertDeliveries(ctx, store.AlertDeliveryFilter{HookID: h.ID, State: c.state})
			if err != nil {
				return nil, err
			}
			*c.n = len(ds)
		}
		last, err := s.cfg.Store.ListAlertDeliveries(ctx, store.AlertDeliveryFilter{HookID: h.ID, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(last) > 0 {
			d := deliveryView(last[0])
			v.Last = &d
		}
		out = append(out, v)
	}
	return out, nil
}

// RemoveAlertHook deletes a webhook and its deliveries.
func (s *Service) RemoveAlertHook(ctx context.Context, id string) (AlertHook, error) {
	h, err := s.alertHook(ctx, id)
	if err != nil {
		return AlertHook{}, err
	}
	if err := s.cfg.Store.DeleteAlertHook(ctx, id); err != nil {
		return AlertHook{}, fmt.Errorf("remove alert hook: %w", err)
	}
	s.adminAudit(ctx, "agentkeys_alertRemove", map[string]any{"hook_id": h.ID, "name": h.Name, "url": h.URLShown})
	return hookView(h), nil
}

func (s *Service) alertHook(ctx context.Context, id string) (store.AlertHook, error) {
	h, err := s.cfg.Store.GetAlertHook(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.AlertHook{}, ErrNoAlertHook
	}
	return h, err
}

// AlertDeliveries lists deliveries, newest first.
func (s *Service) AlertDeliveries(ctx context.Context, q AlertDeliveryQuery) ([]AlertDelivery, error) {
	switch q.State {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		return nil, &ParamError{Field: "state", Msg: fmt.Sprintf("expected pending, delivered or failed, got %s", bound.Quote(q.State))}
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.HookID != "" {
		if _, err := s.alertHook(ctx, q.HookID); err != nil {
			return nil, err
		}
	}
	ds, err := s.cfg.Store.ListAlertDeliveries(ctx, store.AlertDeliveryFilter{HookID: q.HookID, State: q.State, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]AlertDelivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, deliveryView(d))
	}
	return out, nil
}

func deliveryView(d store.AlertDelivery) AlertDelivery {
	var b AlertBody
	_ = json.Unmarshal(d.Body, &b) // a body this package wrote; a field it lacks stays empty
	v := AlertDelivery{ID: d.ID, HookID: d.HookID, Test: d.AnomalySeq == 0, AuditSeq: d.AnomalySeq, Kind: b.Kind, Severity: b.Severity,
		KeyID: b.KeyID, State: d.State, Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if d.State == store.DeliveryPending {
		next := d.NextAttemptAt
		v.NextAttemptAt = &next
	}
	return v
}

// alertHint is the command that shows the records behind an anomaly.
func alertHint(ev AnomalyEvent) string {
	if ev.KeyID == "" {
		return "agentkeys audit tail --since 1h"
	}
	return "agentkeys audit tail --key " + ev.KeyID
}

// alertAnomaly is the feed handler of alerts. For an anomaly record not
// alerted before, it stores a delivery to each webhook whose minimum
// severity the anomaly reaches, marks the anomaly alerted in the same
// transaction, and logs it; a record replayed at a later start finds the
// mark and does nothing.
func (s *Service) alertAnomaly(ctx context.Context, r audit.Record) error {
	ev, ok, err := AnomalyOf(r)
	if !ok {
		return nil
	}
	if err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	rank := SeverityRank(ev.Severity)
	if rank == 0 {
		rank = SeverityRank(SeverityCritical) // a severity no one knows is sent to everyone
	}
	hooks, err := s.cfg.Store.ListAlertHooks(ctx)
	if err != nil {
		return fmt.Errorf("alert anomaly %d: %w", r.Seq, err)
	}
	var ds []store.AlertDelivery
	for _, h := range hooks {
		if rank < SeverityRank(h.MinSeverity) {
			continue
		}
		id, err := randomID("dlv_", 12)
		if err != nil {
			return err
		}
		body := AlertBody{Type: "anomaly", DeliveryID: id, EventID: ev.ID, Kind: ev.Kind, Severity: ev.Severity, KeyID: ev.KeyID,
			Summary: bound.Text(ev.Summary, maxSummary), At: ev.At.UTC(), AuditSeq: r.Seq, Records: ev.Records, Response: ev.Response,
			Hook: h.Name, Hint: alertHint(ev)}
		if ev.At.IsZero() {
			body.At = r.Time
		}
		if body.Records == nil {
			body.Records = []int64{}
		}
		d, err := s.newDelivery(h, r.Seq, body)
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	fresh, err := s.cfg.Store.RecordAlert(ctx, r.Seq, ds)
	if err != nil {
		return fmt.Errorf("alert anomaly %d: %w", r.Seq, err)
	}
	if !fresh {
		return nil
	}
	s.cfg.Log.Warn("anomaly", "kind", ev.Kind, "severity", ev.Severity, "key_id", ev.KeyID, "summary", bound.Text(ev.Summary, maxSummary),
		"audit_seq", r.Seq, "records", ev.Records, "response", ev.Response, "webhooks", len(ds))
	if len(ds) > 0 {
		s.wakeDispatch()
	}
	return nil
}

// newDelivery is a pending delivery of body to h, due now.
func (s *Service) newDelivery(h store.AlertHook, seq int64, body AlertBody) (store.AlertDelivery, error) {
	body.ChainID, body.Account = s.cfg.ChainID, s.Address().Hex()
	b, err := json.Marshal(body)
	if err != nil {
		return store.AlertDelivery{}, err
	}
	now := s.now()
	return store.AlertDelivery{ID: body.DeliveryID, HookID: h.ID, AnomalySeq: seq, Body: b, State: store.DeliveryPending,
		NextAttemptAt: now, CreatedAt: now}, nil
}

// TestAlertHook stores a test delivery to the webhook id and attempts it
// at once; if that attempt fails it is retried like any delivery.
func (s *Service) TestAlertHook(ctx context.Context, id string) (AlertDelivery, error) {
	h, err := s.alertHook(ctx, id)
	if err != nil {
		return AlertDelivery{}, err
	}
	did, err := randomID("dlv_", 12)
	if err != nil {
		return AlertDelivery{}, err
	}
	d, err := s.newDelivery(h, 0, AlertBody{Type: "test", Test: true, DeliveryID: did, EventID: "test_" + did, Kind: "test",
		Severity: SeverityInfo, Summary: "test delivery from agentkeys alert test: no key did anything", At: s.now(),
		Records: []int64{}, Hook: h.Name, Hint: "agentkeys alert deliveries --hook " + h.ID})
	if err != nil {
		return AlertDelivery{}, err
	}
	if err := s.cfg.Store.AddAlertDelivery(ctx, d); err != nil {
		return AlertDelivery{}, fmt.Errorf("test alert hook: %w", err)
	}
	s.adminAudit(ctx, "agentkeys_alertTest", map[string]any{"hook_id": h.ID, "delivery_id": d.ID})
	s.alertMu.Lock()
	defer s.alertMu.Unlock()
	got, err := s.attempt(ctx, h, d)
	if err != nil {
		return AlertDelivery{}, err
	}
	return deliveryView(got), nil
}

// Dispatch delivers alerts until ctx ends: whenever an anomaly stores
// deliveries, and every `every` (DefaultDispatchEvery if <= 0) for
// retries that came due.
func (s *Service) Dispatch(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultDispatchEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("deliver alerts", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.alertWake:
		case <-t.C:
		}
	}
}

func (s *Service) wakeDispatch() {
	select {
	case s.alertWake <- struct{}{}:
	default:
	}
}

// DeliverDue attempts the deliveries due by the service's clock, earliest
// first, one at a time. A failed attempt is retried after a backoff that
// doubles each time, up to Config.AlertAttempts attempts in all, then the
// delivery is failed. The error returned is the store's; webhooks' errors
// are recorded on their deliveries. On a replica that does not lead (a
// store shared with others) it posts nothing and says so
// (DeliveryReport.Follower): the one that leads posts each alert once.
func (s *Service) DeliverDue(ctx context.Context) (DeliveryReport, error) {
	s.alertMu.Lock()
	defer s.alertMu.Unlock()
	var rep DeliveryReport
	// One replica posts, so a webhook gets each alert once.
	lead, err := s.leads(ctx)
	if err != nil {
		return rep, fmt.Errorf("deliver alerts: %w", err)
	}
	if rep.Follower = !lead; rep.Follower {
		return rep, nil
	}
	ds, err := s.cfg.Store.DueAlertDeliveries(ctx, s.now(), dispatchBatch)
	if err != nil {
		return rep, fmt.Errorf("deliver alerts: %w", err)
	}
	hooks := map[string]store.AlertHook{}
	for _, d := range ds {
		h, ok := hooks[d.HookID]
		if !ok {
			if h, err = s.cfg.Store.GetAlertHook(ctx, d.HookID); errors.Is(err, store.ErrNotFound) {
				continue // removed meanwhile, with its deliveries
			} else if err != nil {
				return rep, fmt.Errorf("deliver alerts: %w", err)
			}
			hooks[d.HookID] = h
		}
		got, err := s.attempt(ctx, h, d)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("deliver alerts: %w", err)
		}
		switch got.State {
		case store.DeliveryDelivered:
			rep.Delivered++
		case store.DeliveryFailed:
			rep.Failed++
		default:
			rep.Retrying++
		}
	}
	return rep, nil
}

// attempt posts d to h once and records the outcome. The caller holds
// alertMu.
func (s *Service) attempt(ctx context.Context, h store.AlertHook, d store.AlertDelivery) (store.AlertDelivery, error) {
	status, failure := s.post(ctx, h, d)
	if failure != "" && ctx.Err() != nil {
		// Stopped mid-request (the daemon is closing): not the webhook's
		// failure, so the attempt is not counted; it is made again.
		return store.AlertDelivery{}, ctx.Err()
	}
	at := s.now()
	a := store.AlertAttempt{State: store.DeliveryDelivered, At: at, Status: status}
	if failure != "" {
		n := d.Attempts + 1
		a.Error = failure
		if n >= s.alertAttempts() {
			a.State = store.DeliveryFailed
		} else {
			a.State, a.NextAttemptAt = store.DeliveryPending, at.Add(s.alertBackoff(n))
		}
		s.cfg.Log.Warn("alert delivery failed", "delivery", d.ID, "hook", h.ID, "url", h.URLShown, "attempt", n,
			"status", status, "err", failure, "state", a.State)
	}
	got, err := s.cfg.Store.UpdateAlertDelivery(context.WithoutCancel(ctx), d.ID, a)
	if err != nil {
		return store.AlertDelivery{}, err
	}
	if s.cfg.ObserveDelivery != nil {
		s.cfg.ObserveDelivery(got.State)
	}
	return got, nil
}

// post sends d's body to h and returns the HTTP status and, unless it is
// 2xx, why the attempt failed, in words that never hold the hook's URL
// beyond its host, nor its secret.
func (s *Service) post(ctx context.Context, h store.AlertHook, d store.AlertDelivery) (int, string) {
	rawURL, err := s.cfg.Vault.Open(alertURLRecord(h.ID), h.SealedURL)
	if err != nil {
		return 0, "cannot open the hook's sealed URL (was the home's master key changed?)"
	}
	var secret AlertSecret
	if h.SealedSecret != nil {
		b, err := s.cfg.Vault.Open(alertSecretRecord(h.ID), h.SealedSecret)
		if err != nil {
			return 0, "cannot open the hook's sealed secret (was the home's master key changed?)"
		}
		secret = b
		defer clear(secret)
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, string(rawURL), bytes.NewReader(d.Body))
	if err != nil {
		return 0, "the hook's URL does not make a request"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "agentkeys-alerts/1")
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderTimestamp, ts)
	if secret != nil {
		req.Header.Set(HeaderSignature, SignAlert(secret, ts, d.Body))
	}
	resp, err := s.alertClient().Do(req)
	if err != nil {
		// net/http quotes the URL, path and query included.
		return 0, bound.Text(secrets.RedactURLs(err.Error()), 300)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, ""
}

// SignAlert is the X-AgentKeys-Signature of body sent at timestamp ts
// (Unix seconds, as in X-AgentKeys-Timestamp): "sha256=" and the hex
// HMAC-SHA256 of ts + "." + body under the hook's secret.
func SignAlert(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (s *Service) alertAttempts() int {
	if s.cfg.AlertAttempts > 0 {
		return s.cfg.AlertAttempts
	}
	return DefaultAlertAttempts
}

// alertBackoff is the wait after the n-th failed attempt: the base
// backoff doubled n-1 times, at most MaxAlertBackoff.
func (s *Service) alertBackoff(n int) time.Duration {
	d := s.cfg.AlertBackoff
	if d <= 0 {
		d = DefaultAlertBackoff
	}
	for i := 1; i < n && d < MaxAlertBackoff; i++ {
		d *= 2
	}
	return min(d, MaxAlertBackoff)
}

func (s *Service) alertClient() *http.Client {
	if s.cfg.AlertHTTP != nil {
		return s.cfg.AlertHTTP
	}
	return defaultAlertClient
}

// defaultAlertClient bounds every webhook request and follows no
// redirect: a 3xx is a failed attempt, so a delivery never lands
// somewhere the owner did not name.
var defaultAlertClient = &http.Client{
	Timeout:       DefaultAlertTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// randomID is prefix and n random bytes in hex.
func randomID(prefix string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}
