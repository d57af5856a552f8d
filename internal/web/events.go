package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// eventsBuffer is how many records a live-feed stream may fall behind
// before the feed drops it (the browser then reconnects and is replayed
// what it missed from the index).
const eventsBuffer = 256

// keepAlive is how often an idle stream sends a comment, so a dead
// connection is noticed and proxies keep it open.
const keepAlive = 20 * time.Second

// events streams the audit log as server-sent events: one "record" event
// per record, its id the record's Seq. A browser reconnecting with
// Last-Event-ID is first sent what it missed (as far as the index keeps).
func (h *Handler) events(w http.ResponseWriter, r *http.Request, _ *session) {
	rc := http.NewResponseController(w)
	// The listener's write timeout is for pages; a stream lives longer.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		http.Error(w, "streaming is not supported here", http.StatusInternalServerError)
		return
	}
	after, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	if after <= 0 {
		after, _ = strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	}
	ch, stop := h.svc.Feed().Subscribe(eventsBuffer)
	defer stop()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(e entry) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: record\ndata: %s\n\n", e.Seq, b); err != nil {
			return err
		}
		after = e.Seq
		return rc.Flush()
	}
	// Subscribed first, then replayed: a record is either in the replay
	// or comes through the channel (skipped if it was in both).
	if after > 0 {
		for _, e := range h.index.recent(after) {
			if send(e) != nil {
				return
			}
		}
	}
	if _, err := fmt.Fprint(w, ": live\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case rec, ok := <-ch:
			if !ok {
				return // fell behind: the browser reconnects with Last-Event-ID
			}
			if rec.Seq <= after {
				continue
			}
			if send(entryOf(rec)) != nil {
				return
			}
		}
	}
}
