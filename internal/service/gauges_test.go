package service_test

import (
	"testing"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/service"
)

// Refusal reasons as the policy and the service write them fall into a
// fixed set of classes, so metrics never carry amounts or addresses.
func TestRefusalClass(t *testing.T) {
	for _, tt := range []struct{ reason, want string }{
		{"unknown credential", service.RefusedCredential},
		{"credential revoked at 2026-01-05T09:00:00Z", service.RefusedCredential},
		{"rate limit reached: at most 5 requests per 1m", service.RefusedRate},
		{"spends 11 ETH, over the limit of 10 ETH per 1d: 0 ETH already used, 10 ETH left", service.RefusedBudget},
		{"spends 2 USDC, over the per-transaction limit of 1 USDC", service.RefusedBudget},
		{"spends 5 base units of token 0xabc but the policy sets no limit for it; add a limit for that token", service.RefusedBudget},
		{"fees of up to 0.1 ETH exceed the per-transaction fee limit of 0.01 ETH", service.RefusedBudget},
		{"outside the key's schedule: Mon-Fri 09:00-17:00 in UTC (it is Sat 10:00 there now)", service.RefusedSchedule},
		{"this key is not valid until 2026-01-05T09:00:00Z", service.RefusedSchedule},
		{"requests from 10.0.0.1 are not allowed: this key only accepts 127.0.0.1/32", service.RefusedNetwork},
		{"call 1 is not allowed: no rule allows contract 0x7a25", service.RefusedTarget},
		{"transfer(address,uint256) is not allowed: no rule allows this function on 0x7a25…", service.RefusedTarget},
		{"transfer(address,uint256) on 0x7512…d72A is not allowed: profile swap-only blocks token transfers", service.RefusedTarget},
		{"personal_sign is not allowed: the policy does not allow signing messages (messages: deny)", service.RefusedMessage},
		{"chain 1 is not allowed: this key signs only for chain 31337", service.RefusedChain},
		{"refused on chain by AgentKeyDelegate: Revoked()", service.RefusedChain},
		{"eth_sign is always refused: it signs a raw hash, which can be a transaction or anything else", service.RefusedRequest},
		{"method eth_foo is not supported by agentkeys", service.RefusedRequest},
		{"params: expected one transaction object", service.RefusedRequest},
		{"something new", service.RefusedOther},
	} {
		if got := service.RefusalClass(tt.reason); got != tt.want {
			t.Errorf("RefusalClass(%q) = %s, want %s", tt.reason, got, tt.want)
		}
	}
}

func TestIsAgentRequest(t *testing.T) {
	for _, tt := range []struct {
		r    audit.Record
		want bool
	}{
		{audit.Record{Method: "eth_sendTransaction", KeyID: "k"}, true},
		{audit.Record{Method: "eth_sendTransaction"}, true}, // unknown credential
		{audit.Record{Method: "agentkeys_getPermissions", KeyID: "k"}, true},
		{audit.Record{Method: "agentkeys_revoke"}, false},
		{audit.Record{Method: service.MethodAnomaly}, false},
		{audit.Record{Method: "agentkeys_registerSession", KeyID: "k"}, false},
	} {
		if got := service.IsAgentRequest(tt.r); got != tt.want {
			t.Errorf("IsAgentRequest(%s, key %q) = %v", tt.r.Method, tt.r.KeyID, got)
		}
	}
}
