package delegation

import (
	"bytes"
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/agentkeys/agentkeys/contracts"
)

// How a deployment creates the contract.
const (
	// MethodCreate2 deploys through the deterministic deployment proxy
	// (EIP-7997's factory, 0x4e59b448…4956C): the same address on every
	// chain that has the proxy, whoever deploys it.
	MethodCreate2 = "create2"
	// MethodCreate is a plain contract-creation transaction: the address
	// follows from the owner's address and nonce.
	MethodCreate = "create"
)

// Factory is the deterministic deployment proxy's address; FactoryCode is
// its runtime code, which must match exactly before it is trusted.
var (
	Factory     = params.DeterministicFactoryAddress
	FactoryCode = params.DeterministicFactoryCode
)

// Salt is the CREATE2 salt of AgentKeyDelegate. It is fixed, so the
// delegate of a given build has one address on every chain with the
// factory; a contract change changes the init code and so the address.
var Salt = crypto.Keccak256Hash([]byte("agentkeys AgentKeyDelegate v1"))

// DeterministicAddress is where the factory puts AgentKeyDelegate.
func DeterministicAddress() common.Address {
	return crypto.CreateAddress2(Factory, Salt, crypto.Keccak256(initCode()))
}

func initCode() []byte {
	// AgentKeyDelegate has no constructor arguments; Bytecode is immutable.
	return contracts.MustLoad("AgentKeyDelegate").Bytecode
}

// HasFactory reports whether the chain has the deterministic deployment
// proxy with its well-known code (other code at that address is not
// trusted).
func HasFactory(ctx context.Context, c Chain) (bool, error) {
	code, err := c.CodeAt(ctx, Factory, nil)
	if err != nil {
		return false, fmt.Errorf("read code of the deployment proxy %s: %w", Factory.Hex(), err)
	}
	return bytes.Equal(code, FactoryCode), nil
}

// IsAgentKeyDelegate reports whether addr holds AgentKeyDelegate's runtime
// code, byte for byte.
func IsAgentKeyDelegate(ctx context.Context, c Chain, addr common.Address) (bool, error) {
	return IsAgentKeyDelegateAt(ctx, c, addr, nil)
}

// IsAgentKeyDelegateAt is IsAgentKeyDelegate in the state after block (nil
// for the latest). A deployment is checked at the block that included it:
// a node may serve the receipt a moment before that block is its latest.
func IsAgentKeyDelegateAt(ctx context.Context, c Chain, addr common.Address, block *big.Int) (bool, error) {
	code, err := c.CodeAt(ctx, addr, block)
	if err != nil {
		return false, fmt.Errorf("read code of %s: %w", addr.Hex(), err)
	}
	return len(code) > 0 && bytes.Equal(code, contracts.MustLoad("AgentKeyDelegate").DeployedBytecode), nil
}

// DeployCall is the transaction that deploys AgentKeyDelegate: to the
// factory with the salt and init code for MethodCreate2, a contract
// creation (nil to) with the init code for MethodCreate. The daemon signs
// and sends it through its pipeline like any owner transaction.
func DeployCall(method string) (to *common.Address, data []byte, err error) {
	switch method {
	case MethodCreate2:
		f := Factory
		// The proxy takes the salt followed by the init code.
		return &f, append(Salt.Bytes(), initCode()...), nil
	case MethodCreate:
		return nil, initCode(), nil
	}
	return nil, nil, fmt.Errorf("deployment method: expected %q or %q, got %q", MethodCreate2, MethodCreate, method)
}
