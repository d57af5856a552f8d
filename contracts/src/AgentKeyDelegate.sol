// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title AgentKeyDelegate
/// @notice The on-chain half of an agentkeys grant. An owner's EOA delegates to
/// this contract with EIP-7702, so its code runs at the owner's address
/// (address(this) is the owner). The owner registers session keys with hard
/// limits; a session key calls execute on the owner's address, and the call is
/// made as the owner only if the grant allows it. Whatever happens to the
/// daemon or the session key, the chain refuses anything outside the grant.
/// @dev Owner-only means msg.sender == address(this): a transaction the owner's
/// key signs to its own address. All state lives in one ERC-7201 namespace so
/// that it cannot collide with the storage of another delegate the owner used
/// before or uses later. There is no constructor state and no initialiser:
/// the contract is used only through delegations, and everything starts empty.
contract AgentKeyDelegate {
    // ---------------------------------------------------------------------
    // Types of the external interface
    // ---------------------------------------------------------------------

    /// @notice Locates a 32-byte word in a call's arguments (its data after the
    /// selector). Direct: the word at byte offset head. Indirect: p is the word
    /// at head, and the word is at p + inner: one level of ABI indirection, as
    /// for a member of a dynamic tuple.
    struct Loc {
        uint32 head;
        bool indirect;
        uint32 inner;
    }

    /// @notice A condition on one argument word. op: 0 EQ, 1 NE, 2 LT, 3 LTE,
    /// 4 GT, 5 GTE, 6 IN, 7 NOT_IN. signed_: LT..GTE compare as int256.
    /// valueKind: 0 the literal values; 1 the owner (address(this)); 2 the
    /// session key. values: one for EQ..GTE, at least one for IN/NOT_IN, none
    /// for valueKind 1 and 2 (which allow EQ, NE, IN and NOT_IN only).
    struct Condition {
        Loc loc;
        uint8 op;
        bool signed_;
        uint8 valueKind;
        bytes32[] values;
    }

    /// @notice Allows calls to target (address(0): any target other than the
    /// owner) with selector, any calldata (anySelector) or empty calldata only
    /// (emptyCalldata), when every condition holds.
    struct Permission {
        address target;
        bytes4 selector;
        bool anySelector;
        bool emptyCalldata;
        Condition[] conditions;
    }

    /// @notice How a call with selector spends an ERC-20. tokenKind: 0 the call
    /// target; 1 the address word at token; 2 the first element of the
    /// address[] whose offset word is at token; 3 the first and 4 the last 20
    /// bytes of the bytes whose offset word is at token (Uniswap V3 paths).
    /// The amount is the word at amount.
    struct SpendRule {
        bytes4 selector;
        uint8 tokenKind;
        Loc token;
        Loc amount;
    }

    /// @notice Caps of one ERC-20, in its base units; type(uint256).max = no cap.
    struct TokenLimit {
        address token;
        uint256 perTx;
        uint256 perPeriod;
    }

    /// @notice A session's grant. Budget periods are fixed windows
    /// [validAfter + k*period, validAfter + (k+1)*period); period 0 makes the
    /// whole session one window. type(uint256).max = no cap; maxCalls 0 =
    /// unlimited.
    struct SessionConfig {
        uint48 validAfter;
        uint48 validUntil;
        uint32 period;
        uint256 maxValuePerCall;
        uint256 nativePerPeriod;
        uint256 maxCalls;
        Permission[] permissions;
        SpendRule[] spendRules;
        TokenLimit[] tokenLimits;
    }

    struct Call {
        address target;
        uint256 value;
        bytes data;
    }

    // ---------------------------------------------------------------------
    // Events and errors
    // ---------------------------------------------------------------------

    event SessionGranted(address indexed session, uint48 validAfter, uint48 validUntil, uint32 epoch);
    event SessionRevoked(address indexed session);
    event AllSessionsRevoked(uint32 epoch);
    event Executed(address indexed session, address indexed target, bytes4 selector, uint256 value);

    error NotSelf();
    error NotSession();
    error Revoked();
    error NotYetValid();
    error Expired();
    error NoPermission(address target, bytes4 selector);
    error ConditionFailed(uint256 permissionIndex, uint256 conditionIndex);
    error ValueTooHigh(uint256 value, uint256 max);
    /// @dev spent is the period's total had the call gone through.
    error NativeBudgetExceeded(uint256 spent, uint256 cap);
    /// @dev spent is the period's total had the call gone through.
    error TokenBudgetExceeded(address token, uint256 spent, uint256 cap);
    /// @dev amount is the call's total of token (over all its spend rules).
    error TokenPerTxExceeded(address token, uint256 amount, uint256 cap);
    error UncappedToken(address token);
    error TooManyCalls();
    error BadCalldata();
    /// @dev The target reverted; returndata is what it reverted with. Always
    /// wrapped, so a target cannot pass its revert off as a refusal of ours.
    error CallFailed(bytes returndata);
    /// @dev grant was given a config that cannot mean what its author wants
    /// (an unknown operator, a value count that does not fit the operator, a
    /// permission on the owner itself, an empty validity window, ...).
    error InvalidConfig();

    // ---------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------

    uint8 private constant OP_EQ = 0;
    uint8 private constant OP_NE = 1;
    uint8 private constant OP_LT = 2;
    uint8 private constant OP_LTE = 3;
    uint8 private constant OP_GT = 4;
    uint8 private constant OP_GTE = 5;
    uint8 private constant OP_IN = 6;
    uint8 private constant OP_NOT_IN = 7;

    uint8 private constant VALUE_LITERAL = 0;
    uint8 private constant VALUE_OWNER = 1;
    uint8 private constant VALUE_SESSION = 2;

    uint8 private constant TOKEN_TARGET = 0;
    uint8 private constant TOKEN_ADDRESS = 1;
    uint8 private constant TOKEN_ADDRESS_ARRAY_FIRST = 2;
    uint8 private constant TOKEN_BYTES_FIRST = 3;
    uint8 private constant TOKEN_BYTES_LAST = 4;

    // Results of _conditions besides the index of a failed condition.
    uint256 private constant ALL_HOLD = type(uint256).max;
    uint256 private constant MALFORMED = type(uint256).max - 1;

    // How a permission matches calldata; with "any target" or not, this
    // picks the key it is stored under (see _key).
    uint8 private constant MATCH_SELECTOR = 0;
    uint8 private constant MATCH_ANY = 1;
    uint8 private constant MATCH_EMPTY = 2;

    // The storage forms below are flattened so that what execute reads for
    // one condition or spend rule shares a slot, and are keyed so that
    // execute reads only the permissions, spend rules and token limits that
    // can apply to the call, however large the grant.

    struct StoredCondition {
        uint32 head;
        bool indirect;
        uint32 inner;
        uint8 op;
        bool signed_;
        uint8 valueKind;
        bytes32 value; // the operand of EQ..GTE with valueKind 0
        bytes32[] values; // the set of IN and NOT_IN with valueKind 0
    }

    struct StoredPermission {
        uint32 index; // in SessionConfig.permissions, for ConditionFailed
        StoredCondition[] conditions;
    }

    struct StoredSpendRule {
        uint8 tokenKind;
        uint32 tokenHead;
        bool tokenIndirect;
        uint32 tokenInner;
        uint32 amountHead;
        bool amountIndirect;
        uint32 amountInner;
    }

    struct StoredTokenLimit {
        bool set;
        uint64 window; // the period index that spent belongs to
        uint256 perTx;
        uint256 perPeriod;
        uint256 spent;
    }

    /// @dev Every grant gets a fresh id and so fresh storage: replacing a
    /// session's grant starts its usage from zero without deleting anything.
    struct Grant {
        // slot 0: everything every execute reads
        uint48 validAfter;
        uint48 validUntil;
        uint32 period;
        uint32 epoch;
        bool revoked;
        uint8 lookups; // bit _lookupBit(kind, anyTarget): some permission has that key shape
        uint40 calls;
        uint40 maxCalls; // 0 = unlimited
        // slot 1: read only by calls with value. Native amounts never come
        // near 2^192 wei; the total is clamped there in any case.
        uint64 nativeWindow; // the period index that nativeSpent belongs to
        uint192 nativeSpent;
        uint256 maxValuePerCall;
        uint256 nativePerPeriod;
        mapping(bytes32 key => StoredPermission[]) permissions;
        mapping(bytes4 selector => StoredSpendRule[]) spendRules;
        mapping(address token => StoredTokenLimit) limits;
        address[] limitTokens; // the keys of limits, in the grant's order
    }

    /// @custom:storage-location erc7201:agentkeys.delegate.v1
    struct DelegateStorage {
        uint32 epoch;
        uint64 lastGrantId;
        mapping(address session => uint64 grantId) grantOf;
        mapping(uint64 grantId => Grant) grants;
    }

    // keccak256(abi.encode(uint256(keccak256("agentkeys.delegate.v1")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0xeb7d4c4a31a230f6c7d4674949ca4d744b5928c19de1e6ac037459ab0fbf1b00;

    function _storage() private pure returns (DelegateStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }

    // ---------------------------------------------------------------------
    // Owner
    // ---------------------------------------------------------------------

    modifier onlySelf() {
        if (msg.sender != address(this)) revert NotSelf();
        _;
    }

    /// @notice The delegated EOA still accepts plain ether.
    receive() external payable {}

    /// @notice Registers session with cfg, replacing (and resetting the usage
    /// of) any earlier grant of it, bound to the current epoch.
    function grant(address session, SessionConfig calldata cfg) external onlySelf {
        _validate(session, cfg);
        DelegateStorage storage $ = _storage();
        uint64 id = ++$.lastGrantId;
        $.grantOf[session] = id;
        Grant storage g = $.grants[id];
        uint32 ep = $.epoch;
        g.validAfter = cfg.validAfter;
        g.validUntil = cfg.validUntil;
        g.period = cfg.period;
        g.epoch = ep;
        g.maxCalls = cfg.maxCalls > type(uint40).max ? type(uint40).max : uint40(cfg.maxCalls);
        g.maxValuePerCall = cfg.maxValuePerCall;
        g.nativePerPeriod = cfg.nativePerPeriod;
        uint8 lookups;
        for (uint256 i; i < cfg.permissions.length; ++i) {
            lookups |= _storePermission(g, cfg.permissions[i], i);
        }
        g.lookups = lookups;
        for (uint256 i; i < cfg.spendRules.length; ++i) {
            SpendRule calldata r = cfg.spendRules[i];
            g.spendRules[r.selector].push(
                StoredSpendRule({
                    tokenKind: r.tokenKind,
                    tokenHead: r.token.head,
                    tokenIndirect: r.token.indirect,
                    tokenInner: r.token.inner,
                    amountHead: r.amount.head,
                    amountIndirect: r.amount.indirect,
                    amountInner: r.amount.inner
                })
            );
        }
        for (uint256 i; i < cfg.tokenLimits.length; ++i) {
            TokenLimit calldata l = cfg.tokenLimits[i];
            StoredTokenLimit storage sl = g.limits[l.token];
            if (sl.set) revert InvalidConfig(); // the storage is fresh: a duplicate in cfg
            sl.set = true;
            sl.perTx = l.perTx;
            sl.perPeriod = l.perPeriod;
            g.limitTokens.push(l.token);
        }
        emit SessionGranted(session, cfg.validAfter, cfg.validUntil, ep);
    }

    /// @notice Ends session's grant now. Revoking a session without a grant
    /// changes nothing.
    function revoke(address session) external onlySelf {
        DelegateStorage storage $ = _storage();
        uint64 id = $.grantOf[session];
        if (id != 0) $.grants[id].revoked = true;
        emit SessionRevoked(session);
    }

    /// @notice Ends every session at once by moving to a new epoch.
    function revokeAll() external onlySelf {
        DelegateStorage storage $ = _storage();
        uint32 ep = ++$.epoch;
        emit AllSessionsRevoked(ep);
    }

    /// @return lookup the bit of the key shape the permission is stored under.
    function _storePermission(Grant storage g, Permission calldata p, uint256 index) private returns (uint8 lookup) {
        uint8 kind = p.anySelector ? MATCH_ANY : p.emptyCalldata ? MATCH_EMPTY : MATCH_SELECTOR;
        StoredPermission storage sp = g.permissions[_key(p.target, p.selector, kind)].push();
        sp.index = uint32(index);
        for (uint256 j; j < p.conditions.length; ++j) {
            Condition calldata c = p.conditions[j];
            StoredCondition storage sc = sp.conditions.push();
            sc.head = c.loc.head;
            sc.indirect = c.loc.indirect;
            sc.inner = c.loc.inner;
            sc.op = c.op;
            sc.signed_ = c.signed_;
            sc.valueKind = c.valueKind;
            if (c.valueKind == VALUE_LITERAL) {
                if (c.op >= OP_IN) {
                    for (uint256 k; k < c.values.length; ++k) {
                        sc.values.push(c.values[k]);
                    }
                } else {
                    sc.value = c.values[0];
                }
            }
        }
        return _lookupBit(kind, p.target == address(0));
    }

    function _validate(address session, SessionConfig calldata cfg) private view {
        if (session == address(0) || session == address(this)) revert InvalidConfig();
        if (cfg.validAfter >= cfg.validUntil) revert InvalidConfig();
        if (cfg.permissions.length > type(uint32).max) revert InvalidConfig();
        for (uint256 i; i < cfg.permissions.length; ++i) {
            Permission calldata p = cfg.permissions[i];
            // A permission on the owner could never be used; refusing it
            // tells the owner so instead of granting something that is not.
            if (p.target == address(this)) revert InvalidConfig();
            if (p.anySelector && p.emptyCalldata) revert InvalidConfig();
            if (p.emptyCalldata && p.conditions.length != 0) revert InvalidConfig();
            for (uint256 j; j < p.conditions.length; ++j) {
                _validateCondition(p.conditions[j]);
            }
        }
        for (uint256 i; i < cfg.spendRules.length; ++i) {
            if (cfg.spendRules[i].tokenKind > TOKEN_BYTES_LAST) revert InvalidConfig();
        }
        for (uint256 i; i < cfg.tokenLimits.length; ++i) {
            if (cfg.tokenLimits[i].token == address(0)) revert InvalidConfig();
        }
    }

    function _validateCondition(Condition calldata c) private pure {
        if (c.op > OP_NOT_IN) revert InvalidConfig();
        if (c.valueKind == VALUE_LITERAL) {
            if (c.op >= OP_IN ? c.values.length == 0 : c.values.length != 1) revert InvalidConfig();
        } else if (c.valueKind == VALUE_OWNER || c.valueKind == VALUE_SESSION) {
            if (c.values.length != 0) revert InvalidConfig();
            if (c.op != OP_EQ && c.op != OP_NE && c.op != OP_IN && c.op != OP_NOT_IN) revert InvalidConfig();
        } else {
            revert InvalidConfig();
        }
    }

    // ---------------------------------------------------------------------
    // Session
    // ---------------------------------------------------------------------

    /// @notice Makes the call as the owner if the caller's session allows it.
    /// A revert of the target is returned as CallFailed(its revert data).
    function execute(address target, uint256 value, bytes calldata data)
        external
        payable
        returns (bytes memory)
    {
        Grant storage g = _activeOrRevert(msg.sender);
        _authorize(g, target, value, data);
        return _call(target, value, data);
    }

    /// @notice execute for several calls, all or nothing. Each call is checked
    /// against the budgets as the earlier calls of the batch left them.
    function executeBatch(Call[] calldata calls) external payable returns (bytes[] memory results) {
        Grant storage g = _activeOrRevert(msg.sender);
        results = new bytes[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            Call calldata c = calls[i];
            _authorize(g, c.target, c.value, c.data);
            results[i] = _call(c.target, c.value, c.data);
        }
    }

    function _authorize(Grant storage g, address target, uint256 value, bytes calldata data) private {
        Outcome memory o = _evaluate(g, msg.sender, target, value, data);
        if (o.failure.length != 0) _revertWith(o.failure);
        // Usage is recorded before the call, so a target that re-enters sees it.
        ++g.calls;
        if (value != 0) {
            g.nativeWindow = o.window;
            g.nativeSpent = o.nativeSpent > type(uint192).max ? type(uint192).max : uint192(o.nativeSpent);
        }
        for (uint256 k; k < o.debits; ++k) {
            StoredTokenLimit storage l = g.limits[o.token[k]];
            l.window = o.window;
            l.spent = o.spent[k];
        }
        emit Executed(msg.sender, target, _selector(data), value);
    }

    function _call(address target, uint256 value, bytes calldata data) private returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) revert CallFailed(ret);
        return ret;
    }

    // ---------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------

    /// @notice Whether execute(target, value, data) by session would pass the
    /// checks now, given the usage so far; reason is the ABI encoding of the
    /// error execute would revert with. Changes nothing; does not run the call.
    function check(address session, address target, uint256 value, bytes calldata data)
        external
        view
        returns (bool ok, bytes memory reason)
    {
        (bytes memory failure, Grant storage g) = _active(session);
        if (failure.length == 0) failure = _evaluate(g, session, target, value, data).failure;
        return (failure.length == 0, failure);
    }

    /// @notice The session's current grant (zeros if it never had one) and its
    /// usage: calls made and native value spent in the current period.
    function sessionInfo(address session)
        external
        view
        returns (
            uint48 validAfter,
            uint48 validUntil,
            uint32 epoch_,
            bool active,
            uint256 calls,
            uint256 nativeSpentThisPeriod
        )
    {
        (bytes memory failure, Grant storage g) = _active(session);
        validAfter = g.validAfter;
        validUntil = g.validUntil;
        epoch_ = g.epoch;
        active = failure.length == 0;
        calls = g.calls;
        if (block.timestamp >= g.validAfter && g.nativeWindow == _window(g)) nativeSpentThisPeriod = g.nativeSpent;
    }

    /// @notice What the session may still spend in the current period: native
    /// value, and each capped token's amount, in the order of the grant's
    /// token limits. type(uint256).max = no cap. Zeros while the session is
    /// not active.
    function remaining(address session)
        external
        view
        returns (uint256 native, address[] memory tokens, uint256[] memory amounts)
    {
        (bytes memory failure, Grant storage g) = _active(session);
        tokens = g.limitTokens;
        uint256 n = tokens.length;
        amounts = new uint256[](n);
        bool active = failure.length == 0;
        uint64 window = active ? _window(g) : 0;
        for (uint256 i; i < n && active; ++i) {
            StoredTokenLimit storage l = g.limits[tokens[i]];
            amounts[i] = _left(l.perPeriod, l.window == window ? l.spent : 0);
        }
        if (active) native = _left(g.nativePerPeriod, g.nativeWindow == window ? g.nativeSpent : 0);
    }

    /// @notice The current epoch; revokeAll increments it.
    function epoch() external view returns (uint32) {
        return _storage().epoch;
    }

    // ---------------------------------------------------------------------
    // What other contracts expect of an account with code
    // ---------------------------------------------------------------------
    // Once delegated, the owner's address has code, so token contracts and
    // signature verifiers treat it as a contract: safeTransfer of an ERC-721
    // or ERC-1155 calls a receiver hook, and verifiers such as Permit2 ask
    // isValidSignature (ERC-1271) instead of running ecrecover. These
    // functions give the answers the plain EOA gave before delegation.

    bytes4 private constant ERC1271_VALID = 0x1626ba7e; // isValidSignature.selector
    bytes4 private constant ERC1271_INVALID = 0xffffffff;

    /// @dev secp256k1n / 2. A signature (r, s) has a twin (r, n - s) with the
    /// other v that recovers the same signer; only the low-s one is accepted
    /// (as EIP-2 does for transactions), so a signature has one 65-byte form.
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice ERC-1271: 0x1626ba7e iff signature is the owner's own ECDSA
    /// signature of hash, 0xffffffff otherwise (never reverts). signature is
    /// r, s, v (65 bytes, v 27 or 28) or the EIP-2098 compact r, yParity|s
    /// (64 bytes, as Permit2 accepts from EOAs); s must be low.
    /// @dev Only the owner's key, address(this), can sign for the owner; a
    /// session key cannot. A signature accepted here is the owner's word to
    /// someone else's contract (a Permit2 permit, an off-chain order, a
    /// login): it can move the owner's tokens without ever passing through
    /// execute, so none of a grant's targets, conditions, caps, validity or
    /// revocation would apply to it. Session keys act only through execute.
    /// The hash is checked as given, not rehashed (ERC-7739): the key
    /// controls exactly this one account, and ecrecover already accepted the
    /// same signature of the same hash for the EOA before delegation, so
    /// delegating neither adds nor removes a signer or a signature.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        address signer = _recover(hash, signature);
        return signer != address(0) && signer == address(this) ? ERC1271_VALID : ERC1271_INVALID;
    }

    /// @notice ERC-721 safeTransfer hook: the owner accepts any token, as the
    /// EOA did.
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC721Received.selector; // 0x150b7a02
    }

    /// @notice ERC-1155 safeTransfer hook: the owner accepts any token.
    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC1155Received.selector; // 0xf23a6e61
    }

    /// @notice ERC-1155 safeBatchTransfer hook: the owner accepts any tokens.
    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return this.onERC1155BatchReceived.selector; // 0xbc197c81
    }

    /// @notice ERC-165: ERC-165 itself, IERC721Receiver, IERC1155Receiver
    /// and IERC1271 (whose id is its one selector; ERC-1271 does not require
    /// ERC-165, but the answer is true).
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 // ERC-165
            || interfaceId == 0x150b7a02 // IERC721Receiver
            || interfaceId == 0x4e2312e0 // IERC1155Receiver
            || interfaceId == ERC1271_VALID; // IERC1271
    }

    /// @return signer of hash, or address(0) if signature is not a
    /// well-formed low-s signature (or ecrecover finds no signer).
    function _recover(bytes32 hash, bytes calldata signature) private pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        if (signature.length == 65) {
            r = bytes32(signature[0:32]);
            s = bytes32(signature[32:64]);
            v = uint8(signature[64]);
        } else if (signature.length == 64) {
            // EIP-2098: the top bit of the second word is yParity, the rest s.
            r = bytes32(signature[0:32]);
            uint256 vs = uint256(bytes32(signature[32:64]));
            s = bytes32(vs & (type(uint256).max >> 1));
            v = uint8(vs >> 255) + 27;
        } else {
            return address(0);
        }
        if (uint256(s) > HALF_ORDER || (v != 27 && v != 28)) return address(0);
        return ecrecover(hash, v, r, s);
    }

    // ---------------------------------------------------------------------
    // Checks
    // ---------------------------------------------------------------------

    /// @dev The result of checking one call: the error to revert with (empty
    /// if allowed) and, if allowed, the usage to record.
    struct Outcome {
        bytes failure;
        uint64 window;
        uint256 nativeSpent; // the period's native total with this call
        uint256 debits; // entries used in token, spent and amount
        address[] token; // a token with a limit
        uint256[] spent; // the period's total of that token with this call
        uint256[] amount; // this call's total of that token
    }

    function _activeOrRevert(address session) private view returns (Grant storage g) {
        bytes memory failure;
        (failure, g) = _active(session);
        if (failure.length != 0) _revertWith(failure);
    }

    function _active(address session) private view returns (bytes memory failure, Grant storage g) {
        DelegateStorage storage $ = _storage();
        uint64 id = $.grantOf[session];
        g = $.grants[id]; // id 0 is never used: an empty grant
        if (id == 0) return (abi.encodeWithSelector(NotSession.selector), g);
        if (g.revoked || g.epoch != $.epoch) return (abi.encodeWithSelector(Revoked.selector), g);
        if (block.timestamp < g.validAfter) return (abi.encodeWithSelector(NotYetValid.selector), g);
        if (block.timestamp >= g.validUntil) return (abi.encodeWithSelector(Expired.selector), g);
    }

    /// @dev Checks a call of an active session. View: execute records the
    /// outcome, check only reports it.
    function _evaluate(Grant storage g, address session, address target, uint256 value, bytes calldata data)
        private
        view
        returns (Outcome memory o)
    {
        if (data.length != 0 && data.length < 4) {
            o.failure = abi.encodeWithSelector(BadCalldata.selector);
            return o;
        }
        bytes4 sel = _selector(data);
        // The owner's own address runs this contract: a call to it could
        // grant, revoke or execute as the owner. No permission reaches it.
        if (target == address(this)) {
            o.failure = abi.encodeWithSelector(NoPermission.selector, target, sel);
            return o;
        }
        uint40 maxCalls = g.maxCalls;
        if (maxCalls != 0 && g.calls >= maxCalls) {
            o.failure = abi.encodeWithSelector(TooManyCalls.selector);
            return o;
        }
        bytes calldata args = data.length == 0 ? data : data[4:];
        o.failure = _permitted(g, session, target, sel, data.length == 0, args);
        if (o.failure.length != 0) return o;
        o.window = _window(g);
        if (value != 0) {
            o.failure = _checkNative(g, value, o);
            if (o.failure.length != 0) return o;
        }
        if (data.length != 0) o.failure = _checkTokens(g, target, sel, args, o);
    }

    /// @dev Why no permission allowed a call (so far).
    struct Miss {
        uint256 permission; // the lowest index of a permission whose condition failed, or max
        uint256 condition; // the condition of that permission that failed
        bool malformed; // a permission's condition read past the arguments
    }

    /// @dev Looks up only the permissions stored under a key the call can
    /// match (target or any target; its selector, any calldata, or empty
    /// calldata), skipping key shapes the grant does not use.
    function _permitted(
        Grant storage g,
        address session,
        address target,
        bytes4 sel,
        bool empty,
        bytes calldata args
    ) private view returns (bytes memory) {
        uint8 lookups = g.lookups;
        Miss memory miss = Miss({permission: type(uint256).max, condition: 0, malformed: false});
        for (uint256 k; k < 4; ++k) {
            bool anyTarget = k & 1 != 0;
            uint8 kind = k & 2 != 0 ? MATCH_ANY : empty ? MATCH_EMPTY : MATCH_SELECTOR;
            if (lookups & _lookupBit(kind, anyTarget) == 0) continue;
            StoredPermission[] storage list = g.permissions[_key(anyTarget ? address(0) : target, sel, kind)];
            if (_anyAllows(list, session, args, miss)) return "";
        }
        // A permission whose conditions read past the arguments cannot allow
        // the call; if it was one that might have, that is the reason.
        if (miss.malformed) return abi.encodeWithSelector(BadCalldata.selector);
        if (miss.permission != type(uint256).max) {
            return abi.encodeWithSelector(ConditionFailed.selector, miss.permission, miss.condition);
        }
        return abi.encodeWithSelector(NoPermission.selector, target, sel);
    }

    function _anyAllows(StoredPermission[] storage list, address session, bytes calldata args, Miss memory miss)
        private
        view
        returns (bool)
    {
        uint256 n = list.length;
        bool noted;
        for (uint256 i; i < n; ++i) {
            StoredPermission storage p = list[i];
            uint256 failed = _conditions(p, session, args);
            if (failed == ALL_HOLD) return true;
            if (failed == MALFORMED) {
                miss.malformed = true;
                continue;
            }
            // If no permission allows the call, the failure of the first one
            // in the grant's order is reported. A list holds its permissions
            // in that order, so only its first failure can be the first.
            if (noted) continue;
            noted = true;
            uint256 index = p.index;
            if (index < miss.permission) (miss.permission, miss.condition) = (index, failed);
        }
        return false;
    }

    /// @dev Permissions are stored under (target or 0, selector, kind), the
    /// selector counting only for MATCH_SELECTOR.
    function _key(address target, bytes4 sel, uint8 kind) private pure returns (bytes32) {
        if (kind != MATCH_SELECTOR) sel = bytes4(0);
        return bytes32((uint256(uint160(target)) << 96) | (uint256(uint32(sel)) << 64) | kind);
    }

    function _lookupBit(uint8 kind, bool anyTarget) private pure returns (uint8) {
        return uint8(1 << (kind * 2 + (anyTarget ? 1 : 0)));
    }

    /// @return failed the index of the first condition that does not hold,
    /// ALL_HOLD, or MALFORMED if a condition's word lies outside args.
    function _conditions(StoredPermission storage p, address session, bytes calldata args)
        private
        view
        returns (uint256 failed)
    {
        uint256 n = p.conditions.length;
        for (uint256 j; j < n; ++j) {
            StoredCondition storage c = p.conditions[j];
            (bool ok, uint256 pos,) = _locate(args, c.head, c.indirect, c.inner);
            if (!ok) return MALFORMED;
            if (!_holds(c, _word(args, pos), session)) return j;
        }
        return ALL_HOLD;
    }

    function _holds(StoredCondition storage c, bytes32 w, address session) private view returns (bool) {
        uint8 op = c.op;
        uint8 kind = c.valueKind;
        if (kind != VALUE_LITERAL) {
            address a = kind == VALUE_OWNER ? address(this) : kind == VALUE_SESSION ? session : address(0);
            if (a == address(0)) return false;
            bool eq = w == bytes32(uint256(uint160(a)));
            if (op == OP_EQ || op == OP_IN) return eq;
            if (op == OP_NE || op == OP_NOT_IN) return !eq;
            return false;
        }
        if (op == OP_IN || op == OP_NOT_IN) {
            bytes32[] storage set = c.values;
            uint256 n = set.length;
            bool found;
            for (uint256 k; k < n && !found; ++k) {
                found = set[k] == w;
            }
            return op == OP_IN ? found : !found;
        }
        bytes32 v = c.value;
        if (op == OP_EQ) return w == v;
        if (op == OP_NE) return w != v;
        if (op > OP_GTE) return false;
        bool lt;
        bool gt;
        if (c.signed_) {
            (lt, gt) = (int256(uint256(w)) < int256(uint256(v)), int256(uint256(w)) > int256(uint256(v)));
        } else {
            (lt, gt) = (uint256(w) < uint256(v), uint256(w) > uint256(v));
        }
        if (op == OP_LT) return lt;
        if (op == OP_LTE) return !gt;
        if (op == OP_GT) return gt;
        return !lt; // OP_GTE
    }

    function _checkNative(Grant storage g, uint256 value, Outcome memory o) private view returns (bytes memory) {
        uint256 max = g.maxValuePerCall;
        if (value > max) return abi.encodeWithSelector(ValueTooHigh.selector, value, max);
        uint256 spent = _add(g.nativeWindow == o.window ? g.nativeSpent : 0, value);
        uint256 cap = g.nativePerPeriod;
        if (spent > cap) return abi.encodeWithSelector(NativeBudgetExceeded.selector, spent, cap);
        o.nativeSpent = spent;
        return "";
    }

    /// @dev Applies every spend rule of sel, adding up what several rules
    /// take of the same token in one call.
    function _checkTokens(Grant storage g, address target, bytes4 sel, bytes calldata args, Outcome memory o)
        private
        view
        returns (bytes memory)
    {
        StoredSpendRule[] storage rules = g.spendRules[sel];
        uint256 n = rules.length;
        for (uint256 i; i < n; ++i) {
            (bool ok, address token, uint256 amount) = _extract(rules[i], target, args);
            if (!ok) return abi.encodeWithSelector(BadCalldata.selector);
            if (amount == 0) continue;
            bytes memory failure = _debit(g, token, amount, o, n);
            if (failure.length != 0) return failure;
        }
        return "";
    }

    /// @param rules how many spend rules the call's selector has: at most
    /// that many tokens are debited.
    function _debit(Grant storage g, address token, uint256 amount, Outcome memory o, uint256 rules)
        private
        view
        returns (bytes memory)
    {
        StoredTokenLimit storage l = g.limits[token];
        if (!l.set) return abi.encodeWithSelector(UncappedToken.selector, token);
        if (o.token.length == 0) {
            o.token = new address[](rules);
            o.spent = new uint256[](rules);
            o.amount = new uint256[](rules);
        }
        uint256 k;
        while (k < o.debits && o.token[k] != token) ++k;
        if (k == o.debits) {
            o.token[k] = token;
            o.spent[k] = l.window == o.window ? l.spent : 0;
            ++o.debits;
        }
        uint256 inCall = _add(o.amount[k], amount);
        uint256 perTx = l.perTx;
        if (inCall > perTx) return abi.encodeWithSelector(TokenPerTxExceeded.selector, token, inCall, perTx);
        uint256 spent = _add(o.spent[k], amount);
        uint256 cap = l.perPeriod;
        if (spent > cap) return abi.encodeWithSelector(TokenBudgetExceeded.selector, token, spent, cap);
        o.amount[k] = inCall;
        o.spent[k] = spent;
        return "";
    }

    /// @return ok false if a word lies outside args or the token is not a
    /// clean address.
    function _extract(StoredSpendRule storage r, address target, bytes calldata args)
        private
        view
        returns (bool ok, address token, uint256 amount)
    {
        uint256 pos;
        (ok, pos,) = _locate(args, r.amountHead, r.amountIndirect, r.amountInner);
        if (!ok) return (false, address(0), 0);
        amount = uint256(_word(args, pos));
        uint8 kind = r.tokenKind;
        if (kind == TOKEN_TARGET) return (true, target, amount);
        uint256 base;
        (ok, pos, base) = _locate(args, r.tokenHead, r.tokenIndirect, r.tokenInner);
        if (!ok) return (false, address(0), 0);
        if (kind == TOKEN_ADDRESS) {
            (ok, token) = _address(_word(args, pos));
            return (ok, token, amount);
        }
        // The word at pos is the offset of a dynamic value, from the start of
        // the enclosing tuple (base), where its length word sits.
        uint256 len;
        (ok, pos, len) = _dynamic(args, base, uint256(_word(args, pos)));
        if (!ok) return (false, address(0), 0);
        if (kind == TOKEN_ADDRESS_ARRAY_FIRST) {
            if (len == 0 || args.length - pos < 32) return (false, address(0), 0);
            (ok, token) = _address(_word(args, pos));
            return (ok, token, amount);
        }
        // bytes: len bytes from pos, all inside args.
        if (len < 20 || len > args.length - pos) return (false, address(0), 0);
        if (kind == TOKEN_BYTES_FIRST) return (true, address(bytes20(_word(args, pos))), amount);
        if (kind == TOKEN_BYTES_LAST) return (true, address(bytes20(_word(args, pos + len - 20))), amount);
        return (false, address(0), 0);
    }

    // ---------------------------------------------------------------------
    // Calldata reading: every read is bounds-checked against args, so nothing
    // past the call's own data is ever read.
    // ---------------------------------------------------------------------

    /// @return ok false if the word lies outside args.
    /// @return pos the offset of the word in args.
    /// @return base the offset of the tuple holding the word (0 unless
    /// indirect), from which the offsets of its dynamic members count.
    function _locate(bytes calldata args, uint256 head, bool indirect, uint256 inner)
        private
        pure
        returns (bool ok, uint256 pos, uint256 base)
    {
        uint256 len = args.length;
        if (len < 32 || head > len - 32) return (false, 0, 0);
        if (!indirect) return (true, head, 0);
        base = uint256(_word(args, head));
        if (base > len || inner > len - base || len - base - inner < 32) return (false, 0, 0);
        return (true, base + inner, base);
    }

    /// @return ok false if the length word lies outside args.
    /// @return pos the offset in args of the first element (after the length).
    /// @return len the length word.
    function _dynamic(bytes calldata args, uint256 base, uint256 offset)
        private
        pure
        returns (bool ok, uint256 pos, uint256 len)
    {
        uint256 n = args.length;
        if (offset > n - base || n - base - offset < 32) return (false, 0, 0);
        uint256 start = base + offset;
        return (true, start + 32, uint256(_word(args, start)));
    }

    /// @dev Caller guarantees pos + 32 <= args.length.
    function _word(bytes calldata args, uint256 pos) private pure returns (bytes32 w) {
        assembly {
            w := calldataload(add(args.offset, pos))
        }
    }

    /// @dev A word with bits above the 160th set is not an ABI address.
    function _address(bytes32 w) private pure returns (bool ok, address a) {
        if (uint256(w) >> 160 != 0) return (false, address(0));
        return (true, address(uint160(uint256(w))));
    }

    // ---------------------------------------------------------------------
    // Small helpers
    // ---------------------------------------------------------------------

    function _selector(bytes calldata data) private pure returns (bytes4) {
        return data.length >= 4 ? bytes4(data[:4]) : bytes4(0);
    }

    /// @dev The current budget period's index; active sessions only.
    function _window(Grant storage g) private view returns (uint64) {
        uint32 period = g.period;
        if (period == 0) return 0;
        return uint64((block.timestamp - g.validAfter) / period);
    }

    /// @dev Saturating add: with a cap of type(uint256).max (no cap) totals
    /// must not overflow; with any other cap the saturated total exceeds it.
    function _add(uint256 a, uint256 b) private pure returns (uint256) {
        unchecked {
            uint256 c = a + b;
            return c < a ? type(uint256).max : c;
        }
    }

    function _left(uint256 cap, uint256 spent) private pure returns (uint256) {
        if (cap == type(uint256).max) return cap;
        return spent >= cap ? 0 : cap - spent;
    }

    function _revertWith(bytes memory failure) private pure {
        assembly {
            revert(add(failure, 32), mload(failure))
        }
    }
}
