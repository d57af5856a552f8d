// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice The slice of ERC-20 the DEX relies on.
interface IERC20Like {
    function balanceOf(address owner) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// @notice The slice of WETH9 the router relies on.
interface IWETHLike {
    function deposit() external payable;
    function withdraw(uint256 wad) external;
    function transfer(address to, uint256 value) external returns (bool);
}

/// @title SafeTransfer
/// @notice Token transfers that treat "no return value" as success and
/// "returned false" as failure, because real tokens do both.
library SafeTransfer {
    function safeTransfer(address token, address to, uint256 value) internal {
        _call(token, abi.encodeCall(IERC20Like.transfer, (to, value)), "SafeTransfer: TRANSFER_FAILED");
    }

    function safeTransferFrom(address token, address from, address to, uint256 value) internal {
        _call(token, abi.encodeCall(IERC20Like.transferFrom, (from, to, value)), "SafeTransfer: TRANSFER_FROM_FAILED");
    }

    function safeTransferETH(address to, uint256 value) internal {
        (bool ok,) = to.call{value: value}("");
        require(ok, "SafeTransfer: ETH_TRANSFER_FAILED");
    }

    function _call(address token, bytes memory data, string memory reason) private {
        // A call to an address without code succeeds and returns nothing,
        // which would otherwise read as a successful transfer.
        require(token.code.length > 0, "SafeTransfer: NOT_A_CONTRACT");
        (bool ok, bytes memory ret) = token.call(data);
        require(ok && (ret.length == 0 || abi.decode(ret, (bool))), reason);
    }
}
