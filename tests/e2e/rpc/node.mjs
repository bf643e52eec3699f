// End to end against a real `qcn node` (dev engine, a block every 300 ms):
// ethers v6 and viem read chain id, blocks, balances, nonces and receipts and
// agree with the node's files and the `qcn query` CLI; transfers signed by
// the JavaScript signer (sdk/js) are mined and read back through ethers and
// viem; one signed by `qcn tx send` is read back through viem; a WebSocket client gets newHeads for every block,
// in order, without gaps, and newPendingTransactions; bad input gets the right
// error while everyone else is served (malformed JSON, wrong version,
// unknown method, bad params, huge numbers, deep nesting, a 10,000-call
// batch, an oversized body, 500 concurrent connections, a client that
// disconnects mid-request).
// Usage: node node.mjs <qcn binary>
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import http from 'node:http';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { JsonRpcProvider } from 'ethers';
import { createPublicClient, http as viemHttp, defineChain } from 'viem';
import { keyFromSeed, signAndSend, signTransaction, sendRawTransaction } from '../../../sdk/js/src/index.js';

const qcn = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'qcn-e2e-rpc-'));
const deadline = Date.now() + 90_000;
const freePort = () => new Promise((res) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

execFileSync(qcn, ['init', '--dev', '--datadir', dir], { stdio: 'ignore' });
const devkey = JSON.parse(readFileSync(join(dir, 'dev.key'), 'utf8'));
const port = await freePort();
const node = spawn(qcn, ['node', '--datadir', dir, '--rpc-addr', `127.0.0.1:${port}`, '--period', '300'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
let nodeLog = '';
node.stderr.on('data', (d) => { nodeLog += d; });
const url = `http://127.0.0.1:${port}/`;

async function raw(body, headers = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

let ws;
try {
  for (;;) { // wait for the RPC
    try { if ((await raw('{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}')).status === 200) break; } catch { /* not yet */ }
    assert.ok(Date.now() < deadline, 'node did not start serving RPC');
    await sleep(100);
  }

  // WebSocket subscriptions first, so every later block and transaction is seen.
  ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const heads = [];
  const pending = [];
  const subs = {};
  const answers = new Map();
  ws.on('message', (m) => {
    const j = JSON.parse(m.toString());
    if (j.method === 'eth_subscription') {
      if (j.params.subscription === subs.heads) heads.push(BigInt(j.params.result.number));
      if (j.params.subscription === subs.pending) pending.push(j.params.result);
    } else answers.set(j.id, j);
  });
  const wsCall = async (id, method, params) => {
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    while (!answers.has(id)) { assert.ok(Date.now() < deadline); await sleep(10); }
    return answers.get(id);
  };
  subs.heads = (await wsCall(1, 'eth_subscribe', ['newHeads'])).result;
  subs.pending = (await wsCall(2, 'eth_subscribe', ['newPendingTransactions'])).result;
  assert.match(subs.heads, /^0x[0-9a-f]{32}$/);

  const chain = defineChain({ id: 1337, name: 'qcn-dev', nativeCurrency: { name: 'Q', symbol: 'Q', decimals: 18 },
    rpcUrls: { default: { http: [url] } } });
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 200 });
  const viem = createPublicClient({ chain, transport: viemHttp(url), pollingInterval: 200 });

  // reads agree between ethers, viem and the node's own files
  assert.equal((await provider.getNetwork()).chainId, 1337n);
  assert.equal(await viem.getChainId(), 1337);
  const key = keyFromSeed(devkey.seed);
  assert.equal(key.address, devkey.address);
  const genesis = JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8'));
  const funded = BigInt(genesis.alloc[devkey.address].balance);
  assert.equal(await provider.getBalance(key.address), funded);
  assert.equal(await viem.getBalance({ address: key.address }), funded);
  assert.equal(await provider.getTransactionCount(key.address), 0);
  const b0 = await provider.getBlock(0);
  assert.equal((await viem.getBlock({ blockNumber: 0n })).hash, b0.hash);

  // a transfer signed in JavaScript, broadcast through ethers, mined
  const to1 = '0x' + '42'.repeat(20);
  const h1 = await signAndSend(provider, key, { to: to1, value: 10n ** 18n });
  const r1 = await provider.waitForTransaction(h1, 1, 30_000);
  assert.equal(r1.status, 1);
  const vr1 = await viem.getTransactionReceipt({ hash: h1 });
  assert.equal(vr1.blockHash, r1.blockHash);
  assert.equal(vr1.status, 'success');
  assert.equal(await provider.getBalance(to1), 10n ** 18n);
  assert.equal(await viem.getBalance({ address: to1 }), 10n ** 18n);
  const t1 = await provider.getTransaction(h1);
  assert.equal(t1.from.toLowerCase(), key.address);
  assert.equal(t1.type, 0x51);

  // a second one broadcast through viem, read back through viem
  const base = (await viem.getBlock()).baseFeePerGas;
  const s2 = signTransaction({ chainId: 1337, nonce: 1, maxPriorityFeePerGas: 10n ** 9n,
    maxFeePerGas: 2n * base + 10n ** 9n, gasLimit: 100_000n, to: to1, value: 5n }, key);
  assert.equal(await sendRawTransaction(viem, s2.hex), s2.hash);
  const vr2 = await viem.waitForTransactionReceipt({ hash: s2.hash, timeout: 30_000 });
  assert.equal(vr2.status, 'success');
  assert.equal(await viem.getTransactionCount({ address: key.address }), 2);
  // the mempool's reason comes back: the same nonce again
  await assert.rejects(sendRawTransaction(provider, s2.hex), /already known|nonce too low/);

  // a transfer signed by `qcn` (wallet CLI, keystore), read back through viem,
  // and the CLI's answers match the clients'
  const env = { ...process.env, QCN_PASSWORD: 'e2e-password-0123' };
  const ks = join(dir, 'keystore');
  execFileSync(qcn, ['keys', 'import', 'dev', '--dev-key', join(dir, 'dev.key'), '--keystore', ks, '--json'],
    { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const to3 = '0x' + '43'.repeat(20);
  const sent = JSON.parse(execFileSync(qcn, ['tx', 'send', '--from', 'dev', '--to', to3, '--value-wei', '777',
    '--rpc', url, '--keystore', ks, '--json', '--wait'], { env, stdio: ['ignore', 'pipe', 'ignore'] }).toString());
  const vr3 = await viem.getTransactionReceipt({ hash: sent.hash });
  assert.equal(vr3.status, 'success');
  assert.equal((await viem.getTransaction({ hash: sent.hash })).value, 777n);
  assert.equal(await viem.getBalance({ address: to3 }), 777n);
  const cliBal = JSON.parse(execFileSync(qcn, ['query', 'balance', key.address, '--rpc', url, '--json']).toString());
  assert.equal(BigInt(cliBal.balanceWei), await provider.getBalance(key.address));
  assert.equal(await provider.getTransactionCount(key.address), 3);

  // bad input: the right error each time, and the node keeps serving
  assert.equal((await raw('{"jsonrpc":"2.0","id":1,"method":')).json.error.code, -32700);
  assert.equal((await raw('{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}')).json.error.code, -32600);
  assert.equal((await raw('{"jsonrpc":"2.0","id":1,"method":"eth_nope"}')).json.error.code, -32601);
  const bad = (await raw('{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[7,"latest"]}')).json.error;
  assert.equal(bad.code, -32602);
  assert.match(bad.message, /params\[0\] \(address\)/);
  assert.equal((await raw('{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x10000000000000000",false]}')).json.error.code, -32602);
  assert.equal((await raw('{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"eth_chainId"}')).json.error.code, -32700);
  assert.equal((await raw('['.repeat(100000) + ']'.repeat(100000))).json.error.code, -32700);
  const batch = JSON.stringify(Array.from({ length: 10000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' })));
  const rb = (await raw(batch)).json;
  assert.ok(!Array.isArray(rb) && rb.error.code === -32600 && /batch cap/.test(rb.error.message));
  // an oversized body is refused from its Content-Length, before it is read
  const refused = await new Promise((res, rej) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${6 << 20}\r\n\r\n`);
    });
    s.on('data', (d) => { got += d; });
    s.on('close', () => res(got));
    s.on('error', rej);
  });
  assert.match(refused, /^HTTP\/1\.1 413/);
  assert.match(refused, /-32005/);
  // a client that sends half a request and disconnects
  await new Promise((res) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc"');
      setTimeout(() => { s.destroy(); res(); }, 50);
    });
  });
  // 500 concurrent connections, each its own socket
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const one = () => new Promise((res, rej) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent,
      headers: { 'content-type': 'application/json' } }, (r) => {
      let b = '';
      r.on('data', (d) => { b += d; });
      r.on('end', () => res(JSON.parse(b)));
    });
    req.on('error', rej);
    req.end('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}');
  });
  const all = await Promise.all(Array.from({ length: 500 }, one));
  assert.ok(all.every((j) => /^0x[0-9a-f]+$/.test(j.result)));

  // WebSocket: every head in order without gaps, and our transactions pending
  const until = (await provider.getBlockNumber()) + 2;
  while (heads.length === 0 || heads[heads.length - 1] < BigInt(until)) { assert.ok(Date.now() < deadline); await sleep(50); }
  for (let i = 1; i < heads.length; i++) assert.equal(heads[i], heads[i - 1] + 1n, `gap after head ${heads[i - 1]}`);
  assert.ok(heads.length >= 5);
  for (const h of [h1, s2.hash, sent.hash]) assert.ok(pending.includes(h), `newPendingTransactions missed ${h}`);
  assert.equal((await wsCall(3, 'eth_unsubscribe', [subs.heads])).result, true);

  console.log(`ok: ${heads.length} heads in order, 2 JS-signed and 1 qcn-signed transfers mined and read back, bad input refused, 500 connections served`);
} catch (e) {
  console.error(nodeLog.slice(-3000));
  throw e;
} finally {
  if (ws) ws.terminate();
  node.kill('SIGTERM');
  const code = await new Promise((res) => node.once('exit', res));
  rmSync(dir, { recursive: true, force: true });
  if (process.exitCode === undefined) assert.equal(code, 0, 'node did not stop cleanly');
}
