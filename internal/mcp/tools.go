package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/request"
	"github.com/agentkeys/agentkeys/internal/service"
)

// tool is one MCP tool: its name, what the model reads about it, its
// input schema and what it does for an authenticated key.
type tool struct {
	name, title, description string
	schema                   string // JSON Schema (2020-12) of the arguments
	readOnly                 bool
	run                      func(s *Server, ctx context.Context, c caller, args json.RawMessage) (any, error)
}

func (t tool) tool() *sdk.Tool {
	ann := &sdk.ToolAnnotations{Title: t.title, ReadOnlyHint: t.readOnly, OpenWorldHint: ptr(true)}
	if !t.readOnly {
		ann.DestructiveHint = ptr(true)
	}
	return &sdk.Tool{Name: t.name, Title: t.title, Description: t.description, InputSchema: json.RawMessage(t.schema), Annotations: ann}
}

func ptr[T any](v T) *T { return &v }

// txSchema is the input of send_transaction and simulate_transaction.
const txSchema = `{"type":"object","required":["to"],"properties":{` +
	`"to":{"type":"string","pattern":"^0x[0-9a-fA-F]{40}$","description":"the recipient or contract address"},` +
	`"value":{"type":"string","maxLength":80,"description":"ETH to send in whole ETH, like \"0.01\" (not wei; \"1000wei\" is also accepted); default 0"},` +
	`"data":{"type":"string","pattern":"^0x([0-9a-fA-F]{2})*$","description":"ABI-encoded call data as 0x-hex; leave out for a plain transfer"}},` +
	`"additionalProperties":false}`

// tools is the one table of what agents may call over MCP.
// maxFieldError bounds a parser's message repeated to the agent.
const maxFieldError = 200

var tools = []tool{
	{
		name: "wallet_info", title: "Wallet and key info", readOnly: true,
		description: "Describe the wallet this key acts for and what the key allows: the address, the chain id, " +
			"what it may and may not do (in plain words), what is left of each budget in its current period, its request rate, " +
			"when it expires, and the token symbols get_balance knows. Call it first, and again after a refusal.",
		schema: `{"type":"object","properties":{},"additionalProperties":false}`,
		run:    (*Server).walletInfo,
	},
	{
		name: "get_balance", title: "Balance", readOnly: true,
		description: "Read the wallet's balance of ETH or of one ERC-20 token, in whole units (like 1.5) and in base units. " +
			"Nothing is signed or spent.",
		schema: `{"type":"object","properties":{"token":{"type":"string","maxLength":64,` +
			`"description":"ETH (the default), a token symbol listed by wallet_info (like USDC), or a token contract address (0x followed by 40 hex digits)"}},` +
			`"additionalProperties":false}`,
		run: (*Server).getBalance,
	},
	{
		name: "send_transaction", title: "Send a transaction",
		description: "Sign and broadcast one transaction from the wallet: a plain ETH transfer, or a contract call with ABI-encoded data. " +
			"The key's policy decides first: only the contracts, functions, arguments and amounts that wallet_info lists under may are allowed, " +
			"within the budgets left. agentkeys sets the nonce, gas and fees. Returns the transaction hash once it is broadcast; " +
			"follow it with get_transaction. A refusal says why and what is still allowed; nothing is signed or spent then.",
		schema: txSchema,
		run:    (*Server).sendTransaction,
	},
	{
		name: "simulate_transaction", title: "Simulate a transaction", readOnly: true,
		description: "Ask whether send_transaction would be allowed, without signing or spending anything: the key's policy decides the same " +
			"transaction as send_transaction would (counting the worst-case fee against the budgets left), and the call is run against the " +
			"latest block (eth_call). Returns allowed or not with every reason, what it would spend, and the call's return data or revert. " +
			"Simulations are recorded and count toward the key's request rate like any request.",
		schema: txSchema,
		run:    (*Server).simulateTransaction,
	},
	{
		name: "sign_typed_data", title: "Sign EIP-712 typed data",
		description: "Sign an EIP-712 typed-data document (as eth_signTypedData_v4 takes it) with the wallet. " +
			"Only the typed data wallet_info lists under may is signed (for example a Permit2 permit to an allowed router); everything else is refused. " +
			"Returns the 65-byte signature as 0x-hex.",
		schema: `{"type":"object","required":["typed_data"],"properties":{` +
			`"typed_data":{"type":"object","required":["types","primaryType","domain","message"],` +
			`"description":"the EIP-712 document: types (with EIP712Domain), primaryType, domain and message"}},` +
			`"additionalProperties":false}`,
		run: (*Server).signTypedData,
	},
	{
		name: "get_transaction", title: "Transaction state", readOnly: true,
		description: "Look up a transaction this key sent, by hash: its lifecycle state (signed, broadcast, included, replaced, cancelled, dropped), " +
			"its block and whether it succeeded once included. Only this key's transactions are found.",
		schema: `{"type":"object","required":["hash"],"properties":{` +
			`"hash":{"type":"string","pattern":"^0x[0-9a-fA-F]{64}$","description":"the transaction hash send_transaction returned"}},` +
			`"additionalProperties":false}`,
		run: (*Server).getTransaction,
	},
	swapTool,
}

// decode reads a tool's arguments into v, refusing unknown fields and
// wrong types with an error naming the field.
func decode(args json.RawMessage, v any) error {
	if len(bytes.TrimSpace(args)) == 0 || string(bytes.TrimSpace(args)) == "null" {
		args = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, more := dec.Token(); more != io.EOF {
			return &service.ParamError{Field: "arguments", Msg: "expected one JSON object"}
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return &service.ParamError{Field: typeErr.Field, Msg: "expected a " + typeErr.Type.String()}
	case errors.As(err, &typeErr):
		return &service.ParamError{Field: "arguments", Msg: "expected an object"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &service.ParamError{Field: bound.Text(name, bound.Prefix), Msg: "unknown field; see the tool's input schema"}
	}
	return &service.ParamError{Field: "arguments", Msg: "not valid JSON"}
}

func address(field, v string) (common.Address, error) {
	if v == "" {
		return common.Address{}, &service.ParamError{Field: field, Msg: "required: an address (0x followed by 40 hex digits)"}
	}
	if !strings.HasPrefix(v, "0x") || !common.IsHexAddress(v) {
		return common.Address{}, &service.ParamError{Field: field, Msg: fmt.Sprintf("expected an address (0x followed by 40 hex digits), got %s", bound.Quote(v))}
	}
	return common.HexToAddress(v), nil
}

// walletInfo is what wallet_info answers.
type walletInfo struct {
	Address   string               `json:"address"`
	ChainID   uint64               `json:"chain_id"`
	Mode      string               `json:"mode"`
	KeyID     string               `json:"key_id"`
	Agent     string               `json:"agent"`
	Policy    string               `json:"policy"`
	Profile   string               `json:"profile,omitempty"`
	Warning   string               `json:"warning,omitempty"`
	ExpiresAt time.Time            `json:"expires_at"`
	May       []string             `json:"may"`
	MayNot    []string             `json:"may_not"`
	Budget    []string             `json:"budget"` // each line in words
	Limits    []service.BudgetLine `json:"limits"`
	Rate      *service.RateLine    `json:"rate,omitempty"`
	Tokens    []service.Token      `json:"tokens"`
}

func (s *Server) walletInfo(ctx context.Context, c caller, args json.RawMessage) (any, error) {
	if err := decode(args, &struct{}{}); err != nil {
		return nil, err
	}
	p, err := s.svc.Permissions(ctx, c.sess, c.info)
	if err != nil {
		return nil, err
	}
	toks, err := s.svc.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	out := walletInfo{Address: p.Address, ChainID: s.svc.ChainID(), Mode: p.Mode, KeyID: p.KeyID, Agent: p.Agent, Policy: p.Policy,
		Profile: p.Profile, Warning: p.Warning, ExpiresAt: p.ExpiresAt, May: p.May, MayNot: p.MayNot, Limits: p.Budget, Rate: p.Rate,
		Budget: []string{}, Tokens: toks}
	for _, l := range p.Budget {
		out.Budget = append(out.Budget, budgetWords(l))
	}
	return out, nil
}

// balance is what get_balance answers.
type balance struct {
	Token    string `json:"token"`              // ETH or the token's symbol
	Contract string `json:"contract,omitempty"` // the token's address
	Owner    string `json:"owner"`
	Balance  string `json:"balance"` // whole units
	Raw      string `json:"raw"`     // base units
	Decimals uint8  `json:"decimals"`
}

func (s *Server) getBalance(ctx context.Context, c caller, args json.RawMessage) (any, error) {
	var in struct {
		Token string `json:"token"`
	}
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	a, err := s.readAsset(ctx, "token", in.Token)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Read(ctx, c.sess, c.info); err != nil {
		return nil, err
	}
	owner := c.sess.Owner()
	out := balance{Owner: owner.Hex(), Token: "ETH", Decimals: 18}
	var raw *big.Int
	if a.native {
		var v hexutil.Big
		if err := s.upstream.CallContext(ctx, &v, "eth_getBalance", owner, "latest"); err != nil {
			return nil, &service.UpstreamError{Op: "eth_getBalance", Err: err}
		}
		raw = v.ToInt()
	} else {
		tok := a.tok
		out.Token, out.Contract, out.Decimals = tok.Symbol, tok.Address.Hex(), tok.Decimals
		if out.Token == "" {
			out.Token = tok.Address.Hex()
		}
		// balanceOf(address)
		data := append(hexutil.MustDecode("0x70a08231"), common.LeftPadBytes(owner.Bytes(), 32)...)
		var res hexutil.Bytes
		call := map[string]any{"to": tok.Address, "data": hexutil.Bytes(data)}
		if err := s.upstream.CallContext(ctx, &res, "eth_call", call, "latest"); err != nil {
			return nil, &service.UpstreamError{Op: "balanceOf", Err: err}
		}
		if len(res) != 32 {
			return nil, &service.ParamError{Field: "token", Msg: fmt.Sprintf("%s did not answer balanceOf like an ERC-20 token", tok.Address.Hex())}
		}
		raw = new(big.Int).SetBytes(res)
	}
	out.Raw, out.Balance = raw.String(), policy.FormatAmount(raw, out.Decimals)
	return out, nil
}

// resolveToken reads get_balance's token: ETH, a symbol the home knows or
// an address.
func (s *Server) resolveToken(ctx context.Context, ref string) (tok service.Token, native bool, err error) {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.EqualFold(ref, "ETH") || strings.EqualFold(ref, "native") {
		return tok, true, nil
	}
	toks, err := s.svc.Tokens(ctx)
	if err != nil {
		return tok, false, err
	}
	if strings.HasPrefix(ref, "0x") {
		addr, err := address("token", ref)
		if err != nil {
			return tok, false, err
		}
		for _, t := range toks {
			if t.Address == addr {
				return t, false, nil
			}
		}
		return service.Token{Address: addr}, false, nil
	}
	var known []string
	for _, t := range toks {
		if strings.EqualFold(t.Symbol, ref) {
			return t, false, nil
		}
		known = append(known, t.Symbol)
	}
	return tok, false, &service.ParamError{Field: "token", Msg: fmt.Sprintf("unknown symbol %s: expected ETH, one of [%s], or a token address", bound.Quote(ref), strings.Join(known, ", "))}
}

// sent is what send_transaction answers.
type sent struct {
	Hash  string `json:"hash"`
	State string `json:"state"`
	Next  string `json:"next"`
}

// txArgs reads the arguments of send_transaction and
// simulate_transaction.
func txArgs(args json.RawMessage) (service.TxArgs, error) {
	var in struct {
		To    string `json:"to"`
		Value string `json:"value"`
		Data  string `json:"data"`
	}
	if err := decode(args, &in); err != nil {
		return service.TxArgs{}, err
	}
	to, err := address("to", in.To)
	if err != nil {
		return service.TxArgs{}, err
	}
	tx := service.TxArgs{To: &to, Value: new(big.Int)}
	if strings.TrimSpace(in.Value) != "" {
		if tx.Value, err = policy.ParseAmount(in.Value, 18, "ETH"); err != nil {
			return service.TxArgs{}, &service.ParamError{Field: "value", Msg: bound.Message(err.Error(), maxFieldError)}
		}
	}
	if in.Data != "" {
		if tx.Data, err = hexutil.Decode(in.Data); err != nil {
			return service.TxArgs{}, &service.ParamError{Field: "data", Msg: "expected 0x-hex bytes (an even number of hex digits after 0x)"}
		}
	}
	return tx, nil
}

// simulated is what simulate_transaction answers.
type simulated struct {
	Allowed   bool           `json:"allowed"`
	Reasons   []string       `json:"reasons,omitempty"` // why it would be refused
	Rule      string         `json:"rule,omitempty"`    // what allows it
	Spend     []policy.Spend `json:"spend,omitempty"`   // what it would charge
	Error     string         `json:"error,omitempty"`   // allowed, but could not be prepared (the call reverts)
	Result    hexutil.Bytes  `json:"result,omitempty"`  // the eth_call's return data
	CallError string         `json:"call_error,omitempty"`
	Calls     []policy.Call  `json:"calls,omitempty"` // the decoded calls
	Next      string         `json:"next"`
}

func (s *Server) simulateTransaction(ctx context.Context, c caller, args json.RawMessage) (any, error) {
	tx, err := txArgs(args)
	if err != nil {
		return nil, err
	}
	sim, err := s.svc.Simulate(ctx, c.sess, c.info, tx)
	if err != nil {
		return nil, err
	}
	out := simulated{Allowed: sim.Decision.Allowed() && sim.Error == "", Reasons: sim.Decision.Reasons(), Rule: sim.Decision.Rule(),
		Spend: sim.Decision.Spend, Error: sim.Error, Result: sim.Result, CallError: sim.CallError, Calls: sim.Decision.Calls()}
	switch {
	case out.Allowed:
		out.Next = "send_transaction with the same arguments would be allowed now (budgets may change before you send)"
	case sim.Error != "":
		out.Next = "the policy allows it but the call fails: fix the call before sending"
	default:
		out.Next = "send_transaction would be refused for these reasons; call wallet_info to see what the key may do"
	}
	return out, nil
}

func (s *Server) sendTransaction(ctx context.Context, c caller, args json.RawMessage) (any, error) {
	tx, err := txArgs(args)
	if err != nil {
		return nil, err
	}
	res, err := s.svc.Transaction(ctx, c.sess, c.info, tx, true)
	if err != nil {
		return nil, err
	}
	return sent{Hash: res.Hash.Hex(), State: "broadcast", Next: "call get_transaction with this hash to see whether it was included and succeeded"}, nil
}

func (s *Server) signTypedData(ctx context.Context, c caller, args json.RawMessage) (any, error) {
	var in struct {
		TypedData json.RawMessage `json:"typed_data"`
	}
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	if len(in.TypedData) == 0 || string(in.TypedData) == "null" {
		return nil, &service.ParamError{Field: "typed_data", Msg: "required: an EIP-712 document with types, primaryType, domain and message"}
	}
	td, err := request.ParseTypedData(in.TypedData)
	if err != nil {
		return nil, &service.ParamError{Field: "typed_data", Msg: bound.Message(err.Error(), maxFieldError)}
	}
	sig, err := s.svc.SignTypedData(ctx, c.sess, c.info, td)
	if err != nil {
		return nil, err
	}
	return map[string]string{"signature": hexutil.Encode(sig), "signer": c.sess.Owner().Hex()}, nil
}

// txState is what get_transaction answers.
type txState struct {
	service.TxInfo
	Meaning string `json:"meaning"`
}

// stateWords says what each lifecycle state means for the agent.
var stateWords = map[string]string{
	"signed":    "signed and recorded, not yet broadcast; agentkeys broadcasts it",
	"broadcast": "sent to the network, not yet in a block",
	"included":  "in a block; status 1 means it succeeded, 0 that it reverted",
	"replaced":  "another transaction took its nonce; it will never be included",
	"cancelled": "cancelled by agentkeys or the owner; it will never be included",
	"dropped":   "the chain it was sent to is gone; it will never be included",
}

func (s *Server) getTransaction(ctx context.Context, c caller, args json.RawMessage) (any, error) {
	var in struct {
		Hash string `json:"hash"`
	}
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	if len(in.Hash) != 66 || !strings.HasPrefix(in.Hash, "0x") {
		return nil, &service.ParamError{Field: "hash", Msg: fmt.Sprintf("expected a transaction hash (0x followed by 64 hex digits), got %s", bound.Quote(in.Hash))}
	}
	if err := s.svc.Read(ctx, c.sess, c.info); err != nil {
		return nil, err
	}
	t, err := s.svc.Tx(ctx, in.Hash)
	if err == nil && t.KeyID != c.sess.KeyID() {
		err = service.ErrNoTx // another key's transaction is not this agent's business
	}
	if err != nil {
		return nil, err
	}
	return txState{TxInfo: t, Meaning: stateWords[t.State]}, nil
}
