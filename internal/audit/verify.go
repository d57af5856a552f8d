package audit

import (
	"bytes"
	"fmt"
	"strings"
)

// ProblemKind classifies what Verify found wrong.
type ProblemKind string

// Problem kinds, each with the tampering it points to.
const (
	// ProblemEdited: a record's content does not match its own hash: it was
	// edited in place, or moved to another seq.
	ProblemEdited ProblemKind = "edited"
	// ProblemBrokenLink: a record's prev_hash is not the hash of the record
	// before it: that record was replaced, or records were reordered.
	ProblemBrokenLink ProblemKind = "broken-link"
	// ProblemMissing: seq numbers jump: records in between were deleted.
	ProblemMissing ProblemKind = "missing"
	// ProblemOutOfOrder: a seq is not greater than the one before it:
	// records are duplicated or out of order.
	ProblemOutOfOrder ProblemKind = "out-of-order"
	// ProblemTruncated: the log ends before the head: records were deleted
	// from the end.
	ProblemTruncated ProblemKind = "truncated"
	// ProblemHead: the last record disagrees with the head (different hash,
	// or records beyond the head).
	ProblemHead ProblemKind = "head-mismatch"
	// ProblemExported: the log disagrees with a head exported earlier and
	// kept elsewhere (Verifier.Expect): history up to it was rewritten, or
	// the log was cut back before it.
	ProblemExported ProblemKind = "exported-head-mismatch"
)

// Problem is one finding of Verify, at record Seq, explained in Detail.
type Problem struct {
	Seq    int64       `json:"seq"`
	Kind   ProblemKind `json:"kind"`
	Detail string      `json:"detail"`
}

func (p Problem) String() string { return fmt.Sprintf("record %d: %s: %s", p.Seq, p.Kind, p.Detail) }

// Report is the outcome of verifying a log.
type Report struct {
	Records     int       `json:"records"`   // records examined
	FirstSeq    int64     `json:"first_seq"` // 0 if none
	LastSeq     int64     `json:"last_seq"`  // highest seq examined; 0 if none
	HeadChecked bool      `json:"head_checked"`
	Problems    []Problem `json:"problems,omitempty"`
}

// OK reports whether no problem was found.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Err returns nil if the log verified, else an error wrapping ErrTampered
// that names the first problem and how many there are.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	more := ""
	if n := len(r.Problems) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more)", n)
	}
	return fmt.Errorf("%w: %s%s", ErrTampered, r.Problems[0], more)
}

// String is a summary for people, one problem per line.
func (r Report) String() string {
	var b strings.Builder
	if r.OK() {
		fmt.Fprintf(&b, "ok: %d records", r.Records)
		if r.Records > 0 {
			fmt.Fprintf(&b, " (seq %d..%d)", r.FirstSeq, r.LastSeq)
		}
		if r.HeadChecked {
			b.WriteString(", chain intact and matches the head")
		} else {
			b.WriteString(", chain intact; no head given, so deletion at the end cannot be ruled out")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "FAILED: %d problem(s) in %d records:", len(r.Problems), r.Records)
	for _, p := range r.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Verifier checks records one at a time, for logs read page by page. Feed
// records in the order the store returns them (ascending seq), then call
// Report. Not safe for concurrent use.
type Verifier struct {
	prevSeq  int64
	prevHash []byte
	rep      Report
	buf      []byte // reused to hash each record
	// expect are heads exported earlier that the log must still pass
	// through; met records which were seen.
	expect []Head
	met    []bool
	// also are further checks of each record's content (Also).
	also []func(Record) (ProblemKind, string, bool)
}

// Also adds a check of each record's content that the hash chain cannot
// make (passkey approvals: package passkey), run on every record in
// order after its chain checks; a finding is reported like theirs. Call
// it before the first Add.
func (v *Verifier) Also(check func(Record) (kind ProblemKind, detail string, bad bool)) {
	v.also = append(v.also, check)
}

// Expect makes the verification also check that the log passes through
// h, a head exported earlier (`audit verify --write-head`) and kept where
// whoever can write the store cannot: the record at h.Seq must exist and
// have h.Hash. A chain that verifies on its own can still have been
// rebuilt from some record on by a writer of the store; only a head kept
// apart from it notices. Call it before the first Add.
func (v *Verifier) Expect(h Head) {
	v.expect = append(v.expect, Head{Seq: h.Seq, Hash: bytes.Clone(h.Hash)})
	v.met = append(v.met, false)
}

// NewVerifier starts verifying at the record after `after`, trusting that
// head: GenesisHead() verifies a whole log; a saved Head resumes where an
// earlier verification ended.
func NewVerifier(after Head) *Verifier {
	return &Verifier{prevSeq: after.Seq, prevHash: bytes.Clone(after.Hash)}
}

func (v *Verifier) problem(seq int64, kind ProblemKind, format string, args ...any) {
	v.rep.Problems = append(v.rep.Problems, Problem{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

// Add checks r against its own hash and against the record before it.
func (v *Verifier) Add(r Record) {
	v.rep.Records++
	if v.rep.Records == 1 {
		v.rep.FirstSeq = r.Seq
	}
	v.rep.LastSeq = max(v.rep.LastSeq, r.Seq)

	linked := true
	switch want := v.prevSeq + 1; {
	case r.Seq < want:
		v.problem(r.Seq, ProblemOutOfOrder, "comes after record %d: records are duplicated or out of order", v.prevSeq)
		linked = false
	case r.Seq > want:
		if r.Seq == want+1 {
			v.problem(r.Seq, ProblemMissing, "record %d is missing (seq jumps from %d to %d)", want, v.prevSeq, r.Seq)
		} else {
			v.problem(r.Seq, ProblemMissing, "records %d..%d are missing (seq jumps from %d to %d)", want, r.Seq-1, v.prevSeq, r.Seq)
		}
		linked = false // the predecessor is gone; its absence is the finding
	}

	if len(r.PrevHash) != HashSize {
		v.problem(r.Seq, ProblemBrokenLink, "prev_hash has %d bytes, want %d", len(r.PrevHash), HashSize)
	} else if linked && !bytes.Equal(r.PrevHash, v.prevHash) {
		if v.prevSeq == 0 {
			v.problem(r.Seq, ProblemBrokenLink, "prev_hash is not the genesis hash")
		} else {
			v.problem(r.Seq, ProblemBrokenLink, "prev_hash does not match the hash of record %d: a record was replaced or records were reordered", v.prevSeq)
		}
	}
	sum := sumRecord(v.buf, r.PrevHash, r)
	if cap(v.buf) < len(domainTag)+len(r.PrevHash)+canonicalSize(r) {
		v.buf = make([]byte, 0, 2*(len(domainTag)+len(r.PrevHash)+canonicalSize(r)))
	}
	if !bytes.Equal(sum[:], r.Hash) {
		v.problem(r.Seq, ProblemEdited, "content does not match its hash: the record was edited or moved to another seq")
	}

	for i, h := range v.expect {
		if r.Seq != h.Seq || v.met[i] {
			continue
		}
		v.met[i] = true
		if !bytes.Equal(r.Hash, h.Hash) {
			v.problem(r.Seq, ProblemExported, "its hash %x differs from the exported head's %x: history up to the exported head was rewritten", r.Hash, h.Hash)
		}
	}

	for _, check := range v.also {
		if kind, detail, bad := check(r); bad {
			v.rep.Problems = append(v.rep.Problems, Problem{Seq: r.Seq, Kind: kind, Detail: detail})
		}
	}

	if r.Seq > v.prevSeq {
		v.prevSeq = r.Seq
		v.prevHash = append(v.prevHash[:0], r.Hash...)
	}
}

// Report finishes verification. With head non-nil (the head the store keeps
// apart from the records) it also checks that the log ends exactly at the
// head, which is the only way to notice records deleted from the end. Pass
// nil only when the records are known to be a prefix of the log. Report may
// be called more than once; each call re-checks the head.
func (v *Verifier) Report(head *Head) Report {
	rep := v.rep
	rep.Problems = append([]Problem(nil), v.rep.Problems...)
	if head == nil {
		return rep
	}
	rep.HeadChecked = true
	add := func(p Problem) { rep.Problems = append(rep.Problems, p) }
	for i, h := range v.expect {
		if !v.met[i] && h.Seq > 0 {
			add(Problem{Seq: h.Seq, Kind: ProblemExported, Detail: fmt.Sprintf(
				"the exported head is at record %d, which the log no longer has (it ends at %d): the log was cut back or replaced", h.Seq, v.prevSeq)})
		}
	}
	switch {
	case v.prevSeq < head.Seq:
		add(Problem{Seq: v.prevSeq + 1, Kind: ProblemTruncated, Detail: fmt.Sprintf(
			"the log ends at record %d but the head is at %d: records %d..%d were removed from the end",
			v.prevSeq, head.Seq, v.prevSeq+1, head.Seq)})
	case v.prevSeq > head.Seq:
		add(Problem{Seq: v.prevSeq, Kind: ProblemHead, Detail: fmt.Sprintf(
			"the log continues past the head (head is at %d)", head.Seq)})
	case head.Seq == 0 && len(head.Hash) == 0:
		// An empty log with an unset head hash is the genesis head.
	case !bytes.Equal(v.prevHash, head.Hash):
		add(Problem{Seq: head.Seq, Kind: ProblemHead, Detail: "its hash differs from the head's: the last record was replaced"})
	}
	return rep
}

// Verify checks a whole log, records in ascending seq from 1, against head
// (nil to skip the tail check; see Verifier.Report).
func Verify(records []Record, head *Head) Report {
	v := NewVerifier(GenesisHead())
	for _, r := range records {
		v.Add(r)
	}
	return v.Report(head)
}
