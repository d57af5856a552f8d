// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title AgentKeyDelegate
/// @notice The on-chain half of an agentkeys grant. An owner's EOA delegates to
/// this contract with EIP-7702, so its code runs at the owner's address
/// (address(this) is the owner). The owner registers session keys with hard
/// limits, itself or through anyone who presents its EIP-712 signature of
/// the grant; a session key calls execute on the owner's address, and the
/// call is made as the owner only if the grant allows it. Whatever happens to the
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
    /// @dev grantWithSignature: the signature is malformed, high-s, or not
    /// the owner's signature of this grant on this chain and account (any
    /// field changed after signing gives another digest, so another signer).
    error BadSignature();
    /// @dev grantWithSignature: submitted after the signed deadline.
    error SignatureExpired();
    /// @dev grantWithSignature: the signed nonce was used before.
    error NonceUsed();
    /// @dev grantWithSignature: signed in an earlier epoch; revokeAll has
    /// run since.
    error StaleEpoch();
    /// @dev grantWithSignature registers only session keys that never had a
    /// grant: an owner's signature cannot replace, renew or revive a session.
    error SessionExists();

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

    // What execute reads is packed and keyed so that a call reads one slot
    // for its session, one per permission stored under a key the call can
    // match (one more per literal operand of their conditions), one for its
    // selector's spend rules unless the permission that allows the call holds
    // them, and one per token it spends, however large the grant; see
    // docs/onchain.md.

    // A session packed into one word, all that every execute reads of it:
    // grantId (bits 0-31; 0: never granted), epoch (32-63), validAfter
    // (64-111), validUntil (112-159), period (160-191), flags (192-199),
    // lookups (200-207: bit _lookupBit(kind, anyTarget) if some permission
    // has that key shape) and calls (208-247). A grant replaces the whole
    // word, so a replaced grant's usage and revocation go with it.
    uint256 private constant S_EPOCH = 32;
    uint256 private constant S_VALID_AFTER = 64;
    uint256 private constant S_VALID_UNTIL = 112;
    uint256 private constant S_PERIOD = 160;
    uint256 private constant S_REVOKED = 1 << 192;
    uint256 private constant S_CALL_CAP = 1 << 193; // maxCalls != 0; it is in Grant
    uint256 private constant S_LOOKUPS = 200;
    uint256 private constant S_CALLS = 208;

    // A Loc packed into 65 bits: head (bits 0-31), inner (32-63), indirect (64).
    uint256 private constant LOC_INDIRECT = 1 << 64;

    // A condition packed into a descriptor of 80 bits: its Loc, signed_
    // (bit 65), op (66-68), valueKind (69-70) and COND_PRESENT, which tells
    // a descriptor from an empty place.
    uint256 private constant COND_SIGNED = 1 << 65;
    uint256 private constant COND_PRESENT = 1 << 71;
    uint256 private constant COND_BITS = 80;
    uint256 private constant WORD_CONDITIONS = 3; // descriptors per word after the head

    // A spend rule packed into 133 bits: token's Loc (bits 0-64), amount's
    // Loc (65-129) and tokenKind (130-132). The first rule of a selector in
    // Grant.spendRules also holds the selector's number of rules (from bit
    // 160).
    uint256 private constant RULE_AMOUNT_SHIFT = 65;
    uint256 private constant RULE_KIND_SHIFT = 130;
    uint256 private constant RULE_MASK = (1 << 133) - 1;
    uint256 private constant RULE_COUNT_SHIFT = 160;

    // StoredPermission.head: the descriptor of condition 0 (bits 0-79); that
    // of condition 1 (80-159) or, with PERM_RULE, a spend rule (80-212); the
    // permission's index in SessionConfig.permissions (213-244); and flags.
    uint256 private constant PERM_RULE_SHIFT = 80;
    uint256 private constant PERM_INDEX_SHIFT = 213;
    uint256 private constant PERM_EXISTS = 1 << 248;
    uint256 private constant PERM_MORE = 1 << 249; // another permission follows under the same key
    uint256 private constant PERM_MORE_CONDITIONS = 1 << 250; // past the head's, in descriptors
    // The head holds every spend rule of the call's selector: none, or with
    // PERM_RULE one. Only a permission on one selector can say so.
    uint256 private constant PERM_RULES = 1 << 251;
    uint256 private constant PERM_RULE = 1 << 252;

    // StoredTokenLimit.meta: SET, COMPACT, the window that left belongs to
    // (bits 8-55) and, if COMPACT, perTx (56-155) and left (156-255) in 100
    // bits each, all ones meaning no cap.
    uint256 private constant LIMIT_SET = 1;
    uint256 private constant LIMIT_COMPACT = 2;
    uint256 private constant LIMIT_WINDOW_SHIFT = 8;
    uint256 private constant LIMIT_WINDOW_MASK = ((1 << 48) - 1) << LIMIT_WINDOW_SHIFT;
    uint256 private constant LIMIT_PER_TX_SHIFT = 56;
    uint256 private constant LIMIT_LEFT_SHIFT = 156;
    uint256 private constant COMPACT_NO_CAP = (1 << 100) - 1;
    uint256 private constant LIMIT_LEFT_MASK = COMPACT_NO_CAP << LIMIT_LEFT_SHIFT;

    /// @dev One permission, at its position among those stored under its key
    /// (in the grant's order). head is what checking it reads first: for a
    /// permission of up to two conditions without literal operands, all of it
    /// (and, for a permission of at most one condition, its selector's spend
    /// rule too).
    struct StoredPermission {
        uint256 head;
        mapping(uint256 word => uint256) descriptors; // past the head's, WORD_CONDITIONS a word
        mapping(uint256 condition => bytes32) value; // the operand of EQ..GTE with valueKind 0
        mapping(uint256 condition => bytes32[]) set; // the set of IN and NOT_IN with valueKind 0
    }

    /// @dev A token's caps and what the current window has left of
    /// perPeriod (type(uint256).max: no cap). With caps below 2^100 - 1 base
    /// units, or none (COMPACT, the usual case), a call reads and writes only
    /// meta; perPeriod is read when a new window starts and to report a
    /// refusal. Without COMPACT, perTx and left have slots of their own.
    struct StoredTokenLimit {
        uint256 meta;
        uint256 perPeriod;
        uint256 perTx; // without LIMIT_COMPACT
        uint256 left; // without LIMIT_COMPACT: what meta's window has left
    }

    /// @dev Every grant gets a fresh id and so fresh storage: replacing a
    /// session's grant starts its usage from zero without deleting anything.
    struct Grant {
        // Read only by calls with value. Native amounts never come near
        // 2^192 wei; the total is clamped there in any case.
        uint64 nativeWindow; // the period index that nativeSpent belongs to
        uint192 nativeSpent;
        uint40 maxCalls; // read only with S_CALL_CAP
        uint256 maxValuePerCall;
        uint256 nativePerPeriod;
        mapping(bytes32 keyAndPosition => StoredPermission) permissions; // see _at
        mapping(bytes32 selectorAndIndex => uint256 rule) spendRules; // see _ruleKey
        mapping(address token => StoredTokenLimit) limits;
        address[] limitTokens; // the keys of limits, in the grant's order
    }

    /// @custom:storage-location erc7201:agentkeys.delegate.v2
    struct DelegateStorage {
        uint32 epoch;
        uint32 lastGrantId;
        uint128 nextNonce; // one more than the highest nonce grantWithSignature used; 0 before any
        mapping(address session => uint256) sessions; // packed, see S_EPOCH
        mapping(uint32 grantId => Grant) grants;
        mapping(uint256 word => uint256 bits) usedNonces; // nonce n is bit n % 256 of word n / 256
    }

    // keccak256(abi.encode(uint256(keccak256("agentkeys.delegate.v2")) - 1)) & ~bytes32(uint256(0xff))
    // (v1 had another layout: a delegate of one layout never reads the other's.)
    bytes32 private constant STORAGE_SLOT = 0xc019a5818c8956c993248358f45fc2abda293c71e2ed5f7a22b70ddd4d222900;

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
        _register(session, cfg);
    }

    /// @dev grant's work, for the owner's own call and for an owner's
    /// signature: validates cfg, stores it as a fresh grant and binds session
    /// to it in the current epoch.
    /// @return g the new grant's storage.
    /// @return s the session, packed.
    function _register(address session, SessionConfig calldata cfg) private returns (Grant storage g, uint256 s) {
        _validate(session, cfg);
        DelegateStorage storage $ = _storage();
        uint32 id = ++$.lastGrantId;
        g = $.grants[id];
        uint32 ep = $.epoch;
        uint256 flags;
        if (cfg.maxCalls != 0) {
            flags = S_CALL_CAP;
            g.maxCalls = cfg.maxCalls > type(uint40).max ? type(uint40).max : uint40(cfg.maxCalls);
        }
        g.maxValuePerCall = cfg.maxValuePerCall;
        g.nativePerPeriod = cfg.nativePerPeriod;
        uint8 lookups;
        for (uint256 i; i < cfg.permissions.length; ++i) {
            lookups |= _storePermission(g, cfg.permissions[i], i, cfg.spendRules);
        }
        for (uint256 i; i < cfg.spendRules.length; ++i) {
            _storeSpendRule(g, cfg.spendRules[i]);
        }
        for (uint256 i; i < cfg.tokenLimits.length; ++i) {
            _storeTokenLimit(g, cfg.tokenLimits[i]);
        }
        s = uint256(id) | (uint256(ep) << S_EPOCH) | (uint256(cfg.validAfter) << S_VALID_AFTER)
            | (uint256(cfg.validUntil) << S_VALID_UNTIL) | (uint256(cfg.period) << S_PERIOD) | flags
            | (uint256(lookups) << S_LOOKUPS);
        $.sessions[session] = s;
        emit SessionGranted(session, cfg.validAfter, cfg.validUntil, ep);
    }

    /// @notice Ends session's grant now. Revoking a session without a grant
    /// changes nothing.
    function revoke(address session) external onlySelf {
        DelegateStorage storage $ = _storage();
        uint256 s = $.sessions[session];
        if (uint32(s) != 0) $.sessions[session] = s | S_REVOKED;
        emit SessionRevoked(session);
    }

    /// @notice Ends every session at once by moving to a new epoch.
    function revokeAll() external onlySelf {
        DelegateStorage storage $ = _storage();
        uint32 ep = ++$.epoch;
        emit AllSessionsRevoked(ep);
    }

    // ---------------------------------------------------------------------
    // Without the owner's key: grants the owner signed, and sessions that
    // revoke themselves
    // ---------------------------------------------------------------------
    // The owner's key can stay in the owner's wallet: the owner signs each
    // grant as EIP-712 typed data (SessionGrant below), and anyone (a
    // relayer, the daemon's gas account) submits it with grantWithSignature.
    // The daemon then holds session keys only, which can do what their
    // grants allow and revoke themselves, nothing more.
    //
    // The external names here are chosen for their selectors, too: the
    // dispatcher compares a call's selector against sorted pivots, and with
    // these names execute's is still found after three comparisons, as
    // before they were added (TestExecuteGas would show any change).

    // EIP-712 types, with the Solidity structs' member names. A type's
    // encoding is its own string followed by those of the types it uses,
    // sorted by name (Condition, Loc, Permission, SessionConfig, SpendRule,
    // TokenLimit); arrays are hashed as the keccak256 of their elements'
    // encodings (of their hashStruct for structs), concatenated.
    bytes32 private constant LOC_TYPEHASH = keccak256("Loc(uint32 head,bool indirect,uint32 inner)");
    bytes32 private constant CONDITION_TYPEHASH = keccak256(
        "Condition(Loc loc,uint8 op,bool signed_,uint8 valueKind,bytes32[] values)"
        "Loc(uint32 head,bool indirect,uint32 inner)"
    );
    bytes32 private constant PERMISSION_TYPEHASH = keccak256(
        "Permission(address target,bytes4 selector,bool anySelector,bool emptyCalldata,Condition[] conditions)"
        "Condition(Loc loc,uint8 op,bool signed_,uint8 valueKind,bytes32[] values)"
        "Loc(uint32 head,bool indirect,uint32 inner)"
    );
    bytes32 private constant SPEND_RULE_TYPEHASH = keccak256(
        "SpendRule(bytes4 selector,uint8 tokenKind,Loc token,Loc amount)" "Loc(uint32 head,bool indirect,uint32 inner)"
    );
    bytes32 private constant TOKEN_LIMIT_TYPEHASH = keccak256("TokenLimit(address token,uint256 perTx,uint256 perPeriod)");
    bytes32 private constant SESSION_CONFIG_TYPEHASH = keccak256(
        "SessionConfig(uint48 validAfter,uint48 validUntil,uint32 period,uint256 maxValuePerCall,uint256 nativePerPeriod,uint256 maxCalls,Permission[] permissions,SpendRule[] spendRules,TokenLimit[] tokenLimits)"
        "Condition(Loc loc,uint8 op,bool signed_,uint8 valueKind,bytes32[] values)"
        "Loc(uint32 head,bool indirect,uint32 inner)"
        "Permission(address target,bytes4 selector,bool anySelector,bool emptyCalldata,Condition[] conditions)"
        "SpendRule(bytes4 selector,uint8 tokenKind,Loc token,Loc amount)"
        "TokenLimit(address token,uint256 perTx,uint256 perPeriod)"
    );
    bytes32 private constant SESSION_GRANT_TYPEHASH = keccak256(
        "SessionGrant(address session,SessionConfig config,uint256 stipend,uint32 epoch,uint64 nonce,uint64 deadline)"
        "Condition(Loc loc,uint8 op,bool signed_,uint8 valueKind,bytes32[] values)"
        "Loc(uint32 head,bool indirect,uint32 inner)"
        "Permission(address target,bytes4 selector,bool anySelector,bool emptyCalldata,Condition[] conditions)"
        "SessionConfig(uint48 validAfter,uint48 validUntil,uint32 period,uint256 maxValuePerCall,uint256 nativePerPeriod,uint256 maxCalls,Permission[] permissions,SpendRule[] spendRules,TokenLimit[] tokenLimits)"
        "SpendRule(bytes4 selector,uint8 tokenKind,Loc token,Loc amount)"
        "TokenLimit(address token,uint256 perTx,uint256 perPeriod)"
    );
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    // The domain's version names what a signed grant means and which nonces
    // it consumes: a new storage namespace (where nonces start unused again)
    // must come with a new version, or grants signed for the old one could
    // be submitted again.
    string private constant DOMAIN_NAME = "AgentKeyDelegate";
    string private constant DOMAIN_VERSION = "1";

    /// @notice Registers session with cfg exactly as grant does, for anyone
    /// who presents the owner's EIP-712 signature of this grant: type
    /// SessionGrant(session, config, stipend, epoch, nonce, deadline) in the
    /// domain (AgentKeyDelegate, 1, this chain, the owner's address).
    /// Then sends stipend wei of the owner's to the session key for its gas,
    /// counted as native value spent in the period the grant starts in.
    /// @dev Refused unless: block.timestamp <= deadline; epoch_ is the
    /// current epoch (revokeAll voids every grant signed before it); session
    /// never had a grant (a signature registers new session keys only, so an
    /// older signed grant cannot replace a newer one or revive a revoked
    /// session); nonce is unused (nonces are unordered: any unused one is
    /// accepted, once); stipend <= cfg.nativePerPeriod; and signature is the
    /// owner's, low-s (see _recover). The nonce is consumed only with the
    /// grant.
    function grantWithSignature(
        address session,
        SessionConfig calldata cfg,
        uint256 stipend,
        uint32 epoch_,
        uint64 nonce,
        uint64 deadline,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert SignatureExpired();
        {
            DelegateStorage storage $ = _storage();
            if (epoch_ != $.epoch) revert StaleEpoch();
            if ($.sessions[session] != 0) revert SessionExists();
            _useNonce($, nonce);
        }
        if (_recover(_hashGrant(session, cfg, stipend, epoch_, nonce, deadline), signature) != address(this)) {
            revert BadSignature();
        }
        (Grant storage g, uint256 s) = _register(session, cfg);
        if (stipend != 0) _payStipend(g, s, session, stipend, cfg.nativePerPeriod);
    }

    /// @notice Ends the caller's own grant now: a session key gives up its
    /// session, so whoever holds session keys but not the owner's key (the
    /// daemon) can still revoke on chain. It touches no other session. A
    /// session not yet valid, expired or already revoked may call it too;
    /// an address that never had a grant gets NotSession.
    function revokeSelf() external {
        DelegateStorage storage $ = _storage();
        uint256 s = $.sessions[msg.sender];
        if (uint32(s) == 0) revert NotSession();
        $.sessions[msg.sender] = s | S_REVOKED;
        emit SessionRevoked(msg.sender);
    }

    /// @notice The EIP-712 digest the owner signs for grantWithSignature
    /// with these arguments, on this chain, for this account.
    function hashGrant(
        address session,
        SessionConfig calldata cfg,
        uint256 stipend,
        uint32 epoch_,
        uint64 nonce,
        uint64 deadline
    ) external view returns (bytes32) {
        return _hashGrant(session, cfg, stipend, epoch_, nonce, deadline);
    }

    /// @notice One more than the highest nonce a signed grant has used (0
    /// before any): it and every nonce above it are unused.
    function nextNonce() external view returns (uint256) {
        return _storage().nextNonce;
    }

    /// @notice Whether a signed grant has used nonce.
    function nonceUsed(uint64 nonce) external view returns (bool) {
        return _storage().usedNonces[nonce >> 8] & (uint256(1) << (nonce & 0xff)) != 0;
    }

    /// @notice EIP-5267: the EIP-712 domain of signed grants (name, version,
    /// chainId and verifyingContract, which is the owner's address).
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", DOMAIN_NAME, DOMAIN_VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    function _useNonce(DelegateStorage storage $, uint64 nonce) private {
        uint256 bit = uint256(1) << (nonce & 0xff);
        uint256 used = $.usedNonces[nonce >> 8];
        if (used & bit != 0) revert NonceUsed();
        $.usedNonces[nonce >> 8] = used | bit;
        if (nonce >= $.nextNonce) $.nextNonce = uint128(nonce) + 1;
    }

    /// @param s the new session, packed.
    /// @param cap the grant's nativePerPeriod.
    function _payStipend(Grant storage g, uint256 s, address session, uint256 stipend, uint256 cap) private {
        if (stipend > cap) revert InvalidConfig();
        // The grant's first period, or the one it is in if validAfter has passed.
        g.nativeWindow = block.timestamp < uint48(s >> S_VALID_AFTER) ? 0 : _window(s);
        g.nativeSpent = stipend > type(uint192).max ? type(uint192).max : uint192(stipend);
        (bool ok, bytes memory ret) = session.call{value: stipend}("");
        if (!ok) revert CallFailed(ret);
    }

    function _hashGrant(
        address session,
        SessionConfig calldata cfg,
        uint256 stipend,
        uint32 epoch_,
        uint64 nonce,
        uint64 deadline
    ) private view returns (bytes32) {
        bytes32 grantHash =
            keccak256(abi.encode(SESSION_GRANT_TYPEHASH, session, _hashConfig(cfg), stipend, epoch_, nonce, deadline));
        bytes32 domain = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(DOMAIN_NAME)), keccak256(bytes(DOMAIN_VERSION)), block.chainid, address(this))
        );
        return keccak256(abi.encodePacked(hex"1901", domain, grantHash));
    }

    function _hashConfig(SessionConfig calldata cfg) private pure returns (bytes32) {
        bytes32[] memory hs = new bytes32[](cfg.permissions.length);
        for (uint256 i; i < hs.length; ++i) {
            hs[i] = _hashPermission(cfg.permissions[i]);
        }
        bytes32 permissions = _hashWords(hs);
        hs = new bytes32[](cfg.spendRules.length);
        for (uint256 i; i < hs.length; ++i) {
            SpendRule calldata r = cfg.spendRules[i];
            hs[i] = keccak256(abi.encode(SPEND_RULE_TYPEHASH, r.selector, r.tokenKind, _hashLoc(r.token), _hashLoc(r.amount)));
        }
        bytes32 rules = _hashWords(hs);
        hs = new bytes32[](cfg.tokenLimits.length);
        for (uint256 i; i < hs.length; ++i) {
            TokenLimit calldata l = cfg.tokenLimits[i];
            hs[i] = keccak256(abi.encode(TOKEN_LIMIT_TYPEHASH, l.token, l.perTx, l.perPeriod));
        }
        bytes32 limits = _hashWords(hs);
        return keccak256(
            bytes.concat(
                abi.encode(
                    SESSION_CONFIG_TYPEHASH,
                    cfg.validAfter,
                    cfg.validUntil,
                    cfg.period,
                    cfg.maxValuePerCall,
                    cfg.nativePerPeriod,
                    cfg.maxCalls
                ),
                abi.encode(permissions, rules, limits)
            )
        );
    }

    function _hashPermission(Permission calldata p) private pure returns (bytes32) {
        bytes32[] memory hs = new bytes32[](p.conditions.length);
        for (uint256 j; j < hs.length; ++j) {
            Condition calldata c = p.conditions[j];
            hs[j] = keccak256(
                abi.encode(
                    CONDITION_TYPEHASH, _hashLoc(c.loc), c.op, c.signed_, c.valueKind, keccak256(abi.encodePacked(c.values))
                )
            );
        }
        return keccak256(
            abi.encode(PERMISSION_TYPEHASH, p.target, p.selector, p.anySelector, p.emptyCalldata, _hashWords(hs))
        );
    }

    function _hashLoc(Loc calldata l) private pure returns (bytes32) {
        return keccak256(abi.encode(LOC_TYPEHASH, l.head, l.indirect, l.inner));
    }

    /// @return h the keccak256 of the words of hs, concatenated.
    function _hashWords(bytes32[] memory hs) private pure returns (bytes32 h) {
        assembly {
            h := keccak256(add(hs, 0x20), shl(5, mload(hs)))
        }
    }

    /// @dev Appends p to the permissions stored under its key.
    /// @param rules all spend rules of the grant.
    /// @return lookup the bit of the key shape the permission is stored under.
    function _storePermission(Grant storage g, Permission calldata p, uint256 index, SpendRule[] calldata rules)
        private
        returns (uint8 lookup)
    {
        uint8 kind = p.anySelector ? MATCH_ANY : p.emptyCalldata ? MATCH_EMPTY : MATCH_SELECTOR;
        bytes32 key = _key(p.target, p.selector, kind);
        uint256 pos;
        while (g.permissions[_at(key, pos)].head & PERM_EXISTS != 0) ++pos;
        if (pos != 0) g.permissions[_at(key, pos - 1)].head |= PERM_MORE;
        StoredPermission storage sp = g.permissions[_at(key, pos)];
        uint256 n = p.conditions.length;
        uint256 head = PERM_EXISTS | (index << PERM_INDEX_SHIFT);
        if (kind == MATCH_SELECTOR) head |= _embeddedRules(p.selector, n, rules);
        uint256 inHead = _headConditions(head);
        if (n > inHead) head |= PERM_MORE_CONDITIONS;
        uint256 word;
        for (uint256 j; j < n; ++j) {
            Condition calldata c = p.conditions[j];
            uint256 d = _packLoc(c.loc) | (c.signed_ ? COND_SIGNED : 0) | (uint256(c.op) << 66)
                | (uint256(c.valueKind) << 69) | COND_PRESENT;
            if (j < inHead) {
                head |= d << (COND_BITS * j);
            } else {
                uint256 k = j - inHead;
                word |= d << (COND_BITS * (k % WORD_CONDITIONS));
                if (k % WORD_CONDITIONS == WORD_CONDITIONS - 1 || j == n - 1) {
                    sp.descriptors[k / WORD_CONDITIONS] = word;
                    word = 0;
                }
            }
            if (c.valueKind == VALUE_LITERAL) {
                if (c.op >= OP_IN) {
                    bytes32[] storage set = sp.set[j];
                    for (uint256 k; k < c.values.length; ++k) {
                        set.push(c.values[k]);
                    }
                } else {
                    sp.value[j] = c.values[0];
                }
            }
        }
        sp.head = head;
        return _lookupBit(kind, p.target == address(0));
    }

    /// @dev What the head of a permission of n conditions on sel says of
    /// sel's spend rules: that there are none, or the one there is if it
    /// leaves room (n <= 1); nothing if sel has more.
    function _embeddedRules(bytes4 sel, uint256 n, SpendRule[] calldata rules) private pure returns (uint256) {
        uint256 count;
        uint256 rule;
        for (uint256 i; i < rules.length; ++i) {
            if (rules[i].selector != sel) continue;
            if (++count > 1) return 0;
            rule = _packRule(rules[i]);
        }
        if (count == 0) return PERM_RULES;
        if (n > 1) return 0;
        return PERM_RULES | PERM_RULE | (rule << PERM_RULE_SHIFT);
    }

    function _storeSpendRule(Grant storage g, SpendRule calldata r) private {
        uint256 first = g.spendRules[_ruleKey(r.selector, 0)];
        uint256 n = first >> RULE_COUNT_SHIFT;
        if (n == 0) {
            g.spendRules[_ruleKey(r.selector, 0)] = _packRule(r) | (1 << RULE_COUNT_SHIFT);
        } else {
            g.spendRules[_ruleKey(r.selector, n)] = _packRule(r);
            g.spendRules[_ruleKey(r.selector, 0)] = first + (1 << RULE_COUNT_SHIFT);
        }
    }

    function _packRule(SpendRule calldata r) private pure returns (uint256) {
        return _packLoc(r.token) | (_packLoc(r.amount) << RULE_AMOUNT_SHIFT) | (uint256(r.tokenKind) << RULE_KIND_SHIFT);
    }

    function _storeTokenLimit(Grant storage g, TokenLimit calldata l) private {
        StoredTokenLimit storage sl = g.limits[l.token];
        if (sl.meta & LIMIT_SET != 0) revert InvalidConfig(); // the storage is fresh: a duplicate in cfg
        (bool smallTx, uint256 perTx) = _compactCap(l.perTx);
        (bool smallPeriod, uint256 perPeriod) = _compactCap(l.perPeriod);
        sl.perPeriod = l.perPeriod;
        // Window 0 starts with all of perPeriod left.
        if (smallTx && smallPeriod) {
            sl.meta = LIMIT_SET | LIMIT_COMPACT | (perTx << LIMIT_PER_TX_SHIFT) | (perPeriod << LIMIT_LEFT_SHIFT);
        } else {
            sl.meta = LIMIT_SET;
            sl.perTx = l.perTx;
            sl.left = l.perPeriod;
        }
        g.limitTokens.push(l.token);
    }

    function _packLoc(Loc calldata l) private pure returns (uint256) {
        return uint256(l.head) | (uint256(l.inner) << 32) | (l.indirect ? LOC_INDIRECT : 0);
    }

    /// @return ok whether cap has a 100-bit form: below COMPACT_NO_CAP, or no cap.
    function _compactCap(uint256 cap) private pure returns (bool ok, uint256 compact) {
        if (cap == type(uint256).max) return (true, COMPACT_NO_CAP);
        return (cap < COMPACT_NO_CAP, cap);
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
        _authorize(target, value, data);
        return _call(target, value, data);
    }

    /// @notice execute for several calls, all or nothing. Each call is checked
    /// against the budgets as the earlier calls of the batch left them.
    function executeBatch(Call[] calldata calls) external payable returns (bytes[] memory results) {
        _activeOrRevert(msg.sender); // also for an empty batch
        results = new bytes[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            Call calldata c = calls[i];
            _authorize(c.target, c.value, c.data);
            results[i] = _call(c.target, c.value, c.data);
        }
    }

    /// @dev Checks the caller's session and the call, and records the call.
    /// In a batch, each call reads the session again (warm, so cheaply) and
    /// sees the usage that earlier calls, or a target re-entering in the
    /// caller's name, added.
    function _authorize(address target, uint256 value, bytes calldata data) private {
        DelegateStorage storage $ = _storage();
        uint256 s = _activeOrRevert(msg.sender);
        Grant storage g = $.grants[uint32(s)];
        Outcome memory o = _evaluate(s, g, msg.sender, target, value, data);
        if (o.failure.length != 0) _revertWith(o.failure);
        // Usage is recorded before the call, so a target that re-enters sees it.
        uint40 calls = _calls(s) + 1;
        $.sessions[msg.sender] = (s & ~(uint256(type(uint40).max) << S_CALLS)) | (uint256(calls) << S_CALLS);
        if (value != 0) {
            g.nativeWindow = o.window;
            g.nativeSpent = o.nativeSpent > type(uint192).max ? type(uint192).max : uint192(o.nativeSpent);
        }
        uint256[] memory debit = o.debit;
        uint256 window = uint256(o.window) << LIMIT_WINDOW_SHIFT;
        unchecked {
            for (uint256 k; k < o.debits * DEBIT_WORDS; k += DEBIT_WORDS) {
                StoredTokenLimit storage l = g.limits[address(uint160(debit[k]))];
                uint256 meta = l.meta;
                uint256 left = debit[k + 1];
                if (meta & LIMIT_COMPACT != 0) {
                    // left <= perPeriod < COMPACT_NO_CAP unless there is no cap.
                    if (left == type(uint256).max) left = COMPACT_NO_CAP;
                    l.meta = (meta & ~(LIMIT_WINDOW_MASK | LIMIT_LEFT_MASK)) | window | (left << LIMIT_LEFT_SHIFT);
                } else {
                    l.left = left;
                    if (meta & LIMIT_WINDOW_MASK != window) l.meta = (meta & ~LIMIT_WINDOW_MASK) | window;
                }
            }
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
        (bytes4 inactive, uint256 s) = _active(session);
        if (inactive != 0) return (false, abi.encodeWithSelector(inactive));
        reason = _evaluate(s, _storage().grants[uint32(s)], session, target, value, data).failure;
        return (reason.length == 0, reason);
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
        (bytes4 inactive, uint256 s) = _active(session);
        Grant storage g = _storage().grants[uint32(s)]; // id 0 is never used: an empty grant
        validAfter = uint48(s >> S_VALID_AFTER);
        validUntil = uint48(s >> S_VALID_UNTIL);
        epoch_ = uint32(s >> S_EPOCH);
        active = inactive == 0;
        calls = _calls(s);
        if (block.timestamp >= validAfter && g.nativeWindow == _window(s)) nativeSpentThisPeriod = g.nativeSpent;
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
        (bytes4 inactive, uint256 s) = _active(session);
        Grant storage g = _storage().grants[uint32(s)];
        tokens = g.limitTokens;
        uint256 n = tokens.length;
        amounts = new uint256[](n);
        bool active = inactive == 0;
        uint64 window = active ? _window(s) : 0;
        for (uint256 i; i < n && active; ++i) {
            StoredTokenLimit storage l = g.limits[tokens[i]];
            uint256 meta = l.meta;
            amounts[i] = _limitWindow(meta) == window ? _leftOf(l, meta) : l.perPeriod;
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
        uint256 debits; // how many tokens debit holds
        // DEBIT_WORDS words per token the call spends: the token, what the
        // window has left of it after this call (type(uint256).max: no cap),
        // and this call's total of it.
        uint256[] debit;
    }

    uint256 private constant DEBIT_WORDS = 3;

    function _activeOrRevert(address session) private view returns (uint256 s) {
        bytes4 inactive;
        (inactive, s) = _active(session);
        if (inactive != 0) {
            assembly {
                mstore(0, inactive)
                revert(0, 4)
            }
        }
    }

    /// @return inactive the selector of the error (without arguments) that
    /// says why session cannot act now, or 0 if it can.
    function _active(address session) private view returns (bytes4 inactive, uint256 s) {
        DelegateStorage storage $ = _storage();
        s = $.sessions[session];
        if (uint32(s) == 0) return (NotSession.selector, s);
        if (s & S_REVOKED != 0 || uint32(s >> S_EPOCH) != $.epoch) return (Revoked.selector, s);
        if (block.timestamp < uint48(s >> S_VALID_AFTER)) return (NotYetValid.selector, s);
        if (block.timestamp >= uint48(s >> S_VALID_UNTIL)) return (Expired.selector, s);
    }

    /// @dev Checks a call of an active session. View: execute records the
    /// outcome, check only reports it.
    /// @param s the session, packed.
    function _evaluate(
        uint256 s,
        Grant storage g,
        address session,
        address target,
        uint256 value,
        bytes calldata data
    ) private view returns (Outcome memory o) {
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
        if (s & S_CALL_CAP != 0 && _calls(s) >= g.maxCalls) {
            o.failure = abi.encodeWithSelector(TooManyCalls.selector);
            return o;
        }
        bytes calldata args = data;
        if (data.length != 0) args = data[4:];
        uint256 allowedBy;
        (o.failure, allowedBy) = _permitted(g, uint8(s >> S_LOOKUPS), session, target, sel, data.length == 0, args);
        if (o.failure.length != 0) return o;
        o.window = _window(s);
        if (value != 0) {
            o.failure = _checkNative(g, value, o);
            if (o.failure.length != 0) return o;
        }
        if (data.length != 0) o.failure = _checkTokens(g, allowedBy, target, sel, args, o);
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
    /// @return failure the error to refuse the call with, or empty.
    /// @return allowedBy if empty, the head of the permission that allows it.
    function _permitted(
        Grant storage g,
        uint8 lookups,
        address session,
        address target,
        bytes4 sel,
        bool empty,
        bytes calldata args
    ) private view returns (bytes memory failure, uint256 allowedBy) {
        Miss memory miss = Miss({permission: type(uint256).max, condition: 0, malformed: false});
        for (uint256 k; k < 4; ++k) {
            bool anyTarget = k & 1 != 0;
            uint8 kind = k & 2 != 0 ? MATCH_ANY : empty ? MATCH_EMPTY : MATCH_SELECTOR;
            if (lookups & _lookupBit(kind, anyTarget) == 0) continue;
            allowedBy = _anyAllows(g, _key(anyTarget ? address(0) : target, sel, kind), session, args, miss);
            if (allowedBy != 0) return ("", allowedBy);
        }
        // A permission whose conditions read past the arguments cannot allow
        // the call; if it was one that might have, that is the reason.
        if (miss.malformed) return (abi.encodeWithSelector(BadCalldata.selector), 0);
        if (miss.permission != type(uint256).max) {
            return (abi.encodeWithSelector(ConditionFailed.selector, miss.permission, miss.condition), 0);
        }
        return (abi.encodeWithSelector(NoPermission.selector, target, sel), 0);
    }

    /// @return allowedBy the head of the first permission stored under key
    /// that allows the call, or 0.
    function _anyAllows(Grant storage g, bytes32 key, address session, bytes calldata args, Miss memory miss)
        private
        view
        returns (uint256 allowedBy)
    {
        bool noted;
        for (uint256 pos;; ++pos) {
            StoredPermission storage p = g.permissions[_at(key, pos)];
            uint256 head = p.head;
            // The grant has some permission of the key's shape, but maybe
            // none for this target or selector.
            if (head & PERM_EXISTS == 0) return 0;
            uint256 failed = _conditions(p, head, session, args);
            if (failed == ALL_HOLD) return head;
            if (failed == MALFORMED) {
                miss.malformed = true;
            } else if (!noted) {
                // If no permission allows the call, the failure of the first
                // one in the grant's order is reported. A key holds its
                // permissions in that order, so only its first failure can
                // be the first.
                noted = true;
                uint256 index = uint32(head >> PERM_INDEX_SHIFT);
                if (index < miss.permission) (miss.permission, miss.condition) = (index, failed);
            }
            if (head & PERM_MORE == 0) return 0;
        }
    }

    /// @dev Permissions are stored under (target or 0, selector, kind), the
    /// selector counting only for MATCH_SELECTOR.
    function _key(address target, bytes4 sel, uint8 kind) private pure returns (bytes32) {
        if (kind != MATCH_SELECTOR) sel = bytes4(0);
        return bytes32((uint256(uint160(target)) << 96) | (uint256(uint32(sel)) << 64) | kind);
    }

    /// @dev The permission at pos under key: pos goes in key's unused bits 8-63.
    function _at(bytes32 key, uint256 pos) private pure returns (bytes32) {
        return key | bytes32(pos << 8); // pos < 2^32
    }

    /// @dev Spend rule i of sel: i goes in the low bits, under the selector.
    function _ruleKey(bytes4 sel, uint256 i) private pure returns (bytes32) {
        return bytes32(sel) | bytes32(i); // i < 2^224
    }

    function _lookupBit(uint8 kind, bool anyTarget) private pure returns (uint8) {
        unchecked {
            return uint8(1 << (kind * 2 + (anyTarget ? 1 : 0))); // kind <= MATCH_EMPTY
        }
    }

    /// @dev How many condition descriptors a permission's head has room for.
    function _headConditions(uint256 head) private pure returns (uint256) {
        return head & PERM_RULE != 0 ? 1 : 2;
    }

    /// @param head p.head, already read.
    /// @return failed the index of the first condition that does not hold,
    /// ALL_HOLD, or MALFORMED if a condition's word lies outside args.
    function _conditions(StoredPermission storage p, uint256 head, address session, bytes calldata args)
        private
        view
        returns (uint256 failed)
    {
        uint256 inHead = _headConditions(head);
        uint256 word;
        for (uint256 j;; ++j) {
            uint256 d;
            // Unchecked: j < 2^32.
            unchecked {
                if (j < inHead) {
                    d = head >> (COND_BITS * j);
                } else {
                    if (head & PERM_MORE_CONDITIONS == 0) return ALL_HOLD;
                    uint256 k = j - inHead;
                    if (k % WORD_CONDITIONS == 0) word = p.descriptors[k / WORD_CONDITIONS];
                    d = word >> (COND_BITS * (k % WORD_CONDITIONS));
                }
            }
            // Conditions are stored without gaps: the first empty place ends them.
            if (d & COND_PRESENT == 0) return ALL_HOLD;
            (bool ok, uint256 pos,) = _locate(args, d);
            if (!ok) return MALFORMED;
            if (!_holds(p, j, d, _word(args, pos), session)) return j;
        }
    }

    /// @param d the descriptor of p's condition j.
    function _holds(StoredPermission storage p, uint256 j, uint256 d, bytes32 w, address session)
        private
        view
        returns (bool)
    {
        uint256 op = (d >> 66) & 7;
        uint256 kind = (d >> 69) & 3;
        if (kind != VALUE_LITERAL) {
            address a = kind == VALUE_OWNER ? address(this) : kind == VALUE_SESSION ? session : address(0);
            if (a == address(0)) return false;
            bool eq = w == bytes32(uint256(uint160(a)));
            if (op == OP_EQ || op == OP_IN) return eq;
            if (op == OP_NE || op == OP_NOT_IN) return !eq;
            return false;
        }
        if (op == OP_IN || op == OP_NOT_IN) {
            bytes32[] storage set = p.set[j];
            uint256 n = set.length;
            bool found;
            for (uint256 k; k < n && !found; ++k) {
                found = set[k] == w;
            }
            return op == OP_IN ? found : !found;
        }
        bytes32 v = p.value[j];
        if (op == OP_EQ) return w == v;
        if (op == OP_NE) return w != v;
        bool lt;
        bool gt;
        if (d & COND_SIGNED != 0) {
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
    /// @param allowedBy the head of the permission that allows the call,
    /// which may hold sel's spend rules.
    function _checkTokens(
        Grant storage g,
        uint256 allowedBy,
        address target,
        bytes4 sel,
        bytes calldata args,
        Outcome memory o
    ) private view returns (bytes memory) {
        uint256 rule;
        uint256 n;
        if (allowedBy & PERM_RULES == 0) {
            rule = g.spendRules[_ruleKey(sel, 0)];
            n = rule >> RULE_COUNT_SHIFT;
        } else if (allowedBy & PERM_RULE != 0) {
            (rule, n) = (allowedBy >> PERM_RULE_SHIFT, 1);
        }
        for (uint256 i; i < n; ++i) {
            if (i != 0) rule = g.spendRules[_ruleKey(sel, i)];
            (bool ok, address token, uint256 amount) = _extract(rule & RULE_MASK, target, args);
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
        uint256 meta = l.meta;
        if (meta & LIMIT_SET == 0) return abi.encodeWithSelector(UncappedToken.selector, token);
        uint256[] memory debit = o.debit;
        // Unchecked: indexes below 3 * rules, and rules is bounded by the
        // grant's calldata.
        unchecked {
            if (debit.length == 0) o.debit = debit = new uint256[](rules * DEBIT_WORDS);
            uint256 end = o.debits * DEBIT_WORDS;
            uint256 k;
            while (k < end && address(uint160(debit[k])) != token) k += DEBIT_WORDS;
            if (k == end) {
                debit[k] = uint160(token);
                // A new window starts with all of perPeriod left.
                debit[k + 1] = _limitWindow(meta) == o.window ? _leftOf(l, meta) : l.perPeriod;
                ++o.debits;
            }
            uint256 perTx = meta & LIMIT_COMPACT != 0 ? _expandCap(meta >> LIMIT_PER_TX_SHIFT) : l.perTx;
            uint256 inCall = _add(debit[k + 2], amount);
            if (inCall > perTx) return abi.encodeWithSelector(TokenPerTxExceeded.selector, token, inCall, perTx);
            uint256 left = debit[k + 1];
            if (left != type(uint256).max) {
                if (amount > left) return _budgetExceeded(l, token, left, amount);
                debit[k + 1] = left - amount;
            }
            debit[k + 2] = inCall;
        }
        return "";
    }

    /// @param left what the window has left before amount, less than amount.
    function _budgetExceeded(StoredTokenLimit storage l, address token, uint256 left, uint256 amount)
        private
        view
        returns (bytes memory)
    {
        uint256 cap = l.perPeriod;
        // The window has spent cap - left (left <= cap).
        return abi.encodeWithSelector(TokenBudgetExceeded.selector, token, _add(cap - left, amount), cap);
    }

    /// @return what the window of meta (l.meta, already read) has left.
    function _leftOf(StoredTokenLimit storage l, uint256 meta) private view returns (uint256) {
        if (meta & LIMIT_COMPACT == 0) return l.left;
        return _expandCap(meta >> LIMIT_LEFT_SHIFT);
    }

    /// @param compact a 100-bit field of meta (higher bits are ignored).
    function _expandCap(uint256 compact) private pure returns (uint256) {
        compact &= COMPACT_NO_CAP;
        return compact == COMPACT_NO_CAP ? type(uint256).max : compact;
    }

    function _limitWindow(uint256 meta) private pure returns (uint64) {
        return uint64((meta & LIMIT_WINDOW_MASK) >> LIMIT_WINDOW_SHIFT);
    }

    /// @param rule a spend rule, packed (RULE_MASK bits).
    /// @return ok false if a word lies outside args or the token is not a
    /// clean address.
    function _extract(uint256 rule, address target, bytes calldata args)
        private
        pure
        returns (bool ok, address token, uint256 amount)
    {
        uint256 pos;
        (ok, pos,) = _locate(args, rule >> RULE_AMOUNT_SHIFT);
        if (!ok) return (false, address(0), 0);
        amount = uint256(_word(args, pos));
        uint256 kind = rule >> RULE_KIND_SHIFT;
        if (kind == TOKEN_TARGET) return (true, target, amount);
        uint256 base;
        (ok, pos, base) = _locate(args, rule);
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

    /// @param loc a Loc packed (see LOC_INDIRECT) in the low bits; higher
    /// bits are ignored.
    /// @return ok false if the word lies outside args.
    /// @return pos the offset of the word in args.
    /// @return base the offset of the tuple holding the word (0 unless
    /// indirect), from which the offsets of its dynamic members count.
    function _locate(bytes calldata args, uint256 loc) private pure returns (bool ok, uint256 pos, uint256 base) {
        uint256 head = uint32(loc);
        uint256 inner = uint32(loc >> 32);
        bool indirect = loc & LOC_INDIRECT != 0;
        uint256 len = args.length;
        // Unchecked: each subtraction is of a number the comparisons before
        // it showed to be no larger, and base + inner <= len.
        unchecked {
            if (len < 32 || head > len - 32) return (false, 0, 0);
            if (!indirect) return (true, head, 0);
            base = uint256(_word(args, head));
            if (base > len || inner > len - base || len - base - inner < 32) return (false, 0, 0);
            return (true, base + inner, base);
        }
    }

    /// @param base at most args.length, as _locate returns it.
    /// @return ok false if the length word lies outside args.
    /// @return pos the offset in args of the first element (after the length).
    /// @return len the length word.
    function _dynamic(bytes calldata args, uint256 base, uint256 offset)
        private
        pure
        returns (bool ok, uint256 pos, uint256 len)
    {
        uint256 n = args.length;
        // Unchecked as in _locate: start + 32 <= n.
        unchecked {
            if (offset > n - base || n - base - offset < 32) return (false, 0, 0);
            uint256 start = base + offset;
            return (true, start + 32, uint256(_word(args, start)));
        }
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

    function _selector(bytes calldata data) private pure returns (bytes4 sel) {
        if (data.length < 4) return 0;
        assembly {
            sel := and(calldataload(data.offset), shl(224, 0xffffffff))
        }
    }

    /// @dev The current budget period's index of session s; active sessions
    /// only (so the subtraction cannot underflow).
    function _window(uint256 s) private view returns (uint64) {
        uint256 period = uint32(s >> S_PERIOD);
        if (period == 0) return 0;
        unchecked {
            return uint64((block.timestamp - uint48(s >> S_VALID_AFTER)) / period);
        }
    }

    function _calls(uint256 s) private pure returns (uint40) {
        return uint40(s >> S_CALLS);
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
