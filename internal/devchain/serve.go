package devchain

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/rpc"
)

// rpcServer serves the chain's JSON-RPC over HTTP, and WebSocket on the same
// port. It is ours rather than the node's HTTP server because that one hides
// its listener behind a configured port and, on shutdown, waits up to five
// seconds for idle keep-alive connections of clients (Go's shared HTTP
// transport keeps them), which made Close slow for no benefit here.
type rpcServer struct {
	ln   net.Listener
	rpc  *rpc.Server
	http *http.Server
	done chan struct{}
}

// serveRPC registers the APIs whose namespace is in rpcModules and serves
// them on ln until close.
func serveRPC(ln net.Listener, apis []rpc.API, vhosts []string) (*rpcServer, error) {
	srv := rpc.NewServer()
	for _, api := range apis {
		if !slices.Contains(rpcModules, api.Namespace) {
			continue
		}
		if err := srv.RegisterName(api.Namespace, api.Service); err != nil {
			srv.Stop()
			return nil, err
		}
	}
	// No origins listed: browsers may open WebSocket connections only from
	// localhost pages; other clients send no Origin and are not checked.
	ws := srv.WebsocketHandler(nil)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, vhosts) {
			http.Error(w, "invalid host specified", http.StatusForbidden)
			return
		}
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			ws.ServeHTTP(w, r)
			return
		}
		srv.ServeHTTP(w, r)
	})
	s := &rpcServer{
		ln:   ln,
		rpc:  srv,
		http: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("devchain JSON-RPC server stopped", "err", err)
		}
	}()
	return s, nil
}

// close drops every connection at once; a dev chain owes its clients no
// graceful drain.
func (s *rpcServer) close() error {
	err := s.http.Close()
	<-s.done
	s.rpc.Stop()
	return err
}

// hostAllowed mirrors go-ethereum's virtual-host check, its defence against
// DNS rebinding: requests by IP address always pass, host names only if
// listed (or "*" is).
func hostAllowed(hostport string, vhosts []string) bool {
	if hostport == "" {
		return true
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.ToLower(host)
	if net.ParseIP(host) != nil {
		return true
	}
	for _, v := range vhosts {
		if v == "*" || strings.ToLower(v) == host {
			return true
		}
	}
	return false
}

// web3API stands in for the node's unexported web3 service, which clients
// such as Foundry call on connect.
type web3API struct{}

func (web3API) ClientVersion() string { return "agentkeys-devchain" }

func (web3API) Sha3(input hexutil.Bytes) hexutil.Bytes { return crypto.Keccak256(input) }
