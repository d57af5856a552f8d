package request

import (
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
