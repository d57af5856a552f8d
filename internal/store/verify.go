package store

import (
	"context"

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
	if pageSize < 1 {
		pageSize = DefaultVerifyPage
	}
	v := audit.NewVerifier(audit.GenesisHead())
	for _, h := range exported {
		v.Expect(h)
	}
	var after int64
	for round := 0; ; round++ {
		read := 0
		for {
			recs, err := st.AuditRecords(ctx, after, pageSize)
			if err != nil {
				return audit.Report{}, audit.Head{}, err
			}
			for _, r := range recs {
				v.Add(r)
				after = r.Seq
			}
			read += len(recs)
			if len(recs) < pageSize {
				break
			}
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
