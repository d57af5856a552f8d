package service_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/faultnode"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/store"
	"github.com/agentkeys/agentkeys/internal/upstream"
)

// faultyHarness is a harness whose service reaches the dev chain over
// HTTP through a faultnode that passes everything until told otherwise,
// with a broadcast deadline (5s) that a mute node lets pass and a
// healthy one, even on a busy machine, does not.
func faultyHarness(t *testing.T) (*harness, *faultnode.Server) {
	t.Helper()
	var srv *faultnode.Server
	h := newHarnessOn(t, func(chain *devchain.Chain) service.Chain {
		srv = faultnode.Start(t, faultnode.Pass, faultnode.Proxy(t, chain.URL()))
		n, err := upstream.Dial(t.Context(), srv.URL("http", ""), upstream.Timeouts{Read: time.Minute, Estimate: time.Minute, Broadcast: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		return n
	})
	return h, srv
}

// nativePending is what the key has reserved in native value.
func (h *harness) nativePending() string {
	h.t.Helper()
	lines, err := h.svc.Budget(h.ctx, h.keyID)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, l := range lines {
		if l.Asset == "native" {
			return l.RawPending
		}
	}
	h.t.Fatalf("no native budget line: %+v", lines)
	return ""
}

// sendTimingOut sends a transaction whose broadcast the node never
// answers, and checks it is left signed, charged and audited for the
// watcher.
func (h *harness) sendTimingOut(srv *faultnode.Server) string {
	h.t.Helper()
	srv.SetFor("eth_sendRawTransaction", faultnode.Mute)
	_, err := h.send(true)
	var up *service.UpstreamError
	var te *upstream.TimeoutError
	if !errors.As(err, &up) || !errors.As(err, &te) || te.Op != "eth_sendRawTransaction" {
		h.t.Fatalf("send to a node mute on broadcast: %v, want an upstream timeout", err)
	}
	txs, err := h.svc.Txs(h.ctx, service.TxQuery{KeyID: h.keyID})
	if err != nil || len(txs) != 1 || txs[0].State != store.TxSigned || !txs[0].Send {
		h.t.Fatalf("after the broadcast timed out: %+v, %v; want one signed transaction to send", txs, err)
	}
	if p := h.nativePending(); p == "0" {
		h.t.Fatal("a transaction whose broadcast timed out reserves nothing")
	}
	var audited bool
	for _, r := range h.auditRecords() {
		audited = audited || r.Method == "agentkeys_broadcastFailed" && strings.Contains(string(r.Call), txs[0].Hash) &&
			strings.Contains(string(r.Call), "did not answer eth_sendRawTransaction")
	}
	if !audited {
		h.t.Fatal("no agentkeys_broadcastFailed record naming the transaction and the timeout")
	}
	return txs[0].Hash
}

// TestBroadcastTimeoutIsRebroadcast: a broadcast the node does not answer
// within its deadline leaves the transaction signed and charged, and the
// watcher sends it again once the node answers; it is mined and settled.
func TestBroadcastTimeoutIsRebroadcast(t *testing.T) {
	h, srv := faultyHarness(t)
	hash := h.sendTimingOut(srv)

	// Still mute: the sweep tries, records the failure and keeps it.
	rep, err := h.svc.Sweep(h.ctx)
	if err != nil || rep.Errors != 1 || h.tx(hash).State != store.TxSigned {
		t.Fatalf("sweep with the node still mute: %+v, %v", rep, err)
	}
	srv.SetFor("eth_sendRawTransaction", faultnode.Pass)
	rep = h.sweep()
	if !slices.Equal(rep.Rebroadcast, []string{hash}) {
		t.Fatalf("sweep = %+v; want %s sent again", rep, hash)
	}
	h.receipt(hash)
	if rep := h.sweep(); !slices.Equal(rep.Included, []string{hash}) {
		t.Fatalf("sweep after mining = %+v; want %s included", rep, hash)
	}
	if p := h.nativePending(); p != "0" {
		t.Fatalf("pending after inclusion: %s", p)
	}
}

// TestBroadcastTimeoutStuckIsCancelled: a transaction whose broadcast
// timed out and never reached the node is cancelled after stuck-after;
// once the cancel is mined, what it reserved is released.
func TestBroadcastTimeoutStuckIsCancelled(t *testing.T) {
	h, srv := faultyHarness(t)
	hash := h.sendTimingOut(srv)
	h.clock.Advance(stuckAfter)
	// The cancel's own broadcast times out too: it is recorded anyway.
	rep := h.sweep()
	if !slices.Equal(rep.CancelSent, []string{hash}) {
		t.Fatalf("sweep = %+v; want a cancel of %s", rep, hash)
	}
	c := h.tx(hash).CancelledBy
	if c == "" || h.tx(c).State != store.TxSigned {
		t.Fatalf("cancel %q not recorded as signed", c)
	}
	srv.SetFor("eth_sendRawTransaction", faultnode.Pass)
	if rep := h.sweep(); !slices.Equal(rep.Rebroadcast, []string{c}) {
		t.Fatalf("sweep = %+v; want the cancel %s sent again", rep, c)
	}
	h.receipt(c)
	if rep := h.sweep(); !slices.Equal(rep.Cancelled, []string{hash}) {
		t.Fatalf("sweep = %+v; want %s cancelled", rep, hash)
	}
	if p := h.nativePending(); p != "0" {
		t.Fatalf("pending after the cancel: %s", p)
	}
}

// TestBroadcastAnswerLost: the node takes the transaction but its answer
// never comes back. The request fails at the broadcast deadline with the
// transaction still signed and charged; the watcher then finds it mined
// and settles it.
func TestBroadcastAnswerLost(t *testing.T) {
	h, srv := faultyHarness(t)
	srv.SetFor("eth_sendRawTransaction", faultnode.Lost)
	_, err := h.send(true)
	var te *upstream.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("send whose answer is lost: %v, want a timeout", err)
	}
	txs, err := h.svc.Txs(h.ctx, service.TxQuery{KeyID: h.keyID})
	if err != nil || len(txs) != 1 || txs[0].State != store.TxSigned || h.nativePending() == "0" {
		t.Fatalf("after the lost answer: %+v, %v; want one signed, charged transaction", txs, err)
	}
	hash := txs[0].Hash
	h.receipt(hash)
	if rep := h.sweep(); !slices.Equal(rep.Included, []string{hash}) {
		t.Fatalf("sweep = %+v; want %s included", rep, hash)
	}
	if p := h.nativePending(); p != "0" {
		t.Fatalf("pending after inclusion: %s", p)
	}
}
