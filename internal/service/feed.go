package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// DefaultFeedPoll is how often the feed looks for records that another
// process sharing the store appended; records this process appends wake
// it at once.
const DefaultFeedPoll = time.Second

// feedBatch is how many records the feed reads from the store at a time.
const feedBatch = 256

// Feed follows the audit log as it grows and hands every record, once
// and in Seq order, to its handlers (anomaly detection, metrics) and then
// to its live subscribers (the dashboard's live feed). It starts from the
// beginning of the log, so what handlers build from it is rebuilt on
// every start; handlers must therefore be idempotent for records they
// have seen in an earlier run (an anomaly is stored once per record that
// raised it, and alerted once).
//
// Records appended by this process wake the feed at once (the service's
// store is wrapped to notice every commit that may append); records of
// other processes sharing the store are found by polling, and at once
// where the store tells of other processes' appends (auditListener:
// PostgreSQL's LISTEN/NOTIFY).
type Feed struct {
	st  store.Store
	log func(msg string, args ...any)

	wake chan struct{} // buffered 1: "the log may have grown"

	mu       sync.Mutex // guards handlers, subs, next
	handlers []FeedHandler
	subs     map[*feedSub]struct{}
	next     int64 // the Seq the handlers see next

	run sync.Mutex // one reader of the store at a time (Run or Sync)
}

// FeedHandler is called by the feed with each record in Seq order, from
// one goroutine at a time. It must not block on the network for long: the
// feed waits for it. An error is logged and the record is not offered to
// it again.
type FeedHandler func(ctx context.Context, r audit.Record) error

type feedSub struct {
	ch chan audit.Record
}

func newFeed(st store.Store, log func(string, ...any)) *Feed {
	return &Feed{st: st, log: log, wake: make(chan struct{}, 1), subs: map[*feedSub]struct{}{}, next: 1}
}

// Handle adds a handler. Handlers added before the first Run or Sync see
// the whole log; one added later sees records from then on.
func (f *Feed) Handle(h FeedHandler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers = append(f.handlers, h)
}

// Subscribe returns a channel that receives every record the feed reads
// from now on, and a function to stop. A subscriber that falls more than
// buf records behind has its channel closed (it should subscribe again
// and read what it missed from the store); the feed never waits for it.
func (f *Feed) Subscribe(buf int) (<-chan audit.Record, func()) {
	if buf < 1 {
		buf = 1
	}
	s := &feedSub{ch: make(chan audit.Record, buf)}
	f.mu.Lock()
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	return s.ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[s]; ok {
			delete(f.subs, s)
			close(s.ch)
		}
	}
}

// Notify tells the feed the log may have grown.
func (f *Feed) Notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Sync hands every record appended so far to the handlers and
// subscribers before it returns. Tests use it instead of waiting; the
// service uses it before deciding for a key whose anomalies suspend it.
func (f *Feed) Sync(ctx context.Context) error {
	f.run.Lock()
	defer f.run.Unlock()
	head, err := f.st.AuditHead(ctx)
	if err != nil {
		return fmt.Errorf("feed: read audit head: %w", err)
	}
	for {
		f.mu.Lock()
		next := f.next
		f.mu.Unlock()
		if next > head.Seq {
			return nil
		}
		recs, err := f.st.AuditRecords(ctx, next-1, feedBatch)
		if err != nil {
			return fmt.Errorf("feed: read audit records after %d: %w", next-1, err)
		}
		if len(recs) == 0 {
			return nil
		}
		for _, r := range recs {
			f.deliver(ctx, r)
		}
	}
}

// deliver hands one record to the handlers, then the subscribers, and
// moves past it.
func (f *Feed) deliver(ctx context.Context, r audit.Record) {
	f.mu.Lock()
	handlers := append([]FeedHandler(nil), f.handlers...)
	f.mu.Unlock()
	for _, h := range handlers {
		if err := h(ctx, r); err != nil {
			f.log("feed handler", "seq", r.Seq, "err", err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		select {
		case s.ch <- r:
		default:
			delete(f.subs, s)
			close(s.ch)
		}
	}
	f.next = r.Seq + 1
}

// auditListener is a store shared by several processes that tells of
// their appends (store/postgres): ListenAudit calls notify after each
// commit that appended audit records, anywhere, until ctx ends or its
// connection fails.
type auditListener interface {
	ListenAudit(ctx context.Context, notify func()) error
}

// Run follows the log until ctx ends: it syncs whenever this process
// appends (or, with an auditListener store, any process does) and every
// poll interval otherwise (DefaultFeedPoll if poll <= 0).
func (f *Feed) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = DefaultFeedPoll
	}
	if l, ok := f.st.(auditListener); ok {
		var listening sync.WaitGroup
		defer listening.Wait() // its connection goes back before the store closes
		listening.Go(func() { f.listen(ctx, l, poll) })
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if err := f.Sync(ctx); err != nil && ctx.Err() == nil {
			f.log("feed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		case <-t.C:
		}
	}
}

// listen wakes the feed on every notification, listening again (after a
// poll interval) when the connection fails, until ctx ends.
func (f *Feed) listen(ctx context.Context, l auditListener, poll time.Duration) {
	for ctx.Err() == nil {
		err := l.ListenAudit(ctx, f.Notify)
		if ctx.Err() != nil {
			return
		}
		f.log("feed: listen for other replicas' records", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(poll):
		}
	}
}

// notifying wraps a store so that every commit that may append an audit
// record wakes the feed.
type notifying struct {
	store.Store
	feed *Feed
}

func (n notifying) AppendAudit(ctx context.Context, r audit.Record) (audit.Record, error) {
	defer n.feed.Notify()
	return n.Store.AppendAudit(ctx, r)
}

func (n notifying) Decide(ctx context.Context, grantID string, fn func(context.Context, store.DecideTx) error) error {
	defer n.feed.Notify()
	return n.Store.Decide(ctx, grantID, fn)
}

func (n notifying) Owner(ctx context.Context, fn func(context.Context, store.OwnerTx) error) error {
	defer n.feed.Notify()
	return n.Store.Owner(ctx, fn)
}

func (n notifying) ResetChain(ctx context.Context, req store.ChainResetRequest) (store.ChainReset, error) {
	defer n.feed.Notify()
	return n.Store.ResetChain(ctx, req)
}

func (n notifying) RecordTx(ctx context.Context, r store.TxRecord, a audit.Record) (audit.Record, error) {
	defer n.feed.Notify()
	return n.Store.RecordTx(ctx, r, a)
}

func (n notifying) RecordAnomaly(ctx context.Context, req store.AnomalyRequest) (store.Anomaly, bool, error) {
	defer n.feed.Notify()
	return n.Store.RecordAnomaly(ctx, req)
}

func (n notifying) SuspendGrant(ctx context.Context, id string, sp store.Suspension) (bool, error) {
	defer n.feed.Notify()
	return n.Store.SuspendGrant(ctx, id, sp)
}

func (n notifying) ResumeGrant(ctx context.Context, id string, a audit.Record) (bool, error) {
	defer n.feed.Notify()
	return n.Store.ResumeGrant(ctx, id, a)
}

func (n notifying) ActivateGrant(ctx context.Context, id string, a store.Activation) (bool, error) {
	defer n.feed.Notify()
	return n.Store.ActivateGrant(ctx, id, a)
}

func (n notifying) SealGrants(ctx context.Context, seals map[string][]byte) (int, error) {
	defer n.feed.Notify()
	return n.Store.SealGrants(ctx, seals)
}

func (n notifying) RevokeGrantFor(ctx context.Context, id string, at time.Time, reason string, a audit.Record) (bool, error) {
	defer n.feed.Notify()
	return n.Store.RevokeGrantFor(ctx, id, at, reason, a)
}

func (n notifying) ReleaseTx(ctx context.Context, req store.TxRelease) (store.TxReleased, error) {
	defer n.feed.Notify()
	return n.Store.ReleaseTx(ctx, req)
}
