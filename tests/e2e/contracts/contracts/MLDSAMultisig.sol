// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// An M-of-N wallet whose owners are ML-DSA-44 public keys (FIPS 204), not
/// Ethereum addresses. An owner is the Keccak-256 of its public key; a call
/// carries the keys and their signatures over
///   keccak256(abi.encode(this, chainid, nonce, to, value, keccak256(data)))
/// with the FIPS 204 context "QCN-MULTISIG-v1", each checked by the chain's
/// ML-DSA-44 verification precompile at 0x0100 (docs/precompiles.md).
contract MLDSAMultisig {
    address internal constant MLDSA44_VERIFY = address(0x0100);
    uint256 internal constant PK_BYTES = 1312;
    bytes internal constant CONTEXT = "QCN-MULTISIG-v1";

    mapping(bytes32 => bool) public isOwner;
    uint256 public immutable threshold;
    uint256 public nonce;

    event Executed(uint256 indexed nonce, address indexed to, uint256 value, bytes data);
    event Deposit(address indexed from, uint256 value);

    constructor(bytes32[] memory ownerKeyHashes, uint256 threshold_) {
        require(threshold_ > 0 && threshold_ <= ownerKeyHashes.length, "multisig: bad threshold");
        for (uint256 i = 0; i < ownerKeyHashes.length; i++) {
            require(!isOwner[ownerKeyHashes[i]], "multisig: duplicate owner");
            isOwner[ownerKeyHashes[i]] = true;
        }
        threshold = threshold_;
    }

    receive() external payable {
        emit Deposit(msg.sender, msg.value);
    }

    function digest(address to, uint256 value, bytes calldata data, uint256 n) public view returns (bytes32) {
        return keccak256(abi.encode(address(this), block.chainid, n, to, value, keccak256(data)));
    }

    function verify(bytes memory pk, bytes32 message, bytes memory sig) public view returns (bool) {
        (bool ok, bytes memory out) =
            MLDSA44_VERIFY.staticcall(abi.encode(pk, abi.encodePacked(message), CONTEXT, sig));
        return ok && out.length == 32 && abi.decode(out, (uint256)) == 1;
    }

    /// Keys must be distinct owners in strictly increasing key-hash order.
    function execute(address to, uint256 value, bytes calldata data, bytes[] calldata pks, bytes[] calldata sigs)
        external
        returns (bytes memory result)
    {
        require(pks.length == sigs.length, "multisig: length mismatch");
        require(pks.length >= threshold, "multisig: not enough signatures");
        bytes32 message = digest(to, value, data, nonce);
        bytes32 last;
        for (uint256 i = 0; i < pks.length; i++) {
            require(pks[i].length == PK_BYTES, "multisig: bad key length");
            bytes32 h = keccak256(pks[i]);
            require(isOwner[h], "multisig: not an owner");
            require(h > last, "multisig: keys not sorted");
            last = h;
            require(verify(pks[i], message, sigs[i]), "multisig: bad signature");
        }
        uint256 n = nonce++;
        bool ok;
        (ok, result) = to.call{value: value}(data);
        require(ok, "multisig: call failed");
        emit Executed(n, to, value, data);
    }
}
