// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// An OpenZeppelin ERC-721: the owner mints; tokenURI = base URI + id.
contract QNft is ERC721, Ownable {
    uint256 public nextId;

    constructor() ERC721("Quantum NFT", "QNFT") Ownable(msg.sender) {}

    function mint(address to) external onlyOwner returns (uint256 id) {
        id = nextId++;
        _safeMint(to, id);
    }

    function _baseURI() internal pure override returns (string memory) {
        return "qcn://nft/";
    }
}
