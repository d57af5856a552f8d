package policy

import (
	"bytes"
	"encoding/json"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Document is a policy as written: the schema of policy files, and the
// normalised form printed by `policy check` and stored with a grant.
// Compile turns it into a Policy. Amounts and durations stay strings here
// so a document round-trips exactly.
type Document struct {
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Profile     string        `json:"profile,omitempty"`
	Warning     string        `json:"warning,omitempty"`
	Chains      []uint64      `json:"chains"`
	ValidFrom   string        `json:"valid_from,omitempty"`
	ValidFor    string        `json:"valid_for,omitempty"`
	ValidUntil  string        `json:"valid_until,omitempty"`
	Schedule    *ScheduleDoc  `json:"schedule,omitempty"`
	Limits      []LimitDoc    `json:"limits,omitempty"`
	Rate        *RateDoc      `json:"rate,omitempty"`
	Network     *NetworkDoc   `json:"network,omitempty"`
	ABIs        []ABIDoc      `json:"abis,omitempty"`
	Allow       []RuleDoc     `json:"allow,omitempty"`
	Deny        []RuleDoc     `json:"deny,omitempty"`
	TypedData   *TypedDataDoc `json:"typed_data,omitempty"`
	Messages    *MessagesDoc  `json:"messages,omitempty"`
	StaleAfter  string        `json:"stale_after,omitempty"`
	Anomalies   *AnomaliesDoc `json:"anomalies,omitempty"`
}

// ScheduleDoc limits the key to certain days and hours in a time zone.
type ScheduleDoc struct {
	Timezone string   `json:"timezone"`
	Days     []string `json:"days,omitempty"`
	Hours    string   `json:"hours,omitempty"`
}

// AnomaliesDoc says what the daemon does when it finds one of the key's
// anomalies, and the thresholds that find them. OnAnomaly is the response
// for every kind that does not name its own.
type AnomaliesDoc struct {
	OnAnomaly    string      `json:"on_anomaly,omitempty"`
	NewIP        *AnomalyDoc `json:"new_ip,omitempty"`
	RateSpike    *AnomalyDoc `json:"rate_spike,omitempty"`
	RefusalBurst *AnomalyDoc `json:"refusal_burst,omitempty"`
	OffSchedule  *AnomalyDoc `json:"off_schedule,omitempty"`
	ValueOutlier *AnomalyDoc `json:"value_outlier,omitempty"`
	StaleKeyUsed *AnomalyDoc `json:"stale_key_used,omitempty"`
}

// AnomalyDoc is one kind's response and thresholds; each kind takes only
// the thresholds it uses (rate_spike: multiple, window, baseline,
// min_requests; refusal_burst: count, within; value_outlier: multiple,
// min_history).
type AnomalyDoc struct {
	OnAnomaly   string  `json:"on_anomaly,omitempty"`
	Multiple    float64 `json:"multiple,omitempty"`
	Window      string  `json:"window,omitempty"`
	Baseline    string  `json:"baseline,omitempty"`
	MinRequests int     `json:"min_requests,omitempty"`
	Count       int     `json:"count,omitempty"`
	Within      string  `json:"within,omitempty"`
	MinHistory  int     `json:"min_history,omitempty"`
}

// LimitDoc caps what may be spent of one asset.
type LimitDoc struct {
	Asset     string `json:"asset"`
	Symbol    string `json:"symbol,omitempty"`
	Decimals  *int   `json:"decimals,omitempty"`
	PerTx     string `json:"per_tx,omitempty"`
	PerPeriod string `json:"per_period,omitempty"`
	Period    string `json:"period,omitempty"`
}

// RateDoc caps the number of requests in a sliding window.
type RateDoc struct {
	Max int    `json:"max"`
	Per string `json:"per"`
}

// NetworkDoc restricts where requests may come from.
type NetworkDoc struct {
	AllowCIDRs []string `json:"allow_cidrs"`
}

// ABIDoc adds function definitions: a JSON ABI file (read when the policy
// is compiled), an inline JSON ABI, or human-readable signatures. The
// normalised form always carries signatures, so a stored policy needs no
// files.
type ABIDoc struct {
	File       string   `json:"file,omitempty"`
	JSON       string   `json:"json,omitempty"`
	Signatures []string `json:"signatures,omitempty"`
}

// RuleDoc is one allow or deny entry: a contract ("*" for any) and the
// functions it covers. Reason is the words shown when a deny rule matches.
type RuleDoc struct {
	Contract  string        `json:"contract"`
	Name      string        `json:"name,omitempty"`
	Functions []FunctionDoc `json:"functions"`
	Reason    string        `json:"reason,omitempty"`
}

// FunctionDoc names a function by signature ("*" for any, "receive" for a
// plain value transfer with empty calldata) with optional conditions on
// its decoded arguments.
type FunctionDoc struct {
	Sig   string `json:"sig"`
	Where Where  `json:"where,omitempty"`
}

// Where is an ordered set of argument conditions; all must hold.
type Where []CondDoc

// CondDoc constrains one argument with one or more operators.
type CondDoc struct {
	Param string
	Ops   []OpDoc
}

// OpDoc is one operator and its operand(s); in and not_in take a list.
type OpDoc struct {
	Op     string
	Values []string
}

// TypedDataDoc lists the EIP-712 documents the key may sign.
type TypedDataDoc struct {
	Allow []TypedRuleDoc `json:"allow"`
}

// TypedRuleDoc matches an EIP-712 document by domain and primary type.
// Omitted domain fields match any value, except that the chain id must
// always be one of the policy's chains.
type TypedRuleDoc struct {
	Domain      DomainDoc `json:"domain"`
	PrimaryType string    `json:"primary_type"`
	Where       Where     `json:"where,omitempty"`
}

// DomainDoc is the part of an EIP-712 domain a rule pins.
type DomainDoc struct {
	Name              string `json:"name,omitempty"`
	Version           string `json:"version,omitempty"`
	ChainID           uint64 `json:"chain_id,omitempty"`
	VerifyingContract string `json:"verifying_contract,omitempty"`
}

// MessagesDoc governs personal_sign. With Allow and no prefixes or domains
// any text may be signed; otherwise the text must start with a prefix or
// be a Sign-In with Ethereum message for one of the domains.
type MessagesDoc struct {
	Allow    bool     `json:"allow"`
	Prefixes []string `json:"prefixes,omitempty"`
	Domains  []string `json:"domains,omitempty"`
}

// MarshalJSON writes conditions as {"param": {"op": value}} in order.
func (w Where) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range w {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c.Param)
		b.Write(k)
		b.WriteString(":{")
		for j, op := range c.Ops {
			if j > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(op.Op)
			b.Write(k)
			b.WriteByte(':')
			var v []byte
			if op.Op == "in" || op.Op == "not_in" {
				v, _ = json.Marshal(op.Values)
			} else {
				v, _ = json.Marshal(op.Values[0])
			}
			b.Write(v)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// JSON returns the document as indented JSON.
func (d *Document) JSON() ([]byte, error) {
	return json.MarshalIndent(d, "", "  ")
}

// YAML returns the document as block-style YAML with fields in schema order.
func (d *Document) YAML() ([]byte, error) {
	j, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(j, &n); err != nil {
		return nil, err
	}
	blockStyle(&n)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func blockStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		// Keep quotes only where YAML needs them to keep the value a string.
		n.Style = 0
		var probe any
		if err := yaml.Unmarshal([]byte(n.Value), &probe); err != nil || !isPlainString(probe, n.Value) {
			n.Style = yaml.DoubleQuotedStyle
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

func isPlainString(v any, s string) bool {
	str, ok := v.(string)
	return ok && str == s && !strings.ContainsAny(s, ":#\n") && !strings.HasPrefix(s, "*") && !strings.HasPrefix(s, "$")
}
