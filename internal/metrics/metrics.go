// Package metrics exposes the daemon's state to Prometheus at /metrics on
// the admin listener: requests and refusals counted from the audit feed
// (so they are rebuilt from the log at every start), latency histograms
// measured live, and gauges read from the service when scraped. It is an
// observer beside the transports: it imports package service, and
// nothing below the service imports it.
package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/limit"
	"github.com/agentkeys/agentkeys/internal/service"
)

// otherMethod labels requests for methods agents may not call: their
// names come from the caller, so they must not become label values.
const otherMethod = "other"

// Metrics holds the collectors of one daemon on their own registry.
type Metrics struct {
	reg       *prometheus.Registry
	supported func(method string) bool
	log       func(msg string, args ...any)

	requests  *prometheus.CounterVec
	refusals  *prometheus.CounterVec
	anomalies *prometheus.CounterVec
	delivered *prometheus.CounterVec
	decision  prometheus.Histogram
	request   *prometheus.HistogramVec
}

// New makes the collectors. supported says which methods agents may call
// (rpc.Supported, mcp.Supported); others are counted under "other".
func New(supported func(method string) bool, log func(msg string, args ...any)) *Metrics {
	if log == nil {
		log = func(string, ...any) {}
	}
	m := &Metrics{
		reg:       prometheus.NewRegistry(),
		supported: supported,
		log:       log,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "agentkeys_requests_total",
			Help: "Agent requests in the audit log, by JSON-RPC method or MCP tool (mcp:<tool>) and decision (allow, deny, error)."}, []string{"method", "decision"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "agentkeys_refusals_total",
			Help: "Reasons agent requests were refused, by class (budget, rate, target, network, schedule, credential, ...)."}, []string{"reason"}),
		anomalies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "agentkeys_anomalies_total",
			Help: "Anomalies raised, by kind and severity."}, []string{"kind", "severity"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "agentkeys_alert_deliveries_total",
			Help: "Webhook delivery attempts, by the state they left the delivery in (delivered, pending: to be retried, failed: given up)."}, []string{"state"}),
		decision: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "agentkeys_decision_seconds",
			Help:    "Time of a decision's store transaction: evaluation, reservation, signing and audit record.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		request: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "agentkeys_request_seconds",
			Help:    "Time from an agent's JSON-RPC request to its answer, by method.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"method"}),
	}
	m.reg.MustRegister(m.requests, m.refusals, m.anomalies, m.delivered, m.decision, m.request,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) method(name string) string {
	if m.supported != nil && m.supported(name) {
		return name
	}
	return otherMethod
}

// ObserveDecision records a decision's duration (service.Config).
func (m *Metrics) ObserveDecision(d time.Duration) { m.decision.Observe(d.Seconds()) }

// ObserveDelivery counts a webhook delivery attempt
// (service.Config.ObserveDelivery).
func (m *Metrics) ObserveDelivery(state string) { m.delivered.WithLabelValues(bounded(state)).Inc() }

// ObserveRequest records a request's duration (rpc.Server.Observe).
func (m *Metrics) ObserveRequest(method string, d time.Duration) {
	m.request.WithLabelValues(m.method(method)).Observe(d.Seconds())
}

// Record counts one audit record; it is the feed handler that Attach
// registers.
func (m *Metrics) Record(_ context.Context, r audit.Record) error {
	if ev, ok, err := service.AnomalyOf(r); ok {
		if err != nil {
			return err
		}
		m.anomalies.WithLabelValues(bounded(ev.Kind), bounded(ev.Severity)).Inc()
		return nil
	}
	switch r.Method {
	case service.MethodCredentialFailures:
		// A source's failed credentials of a window, audited as one record.
		var a limit.Aggregate
		if err := json.Unmarshal(r.Call, &a); err != nil {
			return fmt.Errorf("metrics: record %d: %w", r.Seq, err)
		}
		m.refusals.WithLabelValues(service.RefusedCredential).Add(float64(a.Failed + a.Throttled))
		return nil
	case service.MethodRateLimited:
		var c limit.Refused
		if err := json.Unmarshal(r.Call, &c); err != nil {
			return fmt.Errorf("metrics: record %d: %w", r.Seq, err)
		}
		m.refusals.WithLabelValues(service.RefusedRate).Add(float64(c.Count))
		return nil
	}
	if !service.IsAgentRequest(r) {
		return nil
	}
	m.requests.WithLabelValues(m.method(r.Method), r.Decision).Inc()
	if r.Decision == audit.DecisionDeny {
		for _, reason := range r.Reasons {
			m.refusals.WithLabelValues(service.RefusalClass(reason)).Inc()
		}
	}
	return nil
}

// bounded keeps a label value from a stored record short (and valid
// UTF-8, as Prometheus requires).
func bounded(s string) string { return bound.Text(strings.ToValidUTF8(s, "?"), 40) }

// Attach counts svc's audit feed (from the start of the log) and reads
// svc's gauges at every scrape. Call it before the feed runs.
func (m *Metrics) Attach(svc *service.Service) {
	svc.Feed().Handle(m.Record)
	m.reg.MustRegister(&gauges{svc: svc, log: m.log})
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// gauges reads the service's state at scrape time.
type gauges struct {
	svc *service.Service
	log func(msg string, args ...any)
}

var (
	budgetUsedDesc = prometheus.NewDesc("agentkeys_budget_used",
		"Spent plus pending of a key's cap in its current period, in the asset's units.", []string{"key_id", "agent", "asset", "symbol"}, nil)
	budgetPendingDesc = prometheus.NewDesc("agentkeys_budget_pending",
		"Pending part of agentkeys_budget_used: signed transactions that may still land.", []string{"key_id", "agent", "asset", "symbol"}, nil)
	budgetCapDesc = prometheus.NewDesc("agentkeys_budget_cap",
		"A key's cap per period, in the asset's units.", []string{"key_id", "agent", "asset", "symbol", "period"}, nil)
	txDesc = prometheus.NewDesc("agentkeys_transactions",
		"Transactions the daemon signed on its chain, by lifecycle state.", []string{"state"}, nil)
	auditLenDesc = prometheus.NewDesc("agentkeys_audit_chain_length",
		"Records in the audit chain.", nil, nil)
	scrapeErrDesc = prometheus.NewDesc("agentkeys_gauges_error",
		"1 if the last scrape could not read the daemon's state (see its log).", nil, nil)
)

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{budgetUsedDesc, budgetPendingDesc, budgetCapDesc, txDesc, auditLenDesc, scrapeErrDesc} {
		ch <- d
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := g.svc.Gauges(ctx)
	failed := 0.0
	if err != nil {
		g.log("read gauges", "err", err)
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
	for _, k := range st.Keys {
		for _, l := range k.Lines {
			used, pending := amount(l.Spent)+amount(l.Pending), amount(l.Pending)
			ch <- prometheus.MustNewConstMetric(budgetUsedDesc, prometheus.GaugeValue, used, k.KeyID, k.Agent, l.Asset, l.Symbol)
			ch <- prometheus.MustNewConstMetric(budgetPendingDesc, prometheus.GaugeValue, pending, k.KeyID, k.Agent, l.Asset, l.Symbol)
			if l.PerPeriod != "" {
				ch <- prometheus.MustNewConstMetric(budgetCapDesc, prometheus.GaugeValue, amount(l.PerPeriod), k.KeyID, k.Agent, l.Asset, l.Symbol, l.Period)
			}
		}
	}
	for state, n := range st.TxStates {
		ch <- prometheus.MustNewConstMetric(txDesc, prometheus.GaugeValue, float64(n), state)
	}
	if err == nil {
		ch <- prometheus.MustNewConstMetric(auditLenDesc, prometheus.GaugeValue, float64(st.AuditLen))
	}
}

// amount reads a formatted amount ("1.5"); a metric is a float anyway.
func amount(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}
