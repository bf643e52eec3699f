// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// An OpenZeppelin ERC-20 with the whole supply minted to the deployer, plus
/// one function that reverts with a reason string (Error(string)).
contract QToken is ERC20 {
    constructor(uint256 supply) ERC20("Quantum Token", "QTK") {
        _mint(msg.sender, supply);
    }

    function burnSmall(uint256 amount) external {
        require(amount <= 1000, "QToken: burn too large");
        _burn(msg.sender, amount);
    }
}
