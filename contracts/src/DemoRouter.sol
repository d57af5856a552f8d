// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {DemoPair} from "./DemoPair.sol";
import {IERC20Like, IWETHLike, SafeTransfer} from "./lib/SafeTransfer.sol";

/// @title DemoRouter
/// @notice A constant-product DEX for the agentkeys sandbox whose router
/// functions have the exact signatures and semantics of Uniswap V2's Router02
/// (0.3% fee, deadlines, minimum outputs, maximum inputs, multi-hop paths,
/// ETH in and out through WETH), so agents, policies and calldata decoders
/// written for Uniswap V2 work against it unchanged.
/// @dev The router is its own factory: factory() returns this contract, which
/// also answers getPair, createPair, allPairs and allPairsLength like
/// UniswapV2Factory. Pools are found through getPair rather than a CREATE2
/// address derivation, so no init-code hash has to be kept in sync.
contract DemoRouter {
    using SafeTransfer for address;

    address public immutable WETH;

    mapping(address => mapping(address => address)) public getPair;
    address[] public allPairs;

    event PairCreated(address indexed token0, address indexed token1, address pair, uint256 index);

    modifier ensure(uint256 deadline) {
        require(deadline >= block.timestamp, "DemoRouter: EXPIRED");
        _;
    }

    constructor(address weth) {
        WETH = weth;
    }

    /// @dev Only WETH sends ether here (when unwrapping for the *ForETH swaps);
    /// anything else would be stuck.
    receive() external payable {
        require(msg.sender == WETH, "DemoRouter: ONLY_WETH");
    }

    /// @notice Runs each call on this router in order, as Uniswap V3's
    /// periphery multicall does, so one transaction can hold several swaps.
    /// Reverts with the first failing call's revert data.
    /// @dev delegatecall keeps msg.sender and msg.value: an ETH-in swap
    /// inside spends the value sent with the multicall.
    function multicall(bytes[] calldata data) external payable returns (bytes[] memory results) {
        results = new bytes[](data.length);
        for (uint256 i = 0; i < data.length; i++) {
            (bool ok, bytes memory ret) = address(this).delegatecall(data[i]);
            if (!ok) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
            results[i] = ret;
        }
    }

    // ---- factory ----

    function factory() external view returns (address) {
        return address(this);
    }

    function allPairsLength() external view returns (uint256) {
        return allPairs.length;
    }

    function createPair(address tokenA, address tokenB) public returns (address pair) {
        require(tokenA != tokenB, "DemoRouter: IDENTICAL_ADDRESSES");
        (address token0, address token1) = sortTokens(tokenA, tokenB);
        require(getPair[token0][token1] == address(0), "DemoRouter: PAIR_EXISTS");
        pair = address(new DemoPair(token0, token1));
        getPair[token0][token1] = pair;
        getPair[token1][token0] = pair;
        allPairs.push(pair);
        emit PairCreated(token0, token1, pair, allPairs.length);
    }

    // ---- liquidity ----

    function addLiquidity(
        address tokenA,
        address tokenB,
        uint256 amountADesired,
        uint256 amountBDesired,
        uint256 amountAMin,
        uint256 amountBMin,
        address to,
        uint256 deadline
    ) external ensure(deadline) returns (uint256 amountA, uint256 amountB, uint256 liquidity) {
        (amountA, amountB) = _addLiquidity(tokenA, tokenB, amountADesired, amountBDesired, amountAMin, amountBMin);
        liquidity = _depositAndMint(tokenA, tokenB, amountA, amountB, to);
    }

    // Split out of addLiquidity only to keep its stack within limits.
    function _depositAndMint(address tokenA, address tokenB, uint256 amountA, uint256 amountB, address to)
        private
        returns (uint256 liquidity)
    {
        address pair = pairFor(tokenA, tokenB);
        tokenA.safeTransferFrom(msg.sender, pair, amountA);
        tokenB.safeTransferFrom(msg.sender, pair, amountB);
        liquidity = DemoPair(pair).mint(to);
    }

    function addLiquidityETH(
        address token,
        uint256 amountTokenDesired,
        uint256 amountTokenMin,
        uint256 amountETHMin,
        address to,
        uint256 deadline
    ) external payable ensure(deadline) returns (uint256 amountToken, uint256 amountETH, uint256 liquidity) {
        (amountToken, amountETH) =
            _addLiquidity(token, WETH, amountTokenDesired, msg.value, amountTokenMin, amountETHMin);
        address pair = pairFor(token, WETH);
        token.safeTransferFrom(msg.sender, pair, amountToken);
        IWETHLike(WETH).deposit{value: amountETH}();
        require(IWETHLike(WETH).transfer(pair, amountETH), "DemoRouter: WETH_TRANSFER_FAILED");
        liquidity = DemoPair(pair).mint(to);
        if (msg.value > amountETH) SafeTransfer.safeTransferETH(msg.sender, msg.value - amountETH);
    }

    function _addLiquidity(
        address tokenA,
        address tokenB,
        uint256 amountADesired,
        uint256 amountBDesired,
        uint256 amountAMin,
        uint256 amountBMin
    ) private returns (uint256 amountA, uint256 amountB) {
        if (getPair[tokenA][tokenB] == address(0)) createPair(tokenA, tokenB);
        (uint256 reserveA, uint256 reserveB) = getReservesFor(tokenA, tokenB);
        if (reserveA == 0 && reserveB == 0) {
            return (amountADesired, amountBDesired);
        }
        uint256 amountBOptimal = quote(amountADesired, reserveA, reserveB);
        if (amountBOptimal <= amountBDesired) {
            require(amountBOptimal >= amountBMin, "DemoRouter: INSUFFICIENT_B_AMOUNT");
            return (amountADesired, amountBOptimal);
        }
        uint256 amountAOptimal = quote(amountBDesired, reserveB, reserveA);
        assert(amountAOptimal <= amountADesired);
        require(amountAOptimal >= amountAMin, "DemoRouter: INSUFFICIENT_A_AMOUNT");
        return (amountAOptimal, amountBDesired);
    }

    // ---- swaps ----

    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external ensure(deadline) returns (uint256[] memory amounts) {
        amounts = getAmountsOut(amountIn, path);
        require(amounts[amounts.length - 1] >= amountOutMin, "DemoRouter: INSUFFICIENT_OUTPUT_AMOUNT");
        path[0].safeTransferFrom(msg.sender, pairFor(path[0], path[1]), amounts[0]);
        _swap(amounts, path, to);
    }

    function swapTokensForExactTokens(
        uint256 amountOut,
        uint256 amountInMax,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external ensure(deadline) returns (uint256[] memory amounts) {
        amounts = getAmountsIn(amountOut, path);
        require(amounts[0] <= amountInMax, "DemoRouter: EXCESSIVE_INPUT_AMOUNT");
        path[0].safeTransferFrom(msg.sender, pairFor(path[0], path[1]), amounts[0]);
        _swap(amounts, path, to);
    }

    function swapExactETHForTokens(uint256 amountOutMin, address[] calldata path, address to, uint256 deadline)
        external
        payable
        ensure(deadline)
        returns (uint256[] memory amounts)
    {
        require(path[0] == WETH, "DemoRouter: INVALID_PATH");
        amounts = getAmountsOut(msg.value, path);
        require(amounts[amounts.length - 1] >= amountOutMin, "DemoRouter: INSUFFICIENT_OUTPUT_AMOUNT");
        _wrapTo(pairFor(path[0], path[1]), amounts[0]);
        _swap(amounts, path, to);
    }

    function swapTokensForExactETH(
        uint256 amountOut,
        uint256 amountInMax,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external ensure(deadline) returns (uint256[] memory amounts) {
        require(path[path.length - 1] == WETH, "DemoRouter: INVALID_PATH");
        amounts = getAmountsIn(amountOut, path);
        require(amounts[0] <= amountInMax, "DemoRouter: EXCESSIVE_INPUT_AMOUNT");
        path[0].safeTransferFrom(msg.sender, pairFor(path[0], path[1]), amounts[0]);
        _swap(amounts, path, address(this));
        _unwrapTo(to, amounts[amounts.length - 1]);
    }

    function swapExactTokensForETH(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external ensure(deadline) returns (uint256[] memory amounts) {
        require(path[path.length - 1] == WETH, "DemoRouter: INVALID_PATH");
        amounts = getAmountsOut(amountIn, path);
        require(amounts[amounts.length - 1] >= amountOutMin, "DemoRouter: INSUFFICIENT_OUTPUT_AMOUNT");
        path[0].safeTransferFrom(msg.sender, pairFor(path[0], path[1]), amounts[0]);
        _swap(amounts, path, address(this));
        _unwrapTo(to, amounts[amounts.length - 1]);
    }

    function swapETHForExactTokens(uint256 amountOut, address[] calldata path, address to, uint256 deadline)
        external
        payable
        ensure(deadline)
        returns (uint256[] memory amounts)
    {
        require(path[0] == WETH, "DemoRouter: INVALID_PATH");
        amounts = getAmountsIn(amountOut, path);
        require(amounts[0] <= msg.value, "DemoRouter: EXCESSIVE_INPUT_AMOUNT");
        _wrapTo(pairFor(path[0], path[1]), amounts[0]);
        _swap(amounts, path, to);
        if (msg.value > amounts[0]) SafeTransfer.safeTransferETH(msg.sender, msg.value - amounts[0]);
    }

    /// @dev Walks the path, each pool paying the next one directly, so a
    /// multi-hop swap needs no intermediate transfers through the router.
    function _swap(uint256[] memory amounts, address[] calldata path, address to) private {
        for (uint256 i; i < path.length - 1; i++) {
            (address input, address output) = (path[i], path[i + 1]);
            (address token0,) = sortTokens(input, output);
            uint256 amountOut = amounts[i + 1];
            (uint256 amount0Out, uint256 amount1Out) = input == token0 ? (uint256(0), amountOut) : (amountOut, uint256(0));
            address recipient = i < path.length - 2 ? pairFor(output, path[i + 2]) : to;
            DemoPair(pairFor(input, output)).swap(amount0Out, amount1Out, recipient);
        }
    }

    function _wrapTo(address pair, uint256 amount) private {
        IWETHLike(WETH).deposit{value: amount}();
        require(IWETHLike(WETH).transfer(pair, amount), "DemoRouter: WETH_TRANSFER_FAILED");
    }

    function _unwrapTo(address to, uint256 amount) private {
        IWETHLike(WETH).withdraw(amount);
        SafeTransfer.safeTransferETH(to, amount);
    }

    // ---- quotes ----

    function sortTokens(address tokenA, address tokenB) public pure returns (address token0, address token1) {
        require(tokenA != tokenB, "DemoRouter: IDENTICAL_ADDRESSES");
        (token0, token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        require(token0 != address(0), "DemoRouter: ZERO_ADDRESS");
    }

    function pairFor(address tokenA, address tokenB) public view returns (address pair) {
        pair = getPair[tokenA][tokenB];
        require(pair != address(0), "DemoRouter: PAIR_NOT_FOUND");
    }

    function getReservesFor(address tokenA, address tokenB) public view returns (uint256 reserveA, uint256 reserveB) {
        (address token0,) = sortTokens(tokenA, tokenB);
        (uint256 reserve0, uint256 reserve1,) = DemoPair(pairFor(tokenA, tokenB)).getReserves();
        (reserveA, reserveB) = tokenA == token0 ? (reserve0, reserve1) : (reserve1, reserve0);
    }

    function quote(uint256 amountA, uint256 reserveA, uint256 reserveB) public pure returns (uint256 amountB) {
        require(amountA > 0, "DemoRouter: INSUFFICIENT_AMOUNT");
        require(reserveA > 0 && reserveB > 0, "DemoRouter: INSUFFICIENT_LIQUIDITY");
        amountB = amountA * reserveB / reserveA;
    }

    function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut)
        public
        pure
        returns (uint256 amountOut)
    {
        require(amountIn > 0, "DemoRouter: INSUFFICIENT_INPUT_AMOUNT");
        require(reserveIn > 0 && reserveOut > 0, "DemoRouter: INSUFFICIENT_LIQUIDITY");
        uint256 amountInWithFee = amountIn * 997;
        amountOut = amountInWithFee * reserveOut / (reserveIn * 1000 + amountInWithFee);
    }

    function getAmountIn(uint256 amountOut, uint256 reserveIn, uint256 reserveOut)
        public
        pure
        returns (uint256 amountIn)
    {
        require(amountOut > 0, "DemoRouter: INSUFFICIENT_OUTPUT_AMOUNT");
        require(reserveIn > 0 && amountOut < reserveOut, "DemoRouter: INSUFFICIENT_LIQUIDITY");
        amountIn = reserveIn * amountOut * 1000 / ((reserveOut - amountOut) * 997) + 1;
    }

    function getAmountsOut(uint256 amountIn, address[] calldata path) public view returns (uint256[] memory amounts) {
        require(path.length >= 2, "DemoRouter: INVALID_PATH");
        amounts = new uint256[](path.length);
        amounts[0] = amountIn;
        for (uint256 i; i < path.length - 1; i++) {
            (uint256 reserveIn, uint256 reserveOut) = getReservesFor(path[i], path[i + 1]);
            amounts[i + 1] = getAmountOut(amounts[i], reserveIn, reserveOut);
        }
    }

    function getAmountsIn(uint256 amountOut, address[] calldata path) public view returns (uint256[] memory amounts) {
        require(path.length >= 2, "DemoRouter: INVALID_PATH");
        amounts = new uint256[](path.length);
        amounts[amounts.length - 1] = amountOut;
        for (uint256 i = path.length - 1; i > 0; i--) {
            (uint256 reserveIn, uint256 reserveOut) = getReservesFor(path[i - 1], path[i]);
            amounts[i - 1] = getAmountIn(amounts[i], reserveIn, reserveOut);
        }
    }
}
