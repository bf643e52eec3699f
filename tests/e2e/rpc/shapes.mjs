// Real Ethereum clients against the RPC server over the in-memory test chain
// (fake_node): every read the issue lists must parse in ethers v6 and viem,
// and their answers must agree with each other and with the raw JSON.
// Usage: node shapes.mjs <fake_node binary>
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';
import { JsonRpcProvider } from 'ethers';
import { createPublicClient, http, defineChain } from 'viem';
import { keyFromSeed, signAndSend, signTransaction, sendRawTransaction } from '../../../sdk/js/src/index.js';

const child = spawn(process.argv[2], [], { stdio: ['pipe', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  const rl = createInterface({ input: child.stdout });
  rl.once('line', (l) => resolve(Number(l)));
  child.once('exit', (c) => reject(new Error(`fake_node exited ${c}`)));
});
const url = `http://127.0.0.1:${port}/`;
const raw = async (method, params = []) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result;
};

try {
  const chain = defineChain({ id: 0x1234, name: 'qcn-test', nativeCurrency: { name: 'Q', symbol: 'Q', decimals: 18 },
    rpcUrls: { default: { http: [url] } } });
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, batchMaxCount: 1 });
  const viem = createPublicClient({ chain, transport: http(url) });

  // chain id, block number
  assert.equal((await provider.getNetwork()).chainId, 0x1234n);
  assert.equal(await viem.getChainId(), 0x1234);
  assert.equal(await provider.getBlockNumber(), 2);
  assert.equal(await viem.getBlockNumber(), 2n);

  // blocks with transactions
  const b1 = await provider.getBlock(1, true);
  assert.equal(b1.number, 1);
  assert.equal(b1.prefetchedTransactions.length, 2);
  const vb1 = await viem.getBlock({ blockNumber: 1n, includeTransactions: true });
  assert.equal(vb1.hash, b1.hash);
  assert.equal(vb1.transactions.length, 2);
  assert.equal(vb1.baseFeePerGas, b1.baseFeePerGas);
  const latest = await viem.getBlock();
  assert.equal(latest.number, 2n);
  assert.equal(latest.parentHash, b1.hash);

  // transactions and receipts
  const txh = b1.transactions[1];
  const tx = await provider.getTransaction(txh);
  assert.equal(tx.blockNumber, 1);
  assert.equal(tx.index, 1);
  const vtx = await viem.getTransaction({ hash: txh });
  assert.equal(vtx.from.toLowerCase(), tx.from.toLowerCase());
  assert.equal(vtx.nonce, tx.nonce);
  assert.equal(vtx.value, tx.value);
  const rc = await provider.getTransactionReceipt(txh);
  assert.equal(rc.status, 1);
  assert.equal(rc.logs.length, 1);
  const vrc = await viem.getTransactionReceipt({ hash: txh });
  assert.equal(vrc.status, 'success');
  assert.equal(vrc.gasUsed, rc.gasUsed);
  assert.equal(vrc.logs[0].topics.length, 2);

  // balances and nonces of the sender agree with the raw JSON
  const from = tx.from;
  const bal = await provider.getBalance(from);
  assert.equal(bal, BigInt(await raw('eth_getBalance', [from, 'latest'])));
  assert.equal(await viem.getBalance({ address: from }), bal);
  assert.equal(await provider.getTransactionCount(from), 3);
  assert.equal(await viem.getTransactionCount({ address: from }), 3);

  // fees, estimates, logs
  const fd = await provider.getFeeData();
  assert.ok(fd.maxFeePerGas > 0n && fd.maxPriorityFeePerGas > 0n);
  const vf = await viem.estimateFeesPerGas();
  assert.ok(vf.maxFeePerGas > 0n);
  const fh = await viem.getFeeHistory({ blockCount: 2, rewardPercentiles: [50] });
  assert.equal(fh.baseFeePerGas.length, 3);
  const gas = await provider.estimateGas({ from, to: '0x' + 'bb'.repeat(20), value: 1n });
  assert.equal(gas, await viem.estimateGas({ account: from, to: '0x' + 'bb'.repeat(20), value: 1n }));
  const logs = await provider.getLogs({ fromBlock: 0, toBlock: 'latest' });
  assert.equal(logs.length, 1);
  const vlogs = await viem.getLogs({ fromBlock: 0n, toBlock: 'latest' });
  assert.equal(vlogs.length, 1);
  assert.equal(vlogs[0].transactionHash, txh);

  // errors reach the client with the server's message
  await assert.rejects(provider.send('eth_getBalance', ['0x1234', 'latest']), /params\[0\] \(address\)/);
  // The JavaScript signer: the chain's sender key (seed 07..07, ML-DSA-65),
  // broadcast through ethers and through viem; the C decoder behind
  // eth_sendRawTransaction accepts it and answers its hash.
  const key = keyFromSeed('0x' + '07'.repeat(32));
  assert.equal(key.address.toLowerCase(), from.toLowerCase());
  const h1 = await signAndSend(provider, key, { to: '0x' + 'bb'.repeat(20), value: 5n });
  const signed = signTransaction({ chainId: 0x1234, nonce: 9, maxPriorityFeePerGas: 2, maxFeePerGas: 5000,
    gasLimit: 100000, to: '0x' + 'bb'.repeat(20), value: 1n }, key, { withPublicKey: true });
  assert.equal(await sendRawTransaction(viem, signed.hex), signed.hash);
  assert.match(h1, /^0x[0-9a-f]{64}$/);
  await assert.rejects(sendRawTransaction(provider, '0x02c0'), /type 0x51/);
  console.log('ok: ethers and viem parse every answer; the JS signer is accepted through both');
} finally {
  child.stdin.end();
}
