package store

import (
	"encoding/json"
	"fmt"
	"time"
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
