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
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/agentkeys/agentkeys/internal/policy"
)

// txParam is the parameter of eth_sendTransaction.
type txParam struct {
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

// ParseTxParam reads an eth_sendTransaction parameter strictly: unknown
// fields and malformed quantities are errors naming the field.
func ParseTxParam(src []byte) (*policy.Tx, *common.Address, uint64, error) {
	var p txParam
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, nil, 0, jsonFieldError(err)
	}
	if dec.More() {
		return nil, nil, 0, errors.New("expected one JSON object")
	}
	if p.Data != nil && p.Input != nil && !bytes.Equal(*p.Data, *p.Input) {
		return nil, nil, 0, errors.New("data and input differ; give one of them")
	}
	tx := &policy.Tx{To: p.To, Value: new(big.Int), Authorizations: len(p.AuthorizationList)}
	if p.Value != nil {
		tx.Value = p.Value.ToInt()
	}
	if p.Data != nil {
		tx.Data = *p.Data
	} else if p.Input != nil {
		tx.Data = *p.Input
	}
	var chainID uint64
	if p.ChainID != nil {
		c := p.ChainID.ToInt()
		if !c.IsUint64() || c.Sign() == 0 {
			return nil, nil, 0, fmt.Errorf("chainId: expected a positive chain id, got %s", c)
		}
		chainID = c.Uint64()
	}
	return tx, p.From, chainID, nil
}

// jsonFieldError rewrites encoding/json errors so they name the field.
func jsonFieldError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: expected %s", te.Field, expectedFor(te.Field))
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
