package home

import (
	"context"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/passkey"
	"github.com/agentkeys/agentkeys/internal/store"
)

// AuditLog reads a home's audit log, which needs no passphrase: the
// audit verify and audit tail commands use it instead of the store.
type AuditLog struct{ st store.Store }

// OpenAuditLog opens the audit log of the initialised home in dir.
func OpenAuditLog(ctx context.Context, dir string, opts ...Option) (*AuditLog, error) {
	st, err := OpenStore(ctx, dir, opts...)
	if err != nil {
		return nil, err
	}
	return &AuditLog{st: st}, nil
}

// Records returns up to limit records with seq > after, in order.
func (l *AuditLog) Records(ctx context.Context, after int64, limit int) ([]audit.Record, error) {
	return l.st.AuditRecords(ctx, after, limit)
}

// Head is the head stored apart from the records.
func (l *AuditLog) Head(ctx context.Context) (audit.Head, error) { return l.st.AuditHead(ctx) }

// Verify checks the whole hash chain against the head, reading pageSize
// records at a time, that it still passes through each exported head
// (store.VerifyAudit), and that every passkey approval in it verifies
// against a passkey registered earlier in the same log (passkey.Checker).
func (l *AuditLog) Verify(ctx context.Context, pageSize int, exported ...audit.Head) (audit.Report, audit.Head, error) {
	also := []func(audit.Record) (audit.ProblemKind, string, bool){passkey.NewChecker().Problem}
	return store.VerifyAuditAlso(ctx, l.st, pageSize, also, exported...)
}

// Close closes the store.
func (l *AuditLog) Close() error { return l.st.Close() }
