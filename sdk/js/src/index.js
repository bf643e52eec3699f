// @qcn/signer - builds, signs and serialises QuantumChain Nexus transactions
// (EIP-2718 type 0x51, ML-DSA signatures) byte-for-byte as docs/protocol.md
// says, and broadcasts them through any JSON-RPC provider (ethers v6
// JsonRpcProvider, a viem client, or anything with EIP-1193 request()).
//
//   envelope  = 0x51 || RLP([chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas,
//                            gas_limit, from, to, value, data, access_list,
//                            scheme, public_key, signatures])
//   unsigned  = RLP([... the first eleven ...])
//   sighash   = keccak256(0x51 || unsigned)
//   signature = ML-DSA.Sign(sk, sighash, ctx = "QCN-TX-v1")     (FIPS 204 Alg. 2)
//   tx hash   = keccak256(envelope)
//   address   = keccak256(scheme_byte || public_key)[12..32]
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

export const TX_TYPE = 0x51;
export const SCHEMES = Object.freeze({ 'ML-DSA-44': 1, 'ML-DSA-65': 2, 'ML-DSA-87': 3 });
export const DEFAULT_SCHEME = 2;
const SIG_CONTEXT = new TextEncoder().encode('QCN-TX-v1');
const ALGS = { 1: ml_dsa44, 2: ml_dsa65, 3: ml_dsa87 };
const PK_BYTES = { 1: 1312, 2: 1952, 3: 2592 };
const SIG_BYTES = { 1: 2420, 2: 3309, 3: 4627 };
// Caps (docs/protocol.md section 10).
const MAX_ENVELOPE = 131072;
const MAX_DATA = 65536;
const MAX_U64 = (1n << 64n) - 1n;
const MAX_U256 = (1n << 256n) - 1n;

// ---- bytes ----

export function toHex(b) {
  let s = '0x';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(h, what = 'hex') {
  if (h instanceof Uint8Array) return h;
  if (typeof h !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(h)) {
    throw new TypeError(`${what}: expected 0x-prefixed hex with an even number of digits`);
  }
  const out = new Uint8Array((h.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 + 2 * i, 2), 16);
  return out;
}

function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function fixed(v, n, what) {
  const b = fromHex(v, what);
  if (b.length !== n) throw new RangeError(`${what}: expected ${n} bytes, got ${b.length}`);
  return b;
}

function toBig(v, max, what) {
  let x;
  if (typeof v === 'bigint') x = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) x = BigInt(v);
  else if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) x = BigInt(v);
  else throw new TypeError(`${what}: expected a non-negative integer`);
  if (x < 0n || x > max) throw new RangeError(`${what}: out of range`);
  return x;
}

// Big-endian bytes without leading zeros (RLP integers; zero is empty).
function uintBytes(x) {
  const out = [];
  while (x > 0n) {
    out.unshift(Number(x & 0xffn));
    x >>= 8n;
  }
  return new Uint8Array(out);
}

// ---- RLP (Yellow Paper appendix B) ----

function rlpLength(len, offset) {
  if (len < 56) return new Uint8Array([offset + len]);
  const l = uintBytes(BigInt(len));
  return concat(new Uint8Array([offset + 55 + l.length]), l);
}

export function rlpEncode(item) {
  if (Array.isArray(item)) {
    const body = concat(...item.map(rlpEncode));
    return concat(rlpLength(body.length, 0xc0), body);
  }
  if (!(item instanceof Uint8Array)) throw new TypeError('rlp: bytes or arrays only');
  if (item.length === 1 && item[0] < 0x80) return item;
  return concat(rlpLength(item.length, 0x80), item);
}

// Strict decoder (canonical lengths, no trailing bytes) for tests and tools.
export function rlpDecode(b) {
  const [item, end] = rlpItem(b, 0);
  if (end !== b.length) throw new Error('rlp: trailing bytes');
  return item;
}

function rlpItem(b, p) {
  if (p >= b.length) throw new Error('rlp: truncated');
  const h = b[p];
  const len = (n, o) => {
    if (o + n > b.length) throw new Error('rlp: truncated');
    let x = 0;
    for (let i = 0; i < n; i++) x = x * 256 + b[o + i];
    if (b[o] === 0 || x < 56) throw new Error('rlp: non-canonical length');
    return x;
  };
  if (h < 0x80) return [b.subarray(p, p + 1), p + 1];
  if (h < 0xb8) {
    const n = h - 0x80;
    if (p + 1 + n > b.length) throw new Error('rlp: truncated');
    if (n === 1 && b[p + 1] < 0x80) throw new Error('rlp: non-canonical byte');
    return [b.subarray(p + 1, p + 1 + n), p + 1 + n];
  }
  if (h < 0xc0) {
    const ll = h - 0xb7;
    const n = len(ll, p + 1);
    const s = p + 1 + ll;
    if (s + n > b.length) throw new Error('rlp: truncated');
    return [b.subarray(s, s + n), s + n];
  }
  let s;
  let n;
  if (h < 0xf8) {
    n = h - 0xc0;
    s = p + 1;
  } else {
    const ll = h - 0xf7;
    n = len(ll, p + 1);
    s = p + 1 + ll;
  }
  if (s + n > b.length) throw new Error('rlp: truncated');
  const items = [];
  let q = s;
  while (q < s + n) {
    const [it, e] = rlpItem(b, q);
    items.push(it);
    q = e;
  }
  if (q !== s + n) throw new Error('rlp: list overrun');
  return [items, q];
}

// ---- keys and addresses ----

export function schemeId(scheme) {
  const id = typeof scheme === 'string' ? SCHEMES[scheme] : scheme;
  if (!ALGS[id]) throw new RangeError(`unknown signature scheme ${scheme}`);
  return id;
}

// address = keccak256(scheme_byte || pk)[12..32]
export function addressOf(scheme, publicKey) {
  const id = schemeId(scheme);
  const pk = fromHex(publicKey, 'publicKey');
  if (pk.length !== PK_BYTES[id]) throw new RangeError('publicKey: wrong length for the scheme');
  return toHex(keccak_256(concat(new Uint8Array([id]), pk)).subarray(12));
}

// A key from a 32-byte seed (FIPS 204 KeyGen_internal with xi = seed), the
// same key `qcn crypto keygen --seed` derives.
export function keyFromSeed(seed, scheme = DEFAULT_SCHEME) {
  const id = schemeId(scheme);
  const s = fixed(seed, 32, 'seed');
  const { publicKey, secretKey } = ALGS[id].keygen(s);
  return { scheme: id, publicKey, secretKey, address: addressOf(id, publicKey) };
}

// ---- transactions ----

function accessListItems(list = []) {
  if (!Array.isArray(list)) throw new TypeError('accessList: expected an array');
  return list.map((e, i) => {
    const a = fixed(e.address, 20, `accessList[${i}].address`);
    const keys = (e.storageKeys || []).map((k, j) => fixed(k, 32, `accessList[${i}].storageKeys[${j}]`));
    return [a, keys];
  });
}

// Normalises caller fields (numbers, bigints or hex; hex or bytes) and checks
// every range the chain checks at decoding.
export function normalizeTx(f) {
  const scheme = schemeId(f.scheme ?? DEFAULT_SCHEME);
  const data = f.data === undefined ? new Uint8Array() : fromHex(f.data, 'data');
  if (data.length > MAX_DATA) throw new RangeError(`data: over ${MAX_DATA} bytes`);
  const tx = {
    chainId: toBig(f.chainId, MAX_U64, 'chainId'),
    nonce: toBig(f.nonce ?? 0, MAX_U64, 'nonce'),
    maxPriorityFeePerGas: toBig(f.maxPriorityFeePerGas ?? 0, MAX_U64, 'maxPriorityFeePerGas'),
    maxFeePerGas: toBig(f.maxFeePerGas, MAX_U64, 'maxFeePerGas'),
    gasLimit: toBig(f.gasLimit ?? f.gas, MAX_U64, 'gasLimit'),
    from: fixed(f.from, 20, 'from'),
    to: f.to === null || f.to === undefined ? null : fixed(f.to, 20, 'to'),
    value: toBig(f.value ?? 0, MAX_U256, 'value'),
    data,
    accessList: accessListItems(f.accessList),
    scheme,
  };
  if (tx.maxPriorityFeePerGas > tx.maxFeePerGas) {
    throw new RangeError('maxPriorityFeePerGas above maxFeePerGas');
  }
  return tx;
}

function unsignedItems(tx) {
  return [
    uintBytes(tx.chainId), uintBytes(tx.nonce), uintBytes(tx.maxPriorityFeePerGas),
    uintBytes(tx.maxFeePerGas), uintBytes(tx.gasLimit), tx.from,
    tx.to === null ? new Uint8Array() : tx.to, uintBytes(tx.value), tx.data, tx.accessList,
    uintBytes(BigInt(tx.scheme)),
  ];
}

// 0x51 || RLP(unsigned): what the signature covers (hashed first).
export function signingPayload(fields) {
  const tx = normalizeTx(fields);
  return concat(new Uint8Array([TX_TYPE]), rlpEncode(unsignedItems(tx)));
}

export function sighash(fields) {
  return keccak_256(signingPayload(fields));
}

// Serialises a transaction with its public key (or none) and signatures
// [[keyIndex, sig], ...] (strictly increasing key indexes).
export function serialize(fields, publicKey, signatures) {
  const tx = normalizeTx(fields);
  const pk = publicKey ? fromHex(publicKey, 'publicKey') : new Uint8Array();
  let last = -1;
  const sigs = signatures.map(([idx, sig]) => {
    if (!Number.isInteger(idx) || idx <= last || idx >= 16) throw new RangeError('signatures: key indexes must increase, below 16');
    last = idx;
    return [uintBytes(BigInt(idx)), fromHex(sig, 'signature')];
  });
  const raw = concat(new Uint8Array([TX_TYPE]), rlpEncode([...unsignedItems(tx), pk, sigs]));
  if (raw.length > MAX_ENVELOPE) throw new RangeError(`transaction over ${MAX_ENVELOPE} bytes`);
  return raw;
}

// Signs with one key. opts.withPublicKey: attach the key (the first
// transaction of an account must: the chain learns the key from it);
// opts.deterministic: FIPS 204 deterministic signing (rnd = 0), else hedged.
// Returns { raw, hex, hash, sighash }.
export function signTransaction(fields, key, opts = {}) {
  const f = { ...fields, scheme: key.scheme, from: fields.from ?? key.address };
  if (toHex(fromHex(f.from, 'from')).toLowerCase() !== key.address.toLowerCase()) {
    throw new Error('from is not the address of this key');
  }
  const h = sighash(f);
  const sig = ALGS[key.scheme].sign(h, key.secretKey, {
    context: SIG_CONTEXT,
    extraEntropy: opts.deterministic ? false : undefined,
  });
  if (sig.length !== SIG_BYTES[key.scheme]) throw new Error('signer produced a wrong-length signature');
  const raw = serialize(f, opts.withPublicKey ? key.publicKey : null, [[0, sig]]);
  return { raw, hex: toHex(raw), hash: toHex(keccak_256(raw)), sighash: toHex(h) };
}

// Parses an envelope back into fields, public key and signatures (strict).
export function decodeTransaction(raw) {
  const b = fromHex(raw, 'transaction');
  if (b[0] !== TX_TYPE) throw new Error('not a type-0x51 transaction');
  const it = rlpDecode(b.subarray(1));
  if (!Array.isArray(it) || it.length !== 13) throw new Error('malformed transaction');
  const big = (x) => (x.length ? BigInt(toHex(x)) : 0n);
  return {
    chainId: big(it[0]), nonce: big(it[1]), maxPriorityFeePerGas: big(it[2]),
    maxFeePerGas: big(it[3]), gasLimit: big(it[4]), from: toHex(it[5]),
    to: it[6].length ? toHex(it[6]) : null, value: big(it[7]), data: toHex(it[8]),
    accessList: it[9].map(([a, ks]) => ({ address: toHex(a), storageKeys: ks.map(toHex) })),
    scheme: Number(big(it[10])), publicKey: it[11].length ? toHex(it[11]) : null,
    signatures: it[12].map(([i, s]) => [Number(big(i)), toHex(s)]),
    hash: toHex(keccak_256(b)),
  };
}

// Verifies a single-key transaction's signature against its attached key.
export function verifyTransaction(raw, publicKey) {
  const d = decodeTransaction(raw);
  const pk = fromHex(publicKey ?? d.publicKey, 'publicKey');
  if (addressOf(d.scheme, pk).toLowerCase() !== d.from.toLowerCase()) return false;
  const h = sighash(d);
  return d.signatures.length === 1 && d.signatures[0][0] === 0 &&
    ALGS[d.scheme].verify(fromHex(d.signatures[0][1]), h, pk, { context: SIG_CONTEXT });
}

// ---- providers ----

async function rpc(provider, method, params) {
  if (typeof provider.send === 'function' && typeof provider.request !== 'function') {
    return provider.send(method, params); // ethers v6 JsonRpcProvider
  }
  if (typeof provider.request === 'function') return provider.request({ method, params }); // viem, EIP-1193
  throw new TypeError('provider: needs send(method, params) or request({method, params})');
}

export async function sendRawTransaction(provider, raw) {
  return rpc(provider, 'eth_sendRawTransaction', [typeof raw === 'string' ? raw : toHex(raw)]);
}

// Fills chainId, nonce (pending), fees and gas from the node, signs, sends.
// The public key is attached unless the chain already records one for the
// sender (qcn_getAccountKey). Returns the transaction hash.
export async function signAndSend(provider, key, fields) {
  const f = { ...fields, from: key.address };
  if (f.chainId === undefined) f.chainId = BigInt(await rpc(provider, 'eth_chainId', []));
  if (f.nonce === undefined) f.nonce = BigInt(await rpc(provider, 'eth_getTransactionCount', [key.address, 'pending']));
  if (f.maxPriorityFeePerGas === undefined) f.maxPriorityFeePerGas = BigInt(await rpc(provider, 'eth_maxPriorityFeePerGas', []));
  if (f.maxFeePerGas === undefined) {
    const blk = await rpc(provider, 'eth_getBlockByNumber', ['latest', false]);
    f.maxFeePerGas = 2n * BigInt(blk.baseFeePerGas) + BigInt(f.maxPriorityFeePerGas);
  }
  const recorded = await rpc(provider, 'qcn_getAccountKey', [key.address, 'latest']);
  if (f.gasLimit === undefined && f.gas === undefined) {
    f.gasLimit = BigInt(await rpc(provider, 'eth_estimateGas', [{
      from: key.address, to: f.to ?? undefined, value: '0x' + toBig(f.value ?? 0, MAX_U256, 'value').toString(16),
      data: f.data === undefined ? undefined : toHex(fromHex(f.data, 'data')),
    }]));
  }
  const signed = signTransaction(f, key, { withPublicKey: recorded === null });
  return sendRawTransaction(provider, signed.hex);
}
