package client

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/rpc"
)

// The daemon's error codes (EIP-1193 and EIP-1474). Codes the node
// answers (a revert in eth_call, say) pass through as the node sent them.
const (
	// CodeRefused: the policy refused the request; Error.Reasons says why.
	CodeRefused = 4001
	// CodeCredential: the credential is missing, unknown, expired,
	// revoked or suspended; the message says which.
	CodeCredential = 4100
	// CodeUnsupported: the daemon does not offer the method.
	CodeUnsupported = 4200
	// CodeInvalidParams: a parameter is malformed; the message names it.
	CodeInvalidParams = -32602
	// CodeInternal: the daemon failed; nothing was signed.
	CodeInternal = -32603
)

// Error is an error answer of the daemon. Use errors.As to read it:
//
//	var e *client.Error
//	if errors.As(err, &e) && e.Refused() { ... e.Reasons ... }
type Error struct {
	Code    int
	Message string
	// Reasons are the policy's reasons for a refusal (CodeRefused), each
	// in words a person can act on.
	Reasons []string
	// Data is the error's data member as the daemon sent it, if any.
	Data json.RawMessage
}

func (e *Error) Error() string { return fmt.Sprintf("agentkeys: %s (code %d)", e.Message, e.Code) }

// Refused reports whether the policy refused the request.
func (e *Error) Refused() bool { return e.Code == CodeRefused }

// AsError turns an error from a go-ethereum call on the client's
// connection (RPC or Eth) into an *Error when it is a JSON-RPC error
// answer, and returns any other error (a transport failure, a cancelled
// context) as it is.
func AsError(err error) error {
	var re rpc.Error
	if err == nil || !errors.As(err, &re) {
		return err
	}
	e := &Error{Code: re.ErrorCode(), Message: re.Error()}
	var de rpc.DataError
	if errors.As(err, &de) && de.ErrorData() != nil {
		if b, jerr := json.Marshal(de.ErrorData()); jerr == nil {
			e.Data = b
			var d struct {
				Reasons []string `json:"reasons"`
			}
			if json.Unmarshal(b, &d) == nil {
				e.Reasons = d.Reasons
			}
		}
	}
	return e
}
