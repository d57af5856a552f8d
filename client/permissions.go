package client

import (
	"encoding/json"
	"time"
)

// Permissions is the answer of agentkeys_getPermissions: what the key may
// do, in plain words, and what is left of its budget.
type Permissions struct {
	KeyID     string    `json:"key_id"`
	Agent     string    `json:"agent"`
	Address   string    `json:"address"` // the account the key acts as
	Mode      string    `json:"mode"`    // wallet or 7702
	Chains    []uint64  `json:"chains"`
	Policy    string    `json:"policy"`
	Profile   string    `json:"profile,omitempty"`
	Warning   string    `json:"warning,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
	Budget    []Budget  `json:"budget"`
	Rate      *Rate     `json:"rate,omitempty"`
	May       []string  `json:"may"`
	MayNot    []string  `json:"may_not"`
	// Document is the normalised policy as JSON (see docs/policy.md).
	Document json.RawMessage `json:"policy_document"`
}

// Budget is one asset's cap and its use in the current period, in whole
// units (Raw* in base units). Pending is signed and may still land;
// Remaining is the cap less spent and pending.
type Budget struct {
	Asset        string    `json:"asset"` // native, fees or a token address
	Symbol       string    `json:"symbol"`
	PerTx        string    `json:"per_tx,omitempty"`
	PerPeriod    string    `json:"per_period,omitempty"`
	Period       string    `json:"period,omitempty"`
	Spent        string    `json:"spent"`
	Pending      string    `json:"pending"`
	Remaining    string    `json:"remaining,omitempty"`
	PeriodEnds   time.Time `json:"period_ends"`
	RawSpent     string    `json:"raw_spent"`
	RawPending   string    `json:"raw_pending"`
	RawRemaining string    `json:"raw_remaining,omitempty"`
}

// Rate is the key's request rate cap and its use.
type Rate struct {
	Max  int    `json:"max"`
	Per  string `json:"per"`
	Used int    `json:"used"`
}
