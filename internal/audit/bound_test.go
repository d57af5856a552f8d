package audit

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCanonicalSizeIsExact(t *testing.T) {
	for _, r := range []Record{
		{},
		{Seq: 3, Time: time.Unix(5, 0), KeyID: "k", Method: "m", Call: json.RawMessage(`{"a":1}`), Decision: DecisionDeny,
			Reasons: []string{"one", "two"}, TxHash: "0x12", CallerIP: "10.0.0.1", RequestID: "r"},
		{Method: "m", UserAgent: "viem/2"},
	} {
		if got, want := canonicalSize(r), len(Canonical(r)); got != want {
			t.Errorf("canonicalSize = %d, len(Canonical) = %d", got, want)
		}
	}
}

// A record over MaxRecordBytes is refused; Bound brings any record
// under it, whatever its fields hold.
func TestRecordSizeIsBounded(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	reasons := make([]string, 100)
	for i := range reasons {
		reasons[i] = huge
	}
	r := Record{Time: time.Unix(1, 0), Method: huge, KeyID: huge, Decision: DecisionDeny, Reasons: reasons,
		Call: json.RawMessage(`"` + huge + `"`), TxHash: huge, CallerIP: huge, RequestID: huge, UserAgent: huge}
	if err := r.Validate(); !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), "over the limit of 65536") {
		t.Fatalf("Validate of a 100 MB record = %v, want ErrInvalidRecord over the limit", err)
	}
	b := Bound(r)
	if err := b.Validate(); err != nil {
		t.Fatalf("Validate after Bound: %v", err)
	}
	if n := len(Canonical(b)); n > MaxRecordBytes {
		t.Errorf("bound record is %d bytes", n)
	}
	if len(b.Reasons) != MaxReasons || b.Reasons[MaxReasons-1] != "and 85 more reasons" || len(b.Reasons[0]) > MaxReasonBytes {
		t.Errorf("reasons: %d, last %q, first %d bytes", len(b.Reasons), b.Reasons[len(b.Reasons)-1], len(b.Reasons[0]))
	}
	var call struct {
		Oversized int    `json:"oversized"`
		SHA256    string `json:"sha256"`
	}
	if err := json.Unmarshal(b.Call, &call); err != nil || call.Oversized != 1<<20+2 || len(call.SHA256) != 64 {
		t.Errorf("call = %s (%v)", b.Call, err)
	}
	for name, f := range map[string]string{"key": b.KeyID, "method": b.Method, "tx": b.TxHash, "ip": b.CallerIP, "request": b.RequestID, "ua": b.UserAgent} {
		if len(f) > MaxFieldBytes {
			t.Errorf("%s is %d bytes", name, len(f))
		}
	}
	small := Record{Time: time.Unix(1, 0), Method: "m", Decision: DecisionAllow, Reasons: []string{"fine"}, Call: json.RawMessage(`{}`)}
	if got := Bound(small); got.Method != "m" || got.Reasons[0] != "fine" || string(got.Call) != "{}" {
		t.Errorf("Bound changed a small record: %+v", got)
	}
}
