package store

import (
	"context"
	"sync"

	"github.com/agentkeys/agentkeys/internal/audit"
)

// DefaultVerifyPage is how many records VerifyAudit reads at a time when
// given no page size.
const DefaultVerifyPage = 500

// VerifyAudit verifies the whole log page by page. The head is read after
// the records (an append commits a record and the head together, so every
// genuine record read is at or below it); if appends moved the head past
// what was read, reading continues. A record beyond the final head can then
// only have been inserted behind the store's back, and is reported. The log
// must also still pass through each of exported, heads exported earlier
// and kept apart from the store (audit.Verifier.Expect).
func VerifyAudit(ctx context.Context, st Store, pageSize int, exported ...audit.Head) (audit.Report, audit.Head, error) {
	return VerifyAuditAlso(ctx, st, pageSize, nil, exported...)
}

// VerifyAuditAlso is VerifyAudit with further checks of each record's
// content (audit.Verifier.Also), such as the owner's passkey approvals.
func VerifyAuditAlso(ctx context.Context, st Store, pageSize int, also []func(audit.Record) (audit.ProblemKind, string, bool), exported ...audit.Head) (audit.Report, audit.Head, error) {
	if pageSize < 1 {
		pageSize = DefaultVerifyPage
	}
	v := audit.NewVerifier(audit.GenesisHead())
	for _, check := range also {
		v.Also(check)
	}
	for _, h := range exported {
		v.Expect(h)
	}
	var after int64
	for round := 0; ; round++ {
		read := 0
		err := readAhead(ctx, st, after, pageSize, func(recs []audit.Record) {
			for _, r := range recs {
				v.Add(r)
				after = r.Seq
			}
			read += len(recs)
		})
		if err != nil {
			return audit.Report{}, audit.Head{}, err
		}
		head, err := st.AuditHead(ctx)
		if err != nil {
			return audit.Report{}, audit.Head{}, err
		}
		// Stop when everything up to the head was read, or when a further
		// round found nothing new (records missing at the end: the report
		// says truncated).
		if head.Seq <= after || (round > 0 && read == 0) {
			return v.Report(&head), head, nil
		}
	}
}

// verifyReaders is how many pages VerifyAudit reads at once, ahead of
// the one it verifies: reading (the store's work) and hashing then share
// the cores.
const verifyReaders = 3

// readAhead hands use the records after `after` in ascending Seq, a page
// at a time, until a page comes back short: exactly what reading page
// after page from the last Seq seen would hand it. It reads up to
// verifyReaders pages at once, each from where it would start if Seqs
// run on without gaps (page i after after+i*pageSize); a page that starts
// before the last Seq handed on (there were gaps) is handed on from past
// it, and a full page ends at or beyond where the next one starts, so
// nothing is skipped or handed on twice.
func readAhead(ctx context.Context, st Store, after int64, pageSize int, use func([]audit.Record)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type page struct {
		recs []audit.Record
		err  error
	}
	var wg sync.WaitGroup
	defer wg.Wait() // no read outlives the call
	pending := make([]chan page, 0, verifyReaders)
	next := after
	start := func() {
		ch := make(chan page, 1)
		from := next
		next += int64(pageSize)
		wg.Go(func() {
			recs, err := st.AuditRecords(ctx, from, pageSize)
			ch <- page{recs, err}
		})
		pending = append(pending, ch)
	}
	for range verifyReaders {
		start()
	}
	last := after
	for {
		p := <-pending[0]
		pending = pending[1:]
		if p.err != nil {
			return p.err
		}
		recs := p.recs
		for len(recs) > 0 && recs[0].Seq <= last {
			recs = recs[1:]
		}
		if len(recs) > 0 {
			use(recs)
			last = recs[len(recs)-1].Seq
		}
		if len(p.recs) < pageSize {
			return nil
		}
		start()
	}
}
