package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/limit"
)

// Audit methods of the abuse limits. Each is one record per source (or
// key) and window, however many requests it stands for, so a flood of
// bad credentials or of one key's requests costs the log a record a
// minute, not an fsync a request.
const (
	// MethodCredentialFailures: a source's failed credentials in one
	// window; its Call is a limit.Aggregate, its CallerIP the source.
	MethodCredentialFailures = "agentkeys_credentialFailures"
	// MethodRateLimited: requests refused by the request limits in one
	// window, per key (the key in the Call) or overall; Call is a
	// limit.Refused.
	MethodRateLimited = "agentkeys_rateLimited"
)

// AnomalyCredentialFailures is raised when one source fails the
// credential check limit.FailureConfig.Alert times in one window. It
// concerns a source, not a key: its AnomalyEvent has no key id and it
// suspends nothing.
const AnomalyCredentialFailures = "credential_failures"

// Limits configures the abuse limits. Rates is nil for no request
// limits (a library use, or tests that send hundreds of requests at
// one instant of a fixed clock); the daemon always sets it.
type Limits struct {
	Failures limit.FailureConfig
	Rates    *limit.RateConfig
}

// Surfaces whose failed credentials are counted apart.
const (
	SurfaceRPC   = "rpc"
	SurfaceMCP   = "mcp"
	SurfaceAdmin = "admin"
)

// LimitError is a request refused by an abuse limit before anything was
// decided or audited (the refusals are audited in aggregate). Transports
// map it to JSON-RPC -32005 or HTTP 429 with Retry-After.
type LimitError struct {
	Reason     string
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: retry in %s", e.Reason, retryText(e.RetryAfter))
}

// RetrySeconds is RetryAfter in whole seconds, at least 1.
func (e *LimitError) RetrySeconds() int {
	return max(1, int((e.RetryAfter+time.Second-1)/time.Second))
}

func retryText(d time.Duration) string {
	if d < time.Second {
		return "1s"
	}
	return d.Round(time.Second).String()
}

// surfaceOf is where an agent's request came in.
func surfaceOf(info RequestInfo) string {
	if strings.HasPrefix(info.Method, "mcp:") {
		return SurfaceMCP
	}
	return SurfaceRPC
}

// throttled refuses a source that must wait after failed credentials.
func (s *Service) throttled(surface string, ip netip.Addr) error {
	if wait := s.failures.Wait(surface, ip); wait > 0 {
		return &LimitError{Reason: "too many failed credentials from this address", RetryAfter: wait}
	}
	return nil
}

// overall takes a request from the global limit.
func (s *Service) overall() error {
	if s.rates == nil {
		return nil
	}
	if ok, wait := s.rates.Global(); !ok {
		return &LimitError{Reason: "the daemon is at its request limit", RetryAfter: wait}
	}
	return nil
}

// keyRate takes a request of key id from its limit: its policy's rate,
// or the default.
func (s *Service) keyRate(id string, rate int, per time.Duration) error {
	if s.rates == nil {
		return nil
	}
	if ok, wait := s.rates.Key(id, rate, per); !ok {
		return &LimitError{Reason: "this key is over its request rate", RetryAfter: wait}
	}
	return nil
}

// AdminAllowed says whether an admin credential from ip may be checked
// now; a LimitError when the source must wait after failed ones.
func (s *Service) AdminAllowed(ip netip.Addr) error { return s.throttled(SurfaceAdmin, ip) }

// AdminFailed counts a refused admin credential from ip (audited in
// aggregate by FlushLimits).
func (s *Service) AdminFailed(ip netip.Addr) {
	s.failures.Fail(SurfaceAdmin, ip, "admin credential missing or not valid")
}

// FlushLimits appends the aggregate records of the windows that have
// ended (every pending one with final, at shutdown): one per source's
// failed credentials, with an AnomalyCredentialFailures anomaly record
// after it when the source reached the alert threshold, and one per key
// refused by the request limits. The daemon calls it every window.
func (s *Service) FlushLimits(ctx context.Context, final bool) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AuditTimeout)
	defer cancel()
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for _, a := range s.failures.Due(final) {
		keep(s.auditFailures(actx, a))
	}
	if s.rates != nil {
		for _, r := range s.rates.Due(s.failures.Config().Window, final) {
			call, _ := json.Marshal(r)
			who := "all keys together (the global limit)"
			if r.Key != "" {
				who = "key " + r.Key
			}
			_, err := s.cfg.Store.AppendAudit(actx, audit.Bound(audit.Record{Time: s.now(), Method: MethodRateLimited, Call: call, Decision: audit.DecisionDeny,
				Reasons: []string{fmt.Sprintf("%d requests of %s refused by the request limit between %s and %s", r.Count, who, stamp(r.First), stamp(r.Last))}}))
			keep(err)
		}
	}
	if firstErr != nil {
		s.cfg.Log.Error("audit limits", "err", firstErr)
	}
	return firstErr
}

func (s *Service) auditFailures(ctx context.Context, a limit.Aggregate) error {
	call, err := json.Marshal(a)
	if err != nil {
		return err
	}
	reasons := make([]string, 0, len(a.Reasons))
	for r, n := range a.Reasons {
		reasons = append(reasons, fmt.Sprintf("%s ×%d", r, n))
	}
	sort.Strings(reasons)
	summary := fmt.Sprintf("%d failed credentials on %s from %s between %s and %s (%s)", a.Failed, a.Surface, a.Source,
		stamp(a.First), stamp(a.Last), strings.Join(reasons, ", "))
	if a.Throttled > 0 {
		summary += fmt.Sprintf("; %d more attempts refused unchecked while it waited", a.Throttled)
	}
	rec := audit.Record{Time: s.now(), Method: MethodCredentialFailures, Call: call, Decision: audit.DecisionDeny,
		Reasons: []string{summary}}
	if ip, err := netip.ParseAddr(a.Source); err == nil {
		rec.CallerIP = ip.String()
	}
	stored, err := s.cfg.Store.AppendAudit(ctx, audit.Bound(rec))
	if err != nil || !a.Alert {
		return err
	}
	s.cfg.Log.Warn("credential failures", "surface", a.Surface, "source", a.Source, "failed", a.Failed, "throttled", a.Throttled)
	ev := AnomalyEvent{ID: anomalyID("source:"+a.Source, AnomalyCredentialFailures, stored.Seq), Kind: AnomalyCredentialFailures,
		Severity: SeverityWarning, Summary: summary, At: a.Last, Records: []int64{stored.Seq}, Response: "alert"}
	evCall, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = s.cfg.Store.AppendAudit(ctx, audit.Bound(audit.Record{Time: s.now(), Method: MethodAnomaly, Call: evCall,
		Decision: audit.DecisionAllow, Reasons: []string{}}))
	return err
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// LimitWindow is the aggregation window of the limits' audit records.
func (s *Service) LimitWindow() time.Duration { return s.failures.Config().Window }

// FlushLimitsEvery runs FlushLimits every interval until ctx ends, then
// once more for everything pending.
func (s *Service) FlushLimitsEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = s.FlushLimits(context.WithoutCancel(ctx), true)
			return
		case <-t.C:
			_ = s.FlushLimits(ctx, false)
		}
	}
}
