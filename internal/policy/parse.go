package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is a problem with one field of a policy document. Field is a
// path such as "allow[0].functions[1].where.amount".
type FieldError struct {
	Line  int // 1-based line in the source, 0 when unknown
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Msg)
	}
	return e.Field + ": " + e.Msg
}

func fieldErr(n *yaml.Node, path, format string, args ...any) *FieldError {
	e := &FieldError{Field: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	if e.Field == "" {
		e.Field = "(document)"
	}
	return e
}

// MaxDocumentSize bounds policy input; real policies are a few KiB.
const MaxDocumentSize = 1 << 20

// ParseDocument reads a policy written in YAML or JSON (the same schema).
// Unknown fields, wrong types, anchors and duplicate keys are rejected with
// the path of the offending field. Values are checked by Compile.
func ParseDocument(data []byte) (*Document, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("policy is %d bytes; the limit is %d", len(data), MaxDocumentSize)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("policy is not valid YAML or JSON: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, errors.New("policy is empty")
	}
	d := &Document{}
	if err := decodeDocument(root.Content[0], d); err != nil {
		return nil, err
	}
	return d, nil
}

// fields walks a mapping node, refusing unknown and repeated keys.
func fields(n *yaml.Node, path string, known []string, fn func(key string, v *yaml.Node, path string) error) error {
	if err := noAlias(n, path); err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return fieldErr(n, path, "expected a mapping with the fields %s, got %s", strings.Join(known, ", "), describe(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			return fieldErr(k, path, "expected field names, got %s", describe(k))
		}
		if !contains(known, k.Value) {
			return fieldErr(k, sub, "unknown field; expected one of %s", strings.Join(known, ", "))
		}
		if seen[k.Value] {
			return fieldErr(k, sub, "appears twice")
		}
		seen[k.Value] = true
		if err := noAlias(v, sub); err != nil {
			return err
		}
		if err := fn(k.Value, v, sub); err != nil {
			return err
		}
	}
	return nil
}

func noAlias(n *yaml.Node, path string) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return fieldErr(n, path, "YAML anchors and aliases are not supported in policies")
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func scalar(n *yaml.Node, path, want string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", fieldErr(n, path, "expected %s, got %s", want, describe(n))
	}
	return n.Value, nil
}

func str(dst *string) func(string, *yaml.Node, string) error {
	return func(_ string, n *yaml.Node, path string) error {
		v, err := scalar(n, path, "a string")
		*dst = v
		return err
	}
}

func seq(n *yaml.Node, path string, fn func(i int, item *yaml.Node, path string) error) error {
	if n.Kind != yaml.SequenceNode {
		return fieldErr(n, path, "expected a list, got %s", describe(n))
	}
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if err := noAlias(item, p); err != nil {
			return err
		}
		if err := fn(i, item, p); err != nil {
			return err
		}
	}
	return nil
}

func strList(n *yaml.Node, path, want string) ([]string, error) {
	out := []string{} // empty, not nil: "days: []" differs from no days
	err := seq(n, path, func(_ int, item *yaml.Node, p string) error {
		v, err := scalar(item, p, want)
		out = append(out, v)
		return err
	})
	return out, err
}

func decodeDocument(n *yaml.Node, d *Document) error {
	known := []string{"name", "description", "profile", "warning", "chains", "valid_from", "valid_for", "valid_until",
		"schedule", "limits", "rate", "network", "abis", "allow", "deny", "typed_data", "messages",
		"stale_after", "anomalies"}
	return fields(n, "", known, func(key string, v *yaml.Node, path string) error {
		switch key {
		case "name":
			return str(&d.Name)(key, v, path)
		case "description":
			return str(&d.Description)(key, v, path)
		case "profile":
			return str(&d.Profile)(key, v, path)
		case "warning":
			return str(&d.Warning)(key, v, path)
		case "valid_from":
			return str(&d.ValidFrom)(key, v, path)
		case "valid_for":
			return str(&d.ValidFor)(key, v, path)
		case "valid_until":
			return str(&d.ValidUntil)(key, v, path)
		case "chains":
			return seq(v, path, func(_ int, item *yaml.Node, p string) error {
				s, err := scalar(item, p, "a chain id (a positive integer)")
				if err != nil {
					return err
				}
				id, err := strconv.ParseUint(s, 10, 64)
				if err != nil || id == 0 {
					return fieldErr(item, p, "expected a chain id (a positive integer), got %q", s)
				}
				d.Chains = append(d.Chains, id)
				return nil
			})
		case "schedule":
			d.Schedule = &ScheduleDoc{}
			return decodeSchedule(v, path, d.Schedule)
		case "limits":
			return seq(v, path, func(_ int, item *yaml.Node, p string) error {
				var l LimitDoc
				err := decodeLimit(item, p, &l)
				d.Limits = append(d.Limits, l)
				return err
			})
		case "rate":
			d.Rate = &RateDoc{}
			return fields(v, path, []string{"max", "per"}, func(k string, v *yaml.Node, p string) error {
				if k == "per" {
					return str(&d.Rate.Per)(k, v, p)
				}
				s, err := scalar(v, p, "a positive integer")
				if err != nil {
					return err
				}
				m, err := strconv.Atoi(s)
				if err != nil || m <= 0 {
					return fieldErr(v, p, "expected a positive integer, got %q", s)
				}
				d.Rate.Max = m
				return nil
			})
		case "network":
			d.Network = &NetworkDoc{}
			return fields(v, path, []string{"allow_cidrs"}, func(_ string, v *yaml.Node, p string) error {
				var err error
				d.Network.AllowCIDRs, err = strList(v, p, "a CIDR like 10.0.0.0/8")
				return err
			})
		case "abis":
			return seq(v, path, func(_ int, item *yaml.Node, p string) error {
				var a ABIDoc
				err := fields(item, p, []string{"file", "json", "signatures"}, func(k string, v *yaml.Node, p string) error {
					switch k {
					case "file":
						return str(&a.File)(k, v, p)
					case "json":
						return str(&a.JSON)(k, v, p)
					}
					var err error
					a.Signatures, err = strList(v, p, "a function signature")
					return err
				})
				d.ABIs = append(d.ABIs, a)
				return err
			})
		case "allow", "deny":
			return seq(v, path, func(_ int, item *yaml.Node, p string) error {
				var r RuleDoc
				err := decodeRule(item, p, &r, key == "deny")
				if key == "deny" {
					d.Deny = append(d.Deny, r)
				} else {
					d.Allow = append(d.Allow, r)
				}
				return err
			})
		case "typed_data":
			d.TypedData = &TypedDataDoc{}
			return fields(v, path, []string{"allow"}, func(_ string, v *yaml.Node, p string) error {
				return seq(v, p, func(_ int, item *yaml.Node, p string) error {
					var t TypedRuleDoc
					err := decodeTypedRule(item, p, &t)
					d.TypedData.Allow = append(d.TypedData.Allow, t)
					return err
				})
			})
		case "messages":
			d.Messages = &MessagesDoc{}
			return decodeMessages(v, path, d.Messages)
		case "stale_after":
			return str(&d.StaleAfter)(key, v, path)
		case "anomalies":
			d.Anomalies = &AnomaliesDoc{}
			return decodeAnomalies(v, path, d.Anomalies)
		}
		return nil
	})
}

func decodeSchedule(n *yaml.Node, path string, s *ScheduleDoc) error {
	return fields(n, path, []string{"timezone", "days", "hours"}, func(k string, v *yaml.Node, p string) error {
		switch k {
		case "timezone":
			return str(&s.Timezone)(k, v, p)
		case "hours":
			return str(&s.Hours)(k, v, p)
		}
		var err error
		s.Days, err = strList(v, p, "a day like mon")
		return err
	})
}

// anomalyFields are the thresholds each anomaly kind takes.
var anomalyFields = map[string][]string{
	AnomalyNewIP:         {"on_anomaly"},
	AnomalyRateSpike:     {"on_anomaly", "multiple", "window", "baseline", "min_requests"},
	AnomalyRefusalBurst:  {"on_anomaly", "count", "within"},
	AnomalyOffSchedule:   {"on_anomaly"},
	AnomalyValueOutlier:  {"on_anomaly", "multiple", "min_history"},
	AnomalyStaleKeyInUse: {"on_anomaly"},
}

func decodeAnomalies(n *yaml.Node, path string, a *AnomaliesDoc) error {
	return fields(n, path, append([]string{"on_anomaly"}, AnomalyKinds...), func(k string, v *yaml.Node, p string) error {
		if k == "on_anomaly" {
			return str(&a.OnAnomaly)(k, v, p)
		}
		d := &AnomalyDoc{}
		*a.kind(k) = d
		return fields(v, p, anomalyFields[k], func(k string, v *yaml.Node, p string) error {
			switch k {
			case "on_anomaly":
				return str(&d.OnAnomaly)(k, v, p)
			case "window":
				return str(&d.Window)(k, v, p)
			case "baseline":
				return str(&d.Baseline)(k, v, p)
			case "within":
				return str(&d.Within)(k, v, p)
			case "multiple":
				s, err := scalar(v, p, "a number greater than 1")
				if err != nil {
					return err
				}
				m, err := strconv.ParseFloat(s, 64)
				if err != nil || m <= 1 || m > 1e6 {
					return fieldErr(v, p, "expected a number greater than 1 (and at most 1000000), got %q", s)
				}
				d.Multiple = m
				return nil
			}
			s, err := scalar(v, p, "a positive integer")
			if err != nil {
				return err
			}
			m, err := strconv.Atoi(s)
			if err != nil || m <= 0 || m > 1_000_000 {
				return fieldErr(v, p, "expected a positive integer (at most 1000000), got %q", s)
			}
			switch k {
			case "min_requests":
				d.MinRequests = m
			case "count":
				d.Count = m
			case "min_history":
				d.MinHistory = m
			}
			return nil
		})
	})
}

func decodeLimit(n *yaml.Node, path string, l *LimitDoc) error {
	return fields(n, path, []string{"asset", "symbol", "decimals", "per_tx", "per_period", "period"}, func(k string, v *yaml.Node, p string) error {
		switch k {
		case "asset":
			return str(&l.Asset)(k, v, p)
		case "symbol":
			return str(&l.Symbol)(k, v, p)
		case "per_tx":
			return str(&l.PerTx)(k, v, p)
		case "per_period":
			return str(&l.PerPeriod)(k, v, p)
		case "period":
			return str(&l.Period)(k, v, p)
		}
		s, err := scalar(v, p, "the token's decimals (0 to 77)")
		if err != nil {
			return err
		}
		dec, err := strconv.Atoi(s)
		if err != nil || dec < 0 || dec > 77 {
			return fieldErr(v, p, "expected the token's decimals (0 to 77), got %q", s)
		}
		l.Decimals = &dec
		return nil
	})
}

func decodeRule(n *yaml.Node, path string, r *RuleDoc, deny bool) error {
	known := []string{"contract", "name", "functions"}
	if deny {
		known = append(known, "reason")
	}
	return fields(n, path, known, func(k string, v *yaml.Node, p string) error {
		switch k {
		case "contract":
			return str(&r.Contract)(k, v, p)
		case "name":
			return str(&r.Name)(k, v, p)
		case "reason":
			return str(&r.Reason)(k, v, p)
		}
		return seq(v, p, func(_ int, item *yaml.Node, p string) error {
			var f FunctionDoc
			if item.Kind == yaml.ScalarNode {
				s, err := scalar(item, p, "a function signature")
				f.Sig = s
				r.Functions = append(r.Functions, f)
				return err
			}
			err := fields(item, p, []string{"sig", "where"}, func(k string, v *yaml.Node, p string) error {
				if k == "sig" {
					return str(&f.Sig)(k, v, p)
				}
				var err error
				f.Where, err = decodeWhere(v, p)
				return err
			})
			r.Functions = append(r.Functions, f)
			return err
		})
	})
}

func decodeTypedRule(n *yaml.Node, path string, t *TypedRuleDoc) error {
	return fields(n, path, []string{"domain", "primary_type", "where"}, func(k string, v *yaml.Node, p string) error {
		switch k {
		case "primary_type":
			return str(&t.PrimaryType)(k, v, p)
		case "where":
			var err error
			t.Where, err = decodeWhere(v, p)
			return err
		}
		return fields(v, p, []string{"name", "version", "chain_id", "verifying_contract"}, func(k string, v *yaml.Node, p string) error {
			switch k {
			case "name":
				return str(&t.Domain.Name)(k, v, p)
			case "version":
				return str(&t.Domain.Version)(k, v, p)
			case "verifying_contract":
				return str(&t.Domain.VerifyingContract)(k, v, p)
			}
			s, err := scalar(v, p, "a chain id")
			if err != nil {
				return err
			}
			id, err := strconv.ParseUint(s, 10, 64)
			if err != nil || id == 0 {
				return fieldErr(v, p, "expected a chain id (a positive integer), got %q", s)
			}
			t.Domain.ChainID = id
			return nil
		})
	})
}

func decodeMessages(n *yaml.Node, path string, m *MessagesDoc) error {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "allow":
			m.Allow = true
			return nil
		case "deny":
			return nil
		}
		return fieldErr(n, path, "expected allow, deny or a mapping with allow, prefixes, domains; got %s", describe(n))
	}
	return fields(n, path, []string{"allow", "prefixes", "domains"}, func(k string, v *yaml.Node, p string) error {
		var err error
		switch k {
		case "allow":
			s, err := scalar(v, p, "true or false")
			if err != nil {
				return err
			}
			switch s {
			case "true":
				m.Allow = true
			case "false":
				m.Allow = false
			default:
				return fieldErr(v, p, "expected true or false, got %q", s)
			}
		case "prefixes":
			m.Prefixes, err = strList(v, p, "a message prefix")
		case "domains":
			m.Domains, err = strList(v, p, "a domain like app.example.com")
		}
		return err
	})
}

// Operators lists the condition operators.
var Operators = []string{"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in"}

var shorthand = []struct{ prefix, op string }{
	{"<=", "lte"}, {">=", "gte"}, {"!=", "ne"}, {"==", "eq"}, {"<", "lt"}, {">", "gt"}, {"=", "eq"},
}

// decodeWhere reads conditions. Each parameter takes a value (equality), a
// string with a comparison prefix ("<= 1000"), a list (membership) or a
// mapping of operators ({gte: 1, lte: 10}).
func decodeWhere(n *yaml.Node, path string) (Where, error) {
	if err := noAlias(n, path); err != nil {
		return nil, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, fieldErr(n, path, "expected a mapping of parameter names to conditions, got %s", describe(n))
	}
	var w Where
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return nil, fieldErr(k, path, "expected parameter names, got %s", describe(k))
		}
		if seen[k.Value] {
			return nil, fieldErr(k, p, "appears twice")
		}
		seen[k.Value] = true
		if err := noAlias(v, p); err != nil {
			return nil, err
		}
		c := CondDoc{Param: k.Value}
		switch v.Kind {
		case yaml.ScalarNode:
			s, err := scalar(v, p, "a value")
			if err != nil {
				return nil, err
			}
			c.Ops = []OpDoc{parseShorthand(s)}
		case yaml.SequenceNode:
			vals, err := strList(v, p, "a value")
			if err != nil {
				return nil, err
			}
			c.Ops = []OpDoc{{Op: "in", Values: vals}}
		case yaml.MappingNode:
			err := fields(v, p, Operators, func(op string, v *yaml.Node, p string) error {
				if op == "in" || op == "not_in" {
					vals, err := strList(v, p, "a value")
					if err == nil && len(vals) == 0 {
						err = fieldErr(v, p, "expected at least one value")
					}
					c.Ops = append(c.Ops, OpDoc{Op: op, Values: vals})
					return err
				}
				s, err := scalar(v, p, "a single value")
				c.Ops = append(c.Ops, OpDoc{Op: op, Values: []string{s}})
				return err
			})
			if err != nil {
				return nil, err
			}
			if len(c.Ops) == 0 {
				return nil, fieldErr(v, p, "expected at least one operator of %s", strings.Join(Operators, ", "))
			}
		default:
			return nil, fieldErr(v, p, "expected a value, a list or a mapping of operators")
		}
		w = append(w, c)
	}
	return w, nil
}

func parseShorthand(s string) OpDoc {
	t := strings.TrimSpace(s)
	for _, sh := range shorthand {
		if strings.HasPrefix(t, sh.prefix) {
			return OpDoc{Op: sh.op, Values: []string{strings.TrimSpace(t[len(sh.prefix):])}}
		}
	}
	return OpDoc{Op: "eq", Values: []string{t}}
}
