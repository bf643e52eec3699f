// The signer against docs/protocol.md section 9 (values produced by the C
// implementation, test_codec_tx): same keys, address, signing input, sighash,
// envelope size and, with deterministic signing, the same transaction hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  keyFromSeed, signingPayload, sighash, signTransaction, decodeTransaction, verifyTransaction,
  toHex, rlpEncode, rlpDecode, serialize, addressOf,
} from '../src/index.js';

const seed1 = '0x' + '01'.repeat(32);
const seed2 = '0x01' + '02'.repeat(31);
const fields = (from, to) => ({
  chainId: 1337, nonce: 0, maxPriorityFeePerGas: 1_000_000_000n, maxFeePerGas: 2_000_000_000n,
  gasLimit: 100_000, from, to, value: 10n ** 18n, data: '0x', accessList: [], scheme: 1,
});

test('protocol.md worked example, byte for byte', () => {
  const k = keyFromSeed(seed1, 1);
  const r = keyFromSeed(seed2, 1);
  assert.equal(k.address, '0x98a38a89a1dd5b13dba1f44294c01f4ef3225c16');
  assert.equal(r.address, '0x0be5f657654678190057ee8300194d15d37353d3');
  const f = fields(k.address, r.address);
  assert.equal(toHex(signingPayload(f)), '0x' + [
    '51', 'f848', '820539', '80', '843b9aca00', '8477359400', '830186a0',
    '9498a38a89a1dd5b13dba1f44294c01f4ef3225c16', '940be5f657654678190057ee8300194d15d37353d3',
    '880de0b6b3a7640000', '80', 'c0', '01'].join(''));
  assert.equal(toHex(sighash(f)), '0x9020866ddbe79bf0470ee2e217998543a871d31b6b59d2887276b95c828abf4c');
  const s = signTransaction(f, k, { withPublicKey: true, deterministic: true });
  assert.equal(s.raw.length, 3821);
  assert.equal(toHex(s.raw.subarray(0, 4)), '0x51f90ee9');
  assert.equal(s.hash, '0xa7d307cd0fbef406c33e1bc9d06e5194818a435b1759b30658bc8837ab958063');
  assert.ok(verifyTransaction(s.raw));
});

test('decode round trip, hedged signatures verify, tampering does not', () => {
  const k = keyFromSeed('0x' + '07'.repeat(32)); // ML-DSA-65 by default
  assert.equal(k.scheme, 2);
  const f = { chainId: 4242, nonce: 5, maxPriorityFeePerGas: 2, maxFeePerGas: 3000, gasLimit: 90000,
    to: '0x' + '77'.repeat(20), value: 12345n, data: '0x00ff',
    accessList: [{ address: '0x' + '11'.repeat(20), storageKeys: ['0x' + '22'.repeat(32)] }] };
  const a = signTransaction(f, k, { withPublicKey: false });
  const b = signTransaction(f, k, { withPublicKey: false });
  assert.notEqual(a.hex, b.hex); // hedged: fresh randomness each time
  const d = decodeTransaction(a.raw);
  assert.equal(d.nonce, 5n);
  assert.equal(d.value, 12345n);
  assert.equal(d.from, k.address);
  assert.equal(d.publicKey, null);
  assert.equal(d.accessList[0].storageKeys[0], '0x' + '22'.repeat(32));
  assert.ok(verifyTransaction(a.raw, k.publicKey));
  assert.equal(toHex(serialize(d, null, d.signatures)), a.hex); // re-serialises identically
  const bad = Uint8Array.from(a.raw);
  bad[bad.indexOf(0x77)] ^= 1; // one bit of `to`: still well-formed, no longer signed
  assert.equal(decodeTransaction(bad).to.slice(0, 4), '0x76');
  assert.equal(verifyTransaction(bad, k.publicKey), false);
});

test('inputs are checked like the chain checks them', () => {
  const k = keyFromSeed(seed1, 1);
  const f = fields(k.address, '0x' + 'aa'.repeat(20));
  assert.throws(() => signTransaction({ ...f, to: '0x1234' }, k), /to: expected 20 bytes/);
  assert.throws(() => signTransaction({ ...f, nonce: 2n ** 64n }, k), /nonce: out of range/);
  assert.throws(() => signTransaction({ ...f, maxPriorityFeePerGas: 3n * 10n ** 9n }, k), /above maxFeePerGas/);
  assert.throws(() => signTransaction({ ...f, from: '0x' + '00'.repeat(20) }, k), /not the address/);
  assert.throws(() => keyFromSeed('0x01', 1), /seed: expected 32 bytes/);
  assert.throws(() => addressOf(9, new Uint8Array(3)), /unknown signature scheme/);
  assert.throws(() => rlpDecode(Uint8Array.from([0x81, 0x05])), /non-canonical/);
  assert.deepEqual(rlpDecode(rlpEncode([Uint8Array.from([1, 2]), []])), [Uint8Array.from([1, 2]), []]);
});
