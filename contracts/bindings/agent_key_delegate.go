// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package bindings

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// AgentKeyDelegateCall is an auto generated low-level Go binding around an user-defined struct.
type AgentKeyDelegateCall struct {
	Target common.Address
	Value  *big.Int
	Data   []byte
}

// AgentKeyDelegateCondition is an auto generated low-level Go binding around an user-defined struct.
type AgentKeyDelegateCondition struct {
	Loc       AgentKeyDelegateLoc
	Op        uint8
	Signed    bool
	ValueKind uint8
	Values    [][32]byte
}

// AgentKeyDelegateLoc is an auto generated low-level Go binding around an user-defined struct.
type AgentKeyDelegateLoc struct {
	Head     uint32
	Indirect bool
	Inner    uint32
}

// AgentKeyDelegatePermission is an auto generated low-level Go binding around an user-defined struct.
type AgentKeyDelegatePermission struct {
	Target        common.Address
	Selector      [4]byte
	AnySelector   bool
	EmptyCalldata bool
	Conditions    []AgentKeyDelegateCondition
}

// AgentKeyDelegateSessionConfig is an auto generated low-level Go binding around an user-defined struct.
type AgentKeyDelegateSessionConfig struct {
	ValidAfter      *big.Int
	ValidUntil      *big.Int
	Period          uint32
	MaxValuePerCall *big.Int
	NativePerPeriod *big.Int
	MaxCalls        *big.Int
	Permissions     []AgentKeyDelegatePermission
	SpendRules      []AgentKeyDelegateSpendRule
	TokenLimits     []AgentKeyDelegateTokenLimit
}

// AgentKeyDelegateSpendRule is an auto generated low-level Go binding around an user-defined struct.
type AgentKeyDelegateSpendRule struct {
	Selector  [4]byte
	TokenKind uint8
	Token     AgentKeyDelegateLoc
	Amount    AgentKeyDelegateLoc
}

// AgentKeyDelegateTokenLimit is an auto generated low-level Go binding around an user-defined struct.
type AgentKeyDelegateTokenLimit struct {
	Token     common.Address
	PerTx     *big.Int
	PerPeriod *big.Int
}

// AgentKeyDelegateMetaData contains all meta data concerning the AgentKeyDelegate contract.
var AgentKeyDelegateMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[],\"name\":\"BadCalldata\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"BadSignature\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes\",\"name\":\"returndata\",\"type\":\"bytes\"}],\"name\":\"CallFailed\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"permissionIndex\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"conditionIndex\",\"type\":\"uint256\"}],\"name\":\"ConditionFailed\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"Expired\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidConfig\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"spent\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"cap\",\"type\":\"uint256\"}],\"name\":\"NativeBudgetExceeded\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"internalType\":\"bytes4\",\"name\":\"selector\",\"type\":\"bytes4\"}],\"name\":\"NoPermission\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NonceUsed\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotSelf\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotSession\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotYetValid\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"Revoked\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"SessionExists\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"SignatureExpired\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"StaleEpoch\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"spent\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"cap\",\"type\":\"uint256\"}],\"name\":\"TokenBudgetExceeded\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"cap\",\"type\":\"uint256\"}],\"name\":\"TokenPerTxExceeded\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"TooManyCalls\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"}],\"name\":\"UncappedToken\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"max\",\"type\":\"uint256\"}],\"name\":\"ValueTooHigh\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"epoch\",\"type\":\"uint32\"}],\"name\":\"AllSessionsRevoked\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"session\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bytes4\",\"name\":\"selector\",\"type\":\"bytes4\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"}],\"name\":\"Executed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"session\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint48\",\"name\":\"validAfter\",\"type\":\"uint48\"},{\"indexed\":false,\"internalType\":\"uint48\",\"name\":\"validUntil\",\"type\":\"uint48\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"epoch\",\"type\":\"uint32\"}],\"name\":\"SessionGranted\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"session\",\"type\":\"address\"}],\"name\":\"SessionRevoked\",\"type\":\"event\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"session\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"data\",\"type\":\"bytes\"}],\"name\":\"check\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"ok\",\"type\":\"bool\"},{\"internalType\":\"bytes\",\"name\":\"reason\",\"type\":\"bytes\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"eip712Domain\",\"outputs\":[{\"internalType\":\"bytes1\",\"name\":\"fields\",\"type\":\"bytes1\"},{\"internalType\":\"string\",\"name\":\"name\",\"type\":\"string\"},{\"internalType\":\"string\",\"name\":\"version\",\"type\":\"string\"},{\"internalType\":\"uint256\",\"name\":\"chainId\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"verifyingContract\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"},{\"internalType\":\"uint256[]\",\"name\":\"extensions\",\"type\":\"uint256[]\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"epoch\",\"outputs\":[{\"internalType\":\"uint32\",\"name\":\"\",\"type\":\"uint32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"data\",\"type\":\"bytes\"}],\"name\":\"execute\",\"outputs\":[{\"internalType\":\"bytes\",\"name\":\"\",\"type\":\"bytes\"}],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"data\",\"type\":\"bytes\"}],\"internalType\":\"structAgentKeyDelegate.Call[]\",\"name\":\"calls\",\"type\":\"tuple[]\"}],\"name\":\"executeBatch\",\"outputs\":[{\"internalType\":\"bytes[]\",\"name\":\"results\",\"type\":\"bytes[]\"}],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"session\",\"type\":\"address\"},{\"components\":[{\"internalType\":\"uint48\",\"name\":\"validAfter\",\"type\":\"uint48\"},{\"internalType\":\"uint48\",\"name\":\"validUntil\",\"type\":\"uint48\"},{\"internalType\":\"uint32\",\"name\":\"period\",\"type\":\"uint32\"},{\"internalType\":\"uint256\",\"name\":\"maxValuePerCall\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"nativePerPeriod\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"maxCalls\",\"type\":\"uint256\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"internalType\":\"bytes4\",\"name\":\"selector\",\"type\":\"bytes4\"},{\"internalType\":\"bool\",\"name\":\"anySelector\",\"type\":\"bool\"},{\"internalType\":\"bool\",\"name\":\"emptyCalldata\",\"type\":\"bool\"},{\"components\":[{\"components\":[{\"internalType\":\"uint32\",\"name\":\"head\",\"type\":\"uint32\"},{\"internalType\":\"bool\",\"name\":\"indirect\",\"type\":\"bool\"},{\"internalType\":\"uint32\",\"name\":\"inner\",\"type\":\"uint32\"}],\"internalType\":\"structAgentKeyDelegate.Loc\",\"name\":\"loc\",\"type\":\"tuple\"},{\"internalType\":\"uint8\",\"name\":\"op\",\"type\":\"uint8\"},{\"internalType\":\"bool\",\"name\":\"signed_\",\"type\":\"bool\"},{\"internalType\":\"uint8\",\"name\":\"valueKind\",\"type\":\"uint8\"},{\"internalType\":\"bytes32[]\",\"name\":\"values\",\"type\":\"bytes32[]\"}],\"internalType\":\"structAgentKeyDelegate.Condition[]\",\"name\":\"conditions\",\"type\":\"tuple[]\"}],\"internalType\":\"structAgentKeyDelegate.Permission[]\",\"name\":\"permissions\",\"type\":\"tuple[]\"},{\"components\":[{\"internalType\":\"bytes4\",\"name\":\"selector\",\"type\":\"bytes4\"},{\"internalType\":\"uint8\",\"name\":\"tokenKind\",\"type\":\"uint8\"},{\"components\":[{\"internalType\":\"uint32\",\"name\":\"head\",\"type\":\"uint32\"},{\"internalType\":\"bool\",\"name\":\"indirect\",\"type\":\"bool\"},{\"internalType\":\"uint32\",\"name\":\"inner\",\"type\":\"uint32\"}],\"internalType\":\"structAgentKeyDelegate.Loc\",\"name\":\"token\",\"type\":\"tuple\"},{\"components\":[{\"internalType\":\"uint32\",\"name\":\"head\",\"type\":\"uint32\"},{\"internalType\":\"bool\",\"name\":\"indirect\",\"type\":\"bool\"},{\"internalType\":\"uint32\",\"name\":\"inner\",\"type\":\"uint32\"}],\"internalType\":\"structAgentKeyDelegate.Loc\",\"name\":\"amount\",\"type\":\"tuple\"}],\"internalType\":\"structAgentKeyDelegate.SpendRule[]\",\"name\":\"spendRules\",\"type\":\"tuple[]\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"perTx\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"perPeriod\",\"type\":\"uint256\"}],\"internalType\":\"structAgentKeyDelegate.TokenLimit[]\",\"name\":\"tokenLimits\",\"type\":\"tuple[]\"}],\"internalType\":\"structAgentKeyDelegate.SessionConfig\",\"name\":\"cfg\",\"type\":\"tuple\"}],\"name\":\"grant\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"session\",\"type\":\"address\"},{\"components\":[{\"internalType\":\"uint48\",\"name\":\"validAfter\",\"type\":\"uint48\"},{\"internalType\":\"uint48\",\"name\":\"validUntil\",\"type\":\"uint48\"},{\"internalType\":\"uint32\",\"name\":\"period\",\"type\":\"uint32\"},{\"internalType\":\"uint256\",\"name\":\"maxValuePerCall\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"nativePerPeriod\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"maxCalls\",\"type\":\"uint256\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"internalType\":\"bytes4\",\"name\":\"selector\",\"type\":\"bytes4\"},{\"internalType\":\"bool\",\"name\":\"anySelector\",\"type\":\"bool\"},{\"internalType\":\"bool\",\"name\":\"emptyCalldata\",\"type\":\"bool\"},{\"components\":[{\"components\":[{\"internalType\":\"uint32\",\"name\":\"head\",\"type\":\"uint32\"},{\"internalType\":\"bool\",\"name\":\"indirect\",\"type\":\"bool\"},{\"internalType\":\"uint32\",\"name\":\"inner\",\"type\":\"uint32\"}],\"internalType\":\"structAgentKeyDelegate.Loc\",\"name\":\"loc\",\"type\":\"tuple\"},{\"internalType\":\"uint8\",\"name\":\"op\",\"type\":\"uint8\"},{\"internalType\":\"bool\",\"name\":\"signed_\",\"type\":\"bool\"},{\"internalType\":\"uint8\",\"name\":\"valueKind\",\"type\":\"uint8\"},{\"internalType\":\"bytes32[]\",\"name\":\"values\",\"type\":\"bytes32[]\"}],\"internalType\":\"structAgentKeyDelegate.Condition[]\",\"name\":\"conditions\",\"type\":\"tuple[]\"}],\"internalType\":\"structAgentKeyDelegate.Permission[]\",\"name\":\"permissions\",\"type\":\"tuple[]\"},{\"components\":[{\"internalType\":\"bytes4\",\"name\":\"selector\",\"type\":\"bytes4\"},{\"internalType\":\"uint8\",\"name\":\"tokenKind\",\"type\":\"uint8\"},{\"components\":[{\"internalType\":\"uint32\",\"name\":\"head\",\"type\":\"uint32\"},{\"internalType\":\"bool\",\"name\":\"indirect\",\"type\":\"bool\"},{\"internalType\":\"uint32\",\"name\":\"inner\",\"type\":\"uint32\"}],\"internalType\":\"structAgentKeyDelegate.Loc\",\"name\":\"token\",\"type\":\"tuple\"},{\"components\":[{\"internalType\":\"uint32\",\"name\":\"head\",\"type\":\"uint32\"},{\"internalType\":\"bool\",\"name\":\"indirect\",\"type\":\"bool\"},{\"internalType\":\"uint32\",\"name\":\"inner\",\"type\":\"uint32\"}],\"internalType\":\"structAgentKeyDelegate.Loc\",\"name\":\"amount\",\"type\":\"tuple\"}],\"internalType\":\"structAgentKeyDelegate.SpendRule[]\",\"name\":\"spendRules\",\"type\":\"tuple[]\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"perTx\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"perPeriod\",\"type\":\"uint256\"}],\"internalType\":\"structAgentKeyDelegate.TokenLimit[]\",\"name\":\"tokenLimits\",\"type\":\"tuple[]\"}],\"internalType\":\"structAgentKeyDelegate.SessionConfig\",\"name\":\"cfg\",\"type\":\"tuple\"},{\"internalType\":\"uint256\",\"name\":\"stipend\",\"type\":\"uint256\"},{\"internalType\":\"uint32\",\"name\":\"epoch_\",\"type\":\"uint32\"},{\"internalType\":\"uint64\",\"name\":\"nonce\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"deadline\",\"type\":\"uint64\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"grantWithSignature\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"session\",\"type\":\"address\"},{\"components\":[{\"internalType\":\"uint48\",\"name\":\"validAfter\",\"type\":\"uint48\"},{\"internalType\":\"uint48\",\"name\":\"validUntil\",\"type\":\"uint48\"},{\"internalType\":\"uint32\",\"name\":\"period\",\"type\":\"uint32\"},{\"internalType\":\"uint256\",\"name\":\"maxValuePerCall\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"nativePerPeriod\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"maxCalls\",\"type\":\"uint256\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"internalType\":\"bytes4\",\"name\":\"selector\",\"type\":\"bytes4\"},{\"internalType\":\"bool\",\"name\":\"anySelector\",\"type\":\"bool\"},{\"internalType\":\"bool\",\"name\":\"emptyCalldata\",\"type\":\"bool\"},{\"components\":[{\"components\":[{\"internalType\":\"uint32\",\"name\":\"head\",\"type\":\"uint32\"},{\"internalType\":\"bool\",\"name\":\"indirect\",\"type\":\"bool\"},{\"internalType\":\"uint32\",\"name\":\"inner\",\"type\":\"uint32\"}],\"internalType\":\"structAgentKeyDelegate.Loc\",\"name\":\"loc\",\"type\":\"tuple\"},{\"internalType\":\"uint8\",\"name\":\"op\",\"type\":\"uint8\"},{\"internalType\":\"bool\",\"name\":\"signed_\",\"type\":\"bool\"},{\"internalType\":\"uint8\",\"name\":\"valueKind\",\"type\":\"uint8\"},{\"internalType\":\"bytes32[]\",\"name\":\"values\",\"type\":\"bytes32[]\"}],\"internalType\":\"structAgentKeyDelegate.Condition[]\",\"name\":\"conditions\",\"type\":\"tuple[]\"}],\"internalType\":\"structAgentKeyDelegate.Permission[]\",\"name\":\"permissions\",\"type\":\"tuple[]\"},{\"components\":[{\"internalType\":\"bytes4\",\"name\":\"selector\",\"type\":\"bytes4\"},{\"internalType\":\"uint8\",\"name\":\"tokenKind\",\"type\":\"uint8\"},{\"components\":[{\"internalType\":\"uint32\",\"name\":\"head\",\"type\":\"uint32\"},{\"internalType\":\"bool\",\"name\":\"indirect\",\"type\":\"bool\"},{\"internalType\":\"uint32\",\"name\":\"inner\",\"type\":\"uint32\"}],\"internalType\":\"structAgentKeyDelegate.Loc\",\"name\":\"token\",\"type\":\"tuple\"},{\"components\":[{\"internalType\":\"uint32\",\"name\":\"head\",\"type\":\"uint32\"},{\"internalType\":\"bool\",\"name\":\"indirect\",\"type\":\"bool\"},{\"internalType\":\"uint32\",\"name\":\"inner\",\"type\":\"uint32\"}],\"internalType\":\"structAgentKeyDelegate.Loc\",\"name\":\"amount\",\"type\":\"tuple\"}],\"internalType\":\"structAgentKeyDelegate.SpendRule[]\",\"name\":\"spendRules\",\"type\":\"tuple[]\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"perTx\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"perPeriod\",\"type\":\"uint256\"}],\"internalType\":\"structAgentKeyDelegate.TokenLimit[]\",\"name\":\"tokenLimits\",\"type\":\"tuple[]\"}],\"internalType\":\"structAgentKeyDelegate.SessionConfig\",\"name\":\"cfg\",\"type\":\"tuple\"},{\"internalType\":\"uint256\",\"name\":\"stipend\",\"type\":\"uint256\"},{\"internalType\":\"uint32\",\"name\":\"epoch_\",\"type\":\"uint32\"},{\"internalType\":\"uint64\",\"name\":\"nonce\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"deadline\",\"type\":\"uint64\"}],\"name\":\"hashGrant\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"hash\",\"type\":\"bytes32\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"isValidSignature\",\"outputs\":[{\"internalType\":\"bytes4\",\"name\":\"\",\"type\":\"bytes4\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"nextNonce\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"nonce\",\"type\":\"uint64\"}],\"name\":\"nonceUsed\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"uint256[]\",\"name\":\"\",\"type\":\"uint256[]\"},{\"internalType\":\"uint256[]\",\"name\":\"\",\"type\":\"uint256[]\"},{\"internalType\":\"bytes\",\"name\":\"\",\"type\":\"bytes\"}],\"name\":\"onERC1155BatchReceived\",\"outputs\":[{\"internalType\":\"bytes4\",\"name\":\"\",\"type\":\"bytes4\"}],\"stateMutability\":\"pure\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"\",\"type\":\"bytes\"}],\"name\":\"onERC1155Received\",\"outputs\":[{\"internalType\":\"bytes4\",\"name\":\"\",\"type\":\"bytes4\"}],\"stateMutability\":\"pure\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"\",\"type\":\"bytes\"}],\"name\":\"onERC721Received\",\"outputs\":[{\"internalType\":\"bytes4\",\"name\":\"\",\"type\":\"bytes4\"}],\"stateMutability\":\"pure\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"session\",\"type\":\"address\"}],\"name\":\"remaining\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"native\",\"type\":\"uint256\"},{\"internalType\":\"address[]\",\"name\":\"tokens\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"amounts\",\"type\":\"uint256[]\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"session\",\"type\":\"address\"}],\"name\":\"revoke\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"revokeAll\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"revokeSelf\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"session\",\"type\":\"address\"}],\"name\":\"sessionInfo\",\"outputs\":[{\"internalType\":\"uint48\",\"name\":\"validAfter\",\"type\":\"uint48\"},{\"internalType\":\"uint48\",\"name\":\"validUntil\",\"type\":\"uint48\"},{\"internalType\":\"uint32\",\"name\":\"epoch_\",\"type\":\"uint32\"},{\"internalType\":\"bool\",\"name\":\"active\",\"type\":\"bool\"},{\"internalType\":\"uint256\",\"name\":\"calls\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"nativeSpentThisPeriod\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes4\",\"name\":\"interfaceId\",\"type\":\"bytes4\"}],\"name\":\"supportsInterface\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"pure\",\"type\":\"function\"},{\"stateMutability\":\"payable\",\"type\":\"receive\"}]",
	ID:  "AgentKeyDelegate",
	Bin: "0x6080604052348015600e575f5ffd5b50614acf8061001c5f395ff3fe60806040526004361061011e575f3560e01c806384b0196e1161009d578063b61d27f611610062578063b61d27f6146103a0578063bc197c81146103c0578063d69c3d30146103ee578063f23a6e611461041e578063fe978e361461044a575f5ffd5b806384b0196e146102e8578063900cf0cf1461030f5780639c21c8151461033f578063a340fff41461035e578063b399b0bc14610372575f5ffd5b806334fcd5be116100e357806334fcd5be146101f75780633c02a81e146102175780635ccb71a81461027d57806374a8f1031461029c57806377814fc9146102bb575f5ffd5b806301ffc9a71461012957806304c605331461015d578063150b7a021461018a5780631626ba7e146101c257806321ef10f0146101e1575f5ffd5b3661012557005b5f5ffd5b348015610134575f5ffd5b50610148610143366004613ffe565b6104ad565b60405190151581526020015b60405180910390f35b348015610168575f5ffd5b5061017c610177366004614084565b610519565b60405161015492919061411b565b348015610195575f5ffd5b506101a96101a4366004614084565b6105d0565b6040516001600160e01b03199091168152602001610154565b3480156101cd575f5ffd5b506101a96101dc366004614135565b6105e2565b3480156101ec575f5ffd5b506101f5610637565b005b61020a6102053660046141bc565b6106dd565b60405161015491906141fa565b348015610222575f5ffd5b50610148610231366004614273565b600881901c66ffffffffffffff165f9081527fc019a5818c8956c993248358f45fc2abda293c71e2ed5f7a22b70ddd4d2229036020526040902054600160ff9092169190911b16151590565b348015610288575f5ffd5b506101f56102973660046142b0565b6107e3565b3480156102a7575f5ffd5b506101f56102b6366004614362565b6108fc565b3480156102c6575f5ffd5b506102da6102d536600461437b565b6109c9565b604051908152602001610154565b3480156102f3575f5ffd5b506102fc6109e5565b6040516101549796959493929190614437565b34801561031a575f5ffd5b505f516020614aa35f395f51905f525460405163ffffffff9091168152602001610154565b34801561034a575f5ffd5b506101f56103593660046144a6565b610a91565b348015610369575f5ffd5b506101f5610ac1565b34801561037d575f5ffd5b5061039161038c366004614362565b610b5e565b604051610154939291906144f0565b6103b36103ae36600461454e565b610d8a565b60405161015491906145a3565b3480156103cb575f5ffd5b506101a96103da3660046145b5565b63bc197c8160e01b98975050505050505050565b3480156103f9575f5ffd5b505f516020614aa35f395f51905f5254600160401b90046001600160801b03166102da565b348015610429575f5ffd5b506101a9610438366004614651565b63f23a6e6160e01b9695505050505050565b348015610455575f5ffd5b50610469610464366004614362565b610daf565b6040805165ffffffffffff978816815296909516602087015263ffffffff9093169385019390935215156060840152608083019190915260a082015260c001610154565b5f6301ffc9a760e01b6001600160e01b0319831614806104dd5750630a85bd0160e11b6001600160e01b03198316145b806104f85750630271189760e51b6001600160e01b03198316145b8061051357506001600160e01b03198216630b135d3f60e11b145b92915050565b5f60605f5f61052789610e7d565b90925090506001600160e01b031982161561057857506040805160048152602481019091526020810180516001600160e01b03166001600160e01b0319909316929092179091525f925090506105c6565b63ffffffff81165f9081527fc019a5818c8956c993248358f45fc2abda293c71e2ed5f7a22b70ddd4d222902602052604090206105bb9082908b8b8b8b8b610f68565b518051159450925050505b9550959350505050565b630a85bd0160e11b5b95945050505050565b5f5f6105ef858585611165565b90506001600160a01b0381161580159061061157506001600160a01b03811630145b610623576001600160e01b031961062c565b630b135d3f60e11b5b9150505b9392505050565b335f9081527fc019a5818c8956c993248358f45fc2abda293c71e2ed5f7a22b70ddd4d22290160205260408120545f516020614aa35f395f51905f529163ffffffff8216900361069a576040516352b8ff5b60e11b815260040160405180910390fd5b335f818152600184016020526040808220600160c01b85179055517f2991ab7bfda4556c9e662762b3dfa89a1df391084c4278286d466c1c187e55239190a25050565b60606106e8336112e7565b50816001600160401b03811115610701576107016146c3565b60405190808252806020026020018201604052801561073457816020015b606081526020019060019003908161071f5790505b5090505f5b828110156107dc5736848483818110610754576107546146d7565b905060200281019061076691906146eb565b905061078f6107786020830183614362565b602083013561078a6040850185614709565b611314565b6107b661079f6020830183614362565b60208301356107b16040850185614709565b611589565b8383815181106107c8576107c86146d7565b602090810291909101015250600101610739565b5092915050565b826001600160401b031642111561080d57604051630819bdcd60e01b815260040160405180910390fd5b5f516020614aa35f395f51905f52805463ffffffff878116911614610845576040516368549ea160e01b815260040160405180910390fd5b6001600160a01b0389165f9081526001820160205260409020541561087d57604051630af0dd7f60e41b815260040160405180910390fd5b6108878186611615565b50306108a161089a8a8a8a8a8a8a6116ed565b8484611165565b6001600160a01b0316146108c857604051635cd5d23360e01b815260040160405180910390fd5b5f5f6108d48a8a6118a4565b91509150875f146108f0576108f082828c8b8d60800135611baa565b50505050505050505050565b33301461091c576040516314e1dbf760e11b815260040160405180910390fd5b6001600160a01b0381165f9081527fc019a5818c8956c993248358f45fc2abda293c71e2ed5f7a22b70ddd4d22290160205260409020545f516020614aa35f395f51905f529063ffffffff811615610991576001600160a01b0383165f9081526001830160205260409020600160c01b821790555b6040516001600160a01b038416907f2991ab7bfda4556c9e662762b3dfa89a1df391084c4278286d466c1c187e5523905f90a2505050565b5f6109d88787878787876116ed565b90505b9695505050505050565b5f6060805f5f5f60606040518060400160405280601081526020016f4167656e744b657944656c656761746560801b815250604051806040016040528060018152602001603160f81b81525046305f5f1b5f6001600160401b03811115610a4e57610a4e6146c3565b604051908082528060200260200182016040528015610a77578160200160208202803683370190505b50600f60f81b9d959c50939a509198509650945092509050565b333014610ab1576040516314e1dbf760e11b815260040160405180910390fd5b610abb82826118a4565b50505050565b333014610ae1576040516314e1dbf760e11b815260040160405180910390fd5b5f516020614aa35f395f51905f5280545f9082908290610b069063ffffffff1661475f565b825463ffffffff8083166101009490940a848102910219909116179092556040519081529091507f016cd6aada40271d51bda015ade4fdec1e7a8621df6827128910ea7b91d4b5579060200160405180910390a15050565b5f6060805f5f610b6d86610e7d565b915091505f610b865f516020614aa35f395f51905f5290565b63ffffffff83165f908152600291909101602090815260409182902060078101805484518185028101850190955280855291945091830182828015610bf257602002820191905f5260205f20905b81546001600160a01b03168152600190910190602001808311610bd4575b5050835193985083925050506001600160401b03811115610c1557610c156146c3565b604051908082528060200260200182016040528015610c3e578160200160208202803683370190505b5094506001600160e01b03198416155f81610c59575f610c62565b610c6285611cc6565b90505f5b8381108015610c725750825b15610d2e575f856006015f8b8481518110610c8f57610c8f6146d7565b60200260200101516001600160a01b03166001600160a01b031681526020019081526020015f2090505f815f01549050836001600160401b0316610cdb8260081c65ffffffffffff1690565b6001600160401b031614610cf3578160010154610cfd565b610cfd8282611d06565b8a8481518110610d0f57610d0f6146d7565b602002602001018181525050505080610d2790614783565b9050610c66565b508115610d7d5760038401548454610d7a91906001600160401b03848116911614610d59575f610d6c565b8554600160401b90046001600160c01b03165b6001600160c01b0316611d29565b98505b5050505050509193909250565b6060610d9885858585611314565b610da485858585611589565b90505b949350505050565b5f5f5f5f5f5f5f5f610dc089610e7d565b915091505f610dd95f516020614aa35f395f51905f5290565b63ffffffff83165f90815260029190910160209081526040918290209184901c9a50607084901c995083901c97506001600160e01b031984161596509050610e218260d01c90565b64ffffffffff1694508865ffffffffffff164210158015610e575750610e4682611cc6565b81546001600160401b039081169116145b15610e71578054600160401b90046001600160c01b031693505b50505091939550919395565b6001600160a01b0381165f9081527fc019a5818c8956c993248358f45fc2abda293c71e2ed5f7a22b70ddd4d22290160205260408120545f516020614aa35f395f51905f5263ffffffff82168303610ee057506352b8ff5b60e11b939092509050565b600160c01b8216151580610f0357508054602083901c63ffffffff908116911614155b15610f1957506344825a4b60e01b939092509050565b604082901c65ffffffffffff16421015610f3e5750633fb4e43f60e01b939092509050565b607082901c65ffffffffffff164210610f625750630407b05b60e31b939092509050565b50915091565b610fa06040518060a00160405280606081526020015f6001600160401b031681526020015f81526020015f8152602001606081525090565b8115801590610faf5750600482105b15610fe4576040805160048152602481019091526020810180516001600160e01b031663068b856560e21b179052815261115a565b5f610fef8484611d58565b9050306001600160a01b0387160361105757604051632deac9af60e01b9061101d908890849060240161479b565b60408051601f198184030181529190526020810180516001600160e01b03166001600160e01b03199093169290921790915282525061115a565b600160c11b8916158015906110875750600188015464ffffffffff1661107d8a60d01c90565b64ffffffffff1610155b156110bd57506040805160048152602481019091526020810180516001600160e01b031663f5dedbff60e01b179052815261115a565b838380156110d7576110d285600481896147be565b915091505b5f6110ed8b60c88e901c8c8c888b158989611d79565b818752905190915015611103575050505061115a565b61110c8c611cc6565b6001600160401b03166020860152871561113d5761112b8b8987611f33565b808652511561113d575050505061115a565b8515611155576111528b828b8787878b612043565b85525b505050505b979650505050505050565b5f80808060418590036111c75761117f60205f87896147be565b611188916147e5565b92506111986040602087896147be565b6111a1916147e5565b9150858560408181106111b6576111b66146d7565b919091013560f81c91506112309050565b6040859003611225576111dd60205f87896147be565b6111e6916147e5565b92505f6111f760406020888a6147be565b611200916147e5565b6001600160ff1b0381169350905061121d60ff82901c601b614802565b915050611230565b5f9350505050610630565b7f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a082118061127157508060ff16601b1415801561127157508060ff16601c14155b15611281575f9350505050610630565b604080515f81526020810180835289905260ff831691810191909152606081018490526080810183905260019060a0016020604051602081039080840390855afa1580156112d1573d5f5f3e3d5ffd5b5050604051601f19015198975050505050505050565b5f5f6112f283610e7d565b925090506001600160e01b031981161561130e57805f5260045ffd5b50919050565b5f516020614aa35f395f51905f525f61132c336112e7565b63ffffffff81165f90815260028401602052604081209192506113548383338b8b8b8b610f68565b8051519091501561136a57805161136a90612184565b5f6113758460d01c90565b61138090600161481b565b335f908152600187016020526040902064ffffffffff60d01b19861664ffffffffff60d01b60d084901b161790559050871561141e576020820151835467ffffffffffffffff19166001600160401b0390911617835560408201516001600160c01b03106113f25781604001516113fb565b6001600160c01b035b83546001600160c01b0391909116600160401b026001600160401b039091161783555b6080820151602083015160081b68ffffffffffffffff00165f5b6003856060015102811015611523575f866006015f85848151811061145f5761145f6146d7565b60200260200101516001600160a01b03166001600160a01b031681526020019081526020015f2090505f815f015490505f8584600101815181106114a5576114a56146d7565b60200260200101519050600282165f146114f1575f1981036114cb57506001600160641b035b730fffffffffffffffffffffffff000000000000ff82168517609c82901b178355611518565b6003830181905566ffffffffffff00821685146115185766ffffffffffff00198216851783555b505050600301611438565b506001600160a01b038b16337f13590feed0e1c4fd208b94d255ece0dc8e7992c57b3aeb0d79d12c839cec5a5161155a8c8c611d58565b604080516001600160e01b03199092168252602082018f90520160405180910390a35050505050505050505050565b60605f5f866001600160a01b03168686866040516115a8929190614838565b5f6040518083038185875af1925050503d805f81146115e2576040519150601f19603f3d011682016040523d82523d5f602084013e6115e7565b606091505b5091509150816109db578060405163a5fa8d2b60e01b815260040161160c91906145a3565b60405180910390fd5b66ffffffffffffff600882901c165f908152600383016020526040902054600160ff83161b908082161561165c57604051631f6d5aef60e01b815260040160405180910390fd5b600883901c66ffffffffffffff165f908152600385016020526040902082821790558354600160401b90046001600160801b03166001600160401b03841610610abb576116b36001600160401b0384166001614847565b84546001600160801b0391909116600160401b0277ffffffffffffffffffffffffffffffff00000000000000001990911617845550505050565b5f5f7fdd6cb27850dbec22ced49df6a793f82e3ccde8b5c80e60091077a6770dcde0938861171a8961218c565b6040805160208101949094526001600160a01b039092169183019190915260608201526080810187905263ffffffff861660a08201526001600160401b0380861660c0830152841660e08201526101000160408051808303601f1901815282825280516020918201208383018352601084526f4167656e744b657944656c656761746560801b938201939093528151808301835260018152603160f81b9082015281517f8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f918101919091527f31f0fbf3034c044deb69dc312cc485e0c78631cb23c25128e3a2d26d964b511f918101919091527fc89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc660608201524660808201523060a08201529091505f9060c00160408051601f1981840301815290829052805160209182012061190160f01b918301919091526022820181905260428201849052915060620160405160208183030381529060405280519060200120925050509695505050505050565b5f5f6118b084846125e7565b5f516020614aa35f395f51905f5280545f9082906004906118de90640100000000900463ffffffff1661475f565b82546101009290920a63ffffffff81810219909316828416918202179093555f92835260028501602052604083208554909750909350169060a0870135156119665750600160c11b64ffffffffff60a088013511611940578660a00135611947565b64ffffffffff5b60018701805464ffffffffff191664ffffffffff929092169190911790555b60608701356002870155608087013560038701555f805b61198a60c08a018a614866565b90508110156119e5576119d9886119a460c08c018c614866565b848181106119b4576119b46146d7565b90506020028101906119c691906148ab565b836119d460e08e018e6148bf565b61290b565b9091179060010161197d565b505f5b6119f560e08a018a6148bf565b9050811015611a3357611a2b88611a0f60e08c018c6148bf565b84818110611a1f57611a1f6146d7565b90506101000201612cec565b6001016119e8565b505f5b611a446101008a018a614904565b9050811015611a8257611a7a88611a5f6101008c018c614904565b84818110611a6f57611a6f6146d7565b905060600201612ddd565b600101611a36565b5060ff60c81b60c882901b168260a0611aa160608c0160408d01614948565b63ffffffff16901b6070611abb60408d0160208e01614961565b65ffffffffffff16901b6040611ad460208e018e614961565b65ffffffffffff16901b60208863ffffffff16901b8963ffffffff16171717171717955085856001015f8b6001600160a01b03166001600160a01b031681526020019081526020015f2081905550886001600160a01b03167f5752b6cd19da5c5d9dc10e60d4b8e17deb850f6a3904dd810f9b974cee6e61ec895f016020810190611b5f9190614961565b611b6f60408c0160208d01614961565b6040805165ffffffffffff938416815292909116602083015263ffffffff87169082015260600160405180910390a250505050509250929050565b80821115611bcb576040516306b7c75960e31b815260040160405180910390fd5b604084901c65ffffffffffff164210611bec57611be784611cc6565b611bee565b5f5b855467ffffffffffffffff19166001600160401b03919091161785556001600160c01b038211611c1e5781611c27565b6001600160c01b035b85546001600160c01b0391909116600160401b026001600160401b039091161785556040515f9081906001600160a01b0386169085908381818185875af1925050503d805f8114611c93576040519150601f19603f3d011682016040523d82523d5f602084013e611c98565b606091505b509150915081611cbd578060405163a5fa8d2b60e01b815260040161160c91906145a3565b50505050505050565b5f63ffffffff60a083901c16808203611ce157505f92915050565b80604084901c65ffffffffffff16420381611cfe57611cfe614986565b049392505050565b5f600282165f03611d1c57506003820154610513565b610630609c83901c612ee7565b5f5f198303611d39575081610513565b82821015611d5057611d4b828461499a565b610630565b505f92915050565b5f6004821015611d6957505f610513565b5050356001600160e01b03191690565b60408051606081810183525f1982525f602083018190529282018390529190815b6004811015611e38576001811615155f600283168103611dc65788611dbf575f611dc9565b6002611dc9565b60015b9050611dd58183612f10565b8d1660ff165f03611de7575050611e30565b611e0b8e611e0284611df9578d611dfb565b5f5b8d85612f33565b8e8b8b89612f76565b94508415611e2d57505060408051602081019091525f81529350611f26915050565b50505b600101611d9a565b50806040015115611e765750506040805160048152602481019091526020810180516001600160e01b031663068b856560e21b17905290505f611f26565b80515f1914611ed157805160209182015160408051602481019390935260448084019290925280518084039092018252606490920190915290810180516001600160e01b0316633344da0160e11b17905291505f9050611f26565b604051632deac9af60e01b90611eed908a908a9060240161479b565b60408051601f198184030181529190526020810180516001600160e01b03166001600160e01b03199093169290921790915292505f9150505b9850989650505050505050565b600283015460609080841115611f875760408051602481018690526044808201939093528151808203909301835260640190526020810180516001600160e01b0316637a0e198560e01b1790529050610630565b602083015185545f91611fce916001600160401b03908116911614611fac575f611fbf565b8654600160401b90046001600160c01b03165b6001600160c01b031686613056565b600387015490915080821115612028576040805160248101939093526044808401929092528051808403909201825260649092019091526020810180516001600160e01b0316631c5434a760e31b17905291506106309050565b5060409384015250508051602081019091525f815292915050565b60605f5f600160fb1b89165f0361207b5750506001600160e01b031985165f90815260058901602052604090205460a081901c612091565b600160fc1b891615612091575050605087901c60015b5f5b818110156121675780156120c1576001600160e01b0319881681175f90815260058c01602052604090205492505b5f5f5f6120e3701fffffffffffffffffffffffffffffffff87168d8c8c613071565b925092509250826121255750506040805160048152602481019091526020810180516001600160e01b031663068b856560e21b179052945061115a9350505050565b805f036121345750505061215f565b5f6121428f84848c8a61321c565b905080515f1461215a57965061115a95505050505050565b505050505b600101612093565b505060408051602081019091525f81529998505050505050505050565b805160208201fd5b5f8061219b60c0840184614866565b90506001600160401b038111156121b4576121b46146c3565b6040519080825280602002602001820160405280156121dd578160200160208202803683370190505b5090505f5b8151811015612247576122226121fb60c0860186614866565b8381811061220b5761220b6146d7565b905060200281019061221d91906148ab565b61353f565b828281518110612234576122346146d7565b60209081029190910101526001016121e2565b50805160051b602082012061225f60e08501856148bf565b90506001600160401b03811115612278576122786146c3565b6040519080825280602002602001820160405280156122a1578160200160208202803683370190505b5091505f5b82518110156123a157366122bd60e08701876148bf565b838181106122cd576122cd6146d7565b610100029190910191507f1ddaea805610cfb4a1b19a78cc8418f6f0fb42544a48ab26b846d7bf8f41c4ed90506123076020830183613ffe565b61231760408401602085016149ad565b61232384604001613798565b61232f8560a001613798565b6040805160208101969096526001600160e01b03199094169385019390935260ff9091166060840152608083015260a082015260c0016040516020818303038152906040528051906020012084838151811061238d5761238d6146d7565b6020908102919091010152506001016122a6565b50815160051b60208301206123ba610100860186614904565b90506001600160401b038111156123d3576123d36146c3565b6040519080825280602002602001820160405280156123fc578160200160208202803683370190505b5092505f5b83518110156124cf5736612419610100880188614904565b83818110612429576124296146d7565b6060029190910191507feb63ffc314ee441b53a25c4657d4f8e5b2adb1ed0094f87428a1a1b33bd143e790506124626020830183614362565b604080516020818101949094526001600160a01b039092168282015291830135606082015290820135608082015260a001604051602081830303815290604052805190602001208583815181106124bb576124bb6146d7565b602090810291909101015250600101612401565b50825160051b60208401207f18f5f7d11c6e8715fec9c98adba8b5d52bbc20d131c37c86058eadc6550cefab6125086020880188614961565b6125186040890160208a01614961565b61252860608a0160408b01614948565b60408051602081019590955265ffffffffffff93841690850152911660608381019190915263ffffffff9091166080838101919091529088013560a0838101919091529088013560c083015287013560e08201526101000160408051601f1981840301815282825260208301869052908201849052606082018390529060800160408051601f19818403018152908290526125c692916020016149e4565b60405160208183030381529060405280519060200120945050505050919050565b6001600160a01b038216158061260557506001600160a01b03821630145b15612623576040516306b7c75960e31b815260040160405180910390fd5b6126336040820160208301614961565b65ffffffffffff166126486020830183614961565b65ffffffffffff161061266e576040516306b7c75960e31b815260040160405180910390fd5b63ffffffff61268060c0830183614866565b905011156126a1576040516306b7c75960e31b815260040160405180910390fd5b5f5b6126b060c0830183614866565b905081101561280d57366126c760c0840184614866565b838181106126d7576126d76146d7565b90506020028101906126e991906148ab565b9050306126f96020830183614362565b6001600160a01b031603612720576040516306b7c75960e31b815260040160405180910390fd5b61273060608201604083016149f8565b8015612747575061274760808201606083016149f8565b15612765576040516306b7c75960e31b815260040160405180910390fd5b61277560808201606083016149f8565b801561278e57506127896080820182614866565b151590505b156127ac576040516306b7c75960e31b815260040160405180910390fd5b5f5b6127bb6080830183614866565b9050811015612803576127fb6127d46080840184614866565b838181106127e4576127e46146d7565b90506020028101906127f69190614a17565b61382d565b6001016127ae565b50506001016126a3565b505f5b61281d60e08301836148bf565b905081101561288857600461283560e08401846148bf565b83818110612845576128456146d7565b90506101000201602001602081019061285e91906149ad565b60ff161115612880576040516306b7c75960e31b815260040160405180910390fd5b600101612810565b505f5b612899610100830183614904565b9050811015612906575f6128b1610100840184614904565b838181106128c1576128c16146d7565b6128d79260206060909202019081019150614362565b6001600160a01b0316036128fe576040516306b7c75960e31b815260040160405180910390fd5b60010161288b565b505050565b5f8061291d60608701604088016149f8565b6129425761293160808701606088016149f8565b61293b575f612945565b6002612945565b60015b90505f61296e6129586020890189614362565b61296860408a0160208b01613ffe565b84612f33565b90505f5b600160f81b896004015f612988858560081b1790565b815260208101919091526040015f205416156129ae576129a781614783565b9050612972565b80156129eb57600160f91b60048a015f6129d4856129cd60018761499a565b60081b1790565b815260208101919091526040015f20805490911790555b5f896004015f6129fd858560081b1790565b81526020019081526020015f2090505f898060800190612a1d9190614866565b915050600160f81b60d58a901b1760ff8616612a5057612a4e612a4660408d0160208e01613ffe565b838b8b6139eb565b175b5f612a5a82613ac2565b905080831115612a6e57600160fa1b821791505b5f5f5b84811015612ca257368e8060800190612a8a9190614866565b83818110612a9a57612a9a6146d7565b9050602002810190612aac9190614a17565b90505f600160471b6045612ac660c0850160a086016149ad565b60ff16901b6042612add60808601606087016149ad565b60ff16901b612af260a08601608087016149f8565b612afc575f612b02565b600160411b5b612b0b86613ae3565b17171717905084831015612b3057612b24836050614a2b565b81901b86179550612bb4565b5f612b3b868561499a565b9050612b48600382614a42565b612b53906050614a2b565b82901b9490941793612b676001600361499a565b612b72600383614a42565b1480612b875750612b8460018961499a565b84145b15612bb2578460018a015f612b9d600385614a55565b81526020019081526020015f20819055505f94505b505b5f612bc560c0840160a085016149ad565b60ff1603612c98576006612bdf60808401606085016149ad565b60ff1610612c5c575f8381526003890160205260408120905b612c0560c0850185614866565b9050811015612c555781612c1c60c0860186614866565b83818110612c2c57612c2c6146d7565b8354600180820186555f9586526020958690209290950293909301359201919091555001612bf8565b5050612c98565b612c6960c0830183614866565b5f818110612c7957612c796146d7565b90506020020135886002015f8581526020019081526020015f20819055505b5050600101612a71565b5082855f0181905550612cda885f6001600160a01b03168f5f016020810190612ccb9190614362565b6001600160a01b031614612f10565b9e9d5050505050505050505050505050565b5f6005830181612d0f612d026020860186613ffe565b6001600160e01b03191690565b81526020019081526020015f205490505f60a082901c9050805f03612d6757600160a01b612d3c84613b39565b17600585015f612d52612d026020880188613ffe565b815260208101919091526040015f2055610abb565b612d7083613b39565b600585015f612d94612d856020880188613ffe565b6001600160e01b031916851790565b815260208101919091526040015f2055612db2600160a01b83614a68565b600585015f612dc7612d026020880188613ffe565b815260208101919091526040015f205550505050565b5f6006830181612df06020850185614362565b6001600160a01b0316815260208101919091526040015f20805490915060011615612e2e576040516306b7c75960e31b815260040160405180910390fd5b5f5f612e3d8460200135613b75565b915091505f5f612e508660400135613b75565b604088013560018801559092509050838015612e695750815b15612e8357603883901b609c82901b176003178555612e9c565b6001855560208601356002860155604086013560038601555b60078701612ead6020880188614362565b81546001810183555f928352602090922090910180546001600160a01b0319166001600160a01b0390921691909117905550505050505050565b5f6001600160641b03821691506001600160641b038214612f085781610513565b5f1992915050565b5f81612f1c575f612f1f565b60015b836002020160ff166001901b905092915050565b5f60ff821615612f41575f92505b506bffffffffffffffffffffffff19606084901b166bffffffff000000000000000060a084901c161760ff8216179392505050565b5f5f5f5b5f896004015f612f8c8b8560081b1790565b81526020019081526020015f2090505f815f01549050600160f81b81165f03612fbb575f9450505050506109db565b5f612fc983838c8c8c613ba0565b90505f198103612fdf575093506109db92505050565b612feb60015f1961499a565b8103612ffd5760016040880152613028565b846130285786516001955063ffffffff60d584901c169081101561302657602088018290528088525b505b600160f91b82165f03613042575f955050505050506109db565b5050508061304f90614783565b9050612f7a565b5f8282018381106130675780610da7565b5f19949350505050565b5f5f5f5f613084868660418b901c613c92565b5090945090508361309e575f5f5f93509350935050613212565b808601359150608288901c806130bc57600188945094505050613212565b5f6130c888888c613c92565b91975093509050856130e5575f5f5f955095509550505050613212565b5f198201613107576130f983890135613d41565b909650945061321292505050565b5f61311789898487830135613d5f565b9198509450905086613135575f5f5f96509650965050505050613212565b60011983016131865780158061315457506020613152858a61499a565b105b1561316b575f5f5f96509650965050505050613212565b613177848a0135613d41565b90975095506132129350505050565b601481108061319d575061319a848961499a565b81115b156131b4575f5f5f96509650965050505050613212565b60021983016131d4576001848a01355b60601c9650965050505050613212565b60031983016132045760016131c48a8a60146131f0868a614a68565b6131fa919061499a565b9190910135919050565b5f5f5f965096509650505050505b9450945094915050565b6001600160a01b0384165f90815260068601602052604081208054606092600182169003613290575050604080516001600160a01b0387166024808301919091528251808303909101815260449091019091526020810180516001600160e01b0316630810f1ff60e01b17905290506105d9565b608085015180515f036132ec57600385026001600160401b038111156132b8576132b86146c3565b6040519080825280602002602001820160405280156132e1578160200160208202803683370190505b506080870181905290505b60608601516003025f5b81811080156133305750896001600160a01b031683828151811061331c5761331c6146d7565b60200260200101516001600160a01b031614155b1561333d576003016132f6565b8181036133da57896001600160a01b0316838281518110613360576133606146d7565b60200260200101818152505087602001516001600160401b031661338c8560081c65ffffffffffff1690565b6001600160401b0316146133a45784600101546133ae565b6133ae8585611d06565b8382600101815181106133c3576133c36146d7565b602090810291909101015260608801805160010190525b5f600285165f036133ef5785600201546133fc565b6133fc603886901c612ee7565b90505f613425858460020181518110613417576134176146d7565b60200260200101518c613056565b90508181111561348b57604080516001600160a01b038e166024820152604481019290925260648083019390935280518083039093018352608490910190526020810180516001600160e01b031663af0883a960e01b17905295506105d9945050505050565b5f8584600101815181106134a1576134a16146d7565b602002602001015190505f1981146134fb57808c11156134d6576134c7888e838f613da3565b985050505050505050506105d9565b8b81038685600101815181106134ee576134ee6146d7565b6020026020010181815250505b81868560020181518110613511576135116146d7565b602002602001018181525050505050505060405180602001604052805f815250935050505095945050505050565b5f8061354e6080840184614866565b90506001600160401b03811115613567576135676146c3565b604051908082528060200260200182016040528015613590578160200160208202803683370190505b5090505f5b81518110156136cc57366135ac6080860186614866565b838181106135bc576135bc6146d7565b90506020028101906135ce9190614a17565b90507fc5307510e127e62520e60e9a192ffa01cd5bc6e671d5af03ae5e05aafacd08e76135fa82613798565b61360a60808401606085016149ad565b61361a60a08501608086016149f8565b61362a60c0860160a087016149ad565b61363760c0870187614866565b604051602001613648929190614a7b565b60408051601f1981840301815282825280516020918201209083019790975281019490945260ff928316606085015290151560808401521660a082015260c081019190915260e001604051602081830303815290604052805190602001208383815181106136b8576136b86146d7565b602090810291909101015250600101613595565b507fcd7f8374eb42cc89f198b46fe9a96ff7bae93fb04e7c4431ff59589a6cfe74ac6136fb6020850185614362565b61370b6040860160208701613ffe565b61371b60608701604088016149f8565b61372b60808801606089016149f8565b855160051b60208701206040805160208101979097526001600160a01b03909516948601949094526001600160e01b0319909216606085015215156080840152151560a083015260c082015260e00160405160208183030381529060405280519060200120915050919050565b5f7f6d1cc13c53ea43021b95c30e385dfe6a999dc1696d6075fbf5a5da30f9b3682b6137c76020840184614948565b6137d760408501602086016149f8565b6137e76060860160408701614948565b60408051602081019590955263ffffffff93841690850152901515606084015216608082015260a001604051602081830303815290604052805190602001209050919050565b600761383f60808301606084016149ad565b60ff161115613861576040516306b7c75960e31b815260040160405180910390fd5b5f61387260c0830160a084016149ad565b60ff16036138df57600661388c60808301606084016149ad565b60ff1610156138ad576138a260c0820182614866565b9050600114156138be565b6138ba60c0820182614866565b1590505b156138dc576040516306b7c75960e31b815260040160405180910390fd5b50565b60016138f160c0830160a084016149ad565b60ff1614806139125750600261390d60c0830160a084016149ad565b60ff16145b156139d25761392460c0820182614866565b159050613944576040516306b7c75960e31b815260040160405180910390fd5b5f61395560808301606084016149ad565b60ff16141580156139795750600161397360808301606084016149ad565b60ff1614155b80156139985750600661399260808301606084016149ad565b60ff1614155b80156138be575060076139b160808301606084016149ad565b60ff16146138dc576040516306b7c75960e31b815260040160405180910390fd5b6040516306b7c75960e31b815260040160405180910390fd5b5f5f5f5f5b84811015613a86576001600160e01b03198816868683818110613a1557613a156146d7565b613a2c926020610100909202019081019150613ffe565b6001600160e01b03191603613a7e576001613a4684614783565b9350831115613a5a575f9350505050610da7565b613a7b868683818110613a6f57613a6f6146d7565b90506101000201613b39565b91505b6001016139f0565b50815f03613a9c57600160fb1b92505050610da7565b6001861115613aaf575f92505050610da7565b60501b600360fb1b179695505050505050565b5f600160fc1b82165f03613ad7576002613ada565b60015b60ff1692915050565b5f613af460408301602084016149f8565b613afe575f613b04565b600160401b5b6020613b166060850160408601614948565b63ffffffff16901b613b2b6020850185614948565b63ffffffff16171792915050565b5f6082613b4c60408401602085016149ad565b60ff16901b6041613b5f8460a001613ae3565b901b613b6d84604001613ae3565b171792915050565b5f5f5f198303613b9157506001926001600160641b0392509050565b50506001600160641b03811091565b5f5f613bab86613ac2565b90505f5f5b5f83821015613bc657506050810288901c613c12565b600160fa1b89165f03613be0575f199450505050506105d9565b838203600381065f03613c0457600381045f90815260018c01602052604090205493505b6003810660500284901c9150505b600160471b81165f03613c2c575f199450505050506105d9565b5f5f613c39898985613c92565b509150915081613c5c57613c4f60015f1961499a565b96505050505050506105d9565b613c6c8c8585848d01358e613e26565b613c7e578396505050505050506105d9565b50505080613c8b90614783565b9050613bb0565b5f808063ffffffff80851690602086811c90911690600160401b87161515908890811080613cc257506020810384115b15613cd9575f5f5f96509650965050505050613d38565b81613cf1576001845f96509650965050505050613d38565b838a0135945080851180613d06575084810383115b80613d15575060208386830303105b15613d2c575f5f5f96509650965050505050613d38565b50600195505082019250505b93509350939050565b5f8060a083901c15613d5757505f928392509050565b506001929050565b5f808085858103851180613d77575060208587830303105b15613d8b575f5f5f93509350935050613212565b50600197939094016020810196013594509192505050565b6001840154606090639dd2e36960e01b85613dc7613dc1878561499a565b86613056565b6040516001600160a01b03909216602483015260448201526064810183905260840160408051601f198184030181529190526020810180516001600160e01b03166001600160e01b031990931692909217909152915050949350505050565b5f6007604285901c166003604586901c168015613ecc575f60018214613e5a5760028214613e54575f613e5c565b84613e5c565b305b90506001600160a01b038116613e77575f93505050506105d9565b6001600160a01b0381168614831580613e905750600684145b15613ea05793506105d992505050565b6001841480613eaf5750600784145b15613ec0571593506105d992505050565b5f9450505050506105d9565b6006821480613edb5750600782145b15613f55575f878152600389016020526040812080549091805b8281108015613f02575081155b15613f375788848281548110613f1a57613f1a6146d7565b905f5260205f20015414915080613f3090614783565b9050613ef5565b5060068514613f47578015613f49565b805b955050505050506105d9565b5f87815260028901602052604090205482613f7657851492506105d9915050565b5f198301613f8b5785141592506105d9915050565b5f80600160411b891615613fa6575050808612818713613faf565b50508086108187115b6001198501613fc4575093506105d992505050565b6002198501613fda571594506105d99350505050565b6003198501613fef5794506105d99350505050565b50159998505050505050505050565b5f6020828403121561400e575f5ffd5b81356001600160e01b031981168114610630575f5ffd5b80356001600160a01b038116811461403b575f5ffd5b919050565b5f5f83601f840112614050575f5ffd5b5081356001600160401b03811115614066575f5ffd5b60208301915083602082850101111561407d575f5ffd5b9250929050565b5f5f5f5f5f60808688031215614098575f5ffd5b6140a186614025565b94506140af60208701614025565b93506040860135925060608601356001600160401b038111156140d0575f5ffd5b6140dc88828901614040565b969995985093965092949392505050565b5f81518084528060208401602086015e5f602082860101526020601f19601f83011685010191505092915050565b8215158152604060208201525f610da760408301846140ed565b5f5f5f60408486031215614147575f5ffd5b8335925060208401356001600160401b03811115614163575f5ffd5b61416f86828701614040565b9497909650939450505050565b5f5f83601f84011261418c575f5ffd5b5081356001600160401b038111156141a2575f5ffd5b6020830191508360208260051b850101111561407d575f5ffd5b5f5f602083850312156141cd575f5ffd5b82356001600160401b038111156141e2575f5ffd5b6141ee8582860161417c565b90969095509350505050565b5f602082016020835280845180835260408501915060408160051b8601019250602086015f5b8281101561425157603f1987860301845261423c8583516140ed565b94506020938401939190910190600101614220565b50929695505050505050565b80356001600160401b038116811461403b575f5ffd5b5f60208284031215614283575f5ffd5b6106308261425d565b5f610120828403121561130e575f5ffd5b803563ffffffff8116811461403b575f5ffd5b5f5f5f5f5f5f5f5f60e0898b0312156142c7575f5ffd5b6142d089614025565b975060208901356001600160401b038111156142ea575f5ffd5b6142f68b828c0161428c565b9750506040890135955061430c60608a0161429d565b945061431a60808a0161425d565b935061432860a08a0161425d565b925060c08901356001600160401b03811115614342575f5ffd5b61434e8b828c01614040565b999c989b5096995094979396929594505050565b5f60208284031215614372575f5ffd5b61063082614025565b5f5f5f5f5f5f60c08789031215614390575f5ffd5b61439987614025565b955060208701356001600160401b038111156143b3575f5ffd5b6143bf89828a0161428c565b955050604087013593506143d56060880161429d565b92506143e36080880161425d565b91506143f160a0880161425d565b90509295509295509295565b5f8151808452602084019350602083015f5b8281101561442d57815186526020958601959091019060010161440f565b5093949350505050565b60ff60f81b8816815260e060208201525f61445560e08301896140ed565b828103604084015261446781896140ed565b606084018890526001600160a01b038716608085015260a0840186905283810360c0850152905061449881856143fd565b9a9950505050505050505050565b5f5f604083850312156144b7575f5ffd5b6144c083614025565b915060208301356001600160401b038111156144da575f5ffd5b6144e68582860161428c565b9150509250929050565b5f60608201858352606060208401528085518083526080850191506020870192505f5b8181101561453a5783516001600160a01b0316835260209384019390920191600101614513565b5050838103604085015261115a81866143fd565b5f5f5f5f60608587031215614561575f5ffd5b61456a85614025565b93506020850135925060408501356001600160401b0381111561458b575f5ffd5b61459787828801614040565b95989497509550505050565b602081525f61063060208301846140ed565b5f5f5f5f5f5f5f5f60a0898b0312156145cc575f5ffd5b6145d589614025565b97506145e360208a01614025565b965060408901356001600160401b038111156145fd575f5ffd5b6146098b828c0161417c565b90975095505060608901356001600160401b03811115614627575f5ffd5b6146338b828c0161417c565b90955093505060808901356001600160401b03811115614342575f5ffd5b5f5f5f5f5f5f60a08789031215614666575f5ffd5b61466f87614025565b955061467d60208801614025565b9450604087013593506060870135925060808701356001600160401b038111156146a5575f5ffd5b6146b189828a01614040565b979a9699509497509295939492505050565b634e487b7160e01b5f52604160045260245ffd5b634e487b7160e01b5f52603260045260245ffd5b5f8235605e198336030181126146ff575f5ffd5b9190910192915050565b5f5f8335601e1984360301811261471e575f5ffd5b8301803591506001600160401b03821115614737575f5ffd5b60200191503681900382131561407d575f5ffd5b634e487b7160e01b5f52601160045260245ffd5b5f63ffffffff821663ffffffff810361477a5761477a61474b565b60010192915050565b5f600182016147945761479461474b565b5060010190565b6001600160a01b039290921682526001600160e01b031916602082015260400190565b5f5f858511156147cc575f5ffd5b838611156147d8575f5ffd5b5050820193919092039150565b80356020831015610513575f19602084900360031b1b1692915050565b60ff81811683821601908111156105135761051361474b565b64ffffffffff81811683821601908111156105135761051361474b565b818382375f9101908152919050565b6001600160801b0381811683821601908111156105135761051361474b565b5f5f8335601e1984360301811261487b575f5ffd5b8301803591506001600160401b03821115614894575f5ffd5b6020019150600581901b360382131561407d575f5ffd5b5f8235609e198336030181126146ff575f5ffd5b5f5f8335601e198436030181126148d4575f5ffd5b8301803591506001600160401b038211156148ed575f5ffd5b6020019150600881901b360382131561407d575f5ffd5b5f5f8335601e19843603018112614919575f5ffd5b8301803591506001600160401b03821115614932575f5ffd5b602001915060608102360382131561407d575f5ffd5b5f60208284031215614958575f5ffd5b6106308261429d565b5f60208284031215614971575f5ffd5b813565ffffffffffff81168114610630575f5ffd5b634e487b7160e01b5f52601260045260245ffd5b818103818111156105135761051361474b565b5f602082840312156149bd575f5ffd5b813560ff81168114610630575f5ffd5b5f81518060208401855e5f93019283525090919050565b5f610da76149f283866149cd565b846149cd565b5f60208284031215614a08575f5ffd5b81358015158114610630575f5ffd5b5f823560de198336030181126146ff575f5ffd5b80820281158282048414176105135761051361474b565b5f82614a5057614a50614986565b500690565b5f82614a6357614a63614986565b500490565b808201808211156105135761051361474b565b5f6001600160fb1b03831115614a8f575f5ffd5b8260051b8085843791909101939250505056fec019a5818c8956c993248358f45fc2abda293c71e2ed5f7a22b70ddd4d222900a164736f6c6343000825000a",
}

// AgentKeyDelegate is an auto generated Go binding around an Ethereum contract.
type AgentKeyDelegate struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *AgentKeyDelegate) GetABI() abi.ABI {
	return c.abi
}

// NewAgentKeyDelegate creates a new instance of AgentKeyDelegate.
func NewAgentKeyDelegate() *AgentKeyDelegate {
	parsed, err := AgentKeyDelegateMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &AgentKeyDelegate{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *AgentKeyDelegate) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackCheck is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x04c60533.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function check(address session, address target, uint256 value, bytes data) view returns(bool ok, bytes reason)
func (agentKeyDelegate *AgentKeyDelegate) PackCheck(session common.Address, target common.Address, value *big.Int, data []byte) []byte {
	enc, err := agentKeyDelegate.abi.Pack("check", session, target, value, data)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackCheck is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x04c60533.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function check(address session, address target, uint256 value, bytes data) view returns(bool ok, bytes reason)
func (agentKeyDelegate *AgentKeyDelegate) TryPackCheck(session common.Address, target common.Address, value *big.Int, data []byte) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("check", session, target, value, data)
}

// CheckOutput serves as a container for the return parameters of contract
// method Check.
type CheckOutput struct {
	Ok     bool
	Reason []byte
}

// UnpackCheck is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x04c60533.
//
// Solidity: function check(address session, address target, uint256 value, bytes data) view returns(bool ok, bytes reason)
func (agentKeyDelegate *AgentKeyDelegate) UnpackCheck(data []byte) (CheckOutput, error) {
	out, err := agentKeyDelegate.abi.Unpack("check", data)
	outstruct := new(CheckOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Ok = *abi.ConvertType(out[0], new(bool)).(*bool)
	outstruct.Reason = *abi.ConvertType(out[1], new([]byte)).(*[]byte)
	return *outstruct, nil
}

// PackEip712Domain is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x84b0196e.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function eip712Domain() view returns(bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)
func (agentKeyDelegate *AgentKeyDelegate) PackEip712Domain() []byte {
	enc, err := agentKeyDelegate.abi.Pack("eip712Domain")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackEip712Domain is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x84b0196e.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function eip712Domain() view returns(bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)
func (agentKeyDelegate *AgentKeyDelegate) TryPackEip712Domain() ([]byte, error) {
	return agentKeyDelegate.abi.Pack("eip712Domain")
}

// Eip712DomainOutput serves as a container for the return parameters of contract
// method Eip712Domain.
type Eip712DomainOutput struct {
	Fields            [1]byte
	Name              string
	Version           string
	ChainId           *big.Int
	VerifyingContract common.Address
	Salt              [32]byte
	Extensions        []*big.Int
}

// UnpackEip712Domain is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x84b0196e.
//
// Solidity: function eip712Domain() view returns(bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)
func (agentKeyDelegate *AgentKeyDelegate) UnpackEip712Domain(data []byte) (Eip712DomainOutput, error) {
	out, err := agentKeyDelegate.abi.Unpack("eip712Domain", data)
	outstruct := new(Eip712DomainOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Fields = *abi.ConvertType(out[0], new([1]byte)).(*[1]byte)
	outstruct.Name = *abi.ConvertType(out[1], new(string)).(*string)
	outstruct.Version = *abi.ConvertType(out[2], new(string)).(*string)
	outstruct.ChainId = abi.ConvertType(out[3], new(big.Int)).(*big.Int)
	outstruct.VerifyingContract = *abi.ConvertType(out[4], new(common.Address)).(*common.Address)
	outstruct.Salt = *abi.ConvertType(out[5], new([32]byte)).(*[32]byte)
	outstruct.Extensions = *abi.ConvertType(out[6], new([]*big.Int)).(*[]*big.Int)
	return *outstruct, nil
}

// PackEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x900cf0cf.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function epoch() view returns(uint32)
func (agentKeyDelegate *AgentKeyDelegate) PackEpoch() []byte {
	enc, err := agentKeyDelegate.abi.Pack("epoch")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x900cf0cf.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function epoch() view returns(uint32)
func (agentKeyDelegate *AgentKeyDelegate) TryPackEpoch() ([]byte, error) {
	return agentKeyDelegate.abi.Pack("epoch")
}

// UnpackEpoch is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x900cf0cf.
//
// Solidity: function epoch() view returns(uint32)
func (agentKeyDelegate *AgentKeyDelegate) UnpackEpoch(data []byte) (uint32, error) {
	out, err := agentKeyDelegate.abi.Unpack("epoch", data)
	if err != nil {
		return *new(uint32), err
	}
	out0 := *abi.ConvertType(out[0], new(uint32)).(*uint32)
	return out0, nil
}

// PackExecute is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb61d27f6.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function execute(address target, uint256 value, bytes data) payable returns(bytes)
func (agentKeyDelegate *AgentKeyDelegate) PackExecute(target common.Address, value *big.Int, data []byte) []byte {
	enc, err := agentKeyDelegate.abi.Pack("execute", target, value, data)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackExecute is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb61d27f6.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function execute(address target, uint256 value, bytes data) payable returns(bytes)
func (agentKeyDelegate *AgentKeyDelegate) TryPackExecute(target common.Address, value *big.Int, data []byte) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("execute", target, value, data)
}

// UnpackExecute is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xb61d27f6.
//
// Solidity: function execute(address target, uint256 value, bytes data) payable returns(bytes)
func (agentKeyDelegate *AgentKeyDelegate) UnpackExecute(data []byte) ([]byte, error) {
	out, err := agentKeyDelegate.abi.Unpack("execute", data)
	if err != nil {
		return *new([]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([]byte)).(*[]byte)
	return out0, nil
}

// PackExecuteBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x34fcd5be.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function executeBatch((address,uint256,bytes)[] calls) payable returns(bytes[] results)
func (agentKeyDelegate *AgentKeyDelegate) PackExecuteBatch(calls []AgentKeyDelegateCall) []byte {
	enc, err := agentKeyDelegate.abi.Pack("executeBatch", calls)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackExecuteBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x34fcd5be.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function executeBatch((address,uint256,bytes)[] calls) payable returns(bytes[] results)
func (agentKeyDelegate *AgentKeyDelegate) TryPackExecuteBatch(calls []AgentKeyDelegateCall) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("executeBatch", calls)
}

// UnpackExecuteBatch is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x34fcd5be.
//
// Solidity: function executeBatch((address,uint256,bytes)[] calls) payable returns(bytes[] results)
func (agentKeyDelegate *AgentKeyDelegate) UnpackExecuteBatch(data []byte) ([][]byte, error) {
	out, err := agentKeyDelegate.abi.Unpack("executeBatch", data)
	if err != nil {
		return *new([][]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([][]byte)).(*[][]byte)
	return out0, nil
}

// PackGrant is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9c21c815.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function grant(address session, (uint48,uint48,uint32,uint256,uint256,uint256,(address,bytes4,bool,bool,((uint32,bool,uint32),uint8,bool,uint8,bytes32[])[])[],(bytes4,uint8,(uint32,bool,uint32),(uint32,bool,uint32))[],(address,uint256,uint256)[]) cfg) returns()
func (agentKeyDelegate *AgentKeyDelegate) PackGrant(session common.Address, cfg AgentKeyDelegateSessionConfig) []byte {
	enc, err := agentKeyDelegate.abi.Pack("grant", session, cfg)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGrant is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9c21c815.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function grant(address session, (uint48,uint48,uint32,uint256,uint256,uint256,(address,bytes4,bool,bool,((uint32,bool,uint32),uint8,bool,uint8,bytes32[])[])[],(bytes4,uint8,(uint32,bool,uint32),(uint32,bool,uint32))[],(address,uint256,uint256)[]) cfg) returns()
func (agentKeyDelegate *AgentKeyDelegate) TryPackGrant(session common.Address, cfg AgentKeyDelegateSessionConfig) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("grant", session, cfg)
}

// PackGrantWithSignature is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5ccb71a8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function grantWithSignature(address session, (uint48,uint48,uint32,uint256,uint256,uint256,(address,bytes4,bool,bool,((uint32,bool,uint32),uint8,bool,uint8,bytes32[])[])[],(bytes4,uint8,(uint32,bool,uint32),(uint32,bool,uint32))[],(address,uint256,uint256)[]) cfg, uint256 stipend, uint32 epoch_, uint64 nonce, uint64 deadline, bytes signature) returns()
func (agentKeyDelegate *AgentKeyDelegate) PackGrantWithSignature(session common.Address, cfg AgentKeyDelegateSessionConfig, stipend *big.Int, epoch uint32, nonce uint64, deadline uint64, signature []byte) []byte {
	enc, err := agentKeyDelegate.abi.Pack("grantWithSignature", session, cfg, stipend, epoch, nonce, deadline, signature)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGrantWithSignature is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5ccb71a8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function grantWithSignature(address session, (uint48,uint48,uint32,uint256,uint256,uint256,(address,bytes4,bool,bool,((uint32,bool,uint32),uint8,bool,uint8,bytes32[])[])[],(bytes4,uint8,(uint32,bool,uint32),(uint32,bool,uint32))[],(address,uint256,uint256)[]) cfg, uint256 stipend, uint32 epoch_, uint64 nonce, uint64 deadline, bytes signature) returns()
func (agentKeyDelegate *AgentKeyDelegate) TryPackGrantWithSignature(session common.Address, cfg AgentKeyDelegateSessionConfig, stipend *big.Int, epoch uint32, nonce uint64, deadline uint64, signature []byte) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("grantWithSignature", session, cfg, stipend, epoch, nonce, deadline, signature)
}

// PackHashGrant is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x77814fc9.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function hashGrant(address session, (uint48,uint48,uint32,uint256,uint256,uint256,(address,bytes4,bool,bool,((uint32,bool,uint32),uint8,bool,uint8,bytes32[])[])[],(bytes4,uint8,(uint32,bool,uint32),(uint32,bool,uint32))[],(address,uint256,uint256)[]) cfg, uint256 stipend, uint32 epoch_, uint64 nonce, uint64 deadline) view returns(bytes32)
func (agentKeyDelegate *AgentKeyDelegate) PackHashGrant(session common.Address, cfg AgentKeyDelegateSessionConfig, stipend *big.Int, epoch uint32, nonce uint64, deadline uint64) []byte {
	enc, err := agentKeyDelegate.abi.Pack("hashGrant", session, cfg, stipend, epoch, nonce, deadline)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackHashGrant is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x77814fc9.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function hashGrant(address session, (uint48,uint48,uint32,uint256,uint256,uint256,(address,bytes4,bool,bool,((uint32,bool,uint32),uint8,bool,uint8,bytes32[])[])[],(bytes4,uint8,(uint32,bool,uint32),(uint32,bool,uint32))[],(address,uint256,uint256)[]) cfg, uint256 stipend, uint32 epoch_, uint64 nonce, uint64 deadline) view returns(bytes32)
func (agentKeyDelegate *AgentKeyDelegate) TryPackHashGrant(session common.Address, cfg AgentKeyDelegateSessionConfig, stipend *big.Int, epoch uint32, nonce uint64, deadline uint64) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("hashGrant", session, cfg, stipend, epoch, nonce, deadline)
}

// UnpackHashGrant is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x77814fc9.
//
// Solidity: function hashGrant(address session, (uint48,uint48,uint32,uint256,uint256,uint256,(address,bytes4,bool,bool,((uint32,bool,uint32),uint8,bool,uint8,bytes32[])[])[],(bytes4,uint8,(uint32,bool,uint32),(uint32,bool,uint32))[],(address,uint256,uint256)[]) cfg, uint256 stipend, uint32 epoch_, uint64 nonce, uint64 deadline) view returns(bytes32)
func (agentKeyDelegate *AgentKeyDelegate) UnpackHashGrant(data []byte) ([32]byte, error) {
	out, err := agentKeyDelegate.abi.Unpack("hashGrant", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackIsValidSignature is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1626ba7e.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function isValidSignature(bytes32 hash, bytes signature) view returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) PackIsValidSignature(hash [32]byte, signature []byte) []byte {
	enc, err := agentKeyDelegate.abi.Pack("isValidSignature", hash, signature)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIsValidSignature is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1626ba7e.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function isValidSignature(bytes32 hash, bytes signature) view returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) TryPackIsValidSignature(hash [32]byte, signature []byte) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("isValidSignature", hash, signature)
}

// UnpackIsValidSignature is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x1626ba7e.
//
// Solidity: function isValidSignature(bytes32 hash, bytes signature) view returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) UnpackIsValidSignature(data []byte) ([4]byte, error) {
	out, err := agentKeyDelegate.abi.Unpack("isValidSignature", data)
	if err != nil {
		return *new([4]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([4]byte)).(*[4]byte)
	return out0, nil
}

// PackNextNonce is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd69c3d30.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function nextNonce() view returns(uint256)
func (agentKeyDelegate *AgentKeyDelegate) PackNextNonce() []byte {
	enc, err := agentKeyDelegate.abi.Pack("nextNonce")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackNextNonce is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd69c3d30.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function nextNonce() view returns(uint256)
func (agentKeyDelegate *AgentKeyDelegate) TryPackNextNonce() ([]byte, error) {
	return agentKeyDelegate.abi.Pack("nextNonce")
}

// UnpackNextNonce is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd69c3d30.
//
// Solidity: function nextNonce() view returns(uint256)
func (agentKeyDelegate *AgentKeyDelegate) UnpackNextNonce(data []byte) (*big.Int, error) {
	out, err := agentKeyDelegate.abi.Unpack("nextNonce", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackNonceUsed is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3c02a81e.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function nonceUsed(uint64 nonce) view returns(bool)
func (agentKeyDelegate *AgentKeyDelegate) PackNonceUsed(nonce uint64) []byte {
	enc, err := agentKeyDelegate.abi.Pack("nonceUsed", nonce)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackNonceUsed is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3c02a81e.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function nonceUsed(uint64 nonce) view returns(bool)
func (agentKeyDelegate *AgentKeyDelegate) TryPackNonceUsed(nonce uint64) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("nonceUsed", nonce)
}

// UnpackNonceUsed is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x3c02a81e.
//
// Solidity: function nonceUsed(uint64 nonce) view returns(bool)
func (agentKeyDelegate *AgentKeyDelegate) UnpackNonceUsed(data []byte) (bool, error) {
	out, err := agentKeyDelegate.abi.Unpack("nonceUsed", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackOnERC1155BatchReceived is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xbc197c81.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function onERC1155BatchReceived(address , address , uint256[] , uint256[] , bytes ) pure returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) PackOnERC1155BatchReceived(arg0 common.Address, arg1 common.Address, arg2 []*big.Int, arg3 []*big.Int, arg4 []byte) []byte {
	enc, err := agentKeyDelegate.abi.Pack("onERC1155BatchReceived", arg0, arg1, arg2, arg3, arg4)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackOnERC1155BatchReceived is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xbc197c81.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function onERC1155BatchReceived(address , address , uint256[] , uint256[] , bytes ) pure returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) TryPackOnERC1155BatchReceived(arg0 common.Address, arg1 common.Address, arg2 []*big.Int, arg3 []*big.Int, arg4 []byte) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("onERC1155BatchReceived", arg0, arg1, arg2, arg3, arg4)
}

// UnpackOnERC1155BatchReceived is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xbc197c81.
//
// Solidity: function onERC1155BatchReceived(address , address , uint256[] , uint256[] , bytes ) pure returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) UnpackOnERC1155BatchReceived(data []byte) ([4]byte, error) {
	out, err := agentKeyDelegate.abi.Unpack("onERC1155BatchReceived", data)
	if err != nil {
		return *new([4]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([4]byte)).(*[4]byte)
	return out0, nil
}

// PackOnERC1155Received is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf23a6e61.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function onERC1155Received(address , address , uint256 , uint256 , bytes ) pure returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) PackOnERC1155Received(arg0 common.Address, arg1 common.Address, arg2 *big.Int, arg3 *big.Int, arg4 []byte) []byte {
	enc, err := agentKeyDelegate.abi.Pack("onERC1155Received", arg0, arg1, arg2, arg3, arg4)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackOnERC1155Received is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf23a6e61.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function onERC1155Received(address , address , uint256 , uint256 , bytes ) pure returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) TryPackOnERC1155Received(arg0 common.Address, arg1 common.Address, arg2 *big.Int, arg3 *big.Int, arg4 []byte) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("onERC1155Received", arg0, arg1, arg2, arg3, arg4)
}

// UnpackOnERC1155Received is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xf23a6e61.
//
// Solidity: function onERC1155Received(address , address , uint256 , uint256 , bytes ) pure returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) UnpackOnERC1155Received(data []byte) ([4]byte, error) {
	out, err := agentKeyDelegate.abi.Unpack("onERC1155Received", data)
	if err != nil {
		return *new([4]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([4]byte)).(*[4]byte)
	return out0, nil
}

// PackOnERC721Received is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x150b7a02.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function onERC721Received(address , address , uint256 , bytes ) pure returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) PackOnERC721Received(arg0 common.Address, arg1 common.Address, arg2 *big.Int, arg3 []byte) []byte {
	enc, err := agentKeyDelegate.abi.Pack("onERC721Received", arg0, arg1, arg2, arg3)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackOnERC721Received is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x150b7a02.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function onERC721Received(address , address , uint256 , bytes ) pure returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) TryPackOnERC721Received(arg0 common.Address, arg1 common.Address, arg2 *big.Int, arg3 []byte) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("onERC721Received", arg0, arg1, arg2, arg3)
}

// UnpackOnERC721Received is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x150b7a02.
//
// Solidity: function onERC721Received(address , address , uint256 , bytes ) pure returns(bytes4)
func (agentKeyDelegate *AgentKeyDelegate) UnpackOnERC721Received(data []byte) ([4]byte, error) {
	out, err := agentKeyDelegate.abi.Unpack("onERC721Received", data)
	if err != nil {
		return *new([4]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([4]byte)).(*[4]byte)
	return out0, nil
}

// PackRemaining is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb399b0bc.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function remaining(address session) view returns(uint256 native, address[] tokens, uint256[] amounts)
func (agentKeyDelegate *AgentKeyDelegate) PackRemaining(session common.Address) []byte {
	enc, err := agentKeyDelegate.abi.Pack("remaining", session)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRemaining is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb399b0bc.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function remaining(address session) view returns(uint256 native, address[] tokens, uint256[] amounts)
func (agentKeyDelegate *AgentKeyDelegate) TryPackRemaining(session common.Address) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("remaining", session)
}

// RemainingOutput serves as a container for the return parameters of contract
// method Remaining.
type RemainingOutput struct {
	Native  *big.Int
	Tokens  []common.Address
	Amounts []*big.Int
}

// UnpackRemaining is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xb399b0bc.
//
// Solidity: function remaining(address session) view returns(uint256 native, address[] tokens, uint256[] amounts)
func (agentKeyDelegate *AgentKeyDelegate) UnpackRemaining(data []byte) (RemainingOutput, error) {
	out, err := agentKeyDelegate.abi.Unpack("remaining", data)
	outstruct := new(RemainingOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Native = abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	outstruct.Tokens = *abi.ConvertType(out[1], new([]common.Address)).(*[]common.Address)
	outstruct.Amounts = *abi.ConvertType(out[2], new([]*big.Int)).(*[]*big.Int)
	return *outstruct, nil
}

// PackRevoke is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x74a8f103.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revoke(address session) returns()
func (agentKeyDelegate *AgentKeyDelegate) PackRevoke(session common.Address) []byte {
	enc, err := agentKeyDelegate.abi.Pack("revoke", session)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevoke is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x74a8f103.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revoke(address session) returns()
func (agentKeyDelegate *AgentKeyDelegate) TryPackRevoke(session common.Address) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("revoke", session)
}

// PackRevokeAll is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa340fff4.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revokeAll() returns()
func (agentKeyDelegate *AgentKeyDelegate) PackRevokeAll() []byte {
	enc, err := agentKeyDelegate.abi.Pack("revokeAll")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevokeAll is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa340fff4.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revokeAll() returns()
func (agentKeyDelegate *AgentKeyDelegate) TryPackRevokeAll() ([]byte, error) {
	return agentKeyDelegate.abi.Pack("revokeAll")
}

// PackRevokeSelf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x21ef10f0.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revokeSelf() returns()
func (agentKeyDelegate *AgentKeyDelegate) PackRevokeSelf() []byte {
	enc, err := agentKeyDelegate.abi.Pack("revokeSelf")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevokeSelf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x21ef10f0.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revokeSelf() returns()
func (agentKeyDelegate *AgentKeyDelegate) TryPackRevokeSelf() ([]byte, error) {
	return agentKeyDelegate.abi.Pack("revokeSelf")
}

// PackSessionInfo is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfe978e36.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function sessionInfo(address session) view returns(uint48 validAfter, uint48 validUntil, uint32 epoch_, bool active, uint256 calls, uint256 nativeSpentThisPeriod)
func (agentKeyDelegate *AgentKeyDelegate) PackSessionInfo(session common.Address) []byte {
	enc, err := agentKeyDelegate.abi.Pack("sessionInfo", session)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSessionInfo is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfe978e36.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function sessionInfo(address session) view returns(uint48 validAfter, uint48 validUntil, uint32 epoch_, bool active, uint256 calls, uint256 nativeSpentThisPeriod)
func (agentKeyDelegate *AgentKeyDelegate) TryPackSessionInfo(session common.Address) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("sessionInfo", session)
}

// SessionInfoOutput serves as a container for the return parameters of contract
// method SessionInfo.
type SessionInfoOutput struct {
	ValidAfter            *big.Int
	ValidUntil            *big.Int
	Epoch                 uint32
	Active                bool
	Calls                 *big.Int
	NativeSpentThisPeriod *big.Int
}

// UnpackSessionInfo is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xfe978e36.
//
// Solidity: function sessionInfo(address session) view returns(uint48 validAfter, uint48 validUntil, uint32 epoch_, bool active, uint256 calls, uint256 nativeSpentThisPeriod)
func (agentKeyDelegate *AgentKeyDelegate) UnpackSessionInfo(data []byte) (SessionInfoOutput, error) {
	out, err := agentKeyDelegate.abi.Unpack("sessionInfo", data)
	outstruct := new(SessionInfoOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.ValidAfter = abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	outstruct.ValidUntil = abi.ConvertType(out[1], new(big.Int)).(*big.Int)
	outstruct.Epoch = *abi.ConvertType(out[2], new(uint32)).(*uint32)
	outstruct.Active = *abi.ConvertType(out[3], new(bool)).(*bool)
	outstruct.Calls = abi.ConvertType(out[4], new(big.Int)).(*big.Int)
	outstruct.NativeSpentThisPeriod = abi.ConvertType(out[5], new(big.Int)).(*big.Int)
	return *outstruct, nil
}

// PackSupportsInterface is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x01ffc9a7.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function supportsInterface(bytes4 interfaceId) pure returns(bool)
func (agentKeyDelegate *AgentKeyDelegate) PackSupportsInterface(interfaceId [4]byte) []byte {
	enc, err := agentKeyDelegate.abi.Pack("supportsInterface", interfaceId)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSupportsInterface is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x01ffc9a7.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function supportsInterface(bytes4 interfaceId) pure returns(bool)
func (agentKeyDelegate *AgentKeyDelegate) TryPackSupportsInterface(interfaceId [4]byte) ([]byte, error) {
	return agentKeyDelegate.abi.Pack("supportsInterface", interfaceId)
}

// UnpackSupportsInterface is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x01ffc9a7.
//
// Solidity: function supportsInterface(bytes4 interfaceId) pure returns(bool)
func (agentKeyDelegate *AgentKeyDelegate) UnpackSupportsInterface(data []byte) (bool, error) {
	out, err := agentKeyDelegate.abi.Unpack("supportsInterface", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// AgentKeyDelegateAllSessionsRevoked represents a AllSessionsRevoked event raised by the AgentKeyDelegate contract.
type AgentKeyDelegateAllSessionsRevoked struct {
	Epoch uint32
	Raw   *types.Log // Blockchain specific contextual infos
}

const AgentKeyDelegateAllSessionsRevokedEventName = "AllSessionsRevoked"

// ContractEventName returns the user-defined event name.
func (AgentKeyDelegateAllSessionsRevoked) ContractEventName() string {
	return AgentKeyDelegateAllSessionsRevokedEventName
}

// UnpackAllSessionsRevokedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event AllSessionsRevoked(uint32 epoch)
func (agentKeyDelegate *AgentKeyDelegate) UnpackAllSessionsRevokedEvent(log *types.Log) (*AgentKeyDelegateAllSessionsRevoked, error) {
	event := "AllSessionsRevoked"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != agentKeyDelegate.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(AgentKeyDelegateAllSessionsRevoked)
	if len(log.Data) > 0 {
		if err := agentKeyDelegate.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range agentKeyDelegate.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// AgentKeyDelegateExecuted represents a Executed event raised by the AgentKeyDelegate contract.
type AgentKeyDelegateExecuted struct {
	Session  common.Address
	Target   common.Address
	Selector [4]byte
	Value    *big.Int
	Raw      *types.Log // Blockchain specific contextual infos
}

const AgentKeyDelegateExecutedEventName = "Executed"

// ContractEventName returns the user-defined event name.
func (AgentKeyDelegateExecuted) ContractEventName() string {
	return AgentKeyDelegateExecutedEventName
}

// UnpackExecutedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Executed(address indexed session, address indexed target, bytes4 selector, uint256 value)
func (agentKeyDelegate *AgentKeyDelegate) UnpackExecutedEvent(log *types.Log) (*AgentKeyDelegateExecuted, error) {
	event := "Executed"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != agentKeyDelegate.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(AgentKeyDelegateExecuted)
	if len(log.Data) > 0 {
		if err := agentKeyDelegate.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range agentKeyDelegate.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// AgentKeyDelegateSessionGranted represents a SessionGranted event raised by the AgentKeyDelegate contract.
type AgentKeyDelegateSessionGranted struct {
	Session    common.Address
	ValidAfter *big.Int
	ValidUntil *big.Int
	Epoch      uint32
	Raw        *types.Log // Blockchain specific contextual infos
}

const AgentKeyDelegateSessionGrantedEventName = "SessionGranted"

// ContractEventName returns the user-defined event name.
func (AgentKeyDelegateSessionGranted) ContractEventName() string {
	return AgentKeyDelegateSessionGrantedEventName
}

// UnpackSessionGrantedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event SessionGranted(address indexed session, uint48 validAfter, uint48 validUntil, uint32 epoch)
func (agentKeyDelegate *AgentKeyDelegate) UnpackSessionGrantedEvent(log *types.Log) (*AgentKeyDelegateSessionGranted, error) {
	event := "SessionGranted"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != agentKeyDelegate.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(AgentKeyDelegateSessionGranted)
	if len(log.Data) > 0 {
		if err := agentKeyDelegate.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range agentKeyDelegate.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// AgentKeyDelegateSessionRevoked represents a SessionRevoked event raised by the AgentKeyDelegate contract.
type AgentKeyDelegateSessionRevoked struct {
	Session common.Address
	Raw     *types.Log // Blockchain specific contextual infos
}

const AgentKeyDelegateSessionRevokedEventName = "SessionRevoked"

// ContractEventName returns the user-defined event name.
func (AgentKeyDelegateSessionRevoked) ContractEventName() string {
	return AgentKeyDelegateSessionRevokedEventName
}

// UnpackSessionRevokedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event SessionRevoked(address indexed session)
func (agentKeyDelegate *AgentKeyDelegate) UnpackSessionRevokedEvent(log *types.Log) (*AgentKeyDelegateSessionRevoked, error) {
	event := "SessionRevoked"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != agentKeyDelegate.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(AgentKeyDelegateSessionRevoked)
	if len(log.Data) > 0 {
		if err := agentKeyDelegate.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range agentKeyDelegate.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (agentKeyDelegate *AgentKeyDelegate) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["BadCalldata"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackBadCalldataError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["BadSignature"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackBadSignatureError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["CallFailed"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackCallFailedError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["ConditionFailed"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackConditionFailedError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["Expired"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackExpiredError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["InvalidConfig"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackInvalidConfigError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["NativeBudgetExceeded"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackNativeBudgetExceededError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["NoPermission"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackNoPermissionError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["NonceUsed"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackNonceUsedError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["NotSelf"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackNotSelfError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["NotSession"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackNotSessionError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["NotYetValid"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackNotYetValidError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["Revoked"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackRevokedError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["SessionExists"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackSessionExistsError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["SignatureExpired"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackSignatureExpiredError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["StaleEpoch"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackStaleEpochError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["TokenBudgetExceeded"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackTokenBudgetExceededError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["TokenPerTxExceeded"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackTokenPerTxExceededError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["TooManyCalls"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackTooManyCallsError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["UncappedToken"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackUncappedTokenError(raw[4:])
	}
	if bytes.Equal(raw[:4], agentKeyDelegate.abi.Errors["ValueTooHigh"].ID.Bytes()[:4]) {
		return agentKeyDelegate.UnpackValueTooHighError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// AgentKeyDelegateBadCalldata represents a BadCalldata error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateBadCalldata struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadCalldata()
func AgentKeyDelegateBadCalldataErrorID() common.Hash {
	return common.HexToHash("0x1a2e15948a28fdb51f88891a0e90d1c50e1bb55e7079c3d61be3f1e75cc17190")
}

// UnpackBadCalldataError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadCalldata()
func (agentKeyDelegate *AgentKeyDelegate) UnpackBadCalldataError(raw []byte) (*AgentKeyDelegateBadCalldata, error) {
	out := new(AgentKeyDelegateBadCalldata)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "BadCalldata", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateBadSignature represents a BadSignature error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateBadSignature struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadSignature()
func AgentKeyDelegateBadSignatureErrorID() common.Hash {
	return common.HexToHash("0x5cd5d2335541c4f2ed05fbe44f397e8b79f8e2333157122d2dab06e378ef7685")
}

// UnpackBadSignatureError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadSignature()
func (agentKeyDelegate *AgentKeyDelegate) UnpackBadSignatureError(raw []byte) (*AgentKeyDelegateBadSignature, error) {
	out := new(AgentKeyDelegateBadSignature)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "BadSignature", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateCallFailed represents a CallFailed error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateCallFailed struct {
	Returndata []byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error CallFailed(bytes returndata)
func AgentKeyDelegateCallFailedErrorID() common.Hash {
	return common.HexToHash("0xa5fa8d2bd23af43608c66a1e71e091ad72afa45dfd478efa1657e01a9a4ceea6")
}

// UnpackCallFailedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error CallFailed(bytes returndata)
func (agentKeyDelegate *AgentKeyDelegate) UnpackCallFailedError(raw []byte) (*AgentKeyDelegateCallFailed, error) {
	out := new(AgentKeyDelegateCallFailed)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "CallFailed", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateConditionFailed represents a ConditionFailed error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateConditionFailed struct {
	PermissionIndex *big.Int
	ConditionIndex  *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ConditionFailed(uint256 permissionIndex, uint256 conditionIndex)
func AgentKeyDelegateConditionFailedErrorID() common.Hash {
	return common.HexToHash("0x6689b402b5c625ba34e205e2f243d321df0a8ad7e530c295d7d1e21c9bbfef21")
}

// UnpackConditionFailedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ConditionFailed(uint256 permissionIndex, uint256 conditionIndex)
func (agentKeyDelegate *AgentKeyDelegate) UnpackConditionFailedError(raw []byte) (*AgentKeyDelegateConditionFailed, error) {
	out := new(AgentKeyDelegateConditionFailed)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "ConditionFailed", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateExpired represents a Expired error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateExpired struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error Expired()
func AgentKeyDelegateExpiredErrorID() common.Hash {
	return common.HexToHash("0x203d82d8d99f63bfecc8335216735e0271df4249ea752b030f9ab305b94e5afe")
}

// UnpackExpiredError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error Expired()
func (agentKeyDelegate *AgentKeyDelegate) UnpackExpiredError(raw []byte) (*AgentKeyDelegateExpired, error) {
	out := new(AgentKeyDelegateExpired)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "Expired", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateInvalidConfig represents a InvalidConfig error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateInvalidConfig struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidConfig()
func AgentKeyDelegateInvalidConfigErrorID() common.Hash {
	return common.HexToHash("0x35be3ac88eaaf385e6b33d44d849a44bdc3ae215676d5d7e0194dfe20d80c66e")
}

// UnpackInvalidConfigError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidConfig()
func (agentKeyDelegate *AgentKeyDelegate) UnpackInvalidConfigError(raw []byte) (*AgentKeyDelegateInvalidConfig, error) {
	out := new(AgentKeyDelegateInvalidConfig)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "InvalidConfig", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateNativeBudgetExceeded represents a NativeBudgetExceeded error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateNativeBudgetExceeded struct {
	Spent *big.Int
	Cap   *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NativeBudgetExceeded(uint256 spent, uint256 cap)
func AgentKeyDelegateNativeBudgetExceededErrorID() common.Hash {
	return common.HexToHash("0xe2a1a5388ccee7553664cb22a8c96628769de8baf326d6fcf7dc4f6a8fe71716")
}

// UnpackNativeBudgetExceededError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NativeBudgetExceeded(uint256 spent, uint256 cap)
func (agentKeyDelegate *AgentKeyDelegate) UnpackNativeBudgetExceededError(raw []byte) (*AgentKeyDelegateNativeBudgetExceeded, error) {
	out := new(AgentKeyDelegateNativeBudgetExceeded)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "NativeBudgetExceeded", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateNoPermission represents a NoPermission error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateNoPermission struct {
	Target   common.Address
	Selector [4]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NoPermission(address target, bytes4 selector)
func AgentKeyDelegateNoPermissionErrorID() common.Hash {
	return common.HexToHash("0x2deac9af7cfeb4e9fd2d5e6c9b5ea194cacc2d9440f2ae6ef5720a959a5662f4")
}

// UnpackNoPermissionError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NoPermission(address target, bytes4 selector)
func (agentKeyDelegate *AgentKeyDelegate) UnpackNoPermissionError(raw []byte) (*AgentKeyDelegateNoPermission, error) {
	out := new(AgentKeyDelegateNoPermission)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "NoPermission", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateNonceUsed represents a NonceUsed error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateNonceUsed struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NonceUsed()
func AgentKeyDelegateNonceUsedErrorID() common.Hash {
	return common.HexToHash("0x1f6d5aef5a4e50674e57b82f3fc08dc6ad8892bdf4aadafb3bc99cc8cf7a4706")
}

// UnpackNonceUsedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NonceUsed()
func (agentKeyDelegate *AgentKeyDelegate) UnpackNonceUsedError(raw []byte) (*AgentKeyDelegateNonceUsed, error) {
	out := new(AgentKeyDelegateNonceUsed)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "NonceUsed", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateNotSelf represents a NotSelf error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateNotSelf struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotSelf()
func AgentKeyDelegateNotSelfErrorID() common.Hash {
	return common.HexToHash("0x29c3b7ee14a7adaa7fba7b043229509fe963f719303620e91e88c61c6b12de34")
}

// UnpackNotSelfError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotSelf()
func (agentKeyDelegate *AgentKeyDelegate) UnpackNotSelfError(raw []byte) (*AgentKeyDelegateNotSelf, error) {
	out := new(AgentKeyDelegateNotSelf)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "NotSelf", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateNotSession represents a NotSession error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateNotSession struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotSession()
func AgentKeyDelegateNotSessionErrorID() common.Hash {
	return common.HexToHash("0xa571feb6066eb870e2be3f647408b7d695d2f236695b4ce69ecbf911452348cd")
}

// UnpackNotSessionError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotSession()
func (agentKeyDelegate *AgentKeyDelegate) UnpackNotSessionError(raw []byte) (*AgentKeyDelegateNotSession, error) {
	out := new(AgentKeyDelegateNotSession)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "NotSession", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateNotYetValid represents a NotYetValid error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateNotYetValid struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotYetValid()
func AgentKeyDelegateNotYetValidErrorID() common.Hash {
	return common.HexToHash("0x3fb4e43f6acb9e2dd9a92e60fed2efe76486186a45f6bdd4725f796d827e112d")
}

// UnpackNotYetValidError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotYetValid()
func (agentKeyDelegate *AgentKeyDelegate) UnpackNotYetValidError(raw []byte) (*AgentKeyDelegateNotYetValid, error) {
	out := new(AgentKeyDelegateNotYetValid)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "NotYetValid", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateRevoked represents a Revoked error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateRevoked struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error Revoked()
func AgentKeyDelegateRevokedErrorID() common.Hash {
	return common.HexToHash("0x44825a4b2df8acb19ce4e1afba9aa850c8b65cdb7942e2078f27d0b0960efee6")
}

// UnpackRevokedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error Revoked()
func (agentKeyDelegate *AgentKeyDelegate) UnpackRevokedError(raw []byte) (*AgentKeyDelegateRevoked, error) {
	out := new(AgentKeyDelegateRevoked)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "Revoked", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateSessionExists represents a SessionExists error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateSessionExists struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error SessionExists()
func AgentKeyDelegateSessionExistsErrorID() common.Hash {
	return common.HexToHash("0xaf0dd7f01bbf04eebfa0a1c6bdb52f085941ea4cb998e57dda84edf6997f5c08")
}

// UnpackSessionExistsError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error SessionExists()
func (agentKeyDelegate *AgentKeyDelegate) UnpackSessionExistsError(raw []byte) (*AgentKeyDelegateSessionExists, error) {
	out := new(AgentKeyDelegateSessionExists)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "SessionExists", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateSignatureExpired represents a SignatureExpired error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateSignatureExpired struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error SignatureExpired()
func AgentKeyDelegateSignatureExpiredErrorID() common.Hash {
	return common.HexToHash("0x0819bdcd8da3b255f8b8bf8497982cf672847d37ad445f8f2edca874c1fcb6a3")
}

// UnpackSignatureExpiredError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error SignatureExpired()
func (agentKeyDelegate *AgentKeyDelegate) UnpackSignatureExpiredError(raw []byte) (*AgentKeyDelegateSignatureExpired, error) {
	out := new(AgentKeyDelegateSignatureExpired)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "SignatureExpired", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateStaleEpoch represents a StaleEpoch error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateStaleEpoch struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error StaleEpoch()
func AgentKeyDelegateStaleEpochErrorID() common.Hash {
	return common.HexToHash("0x68549ea17098cbdd1466941fd0114d293735d1e127b30b26565f4c60abc2858c")
}

// UnpackStaleEpochError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error StaleEpoch()
func (agentKeyDelegate *AgentKeyDelegate) UnpackStaleEpochError(raw []byte) (*AgentKeyDelegateStaleEpoch, error) {
	out := new(AgentKeyDelegateStaleEpoch)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "StaleEpoch", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateTokenBudgetExceeded represents a TokenBudgetExceeded error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateTokenBudgetExceeded struct {
	Token common.Address
	Spent *big.Int
	Cap   *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error TokenBudgetExceeded(address token, uint256 spent, uint256 cap)
func AgentKeyDelegateTokenBudgetExceededErrorID() common.Hash {
	return common.HexToHash("0x9dd2e36994a90032d087b91d115fef3e15ae5a6b3339a138fe91a7f10acaec83")
}

// UnpackTokenBudgetExceededError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error TokenBudgetExceeded(address token, uint256 spent, uint256 cap)
func (agentKeyDelegate *AgentKeyDelegate) UnpackTokenBudgetExceededError(raw []byte) (*AgentKeyDelegateTokenBudgetExceeded, error) {
	out := new(AgentKeyDelegateTokenBudgetExceeded)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "TokenBudgetExceeded", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateTokenPerTxExceeded represents a TokenPerTxExceeded error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateTokenPerTxExceeded struct {
	Token  common.Address
	Amount *big.Int
	Cap    *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error TokenPerTxExceeded(address token, uint256 amount, uint256 cap)
func AgentKeyDelegateTokenPerTxExceededErrorID() common.Hash {
	return common.HexToHash("0xaf0883a90d64dcc02f65595d2ed6bff8d9439c320118b3c71f9cc9151f1e767e")
}

// UnpackTokenPerTxExceededError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error TokenPerTxExceeded(address token, uint256 amount, uint256 cap)
func (agentKeyDelegate *AgentKeyDelegate) UnpackTokenPerTxExceededError(raw []byte) (*AgentKeyDelegateTokenPerTxExceeded, error) {
	out := new(AgentKeyDelegateTokenPerTxExceeded)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "TokenPerTxExceeded", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateTooManyCalls represents a TooManyCalls error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateTooManyCalls struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error TooManyCalls()
func AgentKeyDelegateTooManyCallsErrorID() common.Hash {
	return common.HexToHash("0xf5dedbff69e91077d5513a49d992bdf8f25aeb1d775ae294bf1ff8300b6dde0d")
}

// UnpackTooManyCallsError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error TooManyCalls()
func (agentKeyDelegate *AgentKeyDelegate) UnpackTooManyCallsError(raw []byte) (*AgentKeyDelegateTooManyCalls, error) {
	out := new(AgentKeyDelegateTooManyCalls)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "TooManyCalls", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateUncappedToken represents a UncappedToken error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateUncappedToken struct {
	Token common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error UncappedToken(address token)
func AgentKeyDelegateUncappedTokenErrorID() common.Hash {
	return common.HexToHash("0x0810f1ff0ede6f7794877b3a8d916be7f210c70e54a6b1dbe7efc84006b8759c")
}

// UnpackUncappedTokenError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error UncappedToken(address token)
func (agentKeyDelegate *AgentKeyDelegate) UnpackUncappedTokenError(raw []byte) (*AgentKeyDelegateUncappedToken, error) {
	out := new(AgentKeyDelegateUncappedToken)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "UncappedToken", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentKeyDelegateValueTooHigh represents a ValueTooHigh error raised by the AgentKeyDelegate contract.
type AgentKeyDelegateValueTooHigh struct {
	Value *big.Int
	Max   *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ValueTooHigh(uint256 value, uint256 max)
func AgentKeyDelegateValueTooHighErrorID() common.Hash {
	return common.HexToHash("0x7a0e198506012e4e1f16860681fbab8ad30409f51448d5e91a5cd9a24828a63d")
}

// UnpackValueTooHighError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ValueTooHigh(uint256 value, uint256 max)
func (agentKeyDelegate *AgentKeyDelegate) UnpackValueTooHighError(raw []byte) (*AgentKeyDelegateValueTooHigh, error) {
	out := new(AgentKeyDelegateValueTooHigh)
	if err := agentKeyDelegate.abi.UnpackIntoInterface(out, "ValueTooHigh", raw); err != nil {
		return nil, err
	}
	return out, nil
}
