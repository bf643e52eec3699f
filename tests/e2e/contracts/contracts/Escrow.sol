// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// A buyer deposits; the arbiter (or the buyer) releases the funds to the
/// seller, or the arbiter (or the seller) refunds the buyer.
contract Escrow {
    enum State { Funded, Released, Refunded }

    address public immutable buyer;
    address payable public immutable seller;
    address public immutable arbiter;
    uint256 public immutable amount;
    State public state;

    event Released(address indexed to, uint256 amount);
    event Refunded(address indexed to, uint256 amount);

    constructor(address payable seller_, address arbiter_) payable {
        require(msg.value > 0, "escrow: nothing deposited");
        buyer = msg.sender;
        seller = seller_;
        arbiter = arbiter_;
        amount = msg.value;
    }

    function release() external {
        require(state == State.Funded, "escrow: already settled");
        require(msg.sender == arbiter || msg.sender == buyer, "escrow: not allowed to release");
        state = State.Released;
        emit Released(seller, amount);
        (bool ok,) = seller.call{value: amount}("");
        require(ok, "escrow: transfer failed");
    }

    function refund() external {
        require(state == State.Funded, "escrow: already settled");
        require(msg.sender == arbiter || msg.sender == seller, "escrow: not allowed to refund");
        state = State.Refunded;
        emit Refunded(buyer, amount);
        (bool ok,) = payable(buyer).call{value: amount}("");
        require(ok, "escrow: transfer failed");
    }
}
