package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// AlertHook is a webhook the owner asked alerts to be sent to. Its URL
// (which may carry a token in its path or query) and its signing secret
// are sealed under the master key; the store keeps only URLShown, the
// URL cut to scheme and host, in the clear.
type AlertHook struct {
	ID           string
	Name         string
	URLShown     string // scheme://host[/…]: what listings show
	SealedURL    []byte
	SealedSecret []byte // nil: deliveries are not signed
	MinSeverity  string // the lowest severity sent (the service's names)
	CreatedAt    time.Time
}

// Alert delivery states.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt
	DeliveryDelivered = "delivered" // the hook answered 2xx
	DeliveryFailed    = "failed"    // gave up after the last attempt
)

// AlertDelivery is one message to one hook: an anomaly (AnomalySeq, the
// Seq of its audit record) or a test (AnomalySeq 0). Body is the JSON
// sent, fixed when the delivery is created.
type AlertDelivery struct {
	ID            string
	HookID        string
	AnomalySeq    int64 // 0 for a test delivery
	Body          json.RawMessage
	State         string
	Attempts      int
	NextAttemptAt time.Time // when it is due (pending only)
	LastStatus    int       // HTTP status of the last attempt; 0 if it got none
	LastError     string    // why the last attempt failed; "" after success
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AlertAttempt is the outcome of one attempt to deliver, recorded by
// UpdateAlertDelivery.
type AlertAttempt struct {
	State         string
	At            time.Time // when the attempt ended
	NextAttemptAt time.Time // DeliveryPending only: when to try again
	Status        int
	Error         string
}

// AlertDeliveryFilter narrows ListAlertDeliveries. The zero value lists
// every delivery.
type AlertDeliveryFilter struct {
	HookID string // only this hook's, if set
	State  string // only in this state, if set
	Limit  int    // at most this many (the newest), if > 0
}

// Validate returns an error wrapping ErrInvalid unless h has an id, a
// name, a shown URL, a sealed URL, a minimum severity and a creation time.
func (h AlertHook) Validate() error {
	switch {
	case h.ID == "":
		return fmt.Errorf("%w: alert hook id is empty", ErrInvalid)
	case h.Name == "":
		return fmt.Errorf("%w: alert hook name is empty", ErrInvalid)
	case h.URLShown == "" || len(h.SealedURL) == 0:
		return fmt.Errorf("%w: alert hook has no URL", ErrInvalid)
	case h.SealedSecret != nil && len(h.SealedSecret) == 0:
		return fmt.Errorf("%w: alert hook secret is empty", ErrInvalid)
	case h.MinSeverity == "":
		return fmt.Errorf("%w: alert hook minimum severity is empty", ErrInvalid)
	case h.CreatedAt.IsZero():
		return fmt.Errorf("%w: alert hook creation time is zero", ErrInvalid)
	}
	return nil
}

// Validate returns an error wrapping ErrInvalid unless d has an id, a
// hook id, a non-negative anomaly seq, a JSON body, state pending, no
// attempts yet, and creation and due times.
func (d AlertDelivery) Validate() error {
	switch {
	case d.ID == "" || d.HookID == "":
		return fmt.Errorf("%w: alert delivery needs an id and a hook id", ErrInvalid)
	case d.AnomalySeq < 0:
		return fmt.Errorf("%w: alert delivery anomaly seq %d is negative", ErrInvalid, d.AnomalySeq)
	case !json.Valid(d.Body):
		return fmt.Errorf("%w: alert delivery body is not valid JSON", ErrInvalid)
	case d.State != DeliveryPending || d.Attempts != 0:
		return fmt.Errorf("%w: a new alert delivery is pending with no attempts", ErrInvalid)
	case d.CreatedAt.IsZero() || d.NextAttemptAt.IsZero():
		return fmt.Errorf("%w: alert delivery times must be set", ErrInvalid)
	}
	return nil
}

// Validate returns an error wrapping ErrInvalid unless a has a known
// state, a time, and a next attempt time exactly when it is pending.
func (a AlertAttempt) Validate() error {
	switch {
	case a.State != DeliveryPending && a.State != DeliveryDelivered && a.State != DeliveryFailed:
		return fmt.Errorf("%w: alert delivery state %q is not pending, delivered or failed", ErrInvalid, a.State)
	case a.At.IsZero():
		return fmt.Errorf("%w: alert attempt time is zero", ErrInvalid)
	case (a.State == DeliveryPending) == a.NextAttemptAt.IsZero():
		return fmt.Errorf("%w: a next attempt time is set exactly for a pending delivery", ErrInvalid)
	}
	return nil
}

// Validate returns an error wrapping ErrInvalid for an unknown state or a
// negative limit.
func (f AlertDeliveryFilter) Validate() error {
	switch {
	case f.State != "" && f.State != DeliveryPending && f.State != DeliveryDelivered && f.State != DeliveryFailed:
		return fmt.Errorf("%w: alert delivery state %q is not pending, delivered or failed", ErrInvalid, f.State)
	case f.Limit < 0:
		return fmt.Errorf("%w: negative limit", ErrInvalid)
	}
	return nil
}
