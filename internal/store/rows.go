package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
)

// The stored rows of keys, anomalies, alert hooks and alert deliveries
// have the same columns in every backend; these read them back, so the
// backends agree on every field. Times are stored as Unix milliseconds.

// RowScanner is what a database row offers: *sql.Row, *sql.Rows,
// pgx.Row, pgx.Rows.
type RowScanner interface{ Scan(dest ...any) error }

// FromMS converts a stored time (Unix milliseconds) back, in UTC.
func FromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// KeyColumns are the columns ScanKey reads, in order.
const KeyColumns = `id, kind, address, sealed, created_at`

// ScanKey reads a row of KeyColumns.
func ScanKey(sc RowScanner) (Key, error) {
	var k Key
	var created int64
	if err := sc.Scan(&k.ID, &k.Kind, &k.Address, &k.Sealed, &created); err != nil {
		return Key{}, err
	}
	k.CreatedAt = FromMS(created)
	return k, nil
}

// AnomalyColumns are the columns ScanAnomaly reads, in order.
const AnomalyColumns = `id, key_id, kind, severity, at, summary, records, response, audit_seq`

// ScanAnomaly reads a row of AnomalyColumns (records is a JSON array).
func ScanAnomaly(sc RowScanner) (Anomaly, error) {
	var (
		a       Anomaly
		at      int64
		records string
	)
	if err := sc.Scan(&a.ID, &a.KeyID, &a.Kind, &a.Severity, &at, &a.Summary, &records, &a.Response, &a.AuditSeq); err != nil {
		return Anomaly{}, err
	}
	if err := json.Unmarshal([]byte(records), &a.Records); err != nil {
		return Anomaly{}, fmt.Errorf("anomaly %q records: %w", a.ID, err)
	}
	a.At = FromMS(at)
	return a, nil
}

// HookColumns are the columns ScanHook reads, in order.
const HookColumns = `id, name, url_shown, sealed_url, sealed_secret, min_severity, created_at`

// ScanHook reads a row of HookColumns.
func ScanHook(sc RowScanner) (AlertHook, error) {
	var h AlertHook
	var created int64
	if err := sc.Scan(&h.ID, &h.Name, &h.URLShown, &h.SealedURL, &h.SealedSecret, &h.MinSeverity, &created); err != nil {
		return AlertHook{}, err
	}
	h.CreatedAt = FromMS(created)
	return h, nil
}

// DeliveryColumns are the columns ScanDelivery reads, in order.
const DeliveryColumns = `id, hook_id, anomaly_seq, body, state, attempts, next_attempt_at, last_status, last_error, created_at, updated_at`

// ScanDelivery reads a row of DeliveryColumns (anomaly_seq NULL for a
// test delivery).
func ScanDelivery(sc RowScanner) (AlertDelivery, error) {
	var d AlertDelivery
	var seq *int64
	var body []byte
	var next, created, updated int64
	if err := sc.Scan(&d.ID, &d.HookID, &seq, &body, &d.State, &d.Attempts, &next, &d.LastStatus, &d.LastError, &created, &updated); err != nil {
		return AlertDelivery{}, err
	}
	if seq != nil {
		d.AnomalySeq = *seq
	}
	d.Body = body
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = FromMS(next), FromMS(created), FromMS(updated)
	return d, nil
}

// GrantColumns are the columns of a stored grant, in GrantValues' order.
const GrantColumns = `id, agent, mode, chains, policy, address, signer_key_id, credential_hash, created_at, expires_at, revoked_at, meta, suspended_at, suspend_reason, pending, seal`

// GrantValues validates g and returns the values of GrantColumns as both
// backends store them: times in Unix milliseconds, nil while unset.
func GrantValues(g Grant) ([]any, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	chains, meta, err := EncodeGrantJSON(g)
	if err != nil {
		return nil, err
	}
	optMS := func(t *time.Time) *int64 {
		if t == nil {
			return nil
		}
		v := t.UnixMilli()
		return &v
	}
	var policy []byte
	if len(g.Policy) > 0 {
		policy = g.Policy
	}
	return []any{g.ID, g.Agent, g.Mode, chains, policy, g.Address, g.SignerKeyID, g.CredentialHash,
		g.CreatedAt.UnixMilli(), g.ExpiresAt.UnixMilli(), optMS(g.RevokedAt), meta, optMS(g.SuspendedAt), g.SuspendReason, g.Pending, g.Seal}, nil
}

// AuditColumns are the columns of a stored audit record, in AuditValues'
// order.
const AuditColumns = `seq, time, key_id, method, call, decision, reasons, tx_hash, caller_ip, request_id, user_agent, prev_hash, hash`

// AuditValues returns the values of AuditColumns for the chained record
// r: Call as its bytes, verbatim (nil if empty), Reasons as JSON.
func AuditValues(r audit.Record) ([]any, error) {
	reasons, err := EncodeReasons(r.Reasons)
	if err != nil {
		return nil, err
	}
	var call []byte
	if len(r.Call) > 0 {
		call = r.Call
	}
	return []any{r.Seq, r.Time.UnixMilli(), r.KeyID, r.Method, call, r.Decision, reasons, r.TxHash, r.CallerIP, r.RequestID,
		r.UserAgent, r.PrevHash, r.Hash}, nil
}

// ValidateRecords checks the records of Bulk.AppendAudits: an error
// wrapping ErrInvalid names the first that fails Validate.
func ValidateRecords(rs []audit.Record) error {
	for i, r := range rs {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("record %d: %w: %w", i, ErrInvalid, err)
		}
	}
	return nil
}

// ChainRecords chains rs after head (audit.Chain, Seq following on) and
// returns each record's values for AuditColumns and the head after the
// last: what Bulk.AppendAudits stores, in either backend.
func ChainRecords(head audit.Head, rs []audit.Record) ([][]any, audit.Head, error) {
	rows := make([][]any, len(rs))
	for i, r := range rs {
		r.Seq = head.Seq + 1
		r = audit.Chain(head.Hash, r)
		v, err := AuditValues(r)
		if err != nil {
			return nil, head, err
		}
		rows[i] = v
		head = audit.Head{Seq: r.Seq, Hash: r.Hash}
	}
	return rows, head, nil
}

// GrantRows is what Bulk.CreateGrants stores: the GrantValues of each
// grant, and the signer key ids they name, each once (the backend checks
// they are stored). Errors: the first grant that fails Validate.
func GrantRows(gs []Grant) (rows [][]any, signerKeys []string, err error) {
	rows = make([][]any, len(gs))
	for i, g := range gs {
		if rows[i], err = GrantValues(g); err != nil {
			return nil, nil, fmt.Errorf("grant %d: %w", i, err)
		}
		if !slices.Contains(signerKeys, g.SignerKeyID) {
			signerKeys = append(signerKeys, g.SignerKeyID)
		}
	}
	return rows, signerKeys, nil
}
