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

// DemoPairMetaData contains all meta data concerning the DemoPair contract.
var DemoPairMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token0_\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"token1_\",\"type\":\"address\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount0\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount1\",\"type\":\"uint256\"}],\"name\":\"Mint\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount0In\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount1In\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount0Out\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount1Out\",\"type\":\"uint256\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"}],\"name\":\"Swap\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"uint112\",\"name\":\"reserve0\",\"type\":\"uint112\"},{\"indexed\":false,\"internalType\":\"uint112\",\"name\":\"reserve1\",\"type\":\"uint112\"}],\"name\":\"Sync\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"from\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"}],\"name\":\"Transfer\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"MINIMUM_LIQUIDITY\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"name\":\"balanceOf\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"factory\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"getReserves\",\"outputs\":[{\"internalType\":\"uint112\",\"name\":\"_reserve0\",\"type\":\"uint112\"},{\"internalType\":\"uint112\",\"name\":\"_reserve1\",\"type\":\"uint112\"},{\"internalType\":\"uint32\",\"name\":\"_blockTimestampLast\",\"type\":\"uint32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"}],\"name\":\"mint\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"liquidity\",\"type\":\"uint256\"}],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"amount0Out\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"amount1Out\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"}],\"name\":\"swap\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"token0\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"token1\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"totalSupply\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	ID:  "DemoPair",
	Bin: "0x60e060405234801561000f575f5ffd5b5060405161107038038061107083398101604081905261002e91610064565b336080526001600160a01b0391821660a0521660c052610095565b80516001600160a01b038116811461005f575f5ffd5b919050565b5f5f60408385031215610075575f5ffd5b61007e83610049565b915061008c60208401610049565b90509250929050565b60805160a05160c051610f7a6100f65f395f818161019f015281816102fd01528181610636015281816106fb01526107cc01525f818160d201528181610272015281816105f9015281816106c1015261073901525f6101780152610f7a5ff3fe608060405234801561000f575f5ffd5b5060043610610090575f3560e01c80636d9a640a116100635780636d9a640a1461013657806370a082311461014b578063ba9a7a561461016a578063c45a015514610173578063d21220a71461019a575f5ffd5b80630902f1ac146100945780630dfe1681146100cd57806318160ddd1461010c5780636a62784214610123575b5f5ffd5b61009c6101c1565b604080516001600160701b03948516815293909216602084015263ffffffff16908201526060015b60405180910390f35b6100f47f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b0390911681526020016100c4565b61011560015481565b6040519081526020016100c4565b610115610131366004610de3565b6101ea565b610149610144366004610dfc565b6104c4565b005b610115610159366004610de3565b60026020525f908152604090205481565b6101156103e881565b6100f47f000000000000000000000000000000000000000000000000000000000000000081565b6100f47f000000000000000000000000000000000000000000000000000000000000000081565b5f546001600160701b0380821692600160701b830490911691600160e01b900463ffffffff1690565b5f60ff815c16156102355760405162461bcd60e51b815260206004820152601060248201526f11195b5bd4185a5c8e881313d0d2d15160821b60448201526064015b60405180910390fd5b60015f805c60ff19168217905d505f5f61024d6101c1565b506040516370a0823160e01b815230600482015291935091505f906001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016906370a0823190602401602060405180830381865afa1580156102b7573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906102db9190610e2e565b6040516370a0823160e01b81523060048201529091505f906001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016906370a0823190602401602060405180830381865afa158015610342573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906103669190610e2e565b90505f61037c6001600160701b03861684610e59565b90505f6103926001600160701b03861684610e59565b6001549091505f8190036103f6575f6103b36103ae8486610e6c565b610a44565b90506103e881116103d65760405162461bcd60e51b815260040161022c90610e83565b6103e26103e882610e59565b98506103f05f6103e8610ab2565b5061043d565b61043a6001600160701b03881661040d8386610e6c565b6104179190610eca565b6001600160701b03881661042b8486610e6c565b6104359190610eca565b610b38565b97505b5f881161045c5760405162461bcd60e51b815260040161022c90610e83565b6104668989610ab2565b6104708585610b51565b604080518481526020810184905233917f4c209b5fc8ad50758f13e2e1088ba56a560dff690a1c6fef26394f4c03821c4f910160405180910390a2505f95505060ff19855c16935084925050505d50919050565b60ff5f5c16156105095760405162461bcd60e51b815260206004820152601060248201526f11195b5bd4185a5c8e881313d0d2d15160821b604482015260640161022c565b60015f805c60ff19168217905d505f83118061052457505f82115b61057c5760405162461bcd60e51b8152602060048201526024808201527f44656d6f506169723a20494e53554646494349454e545f4f55545055545f414d60448201526313d5539560e21b606482015260840161022c565b5f5f6105866101c1565b5091509150816001600160701b0316851080156105ab5750806001600160701b031684105b6105f75760405162461bcd60e51b815260206004820181905260248201527f44656d6f506169723a20494e53554646494349454e545f4c4951554944495459604482015260640161022c565b7f00000000000000000000000000000000000000000000000000000000000000006001600160a01b0316836001600160a01b03161415801561066b57507f00000000000000000000000000000000000000000000000000000000000000006001600160a01b0316836001600160a01b031614155b6106ae5760405162461bcd60e51b815260206004820152601460248201527344656d6f506169723a20494e56414c49445f544f60601b604482015260640161022c565b84156106e8576106e86001600160a01b037f0000000000000000000000000000000000000000000000000000000000000000168487610c43565b8315610722576107226001600160a01b037f0000000000000000000000000000000000000000000000000000000000000000168486610c43565b6040516370a0823160e01b81523060048201525f907f00000000000000000000000000000000000000000000000000000000000000006001600160a01b0316906370a0823190602401602060405180830381865afa158015610786573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906107aa9190610e2e565b6040516370a0823160e01b81523060048201529091505f906001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016906370a0823190602401602060405180830381865afa158015610811573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906108359190610e2e565b90505f61084b886001600160701b038716610e59565b8311610857575f610874565b61086a886001600160701b038716610e59565b6108749084610e59565b90505f61088a886001600160701b038716610e59565b8311610896575f6108b3565b6108a9886001600160701b038716610e59565b6108b39084610e59565b90505f8211806108c257505f81115b61091a5760405162461bcd60e51b815260206004820152602360248201527f44656d6f506169723a20494e53554646494349454e545f494e5055545f414d4f60448201526215539560ea1b606482015260840161022c565b5f610926836003610e6c565b610932866103e8610e6c565b61093c9190610e59565b90505f61094a836003610e6c565b610956866103e8610e6c565b6109609190610e59565b90506109786001600160701b03808916908a16610e6c565b61098590620f4240610e6c565b61098f8284610e6c565b10156109cb5760405162461bcd60e51b815260206004820152600b60248201526a44656d6f506169723a204b60a81b604482015260640161022c565b6109d58686610b51565b60408051858152602081018590529081018c9052606081018b90526001600160a01b038a169033907fd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d8229060800160405180910390a3505f96505060ff19865c1694508593505050505d50505050565b5f6003821115610aa35750805f610a5c600283610eca565b610a67906001610ee9565b90505b81811015610a9d57905080600281610a828186610eca565b610a8c9190610ee9565b610a969190610eca565b9050610a6a565b50919050565b8115610aad575060015b919050565b8060015f828254610ac39190610ee9565b90915550506001600160a01b0382165f9081526002602052604081208054839290610aef908490610ee9565b90915550506040518181526001600160a01b038316905f907fddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef9060200160405180910390a35050565b5f818310610b465781610b48565b825b90505b92915050565b6001600160701b038211801590610b6f57506001600160701b038111155b610bb05760405162461bcd60e51b815260206004820152601260248201527144656d6f506169723a204f564552464c4f5760701b604482015260640161022c565b5f805463ffffffff4216600160e01b026001600160e01b036001600160701b03858116600160701b9081026001600160e01b03199095168883161794909417918216831794859055604080519382169282169290921783529290930490911660208201527f1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1910160405180910390a15050565b6040516001600160a01b038316602482015260448101829052610cc690849060640160408051601f19818403018152918152602080830180516001600160e01b031663a9059cbb60e01b1790528151808301909252601d82527f536166655472616e736665723a205452414e534645525f4641494c454400000090820152610ccb565b505050565b5f836001600160a01b03163b11610d245760405162461bcd60e51b815260206004820152601c60248201527f536166655472616e736665723a204e4f545f415f434f4e545241435400000000604482015260640161022c565b5f5f846001600160a01b031684604051610d3e9190610efc565b5f604051808303815f865af19150503d805f8114610d77576040519150601f19603f3d011682016040523d82523d5f602084013e610d7c565b606091505b5091509150818015610da6575080511580610da6575080806020019051810190610da69190610f12565b8390610dc55760405162461bcd60e51b815260040161022c9190610f38565b505050505050565b80356001600160a01b0381168114610aad575f5ffd5b5f60208284031215610df3575f5ffd5b610b4882610dcd565b5f5f5f60608486031215610e0e575f5ffd5b8335925060208401359150610e2560408501610dcd565b90509250925092565b5f60208284031215610e3e575f5ffd5b5051919050565b634e487b7160e01b5f52601160045260245ffd5b81810381811115610b4b57610b4b610e45565b8082028115828204841417610b4b57610b4b610e45565b60208082526027908201527f44656d6f506169723a20494e53554646494349454e545f4c495155494449545960408201526617d3525395115160ca1b606082015260800190565b5f82610ee457634e487b7160e01b5f52601260045260245ffd5b500490565b80820180821115610b4b57610b4b610e45565b5f82518060208501845e5f920191825250919050565b5f60208284031215610f22575f5ffd5b81518015158114610f31575f5ffd5b9392505050565b602081525f82518060208401528060208501604085015e5f604082850101526040601f19601f8301168401019150509291505056fea164736f6c6343000825000a",
}

// DemoPair is an auto generated Go binding around an Ethereum contract.
type DemoPair struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *DemoPair) GetABI() abi.ABI {
	return c.abi
}

// NewDemoPair creates a new instance of DemoPair.
func NewDemoPair() *DemoPair {
	parsed, err := DemoPairMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &DemoPair{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *DemoPair) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(address token0_, address token1_) returns()
func (demoPair *DemoPair) PackConstructor(token0_ common.Address, token1_ common.Address) []byte {
	enc, err := demoPair.abi.Pack("", token0_, token1_)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackMINIMUMLIQUIDITY is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xba9a7a56.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function MINIMUM_LIQUIDITY() view returns(uint256)
func (demoPair *DemoPair) PackMINIMUMLIQUIDITY() []byte {
	enc, err := demoPair.abi.Pack("MINIMUM_LIQUIDITY")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackMINIMUMLIQUIDITY is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xba9a7a56.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function MINIMUM_LIQUIDITY() view returns(uint256)
func (demoPair *DemoPair) TryPackMINIMUMLIQUIDITY() ([]byte, error) {
	return demoPair.abi.Pack("MINIMUM_LIQUIDITY")
}

// UnpackMINIMUMLIQUIDITY is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xba9a7a56.
//
// Solidity: function MINIMUM_LIQUIDITY() view returns(uint256)
func (demoPair *DemoPair) UnpackMINIMUMLIQUIDITY(data []byte) (*big.Int, error) {
	out, err := demoPair.abi.Unpack("MINIMUM_LIQUIDITY", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackBalanceOf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x70a08231.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function balanceOf(address ) view returns(uint256)
func (demoPair *DemoPair) PackBalanceOf(arg0 common.Address) []byte {
	enc, err := demoPair.abi.Pack("balanceOf", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackBalanceOf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x70a08231.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function balanceOf(address ) view returns(uint256)
func (demoPair *DemoPair) TryPackBalanceOf(arg0 common.Address) ([]byte, error) {
	return demoPair.abi.Pack("balanceOf", arg0)
}

// UnpackBalanceOf is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x70a08231.
//
// Solidity: function balanceOf(address ) view returns(uint256)
func (demoPair *DemoPair) UnpackBalanceOf(data []byte) (*big.Int, error) {
	out, err := demoPair.abi.Unpack("balanceOf", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackFactory is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc45a0155.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function factory() view returns(address)
func (demoPair *DemoPair) PackFactory() []byte {
	enc, err := demoPair.abi.Pack("factory")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackFactory is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc45a0155.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function factory() view returns(address)
func (demoPair *DemoPair) TryPackFactory() ([]byte, error) {
	return demoPair.abi.Pack("factory")
}

// UnpackFactory is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xc45a0155.
//
// Solidity: function factory() view returns(address)
func (demoPair *DemoPair) UnpackFactory(data []byte) (common.Address, error) {
	out, err := demoPair.abi.Unpack("factory", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackGetReserves is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0902f1ac.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getReserves() view returns(uint112 _reserve0, uint112 _reserve1, uint32 _blockTimestampLast)
func (demoPair *DemoPair) PackGetReserves() []byte {
	enc, err := demoPair.abi.Pack("getReserves")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetReserves is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0902f1ac.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getReserves() view returns(uint112 _reserve0, uint112 _reserve1, uint32 _blockTimestampLast)
func (demoPair *DemoPair) TryPackGetReserves() ([]byte, error) {
	return demoPair.abi.Pack("getReserves")
}

// GetReservesOutput serves as a container for the return parameters of contract
// method GetReserves.
type GetReservesOutput struct {
	Reserve0           *big.Int
	Reserve1           *big.Int
	BlockTimestampLast uint32
}

// UnpackGetReserves is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x0902f1ac.
//
// Solidity: function getReserves() view returns(uint112 _reserve0, uint112 _reserve1, uint32 _blockTimestampLast)
func (demoPair *DemoPair) UnpackGetReserves(data []byte) (GetReservesOutput, error) {
	out, err := demoPair.abi.Unpack("getReserves", data)
	outstruct := new(GetReservesOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Reserve0 = abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	outstruct.Reserve1 = abi.ConvertType(out[1], new(big.Int)).(*big.Int)
	outstruct.BlockTimestampLast = *abi.ConvertType(out[2], new(uint32)).(*uint32)
	return *outstruct, nil
}

// PackMint is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6a627842.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function mint(address to) returns(uint256 liquidity)
func (demoPair *DemoPair) PackMint(to common.Address) []byte {
	enc, err := demoPair.abi.Pack("mint", to)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackMint is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6a627842.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function mint(address to) returns(uint256 liquidity)
func (demoPair *DemoPair) TryPackMint(to common.Address) ([]byte, error) {
	return demoPair.abi.Pack("mint", to)
}

// UnpackMint is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x6a627842.
//
// Solidity: function mint(address to) returns(uint256 liquidity)
func (demoPair *DemoPair) UnpackMint(data []byte) (*big.Int, error) {
	out, err := demoPair.abi.Unpack("mint", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackSwap is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6d9a640a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function swap(uint256 amount0Out, uint256 amount1Out, address to) returns()
func (demoPair *DemoPair) PackSwap(amount0Out *big.Int, amount1Out *big.Int, to common.Address) []byte {
	enc, err := demoPair.abi.Pack("swap", amount0Out, amount1Out, to)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSwap is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6d9a640a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function swap(uint256 amount0Out, uint256 amount1Out, address to) returns()
func (demoPair *DemoPair) TryPackSwap(amount0Out *big.Int, amount1Out *big.Int, to common.Address) ([]byte, error) {
	return demoPair.abi.Pack("swap", amount0Out, amount1Out, to)
}

// PackToken0 is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0dfe1681.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function token0() view returns(address)
func (demoPair *DemoPair) PackToken0() []byte {
	enc, err := demoPair.abi.Pack("token0")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackToken0 is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0dfe1681.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function token0() view returns(address)
func (demoPair *DemoPair) TryPackToken0() ([]byte, error) {
	return demoPair.abi.Pack("token0")
}

// UnpackToken0 is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x0dfe1681.
//
// Solidity: function token0() view returns(address)
func (demoPair *DemoPair) UnpackToken0(data []byte) (common.Address, error) {
	out, err := demoPair.abi.Unpack("token0", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackToken1 is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd21220a7.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function token1() view returns(address)
func (demoPair *DemoPair) PackToken1() []byte {
	enc, err := demoPair.abi.Pack("token1")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackToken1 is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd21220a7.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function token1() view returns(address)
func (demoPair *DemoPair) TryPackToken1() ([]byte, error) {
	return demoPair.abi.Pack("token1")
}

// UnpackToken1 is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd21220a7.
//
// Solidity: function token1() view returns(address)
func (demoPair *DemoPair) UnpackToken1(data []byte) (common.Address, error) {
	out, err := demoPair.abi.Unpack("token1", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackTotalSupply is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x18160ddd.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function totalSupply() view returns(uint256)
func (demoPair *DemoPair) PackTotalSupply() []byte {
	enc, err := demoPair.abi.Pack("totalSupply")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTotalSupply is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x18160ddd.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function totalSupply() view returns(uint256)
func (demoPair *DemoPair) TryPackTotalSupply() ([]byte, error) {
	return demoPair.abi.Pack("totalSupply")
}

// UnpackTotalSupply is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x18160ddd.
//
// Solidity: function totalSupply() view returns(uint256)
func (demoPair *DemoPair) UnpackTotalSupply(data []byte) (*big.Int, error) {
	out, err := demoPair.abi.Unpack("totalSupply", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// DemoPairMint represents a Mint event raised by the DemoPair contract.
type DemoPairMint struct {
	Sender  common.Address
	Amount0 *big.Int
	Amount1 *big.Int
	Raw     *types.Log // Blockchain specific contextual infos
}

const DemoPairMintEventName = "Mint"

// ContractEventName returns the user-defined event name.
func (DemoPairMint) ContractEventName() string {
	return DemoPairMintEventName
}

// UnpackMintEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Mint(address indexed sender, uint256 amount0, uint256 amount1)
func (demoPair *DemoPair) UnpackMintEvent(log *types.Log) (*DemoPairMint, error) {
	event := "Mint"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != demoPair.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(DemoPairMint)
	if len(log.Data) > 0 {
		if err := demoPair.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range demoPair.abi.Events[event].Inputs {
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

// DemoPairSwap represents a Swap event raised by the DemoPair contract.
type DemoPairSwap struct {
	Sender     common.Address
	Amount0In  *big.Int
	Amount1In  *big.Int
	Amount0Out *big.Int
	Amount1Out *big.Int
	To         common.Address
	Raw        *types.Log // Blockchain specific contextual infos
}

const DemoPairSwapEventName = "Swap"

// ContractEventName returns the user-defined event name.
func (DemoPairSwap) ContractEventName() string {
	return DemoPairSwapEventName
}

// UnpackSwapEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Swap(address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out, uint256 amount1Out, address indexed to)
func (demoPair *DemoPair) UnpackSwapEvent(log *types.Log) (*DemoPairSwap, error) {
	event := "Swap"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != demoPair.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(DemoPairSwap)
	if len(log.Data) > 0 {
		if err := demoPair.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range demoPair.abi.Events[event].Inputs {
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

// DemoPairSync represents a Sync event raised by the DemoPair contract.
type DemoPairSync struct {
	Reserve0 *big.Int
	Reserve1 *big.Int
	Raw      *types.Log // Blockchain specific contextual infos
}

const DemoPairSyncEventName = "Sync"

// ContractEventName returns the user-defined event name.
func (DemoPairSync) ContractEventName() string {
	return DemoPairSyncEventName
}

// UnpackSyncEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Sync(uint112 reserve0, uint112 reserve1)
func (demoPair *DemoPair) UnpackSyncEvent(log *types.Log) (*DemoPairSync, error) {
	event := "Sync"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != demoPair.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(DemoPairSync)
	if len(log.Data) > 0 {
		if err := demoPair.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range demoPair.abi.Events[event].Inputs {
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

// DemoPairTransfer represents a Transfer event raised by the DemoPair contract.
type DemoPairTransfer struct {
	From  common.Address
	To    common.Address
	Value *big.Int
	Raw   *types.Log // Blockchain specific contextual infos
}

const DemoPairTransferEventName = "Transfer"

// ContractEventName returns the user-defined event name.
func (DemoPairTransfer) ContractEventName() string {
	return DemoPairTransferEventName
}

// UnpackTransferEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Transfer(address indexed from, address indexed to, uint256 value)
func (demoPair *DemoPair) UnpackTransferEvent(log *types.Log) (*DemoPairTransfer, error) {
	event := "Transfer"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != demoPair.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(DemoPairTransfer)
	if len(log.Data) > 0 {
		if err := demoPair.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range demoPair.abi.Events[event].Inputs {
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
