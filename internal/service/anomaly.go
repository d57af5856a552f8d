package service

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/policy"
)

// Audit methods of the owner's side. An anomaly, a suspension and a
// resumption are each an audit record, so the chain covers them and the
// audit feed carries them to whatever watches it (alerts, metrics, the
// dashboard's live feed).
const (
	// MethodAnomaly records one anomaly; its Call is an AnomalyEvent.
	MethodAnomaly = "agentkeys_anomaly"
	// MethodKeySuspended and MethodKeyResumed record a key stopped by an
	// anomaly (or the owner) and started again by the owner; their Call
	// names the key ({"key_id":…, "reason":…}).
	MethodKeySuspended = "agentkeys_keySuspended"
	MethodKeyResumed   = "agentkeys_keyResumed"
)

// Anomaly kinds; the names are the policy's (anomalies: in a policy).
const (
	AnomalyNewIP         = policy.AnomalyNewIP         // first use from a source network never seen for the key
	AnomalyRateSpike     = policy.AnomalyRateSpike     // requests above a multiple of the key's trailing baseline
	AnomalyRefusalBurst  = policy.AnomalyRefusalBurst  // N refusals within M minutes: an agent probing its box
	AnomalyOffSchedule   = policy.AnomalyOffSchedule   // attempts outside the key's schedule
	AnomalyValueOutlier  = policy.AnomalyValueOutlier  // a value far above the key's history
	AnomalyStaleKeyInUse = policy.AnomalyStaleKeyInUse // use of a key past its stale_after
)

// Anomaly severities, lowest first.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// SeverityRank orders severities (info 1, warning 2, critical 3); 0 for
// an unknown one.
func SeverityRank(s string) int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	case SeverityCritical:
		return 3
	}
	return 0
}

// AnomalyEvent is the Call of a MethodAnomaly audit record: what was
// found, about which key, and which audit records raised it. The webhook
// body, the metrics and the dashboard read it from there.
type AnomalyEvent struct {
	ID       string    `json:"id"`
	KeyID    string    `json:"key_id"`
	Kind     string    `json:"kind"`
	Severity string    `json:"severity"`
	Summary  string    `json:"summary"` // one line for the owner, e.g. "first use from 203.0.113.0/24"
	At       time.Time `json:"at"`
	Records  []int64   `json:"records"`  // Seq of the audit records that raised it
	Response string    `json:"response"` // "alert" or "suspend": what the key's policy asked for
}

// AnomalyOf reads the AnomalyEvent of a MethodAnomaly record; ok is false
// for any other record.
func AnomalyOf(r audit.Record) (ev AnomalyEvent, ok bool, err error) {
	if r.Method != MethodAnomaly {
		return AnomalyEvent{}, false, nil
	}
	if err := json.Unmarshal(r.Call, &ev); err != nil {
		return AnomalyEvent{}, true, fmt.Errorf("anomaly record %d: %w", r.Seq, err)
	}
	return ev, true, nil
}
