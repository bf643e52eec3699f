// Real contracts end to end on a real `qcn node` (dev engine, blocks on
// demand): OpenZeppelin ERC-20 and ERC-721, a Governor with a votes token and
// a timelock, a multisig whose owners are ML-DSA keys checked through the
// chain's ML-DSA-44 precompile, and an escrow. Compiled with solc (pinned),
// deployed and driven with our signed transactions (sdk/js signer), read
// through ethers v6 (calls, events, eth_getLogs). Every write is first
// estimated with eth_estimateGas and sent with exactly that gas limit; its
// receipt's gasUsed must be within the documented margin (docs/contracts.md).
// Usage: node run.mjs <qcn binary> [--cache FILE] [--rpc-node BINARY]
//   --cache     compiled artifacts, reused while sources and solc are unchanged
//   --rpc-node  run this program (tests/e2e/contracts/rpc_node.c) as the node
//               instead of `qcn node`, which does not start the RPC yet
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import assert from 'node:assert/strict';
import {
  JsonRpcProvider, Contract, ContractFactory, Interface, AbiCoder, ZeroAddress, getCreateAddress,
  keccak256, zeroPadValue, id as topicOf, parseEther, getBytes, hexlify, toUtf8Bytes,
} from 'ethers';
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import { keyFromSeed, signAndSend } from '../../../sdk/js/src/index.js';
import { compileAll } from './compile.mjs';

const qcn = process.argv[2];
const opt = (name) => { const i = process.argv.indexOf(name); return i > 2 ? process.argv[i + 1] : undefined; };
const cache = opt('--cache');
const rpcNode = opt('--rpc-node');
assert.ok(qcn, 'usage: node run.mjs <qcn binary> [--cache FILE] [--rpc-node BINARY]');
const TIME_LIMIT_MS = 240_000;
const deadline = Date.now() + TIME_LIMIT_MS;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((res) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});

// The documented margin (docs/contracts.md): a transaction sent with the
// estimate never needs more, and the estimate exceeds what it used by at
// most the refund (EIP-3529: a fifth of the gas used) plus the slack the
// 63/64 rule and the SSTORE sentry leave: 1/4 of gasUsed + 2300.
const MARGIN_FRACTION = 4n; // estimate - gasUsed <= gasUsed / 4 + 2300
const MARGIN_FIXED = 2300n;

const t0 = Date.now();
const C = compileAll(cache);
const compileMs = Date.now() - t0;

const dir = mkdtempSync(join(tmpdir(), 'qcn-e2e-contracts-'));
let node = null;
let nodeLog = '';
const killNode = () => { if (node && node.exitCode === null) node.kill('SIGKILL'); };
process.on('exit', killNode);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killNode(); process.exit(1); });
const watchdog = setTimeout(() => {
  console.error(`time limit (${TIME_LIMIT_MS} ms) reached\n--- node log ---\n${nodeLog.slice(-4000)}`);
  killNode();
  process.exit(1);
}, TIME_LIMIT_MS + 5000);

const gasTable = [];

try {
  execFileSync(qcn, ['init', '--dev', '--datadir', dir], { stdio: 'ignore' });
  const devkey = JSON.parse(readFileSync(join(dir, 'dev.key'), 'utf8'));
  const port = await freePort();
  node = rpcNode
    ? spawn(rpcNode, [dir, `127.0.0.1:${port}`, '0'], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(qcn, ['node', '--datadir', dir, '--rpc-addr', `127.0.0.1:${port}`, '--period', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
  node.stderr.on('data', (d) => { nodeLog += d; });
  const url = `http://127.0.0.1:${port}/`;
  let chainId;
  for (;;) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' });
      chainId = BigInt((await res.json()).result);
      break;
    } catch { /* not up yet */ }
    assert.ok(Date.now() < t0 + compileMs + 20_000, 'node did not start serving RPC within 20 s');
    assert.equal(node.exitCode, null, `node exited\n${nodeLog}`);
    await sleep(100);
  }
  const provider = new JsonRpcProvider(url, Number(chainId), { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });

  // ---- accounts: the funded dev key and three users (ML-DSA-65 and -44) ----
  const dev = keyFromSeed(devkey.seed);
  const alice = keyFromSeed('0x' + 'a1'.repeat(32), 'ML-DSA-65');
  const bob = keyFromSeed('0x' + 'b0'.repeat(32), 'ML-DSA-44');
  const carol = keyFromSeed('0x' + 'c4'.repeat(32), 'ML-DSA-65');

  // Polls for the receipt (ethers' waitForTransaction waits for a *new* block
  // after its first look, which on-demand blocks may never bring).
  async function wait(hash) {
    const until = Math.min(deadline, Date.now() + 30_000);
    for (;;) {
      const raw = await provider.send('eth_getTransactionReceipt', [hash]);
      if (raw) {
        const r = await provider.getTransactionReceipt(hash);
        if (r.status !== 1) { const e = new Error(`transaction ${hash} reverted`); e.receipt = r; throw e; }
        return r;
      }
      if (Date.now() > until) {
        throw new Error(`no receipt for ${hash} in 30 s; the node has ${JSON.stringify(
          await provider.send('eth_getTransactionByHash', [hash]))}, head ${await provider.send('eth_blockNumber', [])}`);
      }
      await sleep(25);
    }
  }

  // A write: eth_estimateGas, then a signed transaction with exactly that gas.
  async function send(key, what, { to = null, data = '0x', value = 0n } = {}) {
    const call = { from: key.address, data, value: '0x' + value.toString(16) };
    if (to) call.to = to;
    const estimate = BigInt(await provider.send('eth_estimateGas', [call]));
    const hash = await signAndSend(provider, key, { to, data, value, gasLimit: estimate });
    if (process.env.QCN_E2E_VERBOSE) console.log(`${what}: ${hash} estimate ${estimate}`);
    const r = await wait(hash);
    assert.equal(r.status, 1, `${what}: reverted on chain`);
    const used = r.gasUsed;
    assert.ok(used <= estimate, `${what}: used ${used} > estimate ${estimate}`);
    assert.ok(estimate - used <= used / MARGIN_FRACTION + MARGIN_FIXED,
      `${what}: estimate ${estimate} too far above used ${used}`);
    gasTable.push({ what, estimate, used });
    return r;
  }

  async function deploy(key, name, args = [], value = 0n) {
    const f = new ContractFactory(C[name].abi, C[name].bytecode);
    const tx = await f.getDeployTransaction(...args);
    const nonce = await provider.getTransactionCount(key.address, 'pending');
    const r = await send(key, `deploy ${name}`, { data: tx.data, value });
    // Ethereum's derivation: keccak256(rlp([sender, nonce]))[12:]
    const addr = getCreateAddress({ from: key.address, nonce });
    assert.equal(r.contractAddress.toLowerCase(), addr.toLowerCase());
    const code = await provider.getCode(addr);
    assert.ok(code.length > 2, `${name}: no code at ${addr}`);
    return new Contract(addr, C[name].abi, provider);
  }

  // One block on demand (the dev engine builds when a transaction waits).
  async function mine() {
    const hash = await signAndSend(provider, dev, { to: dev.address, value: 0n });
    if (process.env.QCN_E2E_VERBOSE) console.log(`mine: ${hash}`);
    await wait(hash);
  }

  async function write(key, contract, method, args = [], value = 0n) {
    const data = contract.interface.encodeFunctionData(method, args);
    return send(key, method, { to: await contract.getAddress(), data, value });
  }

  // An eth_call that must revert; returns ethers' error (revert data decoded).
  async function reverts(promise, check) {
    try {
      await promise;
    } catch (e) {
      check(e);
      return e;
    }
    assert.fail('expected a revert');
  }

  for (const k of [alice, bob, carol]) {
    await send(dev, 'fund', { to: k.address, value: parseEther('1000') });
    assert.equal(await provider.getBalance(k.address), parseEther('1000'));
  }

  // ---- ERC-20 ----
  const supply = parseEther('1000000');
  const tok = await deploy(alice, 'QToken', [supply]);
  assert.equal(await tok.name(), 'Quantum Token');
  assert.equal(await tok.symbol(), 'QTK');
  assert.equal(await tok.decimals(), 18n);
  assert.equal(await tok.totalSupply(), supply);
  assert.equal(await tok.balanceOf(alice.address), supply);
  assert.equal(await provider.getCode(await tok.getAddress()), C.QToken.deployedBytecode);
  let r = await write(alice, tok, 'transfer', [bob.address, 100n]);
  {
    const logs = r.logs.map((l) => tok.interface.parseLog(l));
    assert.equal(logs.length, 1);
    assert.equal(logs[0].name, 'Transfer');
    assert.equal(logs[0].args.from.toLowerCase(), alice.address);
    assert.equal(logs[0].args.to.toLowerCase(), bob.address);
    assert.equal(logs[0].args.value, 100n);
  }
  assert.equal(await tok.balanceOf(bob.address), 100n);
  r = await write(alice, tok, 'approve', [carol.address, 50n]);
  assert.equal(tok.interface.parseLog(r.logs[0]).name, 'Approval');
  assert.equal(await tok.allowance(alice.address, carol.address), 50n);
  r = await write(carol, tok, 'transferFrom', [alice.address, bob.address, 30n]);
  assert.equal(await tok.balanceOf(bob.address), 130n);
  assert.equal(await tok.allowance(alice.address, carol.address), 20n);
  // revert reasons: a custom error (OpenZeppelin 5) and an Error(string)
  await reverts(tok.connect(provider).transferFrom.staticCall(alice.address, bob.address, 100n, { from: carol.address }),
    (e) => {
      assert.equal(e.code, 'CALL_EXCEPTION');
      assert.equal(e.revert?.name, 'ERC20InsufficientAllowance');
      assert.equal(e.revert.args[0].toLowerCase(), carol.address);
      assert.equal(e.revert.args[1], 20n);
      assert.equal(e.revert.args[2], 100n);
    });
  await reverts(tok.burnSmall.staticCall(5000n, { from: alice.address }),
    (e) => assert.equal(e.reason, 'QToken: burn too large'));
  {
    // eth_estimateGas reports the same revert (code 3, data = Error(string))
    const data = tok.interface.encodeFunctionData('burnSmall', [5000n]);
    const e = await reverts(provider.send('eth_estimateGas', [{ from: alice.address, to: await tok.getAddress(), data }]), () => {});
    const body = e.error ?? e.info?.error ?? {};
    assert.equal(body.code, 3, JSON.stringify(body));
    assert.match(body.message, /QToken: burn too large/);
    assert.equal(new Interface(['function Error(string)']).decodeFunctionData('Error', body.data)[0],
      'QToken: burn too large');
  }
  {
    // the same transaction sent anyway: mined, status 0, balances unchanged, nonce and fee taken
    const before = await tok.balanceOf(alice.address);
    const nonce = await provider.getTransactionCount(alice.address);
    const hash = await signAndSend(provider, alice, { to: await tok.getAddress(),
      data: tok.interface.encodeFunctionData('burnSmall', [5000n]), gasLimit: 200_000n });
    const rr = await wait(hash).catch((e) => e.receipt);
    assert.equal(rr.status, 0);
    assert.equal(rr.logs.length, 0);
    assert.equal(await tok.balanceOf(alice.address), before);
    assert.equal(await provider.getTransactionCount(alice.address), nonce + 1);
  }
  await write(alice, tok, 'burnSmall', [7n]);
  assert.equal(await tok.totalSupply(), supply - 7n);
  // events through eth_getLogs with topic filters
  {
    const toBob = await tok.queryFilter(tok.filters.Transfer(null, bob.address), 0, 'latest');
    assert.deepEqual(toBob.map((e) => e.args.value), [100n, 30n]);
    const all = await provider.getLogs({ address: await tok.getAddress(), fromBlock: 0, toBlock: 'latest',
      topics: [topicOf('Transfer(address,address,uint256)')] });
    assert.equal(all.length, 4); // mint, transfer, transferFrom, burn
    const fromCarolSpender = await provider.getLogs({ fromBlock: 0, toBlock: 'latest',
      topics: [topicOf('Approval(address,address,uint256)'), null, zeroPadValue(carol.address, 32)] });
    assert.ok(fromCarolSpender.length >= 1);
    const none = await provider.getLogs({ address: await tok.getAddress(), fromBlock: 0, toBlock: 'latest',
      topics: [topicOf('Transfer(address,address,uint256)'), zeroPadValue(carol.address, 32)] });
    assert.equal(none.length, 0);
  }

  // ---- the CLI: `qcn tx deploy` and `qcn tx call` (keystore key, signed in C) ----
  {
    const env = { ...process.env, QCN_PASSWORD: 'e2e-contracts-password' };
    const ks = join(dir, 'keystore');
    const binFile = join(dir, 'QToken.bin');
    writeFileSync(binFile, C.QToken.bytecode.slice(2) + '\n');
    execFileSync(qcn, ['keys', 'import', 'dev', '--dev-key', join(dir, 'dev.key'), '--keystore', ks, '--json'],
      { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const args = AbiCoder.defaultAbiCoder().encode(['uint256'], [12345n]);
    const nonce = await provider.getTransactionCount(dev.address, 'pending');
    const out = execFileSync(qcn, ['tx', 'deploy', '--from', 'dev', '--bytecode', binFile, '--args', args,
      '--rpc', url, '--keystore', ks, '--wait'], { env, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
    const addr = getCreateAddress({ from: dev.address, nonce });
    assert.match(out, new RegExp(`contract ${addr}`, 'i'));
    assert.match(out, /status success/);
    const cliTok = new Contract(addr, C.QToken.abi, provider);
    assert.equal(await cliTok.balanceOf(dev.address), 12345n);
    const data = cliTok.interface.encodeFunctionData('balanceOf', [dev.address]);
    const res = execFileSync(qcn, ['tx', 'call', '--to', addr, '--data', data, '--rpc', url, '--keystore', ks],
      { env, stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
    assert.equal(BigInt(res), 12345n);
    // a revert comes back with its reason and a non-zero status
    const bad = cliTok.interface.encodeFunctionData('burnSmall', [5000n]);
    let failed = null;
    try {
      execFileSync(qcn, ['tx', 'call', '--to', addr, '--data', bad, '--from', dev.address, '--rpc', url,
        '--keystore', ks], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) { failed = e; }
    assert.ok(failed && failed.status !== 0, 'qcn tx call of a reverting call must fail');
    assert.match(failed.stderr.toString(), /QToken: burn too large/);
  }

  // ---- ERC-721 ----
  const nft = await deploy(alice, 'QNft');
  r = await write(alice, nft, 'mint', [bob.address]);
  {
    const ev = nft.interface.parseLog(r.logs[0]);
    assert.equal(ev.name, 'Transfer');
    assert.equal(ev.args.from, ZeroAddress);
    assert.equal(ev.args.to.toLowerCase(), bob.address);
    assert.equal(ev.args.tokenId, 0n);
  }
  await write(alice, nft, 'mint', [alice.address]);
  assert.equal((await nft.ownerOf(0n)).toLowerCase(), bob.address);
  assert.equal((await nft.ownerOf(1n)).toLowerCase(), alice.address);
  assert.equal(await nft.tokenURI(0n), 'qcn://nft/0');
  assert.equal(await nft.tokenURI(1n), 'qcn://nft/1');
  assert.equal(await nft.balanceOf(bob.address), 1n);
  await write(bob, nft, 'transferFrom', [bob.address, carol.address, 0n]);
  assert.equal((await nft.ownerOf(0n)).toLowerCase(), carol.address);
  assert.equal(await nft.balanceOf(bob.address), 0n);
  await reverts(nft.ownerOf(99n), (e) => assert.equal(e.revert?.name, 'ERC721NonexistentToken'));
  await reverts(nft.mint.staticCall(bob.address, { from: bob.address }),
    (e) => assert.equal(e.revert?.name, 'OwnableUnauthorizedAccount'));
  await reverts(nft.transferFrom.staticCall(bob.address, alice.address, 0n, { from: bob.address }),
    (e) => assert.equal(e.revert?.name, 'ERC721InsufficientApproval'));

  // ---- Governor + votes token + timelock ----
  const VOTING_DELAY = 1; // blocks
  const VOTING_PERIOD = 4; // blocks
  const gov = await deploy(alice, 'GovToken', [parseEther('1000')]);
  await write(alice, gov, 'delegate', [alice.address]);
  // ERC20Votes writes one checkpoint per block (clock = block.number): this
  // transfer, estimated while alice's last checkpoint is in the head block,
  // executes in the next one and pushes a new checkpoint. The estimate holds
  // only because eth_estimateGas runs in the next block's context.
  await write(alice, gov, 'transfer', [bob.address, parseEther('300')]);
  await write(bob, gov, 'delegate', [bob.address]);
  const timelock = await deploy(alice, 'TimelockController', [0n, [], [ZeroAddress], alice.address]);
  const governor = await deploy(alice, 'QGovernor', [await gov.getAddress(), await timelock.getAddress(), VOTING_DELAY, VOTING_PERIOD]);
  await write(alice, timelock, 'grantRole', [await timelock.PROPOSER_ROLE(), await governor.getAddress()]);
  await write(alice, timelock, 'grantRole', [await timelock.CANCELLER_ROLE(), await governor.getAddress()]);
  await write(alice, timelock, 'renounceRole', [await timelock.DEFAULT_ADMIN_ROLE(), alice.address]);
  const box = await deploy(alice, 'Box', [await timelock.getAddress()]);
  await reverts(box.store.staticCall(1n, { from: alice.address }),
    (e) => assert.equal(e.revert?.name, 'OwnableUnauthorizedAccount'));
  const targets = [await box.getAddress()];
  const values = [0n];
  const calldatas = [box.interface.encodeFunctionData('store', [42n])];
  const description = 'Proposal #1: store 42 in the box';
  const descHash = keccak256(toUtf8Bytes(description));
  r = await write(alice, governor, 'propose', [targets, values, calldatas, description]);
  const created = r.logs.map((l) => { try { return governor.interface.parseLog(l); } catch { return null; } })
    .find((e) => e && e.name === 'ProposalCreated');
  assert.ok(created, 'ProposalCreated event');
  const pid = created.args.proposalId;
  assert.equal(pid, await governor.hashProposal(targets, values, calldatas, descHash));
  const State = { Pending: 0n, Active: 1n, Succeeded: 4n, Queued: 5n, Executed: 7n };
  assert.equal(await governor.state(pid), State.Pending);
  const until = async (want) => {
    for (let i = 0; i < 20 && (await governor.state(pid)) !== want; i++) await mine();
    assert.equal(await governor.state(pid), want);
  };
  await until(State.Active);
  r = await write(alice, governor, 'castVote', [pid, 1]);
  assert.equal(governor.interface.parseLog(r.logs[0]).name, 'VoteCast');
  await write(bob, governor, 'castVote', [pid, 0]);
  {
    const [against, forVotes, abstain] = await governor.proposalVotes(pid);
    assert.equal(forVotes, parseEther('700'));
    assert.equal(against, parseEther('300'));
    assert.equal(abstain, 0n);
  }
  await reverts(governor.castVote.staticCall(pid, 1, { from: alice.address }),
    (e) => assert.equal(e.revert?.name, 'GovernorAlreadyCastVote'));
  await until(State.Succeeded);
  await write(carol, governor, 'queue', [targets, values, calldatas, descHash]);
  assert.equal(await governor.state(pid), State.Queued);
  r = await write(carol, governor, 'execute', [targets, values, calldatas, descHash]);
  assert.equal(await governor.state(pid), State.Executed);
  assert.equal(await box.value(), 42n);
  // eth_getStorageAt: Ownable's owner in slot 0, the value in slot 1
  assert.equal(BigInt(await provider.getStorage(await box.getAddress(), 1)), 42n);
  assert.equal(BigInt(await provider.getStorage(await box.getAddress(), 0)), BigInt(await timelock.getAddress()));
  assert.ok(r.logs.some((l) => l.address.toLowerCase() === targets[0].toLowerCase()
    && box.interface.parseLog(l)?.name === 'ValueChanged'));

  // ---- multisig with ML-DSA owners, checked by the 0x0100 precompile ----
  const CTX = toUtf8Bytes('QCN-MULTISIG-v1');
  const owners = ['0x' + '01'.repeat(32), '0x' + '02'.repeat(32), '0x' + '03'.repeat(32)]
    .map((s) => ml_dsa44.keygen(getBytes(s)))
    .map((k) => ({ ...k, hash: keccak256(k.publicKey) }))
    .sort((a, b) => (BigInt(a.hash) < BigInt(b.hash) ? -1 : 1));
  const wallet = await deploy(alice, 'MLDSAMultisig', [owners.map((o) => o.hash), 2n]);
  const walletAddr = await wallet.getAddress();
  r = await send(alice, 'fund multisig (receive)', { to: walletAddr, value: parseEther('5') });
  assert.equal(wallet.interface.parseLog(r.logs[0]).name, 'Deposit');
  assert.equal(await provider.getBalance(walletAddr), parseEther('5'));
  const payee = '0x' + '5e'.repeat(20);
  const pay = parseEther('1.25');
  const digest = async (n) => {
    const d = await wallet.digest(payee, pay, '0x', n);
    // the same digest computed here
    const mine_ = keccak256(AbiCoder.defaultAbiCoder().encode(
      ['address', 'uint256', 'uint256', 'address', 'uint256', 'bytes32'],
      [walletAddr, chainId, n, payee, pay, keccak256('0x')]));
    assert.equal(d, mine_);
    return getBytes(d);
  };
  const msg0 = await digest(0n);
  const sign = (o, m) => ml_dsa44.sign(m, o.secretKey, { context: CTX });
  const sigs = [sign(owners[0], msg0), sign(owners[2], msg0)];
  assert.equal(await wallet.verify(owners[0].publicKey, hexlify(msg0), sigs[0]), true);
  {
    const bad = Uint8Array.from(sigs[0]);
    bad[100] ^= 1;
    assert.equal(await wallet.verify(owners[0].publicKey, hexlify(msg0), bad), false);
    assert.equal(await wallet.verify(owners[1].publicKey, hexlify(msg0), sigs[0]), false);
    await reverts(wallet.execute.staticCall(payee, pay, '0x', [owners[0].publicKey, owners[2].publicKey], [bad, sigs[1]]),
      (e) => assert.equal(e.reason, 'multisig: bad signature'));
  }
  await reverts(wallet.execute.staticCall(payee, pay, '0x', [owners[0].publicKey], [sigs[0]]),
    (e) => assert.equal(e.reason, 'multisig: not enough signatures'));
  await reverts(wallet.execute.staticCall(payee, pay, '0x', [owners[2].publicKey, owners[0].publicKey], [sigs[1], sigs[0]]),
    (e) => assert.equal(e.reason, 'multisig: keys not sorted'));
  r = await write(carol, wallet, 'execute', [payee, pay, '0x', [owners[0].publicKey, owners[2].publicKey], sigs]);
  assert.equal(wallet.interface.parseLog(r.logs[0]).name, 'Executed');
  assert.equal(await provider.getBalance(payee), pay);
  assert.equal(await provider.getBalance(walletAddr), parseEther('5') - pay);
  assert.equal(await wallet.nonce(), 1n);
  // the same signatures cannot be replayed: the nonce is in the digest
  await reverts(wallet.execute.staticCall(payee, pay, '0x', [owners[0].publicKey, owners[2].publicKey], sigs),
    (e) => assert.equal(e.reason, 'multisig: bad signature'));

  // ---- escrow: release and refund ----
  const deposit = parseEther('2');
  const esc1 = await deploy(alice, 'Escrow', [bob.address, carol.address], deposit);
  assert.equal(await provider.getBalance(await esc1.getAddress()), deposit);
  await reverts(esc1.release.staticCall({ from: bob.address }),
    (e) => assert.equal(e.reason, 'escrow: not allowed to release'));
  const bobBefore = await provider.getBalance(bob.address);
  r = await write(carol, esc1, 'release');
  assert.equal(esc1.interface.parseLog(r.logs[0]).name, 'Released');
  assert.equal(await provider.getBalance(bob.address), bobBefore + deposit);
  assert.equal(await provider.getBalance(await esc1.getAddress()), 0n);
  assert.equal(await esc1.state(), 1n);
  await reverts(esc1.refund.staticCall({ from: carol.address }),
    (e) => assert.equal(e.reason, 'escrow: already settled'));
  const esc2 = await deploy(alice, 'Escrow', [bob.address, carol.address], deposit);
  const aliceBefore = await provider.getBalance(alice.address);
  r = await write(carol, esc2, 'refund');
  assert.equal(esc2.interface.parseLog(r.logs[0]).name, 'Refunded');
  assert.equal(await provider.getBalance(alice.address), aliceBefore + deposit);
  assert.equal(await esc2.state(), 2n);

  // ---- the same for two votes transfers in consecutive blocks ----
  await write(alice, gov, 'transfer', [bob.address, 1n]);
  await write(alice, gov, 'transfer', [bob.address, 1n]);
  assert.equal(await gov.getVotes(bob.address), parseEther('300') + 2n);

  // ---- summary ----
  const worst = gasTable.reduce((m, g) => Math.max(m, Number(g.estimate - g.used) / Number(g.used)), 0);
  console.log(`compile ${compileMs} ms; ${gasTable.length} transactions; worst (estimate - used) / used = ${(worst * 100).toFixed(2)} %`);
  for (const g of gasTable) console.log(`  ${g.what.padEnd(28)} estimate ${String(g.estimate).padStart(9)}  used ${String(g.used).padStart(9)}`);
  console.log(`e2e contracts: all checks passed in ${Date.now() - t0} ms`);
} catch (e) {
  console.error(e);
  console.error(`--- node log (tail) ---\n${nodeLog.slice(-4000)}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  killNode();
  if (node && node.exitCode === null) await new Promise((r) => node.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
