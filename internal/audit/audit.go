// Package audit defines the tamper-evident audit record of agentkeys and the
// hash chain that links records: each record's hash covers the previous
// record's hash, so editing, deleting, reordering or (given the separately
// kept head) truncating records is detected by Verify.
//
// It is pure: no I/O, no clock, no agentkeys imports but bound. The store
// persists records and the head; the service core builds records; the CLI's
// `audit verify` and `audit tail` verify them. Any package may import it.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/agentkeys/agentkeys/internal/bound"
)

// Decisions a record may carry.
const (
	DecisionAllow = "allow"
	DecisionDeny  = "deny"
	DecisionError = "error"
)

// HashSize is the length of PrevHash and Hash.
const HashSize = sha256.Size

// Sentinel errors of this package.
var (
	// ErrInvalidRecord: Record.Validate found a record that must not be
	// appended (unknown decision, missing method or time, negative seq).
	ErrInvalidRecord = errors.New("audit: invalid record")

	// ErrTampered: returned (wrapped, with the first problem) by Report.Err
	// when Verify found the log edited, truncated, reordered or incomplete.
	ErrTampered = errors.New("audit: log fails verification")
)

// Record is one decided request. Everything except PrevHash and Hash is
// covered by Hash; see Canonical for the exact bytes.
type Record struct {
	Seq       int64           `json:"seq"`            // 1, 2, 3, …; assigned by the store
	Time      time.Time       `json:"time"`           // UTC, millisecond precision (Chain normalises)
	KeyID     string          `json:"key_id"`         // credential/grant id; empty if unknown
	Method    string          `json:"method"`         // e.g. eth_sendTransaction
	Call      json.RawMessage `json:"call,omitempty"` // decoded request; opaque bytes, hashed verbatim
	Decision  string          `json:"decision"`       // DecisionAllow, DecisionDeny or DecisionError
	Reasons   []string        `json:"reasons,omitempty"`
	TxHash    string          `json:"tx_hash,omitempty"`
	CallerIP  string          `json:"caller_ip,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	UserAgent string          `json:"user_agent,omitempty"` // the caller's User-Agent, bounded by the service; hashed from layout version 2
	PrevHash  []byte          `json:"prev_hash"`
	Hash      []byte          `json:"hash"`
}

// Head is the position of the newest record: its Seq and Hash. The store
// keeps it apart from the records (updated in the same transaction) so that
// deleting records at the tail is detectable. The head of an empty log is
// Seq 0 with the genesis hash.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash []byte `json:"hash"`
}

// GenesisHash returns the PrevHash of record 1: 32 zero bytes.
func GenesisHash() []byte { return make([]byte, HashSize) }

// GenesisHead returns the head of an empty log.
func GenesisHead() Head { return Head{Seq: 0, Hash: GenesisHash()} }

// Limits on one record. Bound cuts a record to them; Validate refuses a
// record whose canonical bytes exceed MaxRecordBytes, so no caller can
// grow the append-only log by more than that per record.
const (
	MaxRecordBytes = 64 << 10 // Canonical(r), everything hashed
	MaxCallBytes   = 16 << 10 // Call; a longer one is replaced by its digest
	MaxReasons     = 16       // reasons kept; the last one says how many were left out
	MaxReasonBytes = 1024     // bytes of one reason
	MaxFieldBytes  = 256      // KeyID, Method, TxHash, CallerIP, RequestID, UserAgent
)

// Bound returns r cut to the limits above: at most MaxReasons reasons of
// at most MaxReasonBytes each, the short fields at MaxFieldBytes, and a
// Call over MaxCallBytes replaced by {"oversized":N,"sha256":"…"} (what it
// was can still be matched, not replayed). Callers that put text others
// control into a record pass it through Bound before appending it.
func Bound(r Record) Record {
	r.KeyID, r.Method, r.TxHash = cutField(r.KeyID), cutField(r.Method), cutField(r.TxHash)
	r.CallerIP, r.RequestID, r.UserAgent = cutField(r.CallerIP), cutField(r.RequestID), cutField(r.UserAgent)
	r.Reasons = BoundReasons(r.Reasons)
	if len(r.Call) > MaxCallBytes {
		sum := sha256.Sum256(r.Call)
		r.Call = json.RawMessage(fmt.Sprintf(`{"oversized":%d,"sha256":"%x"}`, len(r.Call), sum))
	}
	return r
}

// BoundReasons returns reasons cut to MaxReasons of MaxReasonBytes each
// (a new slice when anything was cut), for a record and for the answer
// that repeats them.
func BoundReasons(reasons []string) []string {
	over := len(reasons) > MaxReasons
	for _, x := range reasons {
		over = over || len(x) > MaxReasonBytes
	}
	if !over {
		return reasons
	}
	n := min(len(reasons), MaxReasons)
	out := make([]string, 0, n)
	for _, x := range reasons[:n] {
		out = append(out, bound.Text(x, MaxReasonBytes))
	}
	if len(reasons) > MaxReasons {
		out[n-1] = fmt.Sprintf("and %d more reasons", len(reasons)-(n-1))
	}
	return out
}

func cutField(s string) string { return bound.Text(s, MaxFieldBytes) }

// Validate returns an error wrapping ErrInvalidRecord if r cannot be
// appended: Decision outside allow/deny/error, empty Method, zero Time,
// negative Seq, or canonical bytes over MaxRecordBytes. It does not look
// at the hashes.
func (r Record) Validate() error {
	if n := canonicalSize(r); n > MaxRecordBytes {
		return fmt.Errorf("%w: %d bytes, over the limit of %d", ErrInvalidRecord, n, MaxRecordBytes)
	}
	switch {
	case r.Decision != DecisionAllow && r.Decision != DecisionDeny && r.Decision != DecisionError:
		return fmt.Errorf("%w: decision %q is not allow, deny or error", ErrInvalidRecord, r.Decision)
	case r.Method == "":
		return fmt.Errorf("%w: empty method", ErrInvalidRecord)
	case r.Time.IsZero():
		return fmt.Errorf("%w: zero time", ErrInvalidRecord)
	case r.Seq < 0:
		return fmt.Errorf("%w: negative seq", ErrInvalidRecord)
	}
	return nil
}

// canonicalSize is len(Canonical(r)), without building it.
func canonicalSize(r Record) int {
	// version, seq, time, seven length-prefixed fields, the reasons' count
	n := 1 + 8 + 8 + 7*4 + 4 + len(r.KeyID) + len(r.Method) + len(r.Call) + len(r.Decision) +
		len(r.TxHash) + len(r.CallerIP) + len(r.RequestID)
	if r.UserAgent != "" {
		n += 4 + len(r.UserAgent)
	}
	for _, s := range r.Reasons {
		n += 4 + len(s)
	}
	return n
}

// domainTag starts every hashed message, so an audit hash can never collide
// with a hash computed for another purpose (or another format version).
const domainTag = "agentkeys/audit/v1\x00"

// Layout versions of Canonical's output (its first byte). A record is
// hashed in the lowest layout that holds all its fields, so records
// written before a field existed keep their hashes and verify as they
// always did.
const (
	canonicalV1 = 1 // every field up to request_id
	canonicalV2 = 2 // v1, then user_agent
)

// Canonical returns the bytes of r that Hash covers, in this fixed layout
// (all integers big-endian):
//
//	version   1 byte  (1, or 2 if user_agent is set)
//	seq       8 bytes (int64)
//	time      8 bytes (int64 Unix milliseconds; sub-millisecond parts dropped)
//	key_id    field
//	method    field
//	call      field   (the raw bytes as given: not re-encoded)
//	decision  field
//	reasons   4-byte count, then each reason as a field
//	tx_hash   field
//	caller_ip field
//	request_id field
//	user_agent field  (version 2 only)
//
// where a field is a 4-byte length followed by that many bytes. Length
// prefixes make the encoding injective (no two records share bytes), and a
// nil or empty slice encodes the same as an absent one. PrevHash and Hash are
// not part of it. Stores must keep Call byte-for-byte (bytea/BLOB, not a
// JSON type that reorders keys).
func Canonical(r Record) []byte { return appendCanonical(make([]byte, 0, canonicalSize(r)), r) }

// appendCanonical appends Canonical(r) to b.
func appendCanonical(b []byte, r Record) []byte {
	version := byte(canonicalV1)
	if r.UserAgent != "" {
		version = canonicalV2
	}
	b = append(b, version)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UnixMilli()))
	b = appendField(b, r.KeyID)
	b = appendField(b, r.Method)
	b = appendField(b, r.Call)
	b = appendField(b, r.Decision)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Reasons)))
	for _, s := range r.Reasons {
		b = appendField(b, s)
	}
	b = appendField(b, r.TxHash)
	b = appendField(b, r.CallerIP)
	b = appendField(b, r.RequestID)
	if version >= canonicalV2 {
		b = appendField(b, r.UserAgent)
	}
	return b
}

func appendField[T ~string | ~[]byte](b []byte, f T) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}

// Chain links r after a record whose hash is prev: it returns r with Time
// normalised to UTC milliseconds, PrevHash set to a copy of prev and
//
//	Hash = SHA-256(domain tag || prev || Canonical(r))
//
// where the domain tag is "agentkeys/audit/v1\x00". Seq is taken as given
// (the store assigns it before chaining). Use GenesisHash for the first
// record. prev is expected to be HashSize bytes; Verify reports a record
// whose PrevHash is not.
func Chain(prev []byte, r Record) Record {
	r.Time = normalizeTime(r.Time)
	r.PrevHash = append([]byte(nil), prev...)
	r.Hash = hashRecord(prev, r)
	return r
}

func normalizeTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

func hashRecord(prev []byte, r Record) []byte {
	sum := sumRecord(make([]byte, 0, len(domainTag)+len(prev)+canonicalSize(r)), prev, r)
	return sum[:]
}

// sumRecord is the hash of r after prev, built in buf (which it may
// grow): a verifier that reuses buf hashes without allocating.
func sumRecord(buf, prev []byte, r Record) [HashSize]byte {
	buf = append(buf[:0], domainTag...)
	buf = append(buf, prev...)
	return sha256.Sum256(appendCanonical(buf, r))
}
