package service

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"

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

// UpstreamError is a failure reported by the Ethereum node, passed on to
// the agent in the node's own words.
type UpstreamError struct {
	Op  string
	Err error
}

func (e *UpstreamError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *UpstreamError) Unwrap() error { return e.Err }

// Public is the node's words as an agent may see them: without the path
// and query of any URL they quote, since a transport error repeats the
// upstream URL, which may carry the provider's API key.
func (e *UpstreamError) Public() string { return PublicError(e.Err) }

// PublicError is what of err may leave the daemon (PublicText).
func PublicError(err error) string { return PublicText(err.Error()) }

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
