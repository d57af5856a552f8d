// Package request parses what agents send (eth_sendTransaction
// parameters, EIP-712 documents) into the policy package's types, with
// errors that name the offending field. Transports (cli, rpc, mcp) use it.
package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/agentkeys/agentkeys/internal/policy"
)

// TxParam is the parameter of eth_sendTransaction and
// eth_signTransaction, as wallets send it.
type TxParam struct {
	From                 *common.Address `json:"from"`
	To                   *common.Address `json:"to"`
	Value                *hexutil.Big    `json:"value"`
	Data                 *hexutil.Bytes  `json:"data"`
	Input                *hexutil.Bytes  `json:"input"`
	Gas                  *hexutil.Uint64 `json:"gas"`
	GasPrice             *hexutil.Big    `json:"gasPrice"`
	MaxFeePerGas         *hexutil.Big    `json:"maxFeePerGas"`
	MaxPriorityFeePerGas *hexutil.Big    `json:"maxPriorityFeePerGas"`
	Nonce                *hexutil.Uint64 `json:"nonce"`
	ChainID              *hexutil.Big    `json:"chainId"`
	Type                 *hexutil.Uint64 `json:"type"`
	AccessList           json.RawMessage `json:"accessList"`
	AuthorizationList    []any           `json:"authorizationList"`
}

// DecodeTxParam reads a transaction parameter. Strict refuses unknown
// fields (for people typing them); wallets add fields of their own, so the
// JSON-RPC endpoint is not strict. Errors name the field.
func DecodeTxParam(src []byte, strict bool) (TxParam, error) {
	var p TxParam
	dec := json.NewDecoder(bytes.NewReader(src))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&p); err != nil {
		return p, jsonFieldError(err)
	}
	if dec.More() {
		return p, errors.New("expected one JSON object")
	}
	if p.Data != nil && p.Input != nil && !bytes.Equal(*p.Data, *p.Input) {
		return p, &FieldError{Field: "data", Msg: "data and input differ; give one of them"}
	}
	if p.ChainID != nil {
		if c := p.ChainID.ToInt(); !c.IsUint64() || c.Sign() == 0 {
			return p, &FieldError{Field: "chainId", Msg: fmt.Sprintf("expected a positive chain id, got %s", c)}
		}
	}
	return p, nil
}

// FieldError names a field of a request and what is wrong with it.
type FieldError struct {
	Field, Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// CallData is the call's data (data, or its alias input).
func (p TxParam) CallData() []byte {
	switch {
	case p.Data != nil:
		return *p.Data
	case p.Input != nil:
		return *p.Input
	}
	return nil
}

// Amount is the value sent, zero when absent.
func (p TxParam) Amount() *big.Int {
	if p.Value == nil {
		return new(big.Int)
	}
	return p.Value.ToInt()
}

// PolicyTx is the transaction as the policy judges it. When gas and a
// fee cap (maxFeePerGas, or gasPrice) are both given, its worst-case fee is
// counted as the daemon counts it in wallet mode.
func (p TxParam) PolicyTx() *policy.Tx {
	tx := &policy.Tx{To: p.To, Value: p.Amount(), Data: p.CallData(), Authorizations: len(p.AuthorizationList)}
	feeCap := p.MaxFeePerGas
	if feeCap == nil {
		feeCap = p.GasPrice
	}
	if p.Gas != nil && feeCap != nil {
		tx.MaxFee = new(big.Int).Mul(new(big.Int).SetUint64(uint64(*p.Gas)), feeCap.ToInt())
	}
	return tx
}

// ParseTxParam reads an eth_sendTransaction parameter strictly and returns
// the transaction, the sender it names and the chain id it names (0 when
// absent).
func ParseTxParam(src []byte) (*policy.Tx, *common.Address, uint64, error) {
	p, err := DecodeTxParam(src, true)
	if err != nil {
		return nil, nil, 0, err
	}
	var chainID uint64
	if p.ChainID != nil {
		chainID = p.ChainID.ToInt().Uint64()
	}
	return p.PolicyTx(), p.From, chainID, nil
}

// jsonFieldError rewrites encoding/json errors so they name the field.
func jsonFieldError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &FieldError{Field: te.Field, Msg: "expected " + expectedFor(te.Field)}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s", f)
	}
	// hexutil errors name the problem but not the field.
	return fmt.Errorf("not a valid transaction object: %s", strings.TrimPrefix(msg, "json: "))
}

func expectedFor(field string) string {
	switch field {
	case "from", "to":
		return "an address (0x followed by 40 hex digits)"
	case "data", "input":
		return "0x-prefixed hex bytes"
	}
	return "a 0x-prefixed hex quantity"
}

// ParseTypedData reads an EIP-712 document as given to
// eth_signTypedData_v4 (an object, or a JSON string holding one).
func ParseTypedData(src []byte) (*apitypes.TypedData, error) {
	src = bytes.TrimSpace(src)
	if len(src) > 0 && src[0] == '"' {
		var inner string
		if err := json.Unmarshal(src, &inner); err != nil {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		src = []byte(inner)
	}
	if err := checkNumbers(src); err != nil {
		return nil, err
	}
	var td apitypes.TypedData
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	if err := dec.Decode(&td); err != nil {
		return nil, fmt.Errorf("not an EIP-712 document: %v", err)
	}
	td.Message = exactNumbers(map[string]any(td.Message)).(map[string]any)
	if td.PrimaryType == "" || len(td.Types) == 0 {
		return nil, errors.New("not an EIP-712 document: it needs types, primaryType, domain and message")
	}
	return &td, nil
}

// exactNumbers turns JSON numbers into *big.Int when they are integers,
// so large token amounts written as numbers keep every digit.
func exactNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = exactNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = exactNumbers(e)
		}
		return x
	case json.Number:
		if n, ok := new(big.Int).SetString(string(x), 10); ok {
			return n
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// checkNumbers refuses, before any number in the document is parsed, an
// integer longer than its declared EIP-712 type can hold (a uint64 has at
// most 20 decimal digits), and any number elsewhere (the domain's chainId,
// a field of no integer type) longer than a 256-bit one: turning a
// megabyte of digits into a big.Int costs seconds of CPU. The error names
// the field and says how long the value was, never repeating it.
func checkNumbers(src []byte) error {
	var doc struct {
		Types       map[string][]apitypes.Type `json:"types"`
		PrimaryType string                     `json:"primaryType"`
		Domain      any                        `json:"domain"`
		Message     any                        `json:"message"`
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("not an EIP-712 document: %v", err)
	}
	if err := anyNumbers("domain", doc.Domain); err != nil {
		return err
	}
	return typedNumbers(doc.Types, "message", doc.PrimaryType, doc.Message, 0)
}

// maxTypedDepth bounds how deep checkNumbers follows struct types, so a
// type that contains itself cannot recurse without end.
const maxTypedDepth = 32

// typedNumbers checks v, declared as typ, and everything inside it.
func typedNumbers(types map[string][]apitypes.Type, path, typ string, v any, depth int) error {
	if depth > maxTypedDepth {
		return &FieldError{Field: path, Msg: fmt.Sprintf("nested more than %d deep", maxTypedDepth)}
	}
	if i := strings.LastIndexByte(typ, '['); i > 0 && strings.HasSuffix(typ, "]") {
		items, ok := v.([]any)
		if !ok {
			return anyNumbers(path, v)
		}
		for j, it := range items {
			if err := typedNumbers(types, fmt.Sprintf("%s[%d]", path, j), typ[:i], it, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if fields, ok := types[typ]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			return anyNumbers(path, v)
		}
		declared := make(map[string]string, len(fields))
		for _, f := range fields {
			declared[f.Name] = f.Type
		}
		for k, e := range m {
			t, ok := declared[k]
			if !ok {
				if err := anyNumbers(path+"."+k, e); err != nil {
					return err
				}
				continue
			}
			if err := typedNumbers(types, path+"."+k, t, e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if bits, ok := intWidth(typ); ok {
		var text string
		switch x := v.(type) {
		case json.Number:
			text = string(x)
		case string:
			text = x
		default:
			return anyNumbers(path, v)
		}
		if max := maxIntText(text, bits); len(text) > max {
			return &FieldError{Field: path, Msg: fmt.Sprintf("a %s holds at most %d characters, got %d", typ, max, len(text))}
		}
		return nil
	}
	return anyNumbers(path, v)
}

// anyNumbers checks every JSON number in v against a 256-bit integer's
// length.
func anyNumbers(path string, v any) error {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if err := anyNumbers(path+"."+k, e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := anyNumbers(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	case json.Number:
		if max := maxIntText(string(x), 256); len(x) > max {
			return &FieldError{Field: path, Msg: fmt.Sprintf("a number holds at most %d characters, got %d", max, len(x))}
		}
	}
	return nil
}

// intWidth is the width in bits of an EIP-712 integer type (uint8 …
// uint256, int8 … int256; uint and int are 256).
func intWidth(typ string) (int, bool) {
	digits, ok := strings.CutPrefix(typ, "uint")
	if !ok {
		digits, ok = strings.CutPrefix(typ, "int")
	}
	if !ok {
		return 0, false
	}
	if digits == "" {
		return 256, true
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 8 || n > 256 || n%8 != 0 {
		return 0, false
	}
	return n, true
}

// maxIntText is the longest text an integer of the given width may take:
// a sign and its decimal digits, or 0x and 64 hex digits (zero padding
// to 32 bytes included), a little over for exponent forms like 1e18.
func maxIntText(text string, bits int) int {
	if strings.HasPrefix(text, "0x") || strings.HasPrefix(text, "0X") || strings.HasPrefix(text, "-0x") {
		return 3 + 64
	}
	// 2^bits has floor(bits*log10(2))+1 decimal digits; 0.30103 rounds
	// log10(2) up, so this never refuses a value that fits.
	return 1 + int(float64(bits)*0.30103) + 1 + 4
}
