package audit

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVerify(t *testing.T) {
	type found struct {
		Seq  int64
		Kind ProblemKind
	}
	tests := []struct {
		name   string
		n      int
		tamper func(rs []Record, h *Head) ([]Record, *Head)
		want   []found
	}{
		{
			name:   "intact",
			n:      6,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) { return rs, h },
		},
		{
			name:   "empty log, genesis head",
			n:      0,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) { return rs, h },
		},
		{
			name:   "empty log, zero head",
			n:      0,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) { return rs, &Head{} },
		},
		{
			name: "edited reasons",
			n:    6,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				rs[2].Reasons = []string{"looks fine"}
				return rs, h
			},
			want: []found{{3, ProblemEdited}},
		},
		{
			name: "edited decision and rehashed",
			n:    6,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				rs[2].Decision = DecisionDeny
				rs[2] = Chain(rs[2].PrevHash, rs[2])
				return rs, h
			},
			want: []found{{4, ProblemBrokenLink}},
		},
		{
			name: "edited time",
			n:    6,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				rs[0].Time = rs[0].Time.Add(-1e9)
				return rs, h
			},
			want: []found{{1, ProblemEdited}},
		},
		{
			name: "deleted middle record",
			n:    6,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				return append(rs[:3:3], rs[4:]...), h
			},
			want: []found{{5, ProblemMissing}},
		},
		{
			name: "deleted two middle records",
			n:    6,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				return append(rs[:2:2], rs[4:]...), h
			},
			want: []found{{5, ProblemMissing}},
		},
		{
			name:   "deleted first record",
			n:      6,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) { return rs[1:], h },
			want:   []found{{2, ProblemMissing}},
		},
		{
			name: "deleted middle record and renumbered the rest",
			n:    5,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				out := append(rs[:2:2], rs[3:]...)
				for i := range out {
					out[i].Seq = int64(i + 1)
				}
				return out, &Head{Seq: 4, Hash: h.Hash}
			},
			want: []found{{3, ProblemBrokenLink}, {3, ProblemEdited}, {4, ProblemEdited}},
		},
		{
			name:   "deleted last record",
			n:      6,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) { return rs[:5], h },
			want:   []found{{6, ProblemTruncated}},
		},
		{
			name:   "deleted everything",
			n:      3,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) { return nil, h },
			want:   []found{{1, ProblemTruncated}},
		},
		{
			name:   "deleted last record without a head goes unnoticed",
			n:      6,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) { return rs[:5], nil },
		},
		{
			name: "swapped content of two records (seq kept in place)",
			n:    5,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				rs[1], rs[2] = rs[2], rs[1]
				rs[1].Seq, rs[2].Seq = 2, 3
				return rs, h
			},
			want: []found{{2, ProblemBrokenLink}, {2, ProblemEdited}, {3, ProblemBrokenLink}, {3, ProblemEdited}, {4, ProblemBrokenLink}},
		},
		{
			name: "records delivered out of order",
			n:    4,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				rs[1], rs[2] = rs[2], rs[1]
				return rs, h
			},
			want: []found{{3, ProblemMissing}, {2, ProblemOutOfOrder}},
		},
		{
			name: "duplicated record",
			n:    3,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				return []Record{rs[0], rs[1], rs[1], rs[2]}, h
			},
			want: []found{{2, ProblemOutOfOrder}},
		},
		{
			name: "record appended past the head",
			n:    4,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				return rs, &Head{Seq: 3, Hash: rs[2].Hash}
			},
			want: []found{{4, ProblemHead}},
		},
		{
			name: "last record replaced and rehashed",
			n:    4,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				rs[3].Reasons = nil
				rs[3] = Chain(rs[3].PrevHash, rs[3])
				return rs, h
			},
			want: []found{{4, ProblemHead}},
		},
		{
			name: "whole log rewritten from genesis, head kept",
			n:    3,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				prev := GenesisHash()
				for i := range rs {
					rs[i].CallerIP = "10.9.9.9"
					rs[i] = Chain(prev, rs[i])
					prev = rs[i].Hash
				}
				return rs, h
			},
			want: []found{{3, ProblemHead}},
		},
		{
			name: "first record not chained to genesis",
			n:    2,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				rs[0] = Chain(bytes.Repeat([]byte{1}, 32), rs[0])
				return rs, h
			},
			want: []found{{1, ProblemBrokenLink}, {2, ProblemBrokenLink}},
		},
		{
			name: "short prev hash",
			n:    2,
			tamper: func(rs []Record, h *Head) ([]Record, *Head) {
				rs[1].PrevHash = rs[1].PrevHash[:31]
				return rs, h
			},
			want: []found{{2, ProblemBrokenLink}, {2, ProblemEdited}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, h := chain(tt.n)
			rs, hp := tt.tamper(rs, &h)
			rep := Verify(rs, hp)

			var got []found
			for _, p := range rep.Problems {
				got = append(got, found{p.Seq, p.Kind})
				if p.Detail == "" {
					t.Errorf("problem %v has no words", p)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nreport:\n%s", diff, rep)
			}
			if rep.OK() != (len(tt.want) == 0) {
				t.Errorf("OK() = %v", rep.OK())
			}
			if err := rep.Err(); (err == nil) != rep.OK() || (err != nil && !errors.Is(err, ErrTampered)) {
				t.Errorf("Err() = %v", err)
			}
			if rep.HeadChecked != (hp != nil) {
				t.Errorf("HeadChecked = %v", rep.HeadChecked)
			}
			if rep.Records != len(rs) {
				t.Errorf("Records = %d, want %d", rep.Records, len(rs))
			}
		})
	}
}

func TestReportWords(t *testing.T) {
	rs, h := chain(5)
	ok := Verify(rs, &h)
	if got, want := ok.String(), "ok: 5 records (seq 1..5), chain intact and matches the head"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := Verify(rs, nil).String(); !strings.Contains(got, "no head given") {
		t.Errorf("String without head = %q", got)
	}

	del := append(rs[:2:2], rs[3:4]...)
	rep := Verify(del, &h)
	want := "FAILED: 2 problem(s) in 3 records:\n" +
		"  record 4: missing: record 3 is missing (seq jumps from 2 to 4)\n" +
		"  record 5: truncated: the log ends at record 4 but the head is at 5: records 5..5 were removed from the end"
	if got := rep.String(); got != want {
		t.Errorf("String =\n%s\nwant\n%s", got, want)
	}
	if got, want := rep.Err().Error(), "audit: log fails verification: record 4: missing: record 3 is missing (seq jumps from 2 to 4) (and 1 more)"; got != want {
		t.Errorf("Err = %q, want %q", got, want)
	}
}

func TestVerifierPaged(t *testing.T) {
	rs, h := chain(10)
	v := NewVerifier(GenesisHead())
	for page := range 4 {
		for _, r := range rs[page*3 : min(len(rs), page*3+3)] {
			v.Add(r)
		}
	}
	if rep := v.Report(&h); !rep.OK() || rep.Records != 10 {
		t.Errorf("paged verification: %s", rep)
	}

	// Resume after a checkpoint.
	v2 := NewVerifier(Head{Seq: rs[5].Seq, Hash: rs[5].Hash})
	for _, r := range rs[6:] {
		v2.Add(r)
	}
	if rep := v2.Report(&h); !rep.OK() || rep.FirstSeq != 7 {
		t.Errorf("resumed verification: %s", rep)
	}

	// Resuming from a wrong checkpoint hash is caught at the first record.
	v3 := NewVerifier(Head{Seq: 6, Hash: rs[4].Hash})
	v3.Add(rs[6])
	if rep := v3.Report(nil); rep.OK() || rep.Problems[0].Kind != ProblemBrokenLink {
		t.Errorf("wrong checkpoint: %s", rep)
	}
}

// TestVerifierExpect: a log that passes through an exported head
// verifies; one rebuilt from an earlier record (intact on its own), or cut
// back before the head, is reported as an exported-head mismatch.
func TestVerifierExpect(t *testing.T) {
	rs, head := chain(6)
	exported := Head{Seq: 4, Hash: rs[3].Hash}
	run := func(rs []Record, head Head) Report {
		v := NewVerifier(GenesisHead())
		v.Expect(exported)
		for _, r := range rs {
			v.Add(r)
		}
		return v.Report(&head)
	}
	if rep := run(rs, head); !rep.OK() {
		t.Fatalf("log through the exported head: %v", rep.Problems)
	}

	// Rebuild from record 3 with other content: every hash after it
	// changes, and the rebuilt chain is intact.
	rebuilt := append([]Record(nil), rs[:2]...)
	for i := 2; i < 6; i++ {
		r := sample(int64(i + 1))
		r.Reasons = []string{"rewritten"}
		r.PrevHash = rebuilt[i-1].Hash
		r.Hash = hashRecord(r.PrevHash, r)
		rebuilt = append(rebuilt, r)
	}
	newHead := Head{Seq: 6, Hash: rebuilt[5].Hash}
	if rep := Verify(rebuilt, &newHead); !rep.OK() {
		t.Fatalf("the rebuilt chain should verify on its own: %v", rep.Problems)
	}
	rep := run(rebuilt, newHead)
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemExported || rep.Problems[0].Seq != 4 {
		t.Errorf("rebuilt chain: %v", rep.Problems)
	}

	cut := rs[:3]
	rep = run(cut, Head{Seq: 3, Hash: cut[2].Hash})
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemExported || !strings.Contains(rep.Problems[0].Detail, "no longer has (it ends at 3)") {
		t.Errorf("cut-back chain: %v", rep.Problems)
	}
}
