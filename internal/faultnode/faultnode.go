// Package faultnode starts a TCP server that misbehaves as a broken
// Ethereum node does, for tests of how agentkeys copes with one: it
// refuses connections, accepts and never answers, answers slowly, answers
// garbage, resets the connection in the middle of a body, or acts on a
// request and loses the answer. Faults are
// chosen per JSON-RPC method, so a test can let reads through to a real
// node and hang only the broadcast. Only tests import it.
package faultnode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is how the server answers a request.
type Fault int

const (
	// Pass answers with the backend.
	Pass Fault = iota
	// Mute reads the request and never answers; the connection stays
	// open until the server closes.
	Mute
	// Slow answers with the backend after the server's delay.
	Slow
	// Garbage answers bytes that are not HTTP and closes the connection.
	Garbage
	// Reset answers a status line, headers announcing a long body and
	// part of it, then resets the connection (TCP RST).
	Reset
	// Lost passes the request to the backend and never answers: the node
	// acted (took a transaction, say) and its answer was lost.
	Lost
)

func (f Fault) String() string {
	return [...]string{"pass", "mute", "slow", "garbage", "reset", "lost"}[f]
}

// Server is a misbehaving node on a loopback port.
type Server struct {
	ln      net.Listener
	backend http.Handler
	closing chan struct{}
	wg      sync.WaitGroup

	mu     sync.Mutex
	fault  Fault
	byName map[string]Fault
	delay  time.Duration
	seen   map[string]int
	conns  map[net.Conn]bool
	closed bool
}

// Start serves fault for every request on 127.0.0.1:0 until the test
// ends. backend answers what passes (Pass, Slow); nil answers as a node
// of chain id 1337 that knows only eth_chainId (Node).
func Start(t testing.TB, fault Fault, backend http.Handler) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if backend == nil {
		backend = Node(1337)
	}
	s := &Server{ln: ln, backend: backend, closing: make(chan struct{}), fault: fault, byName: map[string]Fault{},
		delay: 200 * time.Millisecond, seen: map[string]int{}, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Refusing is the address of a loopback port that refuses connections
// (one just listened on and closed).
func Refusing(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Proxy is a backend that passes requests to the node at rawURL (http).
func Proxy(t testing.TB, rawURL string) http.Handler {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return httputil.NewSingleHostReverseProxy(u)
}

// Node answers eth_chainId with id and every other method with JSON-RPC
// error -32601.
func Node(id uint64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if req.Method == "eth_chainId" {
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":"0x%x"}`, req.ID, id)
			return
		}
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"the method %s does not exist"}}`, req.ID, req.Method)
	})
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the server's address under scheme ("http", "ws") and path.
func (s *Server) URL(scheme, path string) string { return scheme + "://" + s.Addr() + path }

// Set makes fault the answer to every method without its own (SetFor).
func (s *Server) Set(fault Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = fault
}

// SetFor makes fault the answer to one JSON-RPC method.
func (s *Server) SetFor(method string, fault Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byName[method] = fault
}

// SetDelay is how long Slow waits before it answers.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Seen is how many requests for method arrived ("" counts requests
// without a JSON-RPC method, such as a WebSocket handshake).
func (s *Server) Seen(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[method]
}

// Close stops the server and drops every connection it holds.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.closing)
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serve(c)
		}()
	}
}

// decide counts a request for method and returns its fault and delay.
func (s *Server) decide(method string) (Fault, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[method]++
	f, ok := s.byName[method]
	if !ok {
		f = s.fault
	}
	return f, s.delay
}

func (s *Server) serve(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, 8<<20))
		if err != nil {
			return
		}
		fault, delay := s.decide(method(body))
		switch fault {
		case Mute:
			<-s.closing
			return
		case Garbage:
			c.Write([]byte("\x00\xffthis is not HTTP\r\n\r\n{{{"))
			return
		case Reset:
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"resu")
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // close with RST, not FIN
			}
			return
		case Slow:
			select {
			case <-time.After(delay):
			case <-s.closing:
				return
			}
		}
		if strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
			// Only faults of the handshake are played for WebSocket.
			io.WriteString(c, "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n")
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		s.backend.ServeHTTP(rec, req)
		if fault == Lost {
			<-s.closing
			return
		}
		resp := rec.Result()
		resp.ContentLength = int64(rec.Body.Len())
		resp.Header.Del("Transfer-Encoding")
		if err := resp.Write(c); err != nil {
			return
		}
	}
}

// method is the JSON-RPC method of body, "batch" for a batch, or "".
func method(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		return "batch"
	}
	var req struct {
		Method string `json:"method"`
	}
	json.Unmarshal(body, &req)
	return req.Method
}
