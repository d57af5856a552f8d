// Package rpc is the agents' wallet endpoint: Ethereum JSON-RPC at POST
// /rpc with a bearer credential. It parses requests, calls the service core
// for every decision and maps outcomes to EIP-1193/EIP-1474 errors. Read
// methods are forwarded to the upstream node after the key is checked.
package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/clientip"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/request"
	"github.com/agentkeys/agentkeys/internal/service"
)

// Error codes (EIP-1193, EIP-1474).
const (
	CodeRefused       = 4001
	CodeUnauthorized  = 4100
	CodeUnsupported   = 4200
	CodeParse         = -32700
	CodeInvalidReq    = -32600
	CodeInvalidParams = -32602
	CodeInternal      = -32603
	CodeServer        = -32000
	CodeLimit         = -32005 // EIP-1474: limit exceeded
)

// Limits on what one HTTP request may carry.
const (
	maxBody  = 1 << 20
	maxBatch = 100
)

// Upstream forwards read methods to the node.
type Upstream interface {
	CallContext(ctx context.Context, result any, method string, args ...any) error
}

// Server serves /rpc.
type Server struct {
	svc      *service.Service
	upstream Upstream
	log      *slog.Logger
	observe  func(method string, d time.Duration)
}

// Observe makes the server tell fn how long each request took from
// parsing to answer, by the wall clock (for latency metrics). Call it
// before serving.
func (s *Server) Observe(fn func(method string, d time.Duration)) { s.observe = fn }

// NewServer returns the handler for agents.
func NewServer(svc *service.Service, upstream Upstream, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{svc: svc, upstream: upstream, log: log}
}

type rpcRequest struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id,omitempty"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"-"`
}

// wireRequest is a request as sent: params may be an array (by position)
// or, in JSON-RPC 2.0, an object (by name), which no Ethereum method
// takes.
type wireRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// call is one authenticated request as a method's handler sees it.
type call struct {
	sess  *service.Session
	info  service.RequestInfo
	req   rpcRequest
	owner common.Address // the account the key acts as
}

// handler answers one method for an authenticated key.
type handler func(s *Server, ctx context.Context, c call) (any, error)

// methods is the one table of what agents may call: the methods the
// daemon answers itself and the reads it passes to the node for any valid
// key. Everything else is refused as unsupported, and audited.
var methods = map[string]handler{
	"eth_chainId":                (*Server).chainID,
	"eth_accounts":               (*Server).accounts,
	"eth_requestAccounts":        (*Server).accounts,
	service.MethodGetPermissions: (*Server).permissions,
	"eth_sendTransaction":        (*Server).transaction,
	"eth_signTransaction":        (*Server).transaction,
	"wallet_sendTransaction":     (*Server).transaction,
	"eth_signTypedData_v4":       (*Server).signTypedData,
	"personal_sign":              (*Server).personalSign,
	"eth_sign":                   (*Server).ethSign,
	"wallet_sendCalls":           (*Server).sendCalls,
	"wallet_getCallsStatus":      (*Server).getCallsStatus,
	"eth_sendRawTransaction":     (*Server).sendRawTransaction,

	"eth_blockNumber": (*Server).read, "eth_getBalance": (*Server).read, "eth_call": (*Server).read,
	"eth_estimateGas": (*Server).read, "eth_getTransactionReceipt": (*Server).read,
	"eth_getTransactionByHash": (*Server).read, "eth_getTransactionCount": (*Server).read,
	"eth_getCode": (*Server).read, "eth_getStorageAt": (*Server).read, "eth_getLogs": (*Server).read,
	"eth_getBlockByNumber": (*Server).read, "eth_getBlockByHash": (*Server).read, "eth_gasPrice": (*Server).read,
	"eth_maxPriorityFeePerGas": (*Server).read, "eth_feeHistory": (*Server).read, "eth_syncing": (*Server).read,
	"net_version": (*Server).read, "web3_clientVersion": (*Server).read, "eth_getBlockReceipts": (*Server).read,
	"eth_getTransactionByBlockNumberAndIndex": (*Server).read, "eth_getBlockTransactionCountByNumber": (*Server).read,
}

// Supported reports whether agents may call method: metrics label
// requests by it, and by "other" for the rest.
func Supported(method string) bool {
	_, ok := methods[method]
	return ok
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST JSON-RPC requests to /rpc", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, rpcResponse{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{Code: CodeInvalidReq, Message: bodyError(err)}})
		return
	}
	info := service.RequestInfo{IP: clientip.FromRequest(r), UserAgent: r.UserAgent()}
	token := bearer(r)
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(trimmed, &batch); err != nil {
			writeJSON(w, parseError())
			return
		}
		if len(batch) == 0 || len(batch) > maxBatch {
			writeJSON(w, rpcResponse{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{Code: CodeInvalidReq, Message: fmt.Sprintf("a batch holds 1 to %d requests", maxBatch)}})
			return
		}
		out := make([]rpcResponse, 0, len(batch))
		for _, raw := range batch {
			out = append(out, s.one(r.Context(), token, info, raw))
		}
		writeJSON(w, out)
		return
	}
	writeJSON(w, s.one(r.Context(), token, info, trimmed))
}

// bodyError says why the body could not be read: too long, too slow (the
// listener's read deadline passed) or cut off.
func bodyError(err error) string {
	var tooLong *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooLong):
		return fmt.Sprintf("request body over %d bytes", maxBody)
	case errors.As(err, &netErr) && netErr.Timeout():
		return "the request body did not arrive in time"
	}
	return "the request body could not be read: it ended early"
}

func parseError() rpcResponse {
	return rpcResponse{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{Code: CodeParse, Message: "parse error: the body is not JSON"}}
}

func (s *Server) one(ctx context.Context, token string, info service.RequestInfo, raw json.RawMessage) rpcResponse {
	var req rpcRequest
	if s.observe != nil {
		started := time.Now()
		defer func() { s.observe(req.Method, time.Since(started)) }()
	}
	invalid := &rpcError{Code: CodeInvalidReq, Message: `invalid request: expected {"jsonrpc":"2.0","method":...}`}
	var wire wireRequest
	if err := json.Unmarshal(raw, &wire); err != nil {
		if !json.Valid(raw) {
			return parseError()
		}
		// JSON, but not a request object (a number, a list).
		return rpcResponse{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: invalid}
	}
	req = rpcRequest{JSONRPC: wire.JSONRPC, ID: wire.ID, Method: wire.Method}
	resp := rpcResponse{JSONRPC: "2.0", ID: req.ID}
	if len(resp.ID) == 0 {
		resp.ID = json.RawMessage("null")
	}
	if p := bytes.TrimSpace(wire.Params); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
		if p[0] != '[' {
			resp.Error = &rpcError{Code: CodeInvalidParams, Message: "invalid params: expected params as an array (by position); Ethereum methods take no params by name"}
			return resp
		}
		if err := json.Unmarshal(p, &req.Params); err != nil {
			resp.Error = invalid
			return resp
		}
	}
	// Method names go into the audit log; no real method is longer.
	if req.JSONRPC != "2.0" || req.Method == "" || len(req.Method) > 64 {
		resp.Error = invalid
		return resp
	}
	info.Method = req.Method
	result, err := s.dispatch(ctx, token, info, req)
	if err != nil {
		resp.Error = s.toRPCError(req.Method, err)
		return resp
	}
	resp.Result = result
	return resp
}

func (s *Server) dispatch(ctx context.Context, token string, info service.RequestInfo, req rpcRequest) (any, error) {
	sess, err := s.svc.Authenticate(ctx, token, info)
	if err != nil {
		return nil, err
	}
	h, ok := methods[req.Method]
	if !ok {
		err := errUnsupported(req.Method)
		s.svc.Invalid(ctx, sess, info, err.Error())
		return nil, err
	}
	return h(s, ctx, call{sess: sess, info: info, req: req, owner: sess.Owner()})
}

func (s *Server) chainID(ctx context.Context, c call) (any, error) {
	if err := s.svc.Read(ctx, c.sess, c.info); err != nil {
		return nil, err
	}
	return hexutil.Uint64(s.svc.ChainID()), nil
}

func (s *Server) accounts(ctx context.Context, c call) (any, error) {
	if err := s.svc.Read(ctx, c.sess, c.info); err != nil {
		return nil, err
	}
	return []common.Address{c.owner}, nil
}

func (s *Server) permissions(ctx context.Context, c call) (any, error) {
	return s.svc.Permissions(ctx, c.sess, c.info)
}

// transaction answers eth_sendTransaction, wallet_sendTransaction and
// eth_signTransaction (which signs without broadcasting).
func (s *Server) transaction(ctx context.Context, c call) (any, error) {
	if len(c.req.Params) != 1 {
		return nil, s.invalid(ctx, c.sess, c.info, &service.ParamError{Field: "params", Msg: "expected one transaction object"})
	}
	args, err := txArgs(c.req.Params[0])
	if err == nil && args.From != nil && *args.From != c.owner {
		err = &service.ParamError{Field: "from", Msg: fmt.Sprintf("this key acts as %s", c.owner.Hex())}
	}
	if err == nil {
		err = checkTxArgs(args, s.svc.ChainID())
	}
	if err != nil {
		return nil, s.invalid(ctx, c.sess, c.info, err)
	}
	send := c.req.Method != "eth_signTransaction"
	res, err := s.svc.Transaction(ctx, c.sess, c.info, args, send)
	if err != nil {
		return nil, err
	}
	if send {
		return res.Hash, nil
	}
	return hexutil.Bytes(res.Raw), nil
}

func (s *Server) signTypedData(ctx context.Context, c call) (any, error) {
	if len(c.req.Params) != 2 {
		return nil, s.invalid(ctx, c.sess, c.info, &service.ParamError{Field: "params", Msg: "expected [address, typedData]"})
	}
	if err := sameAddress(c.req.Params[0], c.owner); err != nil {
		return nil, s.invalid(ctx, c.sess, c.info, err)
	}
	td, err := request.ParseTypedData(c.req.Params[1])
	if err != nil {
		return nil, s.invalid(ctx, c.sess, c.info, &service.ParamError{Field: "typedData", Msg: err.Error()})
	}
	sig, err := s.svc.SignTypedData(ctx, c.sess, c.info, td)
	if err != nil {
		return nil, err
	}
	return hexutil.Bytes(sig), nil
}

func (s *Server) personalSign(ctx context.Context, c call) (any, error) {
	if len(c.req.Params) < 2 {
		return nil, s.invalid(ctx, c.sess, c.info, &service.ParamError{Field: "params", Msg: "expected [message, address]"})
	}
	if err := sameAddress(c.req.Params[1], c.owner); err != nil {
		return nil, s.invalid(ctx, c.sess, c.info, err)
	}
	msg, err := messageParam(c.req.Params[0])
	if err != nil {
		return nil, s.invalid(ctx, c.sess, c.info, err)
	}
	sig, err := s.svc.PersonalSign(ctx, c.sess, c.info, msg)
	if err != nil {
		return nil, err
	}
	return hexutil.Bytes(sig), nil
}

func (s *Server) ethSign(ctx context.Context, c call) (any, error) {
	return nil, s.svc.Refuse(ctx, c.sess, c.info, policy.KindEthSign)
}

func (s *Server) sendCalls(ctx context.Context, c call) (any, error) {
	calls, err := sendCallsParams(c.req.Params, c.owner, s.svc.ChainID())
	if err != nil {
		return nil, s.invalid(ctx, c.sess, c.info, err)
	}
	res, err := s.svc.Batch(ctx, c.sess, c.info, calls)
	if err != nil {
		return nil, err
	}
	return map[string]any{"id": res.Hash}, nil
}

func (s *Server) getCallsStatus(ctx context.Context, c call) (any, error) {
	return s.callsStatus(ctx, c.sess, c.info, c.req.Params)
}

// sendRawTransaction relays bytes that are already signed: that adds no
// power (anyone holding them can broadcast them anywhere), and lets an
// agent broadcast what eth_signTransaction gave it instead of leaving a
// nonce gap. Only this key's own transactions are relayed.
func (s *Server) sendRawTransaction(ctx context.Context, c call) (any, error) {
	if err := s.ownTransaction(c.req.Params, c.sess); err != nil {
		return nil, s.invalid(ctx, c.sess, c.info, err)
	}
	return s.read(ctx, c)
}

// read passes a method to the node once the key is valid, in schedule,
// under its rate and from an allowed network.
func (s *Server) read(ctx context.Context, c call) (any, error) {
	if err := s.svc.Read(ctx, c.sess, c.info); err != nil {
		return nil, err
	}
	args := make([]any, len(c.req.Params))
	for i, p := range c.req.Params {
		args[i] = p
	}
	var result json.RawMessage
	if err := s.upstream.CallContext(ctx, &result, c.req.Method, args...); err != nil {
		return nil, &service.UpstreamError{Op: c.req.Method, Err: err}
	}
	return result, nil
}

// invalid records a malformed request from an authenticated key, so it is
// audited and counts toward the key's rate, and returns err.
func (s *Server) invalid(ctx context.Context, sess *service.Session, info service.RequestInfo, err error) error {
	s.svc.Invalid(ctx, sess, info, "invalid params: "+err.Error())
	return err
}

// checkTxArgs refuses what the daemon decides itself.
func checkTxArgs(a service.TxArgs, chainID uint64) error {
	switch {
	case a.Nonce != nil:
		return &service.ParamError{Field: "nonce", Msg: "agentkeys allocates nonces; leave nonce out"}
	case a.ChainID != nil && (!a.ChainID.IsUint64() || a.ChainID.Uint64() != chainID):
		return &service.ParamError{Field: "chainId", Msg: fmt.Sprintf("this daemon signs for chain %d, not %s", chainID, a.ChainID)}
	case a.Gas != nil && (*a.Gas < 21000 || *a.Gas > service.MaxGas):
		return &service.ParamError{Field: "gas", Msg: fmt.Sprintf("must be between 21000 and %d", service.MaxGas)}
	}
	return nil
}

type unsupportedError struct{ method string }

func (e *unsupportedError) Error() string {
	return fmt.Sprintf("method %s is not supported by agentkeys", e.method)
}

func errUnsupported(m string) error { return &unsupportedError{m} }

func (s *Server) toRPCError(method string, err error) *rpcError {
	var (
		refusal *service.Refusal
		cred    *service.CredentialError
		param   *service.ParamError
		up      *service.UpstreamError
		unsup   *unsupportedError
		lim     *service.LimitError
	)
	switch {
	case errors.As(err, &lim):
		return &rpcError{Code: CodeLimit, Message: lim.Error(), Data: map[string]any{"retry_after": lim.RetrySeconds()}}
	case errors.As(err, &refusal):
		return &rpcError{Code: CodeRefused, Message: "refused by policy: " + strings.Join(refusal.Reasons, "; "), Data: map[string]any{"reasons": refusal.Reasons}}
	case errors.As(err, &cred):
		return &rpcError{Code: CodeUnauthorized, Message: cred.Reason}
	case errors.As(err, &param):
		return &rpcError{Code: CodeInvalidParams, Message: "invalid params: " + param.Error()}
	case errors.As(err, &unsup):
		return &rpcError{Code: CodeUnsupported, Message: unsup.Error()}
	case errors.As(err, &up):
		// The node's own JSON-RPC error for the call, or that it is
		// unavailable: a transport error's words (the URL, an HTTP body)
		// go to the log only.
		e := &rpcError{Code: CodeServer, Message: up.Public()}
		if code, _, data, ok := service.NodeError(up.Err); ok {
			e.Code, e.Data = code, data
		} else if up.Said == "" {
			s.log.Warn("upstream", "method", method, "err", err)
		}
		return e
	}
	// The cause is logged; the agent learns only that it failed, and
	// nothing was signed.
	s.log.Error("rpc internal error", "method", method, "err", err)
	return &rpcError{Code: CodeInternal, Message: "internal error: the request was not signed"}
}

func txArgs(raw json.RawMessage) (service.TxArgs, error) {
	p, err := request.DecodeTxParam(raw, false)
	if err != nil {
		var fe *request.FieldError
		if errors.As(err, &fe) {
			return service.TxArgs{}, &service.ParamError{Field: fe.Field, Msg: fe.Msg}
		}
		return service.TxArgs{}, &service.ParamError{Field: "transaction", Msg: err.Error()}
	}
	a := service.TxArgs{From: p.From, To: p.To, Value: p.Amount(), Data: p.CallData(), Authorizations: len(p.AuthorizationList)}
	if p.Gas != nil {
		g := uint64(*p.Gas)
		a.Gas = &g
	}
	a.GasPrice, a.MaxFeePerGas, a.MaxPriorityFee, a.ChainID = bigOf(p.GasPrice), bigOf(p.MaxFeePerGas), bigOf(p.MaxPriorityFeePerGas), bigOf(p.ChainID)
	if p.Nonce != nil {
		n := uint64(*p.Nonce)
		a.Nonce = &n
	}
	return a, nil
}

func bigOf(b *hexutil.Big) *big.Int {
	if b == nil {
		return nil
	}
	return b.ToInt()
}

func sameAddress(raw json.RawMessage, owner common.Address) error {
	var a common.Address
	if err := json.Unmarshal(raw, &a); err != nil {
		return &service.ParamError{Field: "address", Msg: "expected an address (0x followed by 40 hex digits)"}
	}
	if a != owner {
		return &service.ParamError{Field: "address", Msg: fmt.Sprintf("this key signs only as %s", owner.Hex())}
	}
	return nil
}

// messageParam reads personal_sign's message: 0x-hex bytes, or text.
func messageParam(raw json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, &service.ParamError{Field: "message", Msg: "expected a string"}
	}
	if strings.HasPrefix(s, "0x") {
		b, err := hexutil.Decode(s)
		if err == nil {
			return b, nil
		}
	}
	if !utf8.ValidString(s) {
		return nil, &service.ParamError{Field: "message", Msg: "expected 0x-hex bytes or UTF-8 text"}
	}
	return []byte(s), nil
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(tok)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// sendCallsParams reads EIP-5792 wallet_sendCalls parameters.
func sendCallsParams(params []json.RawMessage, owner common.Address, chainID uint64) ([]service.TxArgs, error) {
	if len(params) != 1 {
		return nil, &service.ParamError{Field: "params", Msg: "expected one object with calls"}
	}
	var p struct {
		Version string          `json:"version"`
		ChainID *hexutil.Big    `json:"chainId"`
		From    *common.Address `json:"from"`
		Atomic  *bool           `json:"atomicRequired"`
		Calls   []struct {
			To    *common.Address `json:"to"`
			Value *hexutil.Big    `json:"value"`
			Data  *hexutil.Bytes  `json:"data"`
		} `json:"calls"`
		Capabilities json.RawMessage `json:"capabilities"`
	}
	if err := json.Unmarshal(params[0], &p); err != nil {
		return nil, &service.ParamError{Field: "calls", Msg: strings.TrimPrefix(err.Error(), "json: ")}
	}
	if p.From != nil && *p.From != owner {
		return nil, &service.ParamError{Field: "from", Msg: fmt.Sprintf("this key acts as %s", owner.Hex())}
	}
	if p.ChainID != nil && (!p.ChainID.ToInt().IsUint64() || p.ChainID.ToInt().Uint64() != chainID) {
		return nil, &service.ParamError{Field: "chainId", Msg: fmt.Sprintf("this daemon signs for chain %d", chainID)}
	}
	out := make([]service.TxArgs, len(p.Calls))
	for i, c := range p.Calls {
		if c.To == nil {
			return nil, &service.ParamError{Field: fmt.Sprintf("calls[%d].to", i), Msg: "required"}
		}
		out[i] = service.TxArgs{To: c.To}
		if c.Value != nil {
			out[i].Value = c.Value.ToInt()
		}
		if c.Data != nil {
			out[i].Data = *c.Data
		}
	}
	return out, nil
}

// callsStatus answers EIP-5792 wallet_getCallsStatus for a batch id (the
// executeBatch transaction's hash).
func (s *Server) callsStatus(ctx context.Context, sess *service.Session, info service.RequestInfo, params []json.RawMessage) (any, error) {
	var id common.Hash
	if len(params) != 1 || json.Unmarshal(params[0], &id) != nil {
		return nil, s.invalid(ctx, sess, info, &service.ParamError{Field: "id", Msg: "expected a batch id from wallet_sendCalls"})
	}
	if err := s.svc.Read(ctx, sess, info); err != nil {
		return nil, err
	}
	var rcpt map[string]any
	if err := s.upstream.CallContext(ctx, &rcpt, "eth_getTransactionReceipt", id); err != nil {
		return nil, &service.UpstreamError{Op: "wallet_getCallsStatus", Err: err}
	}
	out := map[string]any{"version": "2.0.0", "id": id, "chainId": hexutil.Uint64(s.svc.ChainID()), "atomic": true, "status": 100}
	if rcpt != nil {
		out["status"] = 500
		if rcpt["status"] == "0x1" {
			out["status"] = 200
		}
		out["receipts"] = []any{rcpt}
	}
	return out, nil
}

// ownTransaction checks that a raw transaction is signed, for this chain,
// by the account this key signs with (the owner, or its session key).
func (s *Server) ownTransaction(params []json.RawMessage, sess *service.Session) error {
	var raw hexutil.Bytes
	if len(params) != 1 || json.Unmarshal(params[0], &raw) != nil {
		return &service.ParamError{Field: "params", Msg: "expected one 0x-hex signed transaction"}
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return &service.ParamError{Field: "transaction", Msg: "not a signed transaction: " + err.Error()}
	}
	chainID := new(big.Int).SetUint64(s.svc.ChainID())
	from, err := types.Sender(types.LatestSignerForChainID(chainID), tx)
	if err != nil {
		return &service.ParamError{Field: "transaction", Msg: fmt.Sprintf("not signed for chain %d", s.svc.ChainID())}
	}
	if from != sess.SignerAddress() {
		return &service.ParamError{Field: "transaction", Msg: "only transactions signed for this key are relayed"}
	}
	return nil
}
