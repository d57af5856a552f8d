package policy

import (
	"encoding/json"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"go.yaml.in/yaml/v3"
)

// caseFile is one decision fixture in testdata/cases. Its name starts with
// the expected verdict: allow_... or deny_....
type caseFile struct {
	Policy   string            `yaml:"policy"` // a file in testdata/policies
	Profile  *profileSpec      `yaml:"profile"`
	Owner    string            `yaml:"owner"`
	Session  string            `yaml:"session"`
	Now      string            `yaml:"now"`
	IssuedAt string            `yaml:"issued_at"`
	Spent    map[string]string `yaml:"spent"` // raw units
	Requests int               `yaml:"requests"`
	Request  requestSpec       `yaml:"request"`
	Expect   struct {
		Decision string            `yaml:"decision"`
		Reasons  []string          `yaml:"reasons"` // each must be a substring of some reason
		Rule     string            `yaml:"rule"`
		Spend    map[string]string `yaml:"spend"` // raw units; "fee:ASSET" for the fee
	} `yaml:"expect"`
}

type profileSpec struct {
	Name    string   `yaml:"name"`
	Routers []string `yaml:"routers"`
	Permit2 string   `yaml:"permit2"`
	Limits  []struct {
		Asset     string `yaml:"asset"`
		Decimals  *int   `yaml:"decimals"`
		PerPeriod string `yaml:"per_period"`
	} `yaml:"limits"`
}

type requestSpec struct {
	Kind           Kind           `yaml:"kind"`
	ChainID        uint64         `yaml:"chain_id"`
	IP             string         `yaml:"ip"`
	From           string         `yaml:"from"`
	To             string         `yaml:"to"`
	Value          string         `yaml:"value"`
	Data           string         `yaml:"data"`
	Call           map[string]any `yaml:"call"`
	Authorizations int            `yaml:"authorizations"`
	MaxFee         string         `yaml:"max_fee"`
	TypedData      map[string]any `yaml:"typed_data"`
	Message        string         `yaml:"message"`
}

const testOwner = "0x1111111111111111111111111111111111111111"

func loadCase(t *testing.T, path string) (*Policy, Request, State, caseFile) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c caseFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	var pol *Policy
	switch {
	case c.Policy != "":
		b, err := os.ReadFile(filepath.Join("testdata", "policies", c.Policy))
		if err != nil {
			t.Fatal(err)
		}
		if pol, err = Parse(b, Options{}); err != nil {
			t.Fatalf("policy %s: %v", c.Policy, err)
		}
	case c.Profile != nil:
		pp := ProfileParams{Chains: []uint64{31337}}
		for _, l := range c.Profile.Limits {
			pp.Limits = append(pp.Limits, LimitDoc{Asset: l.Asset, Decimals: l.Decimals, PerPeriod: l.PerPeriod})
		}
		for _, r := range c.Profile.Routers {
			pp.Routers = append(pp.Routers, common.HexToAddress(r))
		}
		if c.Profile.Permit2 != "" {
			a := common.HexToAddress(c.Profile.Permit2)
			pp.Permit2 = &a
		}
		doc, err := ProfileDocument(c.Profile.Name, pp)
		if err != nil {
			t.Fatal(err)
		}
		if pol, err = Compile(doc, Options{}); err != nil {
			t.Fatalf("profile %s: %v", c.Profile.Name, err)
		}
	default:
		t.Fatal("fixture needs policy or profile")
	}
	st := State{Now: mustTime(t, c.Now, "2026-11-25T12:00:00Z"), Spent: map[string]*big.Int{}, Requests: c.Requests}
	st.IssuedAt = mustTime(t, c.IssuedAt, st.Now.Add(-time.Hour).Format(time.RFC3339))
	if c.Owner == "" {
		c.Owner = testOwner
	}
	st.Vars.Owner = common.HexToAddress(c.Owner)
	if c.Session != "" {
		st.Vars.Session = common.HexToAddress(c.Session)
	}
	for k, v := range c.Spent {
		n, ok := new(big.Int).SetString(v, 10)
		if !ok {
			t.Fatalf("spent %s: %q", k, v)
		}
		st.Spent[assetKey(k)] = n
	}
	rs := c.Request
	req := Request{Kind: rs.Kind, ChainID: rs.ChainID, Method: string(rs.Kind)}
	if req.ChainID == 0 {
		req.ChainID = 31337
	}
	if rs.IP != "" {
		req.SourceIP = netip.MustParseAddr(rs.IP)
	}
	if rs.From != "" {
		a := common.HexToAddress(rs.From)
		req.From = &a
	}
	switch rs.Kind {
	case KindTransaction:
		tx := &Tx{Value: new(big.Int), Authorizations: rs.Authorizations}
		if rs.To != "" {
			a := common.HexToAddress(rs.To)
			tx.To = &a
		}
		if rs.Value != "" {
			v, err := parseInteger(rs.Value)
			if err != nil {
				t.Fatal(err)
			}
			tx.Value = v
		}
		if rs.Data != "" {
			tx.Data = hexBytes(t, rs.Data)
		}
		if rs.MaxFee != "" {
			v, err := parseInteger(rs.MaxFee)
			if err != nil {
				t.Fatal(err)
			}
			tx.MaxFee = v
		}
		if rs.Call != nil {
			tx.Data = encodeCall(t, rs.Call["sig"].(string), asList(rs.Call["args"]))
		}
		req.Tx = tx
	case KindTypedData:
		b, _ := json.Marshal(rs.TypedData)
		var td apitypes.TypedData
		if err := json.Unmarshal(b, &td); err != nil {
			t.Fatalf("typed data: %v", err)
		}
		req.TypedData = &td
	case KindMessage:
		req.Message = []byte(rs.Message)
	}
	return pol, req, st, c
}

func mustTime(t *testing.T, s, def string) time.Time {
	if s == "" {
		s = def
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

func TestDecisionFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "cases", "*.yaml"))
	if len(files) < 10 {
		t.Fatalf("expected decision fixtures, found %d", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			pol, req, st, c := loadCase(t, f)
			want := Verdict(strings.SplitN(name, "_", 2)[0])
			if c.Expect.Decision != "" && Verdict(c.Expect.Decision) != want {
				t.Fatalf("file name says %s, expect.decision says %s", want, c.Expect.Decision)
			}
			d := pol.Evaluate(req, st)
			if d.Verdict != want {
				t.Fatalf("verdict = %s, want %s; reasons: %q", d.Verdict, want, d.Reasons())
			}
			if want == Allow && (d.Rule() == "" || len(d.Reasons()) != 0) {
				t.Errorf("allow must name its rule and carry no reasons: rule=%q reasons=%q", d.Rule(), d.Reasons())
			}
			if want == Deny && (len(d.Reasons()) == 0 || d.Rule() != "") {
				t.Errorf("deny must carry reasons and no rule: rule=%q reasons=%q", d.Rule(), d.Reasons())
			}
			for _, sub := range c.Expect.Reasons {
				found := false
				for _, r := range d.Reasons() {
					if strings.Contains(r, sub) {
						found = true
					}
				}
				if !found {
					t.Errorf("no reason contains %q; reasons: %q", sub, d.Reasons())
				}
			}
			if c.Expect.Rule != "" && !strings.Contains(d.Rule(), c.Expect.Rule) {
				t.Errorf("rule %q does not contain %q", d.Rule(), c.Expect.Rule)
			}
			if c.Expect.Spend != nil {
				got := map[string]string{}
				for _, s := range d.Spend {
					key := s.Asset
					if s.Fee {
						key = "fee:" + key // the fee is reserved apart from the value
					}
					got[key] = s.Amount.String()
				}
				want := map[string]string{}
				for k, v := range c.Expect.Spend {
					if a, ok := strings.CutPrefix(k, "fee:"); ok {
						want["fee:"+assetKey(a)] = v
						continue
					}
					want[assetKey(k)] = v
				}
				if diff := cmpDiff(want, got); diff != "" {
					t.Errorf("spend (-want +got):\n%s", diff)
				}
			}
		})
	}
}
