package store

import (
	"fmt"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
)

// Anomaly is something odd the service found in a key's use of the audit
// log, stored with links to the audit records that raised it.
type Anomaly struct {
	ID       string    `json:"id"`
	KeyID    string    `json:"key_id"`
	Kind     string    `json:"kind"`
	Severity string    `json:"severity"`
	At       time.Time `json:"at"`
	Summary  string    `json:"summary"`
	// Records are the Seq of the audit records that raised it, ascending;
	// the last is the one that raised it (its trigger).
	Records  []int64 `json:"records"`
	Response string  `json:"response"` // what the key's policy asked for: "alert" or "suspend"
	// AuditSeq is the Seq of the anomaly's own audit record; set by the
	// store.
	AuditSeq int64 `json:"audit_seq"`
}

// MaxAnomalySummary bounds Anomaly.Summary and a suspension's reason, in
// bytes.
const MaxAnomalySummary = 500

// Trigger is the Seq of the audit record that raised a (the last of
// Records), 0 if it has none.
func (a Anomaly) Trigger() int64 {
	if len(a.Records) == 0 {
		return 0
	}
	return a.Records[len(a.Records)-1]
}

// Validate returns an error wrapping ErrInvalid unless a has an id, a
// key id, a kind, a severity, a response, a time, a summary of at most
// MaxAnomalySummary bytes, and at least one record Seq, all positive and
// ascending.
func (a Anomaly) Validate() error {
	switch {
	case a.ID == "" || a.KeyID == "" || a.Kind == "" || a.Severity == "" || a.Response == "":
		return fmt.Errorf("%w: anomaly id, key id, kind, severity and response must be set", ErrInvalid)
	case a.At.IsZero():
		return fmt.Errorf("%w: anomaly time is zero", ErrInvalid)
	case a.Summary == "" || len(a.Summary) > MaxAnomalySummary:
		return fmt.Errorf("%w: anomaly summary must be 1 to %d bytes", ErrInvalid, MaxAnomalySummary)
	case len(a.Records) == 0:
		return fmt.Errorf("%w: anomaly names no audit record", ErrInvalid)
	}
	for i, s := range a.Records {
		if s < 1 || i > 0 && s <= a.Records[i-1] {
			return fmt.Errorf("%w: anomaly records must be positive and ascending", ErrInvalid)
		}
	}
	return nil
}

// AnomalyRequest asks Store.RecordAnomaly to store an anomaly.
type AnomalyRequest struct {
	Anomaly Anomaly
	// Audit is the anomaly's audit record, appended in the same
	// transaction.
	Audit audit.Record
	// Suspend, if set, also suspends the anomaly's key.
	Suspend *Suspension
}

// Suspension stops a key until the owner resumes it.
type Suspension struct {
	At     time.Time
	Reason string       // for the owner; at most MaxAnomalySummary bytes
	Audit  audit.Record // the record of the suspension
}

// Validate returns an error wrapping ErrInvalid unless s has a time, a
// reason of 1 to MaxAnomalySummary bytes and a valid audit record.
func (s Suspension) Validate() error {
	switch {
	case s.At.IsZero():
		return fmt.Errorf("%w: suspension time is zero", ErrInvalid)
	case s.Reason == "" || len(s.Reason) > MaxAnomalySummary:
		return fmt.Errorf("%w: suspension reason must be 1 to %d bytes", ErrInvalid, MaxAnomalySummary)
	}
	if err := s.Audit.Validate(); err != nil {
		return fmt.Errorf("%w: suspension record: %w", ErrInvalid, err)
	}
	return nil
}

// AnomalyFilter narrows ListAnomalies. The zero value lists every
// anomaly.
type AnomalyFilter struct {
	KeyID string    // only this key's, if set
	Since time.Time // only those at or after this time, if set
	Limit int       // at most this many (the newest), if > 0
}
