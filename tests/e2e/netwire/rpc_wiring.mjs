// The node's RPC wiring (src/node/node_rpc.c) against a real `qcn node`:
// newPendingTransactions for transactions that did NOT come through RPC
// (the load generator), each hash once; the node's histograms
// qcn_block_commit_seconds and qcn_verify_seconds observed on /metrics;
// rpc.cors and rpc.max_batch passed from the config to the server;
// qcn_nodeInfo carries the node's facts (engine, counters).
// usage: node rpc_wiring.mjs /path/to/qcn
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import assert from 'node:assert/strict';
import WebSocket from '../rpc/node_modules/ws/wrapper.mjs';

const qcn = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'qcn-netwire-rpc-'));
const freePort = () => new Promise((res) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});
execFileSync(qcn, ['init', '--dev', '--datadir', dir], { stdio: 'ignore' });
const port = await freePort();
const node = spawn(qcn, ['node', '--datadir', dir, '--rpc-addr', `127.0.0.1:${port}`, '--period', '200',
  '--dev-load', '20', '--rpc-cors', 'http://allowed.test', '--set', 'rpc.max_batch=5'],
{ stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
node.stderr.on('data', (d) => { stderr += d; });
const url = `http://127.0.0.1:${port}/`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const call = async (method, params = [], headers = {}) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return { status: r.status, headers: r.headers, body: await r.json() };
};
let ws;
try {
  for (let i = 0; ; i++) {
    try { await call('eth_blockNumber'); break; } catch (e) { if (i > 100) throw e; await sleep(100); }
  }

  // Pending transactions from the load generator reach a WebSocket client.
  ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const seen = [];
  let subId;
  ws.on('message', (m) => {
    const j = JSON.parse(m);
    if (j.id === 7) subId = j.result;
    else if (j.method === 'eth_subscription' && j.params.subscription === subId) seen.push(j.params.result);
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'eth_subscribe', params: ['newPendingTransactions'] }));
  for (let i = 0; i < 100 && seen.length < 10; i++) await sleep(100);
  assert.ok(seen.length >= 10, `only ${seen.length} pending notifications from the load generator`);
  assert.equal(new Set(seen).size, seen.length, 'a pending transaction was announced twice');
  for (const h of seen) assert.match(h, /^0x[0-9a-f]{64}$/);
  // The announced transactions are real: each is found (pending or mined).
  const tx = await call('eth_getTransactionByHash', [seen[0]]);
  assert.equal(tx.body.result.hash, seen[0]);

  // The node's histograms are in the one registry served on /metrics.
  let text = '';
  for (let i = 0; i < 50; i++) {
    text = await (await fetch(`${url}metrics`)).text();
    const c = /^qcn_block_commit_seconds_count (\d+)/m.exec(text);
    const v = /^qcn_verify_seconds_count (\d+)/m.exec(text);
    if (c && v && +c[1] > 0 && +v[1] > 0) break;
    await sleep(100);
  }
  assert.match(text, /^qcn_block_commit_seconds_count [1-9]\d*/m, 'no block commit observed');
  assert.match(text, /^qcn_verify_seconds_count [1-9]\d*/m, 'no verification observed');
  assert.match(text, /^qcn_verify_seconds_bucket\{le="\+Inf"\} [1-9]/m);
  assert.match(text, /^qcn_rpc_requests_total/m, 'the RPC series share the registry');

  // rpc.cors from the flag: the allowed origin is echoed, another is refused.
  const ok = await call('eth_chainId', [], { origin: 'http://allowed.test' });
  assert.equal(ok.headers.get('access-control-allow-origin'), 'http://allowed.test');
  const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.test' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }) });
  assert.notEqual(bad.headers.get('access-control-allow-origin'), 'http://evil.test');
  assert.ok(bad.status >= 400, `a disallowed origin got HTTP ${bad.status}`);

  // rpc.max_batch = 5 from --set: 5 calls pass, 6 are refused.
  const batch = (n) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))) })
    .then((r) => r.json());
  const five = await batch(5);
  assert.ok(Array.isArray(five) && five.length === 5 && five.every((r) => r.result));
  const six = await batch(6);
  const err6 = Array.isArray(six) ? six[0].error : six.error;
  assert.ok(err6 && err6.code === -32600 && /batch cap of 5/.test(err6.message), `batch of 6: ${JSON.stringify(six)}`);

  // qcn_nodeInfo: the node's facts.
  const info = (await call('qcn_nodeInfo')).body.result;
  assert.equal(info.engine, 'dev');
  assert.ok(info.txsAdmitted >= 10, JSON.stringify(info));
  console.log(`PASS (${seen.length} pending notifications, info ${JSON.stringify(info)})`);
} catch (e) {
  console.error(e);
  console.error(stderr.split('\n').slice(-20).join('\n'));
  process.exitCode = 1;
} finally {
  if (ws) ws.terminate();
  node.kill('SIGTERM');
  await new Promise((r) => node.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
