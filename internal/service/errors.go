package service

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/secrets"
)

// Refusal is a request the policy refused. Transports map it to EIP-1193
// error 4001 with the reasons as data.
type Refusal struct {
	Reasons []string
}

func (r *Refusal) Error() string { return "refused: " + strings.Join(r.Reasons, "; ") }

// CredentialError is a credential that cannot act: missing, unknown,
// expired or revoked. Transports map it to 4100. Reason never contains any
// part of the credential.
type CredentialError struct {
	Reason string
}

func (e *CredentialError) Error() string { return e.Reason }

// ErrNoDelegate is returned by 7702 operations when the daemon knows no
// AgentKeyDelegate deployment on its chain.
var ErrNoDelegate = errors.New("an AgentKeyDelegate deployment on this chain, and none is configured: " +
	"run agentkeys wallet deploy-delegate (it deploys one and records it in the home), or start serve with --delegate ADDR")

// ParamError is a malformed request parameter or policy field: the one
// field-error type transports map (rpc to -32602, admin to 400). The
// service converts the policy package's field errors into it at its
// boundary (paramError); rpc converts package request's.
type ParamError struct {
	Line  int // 1-based line in a policy source, 0 when none
	Field string
	Msg   string
}

// Error is the field and what is wrong with it, at most
// audit.MaxReasonBytes long: it is repeated to the caller and audited.
func (e *ParamError) Error() string {
	msg := e.Field + ": " + e.Msg
	if e.Line > 0 {
		msg = fmt.Sprintf("line %d: %s", e.Line, msg)
	}
	return bound.Text(msg, audit.MaxReasonBytes)
}

// paramError returns a policy.FieldError in err as a ParamError, and any
// other error unchanged.
func paramError(err error) error {
	var fe *policy.FieldError
	if errors.As(err, &fe) {
		return &ParamError{Line: fe.Line, Field: fe.Field, Msg: fe.Msg}
	}
	return err
}

// UpstreamError is a failure of a call to the Ethereum node. What an
// agent reads of it is Public: the node's own JSON-RPC error when the
// node answered the call, Said when agentkeys explains what happened, and
// otherwise only that the node is unavailable, since a transport error
// (dial, TLS, HTTP status, timeout) repeats the upstream URL and whatever
// the provider put in its body, either of which may carry an API key.
type UpstreamError struct {
	Op   string
	Err  error
	Said string // agentkeys' own words for the agent, when it has some
}

func (e *UpstreamError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *UpstreamError) Unwrap() error { return e.Err }

// Explained is an upstream failure agentkeys can put in its own words
// (the router has no liquidity, the transaction reverted): the agent reads
// msg as it is.
func Explained(op, msg string) *UpstreamError {
	return &UpstreamError{Op: op, Err: errors.New(msg), Said: msg}
}

// UpstreamUnavailable is what an agent reads of a node it could not reach
// or that did not answer in JSON-RPC.
const UpstreamUnavailable = "upstream node unavailable"

// maxNodeMessage bounds the node's own message repeated to an agent.
const maxNodeMessage = 500

// NodeError is the node's JSON-RPC error inside err (its code, message and
// data), when the node answered the call with one.
func NodeError(err error) (code int, msg string, data any, ok bool) {
	var ec gethrpc.Error
	if !errors.As(err, &ec) {
		return 0, "", nil, false
	}
	var de gethrpc.DataError
	if errors.As(err, &de) {
		data = de.ErrorData()
	}
	return ec.ErrorCode(), bound.Message(PublicText(ec.Error()), maxNodeMessage), data, true
}

// Public is what of the failure an agent may read (see UpstreamError).
func (e *UpstreamError) Public() string {
	if e.Said != "" {
		return e.Said
	}
	if _, msg, _, ok := NodeError(e.Err); ok {
		return msg
	}
	return UpstreamUnavailable
}

// PublicError is what of err may reach the owner (logs, the admin API,
// the dashboard): its words, with every URL in them cut (PublicText).
func PublicError(err error) string { return PublicText(err.Error()) }

// AgentError is what of err an agent may read: an upstream failure as
// UpstreamError.Public says, anything else through PublicText.
func AgentError(err error) string {
	var up *UpstreamError
	if errors.As(err, &up) {
		return up.Op + ": " + up.Public()
	}
	return PublicText(err.Error())
}

// PublicText is s with every URL cut to scheme and host, since a node's
// URL may carry a provider's API key in its path or query.
func PublicText(s string) string { return secrets.RedactURLs(s) }

// RevertError is a call that reverted, reported as go-ethereum's nodes
// report one (JSON-RPC code 3, the revert data as hex), so clients decode
// it as they would from a node.
type RevertError struct {
	Data []byte
}

func (e *RevertError) Error() string {
	if reason, err := abi.UnpackRevert(e.Data); err == nil {
		return "execution reverted: " + reason
	}
	return "execution reverted"
}

// ErrorCode is the JSON-RPC error code of a revert.
func (e *RevertError) ErrorCode() int { return 3 }

// ErrorData is the revert data as 0x-prefixed hex.
func (e *RevertError) ErrorData() any { return hexutil.Encode(e.Data) }

// ErrBadAgent is returned for an agent name that is empty or unprintable.
var ErrBadAgent = errors.New("agent: expected 1 to 64 letters, digits, '.', '_' or '-'")
