// Package server puts the daemon's HTTP surfaces on one listener: the
// agents' JSON-RPC wallet at /rpc and their MCP tools at /mcp, the owner's admin API at /v1/, the
// owner's dashboard at /ui (package web) and the health check at
// /healthz; with AdminListen, /v1/ and /ui get a listener of their own. It resolves each request's client address
// (behind trusted reverse proxies, see package clientip) and can serve
// TLS itself. The serve, sandbox and demo commands use it.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/clientip"
	"github.com/agentkeys/agentkeys/internal/mcp"
	"github.com/agentkeys/agentkeys/internal/metrics"
	"github.com/agentkeys/agentkeys/internal/rpc"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/web"
)

// Config assembles the HTTP surfaces.
type Config struct {
	Listen string // host:port of /rpc and /healthz; port 0 picks a free one
	// AdminListen is where /v1/ and /ui are served; empty serves them on
	// Listen too. A separate listener lets the admin API and the
	// dashboard bind to localhost only.
	AdminListen string
	Service     *service.Service
	Upstream    rpc.Upstream
	VerifyAdmin func(token string) error
	Now         func() time.Time
	Log         *slog.Logger
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// Forwarded headers are believed; none means the client is always the
	// TCP peer.
	TrustedProxies []netip.Prefix
	// TLSCert and TLSKey, both or neither, are PEM files; with them every
	// listener serves HTTPS only.
	TLSCert, TLSKey string
	// InsecureAdmin lets the admin API listen on an address other than
	// loopback without TLS (behind a proxy that terminates TLS). Without
	// it, Start refuses: the admin credential would cross the network in
	// the clear.
	InsecureAdmin bool
	// MaxConns caps the connections each listener holds open at once
	// (further ones wait in the kernel's backlog); MaxHeaderBytes caps a
	// request's headers (431 past it). Zero means DefaultMaxConns and
	// DefaultMaxHeaderBytes.
	MaxConns       int
	MaxHeaderBytes int
	// Metrics, if set, is served at /metrics on the admin listener (with
	// the admin credential) and times every agent request.
	Metrics *metrics.Metrics
	// OwnerURL is the address the owner's browser uses for the admin
	// listener (like https://agentkeys.example.com behind a proxy), the
	// WebAuthn origin of the owner's passkeys. Empty: the admin
	// listener's own URL, a loopback IP becoming localhost.
	OwnerURL string
}

// Defaults of Config.MaxConns and Config.MaxHeaderBytes: a bearer
// credential and the usual headers take well under 2 KiB.
const (
	DefaultMaxConns       = 1024
	DefaultMaxHeaderBytes = 16 << 10
)

// loopbackOnly reports whether addr (host:port) can be reached only from
// this machine: a loopback IP or "localhost". An empty host listens on
// every interface.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Server is a running daemon: one or two listeners.
type Server struct {
	agent, admin *listener
	scheme       string
}

type listener struct {
	srv       *http.Server
	ln        net.Listener
	done      chan error
	closeOnce sync.Once
	closeErr  error
}

// Start listens and serves until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	health := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":true,"chain_id":%d}`+"\n", cfg.Service.ChainID())
	}
	var tlsConfig *tls.Config
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("tls: give both a certificate file and a key file, or neither")
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls: load certificate %s and key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	adminAddr := cfg.AdminListen
	if adminAddr == "" {
		adminAddr = cfg.Listen
	}
	if tlsConfig == nil && !cfg.InsecureAdmin && !loopbackOnly(adminAddr) {
		return nil, fmt.Errorf("the admin API would listen on %s without TLS, so the admin credential would cross the network in the clear: "+
			"bind it to this machine (--admin-listen 127.0.0.1:PORT), give --tls-cert and --tls-key, "+
			"or pass --insecure-admin if a proxy in front terminates TLS", adminAddr)
	}
	withClientIP := clientip.New(cfg.TrustedProxies).Middleware
	adminAPI := admin.New(cfg.Service, cfg.VerifyAdmin, cfg.Log)
	ui, err := web.New(web.Config{Service: cfg.Service, VerifyAdmin: cfg.VerifyAdmin, Now: cfg.Now, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	agentRPC := rpc.NewServer(cfg.Service, cfg.Upstream, cfg.Log)
	agentMCP := mcp.New(cfg.Service, cfg.Upstream, cfg.Log)
	adminMux := http.NewServeMux()
	adminMux.Handle("/v1/", adminAPI)
	adminMux.Handle("/ui", ui)
	adminMux.Handle("/ui/", ui)
	if cfg.Metrics != nil {
		agentRPC.Observe(cfg.Metrics.ObserveRequest)
		agentMCP.Observe(cfg.Metrics.ObserveRequest)
		adminMux.Handle("GET /metrics", adminAPI.Guard(cfg.Metrics.Handler()))
	}
	mux := http.NewServeMux()
	mux.Handle("/rpc", agentRPC)
	mux.Handle("/mcp", agentMCP)
	mux.HandleFunc("GET /healthz", health)
	s := &Server{scheme: "http"}
	if tlsConfig != nil {
		s.scheme = "https"
	}
	// The same fixed address means one listener; "host:0" twice means two.
	if cfg.AdminListen == "" || cfg.AdminListen == cfg.Listen && !strings.HasSuffix(cfg.Listen, ":0") {
		mux.Handle("/", adminMux)
	} else {
		adminMux.HandleFunc("GET /healthz", health)
		if s.admin, err = listen(cfg.AdminListen, withClientIP(adminMux), tlsConfig, cfg); err != nil {
			return nil, err
		}
		s.admin.srv.RegisterOnShutdown(ui.Close)
	}
	if s.agent, err = listen(cfg.Listen, withClientIP(mux), tlsConfig, cfg); err != nil {
		if s.admin != nil {
			s.admin.close()
		}
		return nil, err
	}
	if s.admin == nil {
		s.agent.srv.RegisterOnShutdown(ui.Close)
	}
	owner := cfg.OwnerURL
	if owner == "" {
		owner = s.AdminURL()
	}
	if err := cfg.Service.SetOwnerURL(owner); err != nil {
		// Without an origin, passkeys cannot be registered or used; a
		// widening change then fails once one exists (never applied
		// unapproved).
		cfg.Log.Warn("owner passkeys are off: the admin listener's address cannot be a WebAuthn origin; give --owner-url", "url", owner, "err", err)
	}
	return s, nil
}

func listen(addr string, h http.Handler, tlsConfig *tls.Config, cfg Config) (*listener, error) {
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	ln := netutil.LimitListener(raw, cfg.MaxConns)
	l := &listener{
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn),
			TLSConfig: tlsConfig, MaxHeaderBytes: cfg.MaxHeaderBytes},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() {
		var err error
		if tlsConfig != nil {
			err = l.srv.ServeTLS(ln, "", "") // the certificate is in TLSConfig
		} else {
			err = l.srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		l.done <- err
	}()
	return l, nil
}

// close shuts the listener down once; later calls return the first
// result.
func (l *listener) close() error {
	l.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l.closeErr = l.srv.Shutdown(ctx)
		if serveErr := <-l.done; l.closeErr == nil {
			l.closeErr = serveErr
		}
	})
	return l.closeErr
}

// URL is the agents' base URL, like http://127.0.0.1:8645 (its /rpc), or
// https://... when serving TLS.
func (s *Server) URL() string { return s.scheme + "://" + s.agent.ln.Addr().String() }

// AdminURL is the base URL of the admin API (its /v1/).
func (s *Server) AdminURL() string {
	if s.admin == nil {
		return s.URL()
	}
	return s.scheme + "://" + s.admin.ln.Addr().String()
}

// Close stops accepting requests and waits for those in flight.
func (s *Server) Close() error {
	err := s.agent.close()
	if s.admin != nil {
		if aerr := s.admin.close(); err == nil {
			err = aerr
		}
	}
	return err
}
