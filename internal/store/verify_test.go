package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// logStore is a store whose audit log is a slice, for VerifyAudit: it
// answers AuditRecords and AuditHead only.
type logStore struct {
	store.Store
	recs []audit.Record
	head audit.Head
}

func (l *logStore) AuditRecords(_ context.Context, after int64, limit int) ([]audit.Record, error) {
	out := []audit.Record{}
	for _, r := range l.recs {
		if r.Seq > after && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (l *logStore) AuditHead(context.Context) (audit.Head, error) { return l.head, nil }

// chain is a log of n records, chained.
func chain(n int) []audit.Record {
	prev := audit.GenesisHash()
	var out []audit.Record
	for i := 1; i <= n; i++ {
		r := audit.Chain(prev, audit.Record{Seq: int64(i), Time: time.Unix(int64(i), 0), Method: "m", Decision: audit.DecisionAllow})
		out = append(out, r)
		prev = r.Hash
	}
	return out
}

// TestVerifyAuditReadsAhead: reading pages ahead, VerifyAudit finds what
// verifying the records one by one finds, wherever records are missing
// and whatever the page size.
func TestVerifyAuditReadsAhead(t *testing.T) {
	full := chain(40)
	drop := func(seqs ...int64) []audit.Record {
		var out []audit.Record
		for _, r := range full {
			keep := true
			for _, s := range seqs {
				keep = keep && r.Seq != s
			}
			if keep {
				out = append(out, r)
			}
		}
		return out
	}
	span := func(from, to int64) []int64 {
		var out []int64
		for s := from; s <= to; s++ {
			out = append(out, s)
		}
		return out
	}
	logs := map[string][]audit.Record{
		"whole":              full,
		"one missing":        drop(5),
		"a run missing":      drop(span(3, 17)...),
		"missing at a start": drop(1, 2),
		"missing at the end": drop(span(35, 40)...),
		"several gaps":       drop(2, 9, 10, 11, 23, 31, 32),
		"empty":              nil,
	}
	head := audit.Head{Seq: 40, Hash: full[39].Hash}
	for name, recs := range logs {
		want := audit.Verify(recs, &head)
		for pageSize := 1; pageSize <= 9; pageSize++ {
			t.Run(fmt.Sprintf("%s/page %d", name, pageSize), func(t *testing.T) {
				got, gotHead, err := store.VerifyAudit(t.Context(), &logStore{recs: recs, head: head}, pageSize)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("report (-one by one +read ahead):\n%s", diff)
				}
				if gotHead.Seq != head.Seq {
					t.Errorf("head %d, want %d", gotHead.Seq, head.Seq)
				}
			})
		}
	}
}
