package request

import (
	"errors"
	"math/big"
	"strings"
	"testing"
)

func TestParseTypedDataKeepsLargeIntegersExact(t *testing.T) {
	doc := `{"types":{"EIP712Domain":[{"name":"chainId","type":"uint256"}],"M":[{"name":"v","type":"uint256"}]},
	"primaryType":"M","domain":{"chainId":1},"message":{"v":115792089237316195423570985008687907853269984665640564039457584007913129639935}}`
	for name, src := range map[string]string{"object": doc, "string": `"` + strings.NewReplacer(`"`, `\"`, "\n", "", "\t", "").Replace(doc) + `"`} {
		t.Run(name, func(t *testing.T) {
			td, err := ParseTypedData([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			v, ok := td.Message["v"].(*big.Int)
			max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
			if !ok || v.Cmp(max) != 0 {
				t.Errorf("v = %v (%T), want 2^256-1 exactly", td.Message["v"], td.Message["v"])
			}
		})
	}
}

func TestParseTxParam(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
		chain              uint64
		dataLen            int
	}{
		{"input alias", `{"to":"0x1111111111111111111111111111111111111111","input":"0xa9059cbb"}`, "", 0, 4},
		{"chain id", `{"chainId":"0x7a69"}`, "", 31337, 0},
		{"data and input differ", `{"data":"0x01","input":"0x02"}`, "data and input differ", 0, 0},
		{"zero chain", `{"chainId":"0x0"}`, "chainId: expected a positive chain id", 0, 0},
		{"unknown field", `{"gasLimit":"0x1"}`, `unknown field "gasLimit"`, 0, 0},
		{"two objects", `{} {}`, "expected one JSON object", 0, 0},
		{"bad data", `{"data":"xyz"}`, "data: expected 0x-prefixed hex bytes", 0, 0},
		{"bad json", `{"to":`, "not a valid transaction object", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, _, chain, err := ParseTxParam([]byte(tt.src))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || chain != tt.chain || len(tx.Data) != tt.dataLen {
				t.Fatalf("= %+v chain %d err %v", tx, chain, err)
			}
		})
	}
}

// Numbers are bounded by their declared width before anything parses
// them: a megabyte of digits is refused by its length, with the field
// named and the value not repeated.
func TestParseTypedDataBoundsNumbers(t *testing.T) {
	doc := func(domain, message string) string {
		return `{"types":{"EIP712Domain":[{"name":"chainId","type":"uint256"}],` +
			`"M":[{"name":"v","type":"uint256"},{"name":"small","type":"uint8"},{"name":"s","type":"string"},{"name":"items","type":"I[]"}],` +
			`"I":[{"name":"n","type":"int64"}]},"primaryType":"M","domain":` + domain + `,"message":` + message + `}`
	}
	mega := strings.Repeat("9", 1<<20)
	max256 := "115792089237316195423570985008687907853269984665640564039457584007913129639935"
	tests := []struct {
		name, src, field, want string
	}{
		{"uint256 of a megabyte", doc(`{"chainId":1}`, `{"v":`+mega+`}`), "message.v", "a uint256 holds at most 83 characters, got 1048576"},
		{"uint256 as a string", doc(`{"chainId":1}`, `{"v":"`+mega+`"}`), "message.v", "got 1048576"},
		{"uint8 of 90 digits", doc(`{"chainId":1}`, `{"small":`+strings.Repeat("1", 90)+`}`), "message.small", "a uint8 holds at most 8 characters, got 90"},
		{"int64 in an array of structs", doc(`{"chainId":1}`, `{"items":[{"n":1},{"n":`+mega+`}]}`), "message.items[1].n", "a int64 holds at most 25 characters"},
		{"chainId", doc(`{"chainId":`+mega+`}`, `{}`), "domain.chainId", "a number holds at most 83 characters"},
		{"a number where a string is declared", doc(`{"chainId":1}`, `{"s":`+mega+`}`), "message.s", "got 1048576"},
		{"an undeclared field", doc(`{"chainId":1}`, `{"extra":{"x":`+mega+`}}`), "message.extra.x", "got 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTypedData([]byte(tt.src))
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(fe.Msg, tt.want) {
				t.Fatalf("err = %v, want field %s: %s", err, tt.field, tt.want)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error is %d bytes", len(err.Error()))
			}
		})
	}
	for _, ok := range []string{
		doc(`{"chainId":1}`, `{"v":`+max256+`,"small":255,"items":[{"n":-9223372036854775808}]}`),
		doc(`{"chainId":"0x01"}`, `{"v":"0x`+strings.Repeat("f", 64)+`","small":"0x00000000000000000000000000000000000000000000000000000000000000ff"}`),
	} {
		if _, err := ParseTypedData([]byte(ok)); err != nil {
			t.Errorf("a document within its widths: %v", err)
		}
	}
}
