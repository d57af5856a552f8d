package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sample(seq int64) Record {
	return Record{
		Seq:       seq,
		Time:      t0.Add(time.Duration(seq) * time.Second),
		KeyID:     "abcdefghijkl",
		Method:    "eth_sendTransaction",
		Call:      json.RawMessage(`{"to":"0x00000000000000000000000000000000000000aa","value":"0x1"}`),
		Decision:  DecisionAllow,
		Reasons:   []string{"rule 1 allows transfer"},
		TxHash:    "0x1234",
		CallerIP:  "127.0.0.1",
		RequestID: "req-1",
	}
}

// chain builds a valid log of n records.
func chain(n int) ([]Record, Head) {
	prev := GenesisHash()
	var out []Record
	for i := 1; i <= n; i++ {
		r := Chain(prev, sample(int64(i)))
		out = append(out, r)
		prev = r.Hash
	}
	return out, Head{Seq: int64(n), Hash: prev}
}

func TestChain(t *testing.T) {
	r := sample(1)
	r.Time = time.Date(2026, 3, 1, 13, 0, 0, 123456789, time.FixedZone("CET", 3600))
	got := Chain(GenesisHash(), r)

	if want := time.Date(2026, 3, 1, 12, 0, 0, 123000000, time.UTC); !got.Time.Equal(want) || got.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v UTC", got.Time, want)
	}
	if !bytes.Equal(got.PrevHash, make([]byte, 32)) || len(got.Hash) != 32 {
		t.Errorf("PrevHash %x Hash %x", got.PrevHash, got.Hash)
	}
	if again := Chain(GenesisHash(), r); !bytes.Equal(again.Hash, got.Hash) {
		t.Error("Chain is not deterministic")
	}
	if got2 := Chain(GenesisHash(), got); !bytes.Equal(got2.Hash, got.Hash) {
		t.Error("re-chaining a chained record changed its hash (input hashes must be ignored)")
	}
	if other := Chain(got.Hash, r); bytes.Equal(other.Hash, got.Hash) {
		t.Error("hash does not depend on prev")
	}

	// Every field is covered: changing any one changes the hash.
	mutations := map[string]func(*Record){
		"seq":          func(r *Record) { r.Seq++ },
		"time":         func(r *Record) { r.Time = r.Time.Add(time.Millisecond) },
		"key id":       func(r *Record) { r.KeyID = "x" },
		"method":       func(r *Record) { r.Method = "eth_signTransaction" },
		"call":         func(r *Record) { r.Call = json.RawMessage(`{}`) },
		"decision":     func(r *Record) { r.Decision = DecisionDeny },
		"reasons":      func(r *Record) { r.Reasons = append(r.Reasons, "") },
		"reason text":  func(r *Record) { r.Reasons = []string{"rule 2"} },
		"tx hash":      func(r *Record) { r.TxHash = "" },
		"caller ip":    func(r *Record) { r.CallerIP = "10.0.0.1" },
		"request id":   func(r *Record) { r.RequestID = "req-2" },
		"field shift":  func(r *Record) { r.KeyID, r.Method = r.KeyID+"e", r.Method[1:] },
		"reason split": func(r *Record) { r.Reasons = []string{"rule 1 allows", " transfer"} },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			m := sample(1)
			mutate(&m)
			if bytes.Equal(Chain(GenesisHash(), m).Hash, Chain(GenesisHash(), sample(1)).Hash) {
				t.Errorf("changing %s did not change the hash", name)
			}
		})
	}

	// nil and empty slices are the same record.
	a, b := sample(1), sample(1)
	a.Reasons, a.Call = nil, nil
	b.Reasons, b.Call = []string{}, json.RawMessage{}
	if !bytes.Equal(Chain(nil, a).Hash, Chain(nil, b).Hash) {
		t.Error("nil and empty slices hash differently")
	}
}

// TestCanonicalGolden pins the encoding: changing it breaks every stored
// log, so it must be a deliberate, versioned change.
func TestCanonicalGolden(t *testing.T) {
	r := Record{Seq: 1, Time: time.UnixMilli(1000).UTC(), KeyID: "k", Method: "m", Decision: "deny", Reasons: []string{"r"}}
	want := []byte{
		1,
		0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 0x03, 0xe8,
		0, 0, 0, 1, 'k',
		0, 0, 0, 1, 'm',
		0, 0, 0, 0,
		0, 0, 0, 4, 'd', 'e', 'n', 'y',
		0, 0, 0, 1, 0, 0, 0, 1, 'r',
		0, 0, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 0,
	}
	if diff := cmp.Diff(want, Canonical(r)); diff != "" {
		t.Errorf("Canonical (-want +got):\n%s", diff)
	}
	const wantHash = "53968d4725bef342a6b1e6cdbabd24ea6634876c711c2719ea8ba8598d44ede8"
	if got := hex.EncodeToString(Chain(GenesisHash(), r).Hash); got != wantHash {
		t.Errorf("hash = %s, want %s", got, wantHash)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Record)
		ok     bool
	}{
		{"valid", func(*Record) {}, true},
		{"deny", func(r *Record) { r.Decision = DecisionDeny }, true},
		{"error", func(r *Record) { r.Decision = DecisionError }, true},
		{"empty key id", func(r *Record) { r.KeyID = "" }, true},
		{"unknown decision", func(r *Record) { r.Decision = "maybe" }, false},
		{"empty decision", func(r *Record) { r.Decision = "" }, false},
		{"no method", func(r *Record) { r.Method = "" }, false},
		{"zero time", func(r *Record) { r.Time = time.Time{} }, false},
		{"negative seq", func(r *Record) { r.Seq = -1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sample(1)
			tt.mutate(&r)
			err := r.Validate()
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidRecord)) {
				t.Errorf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// A record with a user agent is hashed in layout version 2, which adds
// the user agent as the last field; one without keeps version 1 (the
// golden bytes above), so logs written before the field existed verify
// unchanged. Changing the user agent changes the hash.
func TestCanonicalV2UserAgent(t *testing.T) {
	r := Record{Seq: 1, Time: time.UnixMilli(1000).UTC(), KeyID: "k", Method: "m", Decision: "deny", Reasons: []string{"r"}}
	v1 := Canonical(r)
	r.UserAgent = "ua"
	v2 := Canonical(r)
	want := append([]byte{2}, v1[1:]...)
	want = append(want, 0, 0, 0, 2, 'u', 'a')
	if diff := cmp.Diff(want, v2); diff != "" {
		t.Errorf("Canonical v2 (-want +got):\n%s", diff)
	}
	a := Chain(GenesisHash(), r)
	r.UserAgent = "ub"
	if b := Chain(GenesisHash(), r); string(a.Hash) == string(b.Hash) {
		t.Error("the user agent is not covered by the hash")
	}
	edited := a
	edited.UserAgent = "curl/8"
	if rep := Verify([]Record{edited}, &Head{Seq: 1, Hash: a.Hash}); rep.Err() == nil {
		t.Error("a record whose user agent was edited verifies")
	}
}
