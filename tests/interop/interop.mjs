// Interop test: the qcn CLI against an independent implementation,
// @noble/post-quantum (pinned in package-lock.json).
//
//   node interop.mjs /path/to/qcn
//
// ML-KEM-512/768/1024: keygen from the same seed gives identical ek/dk;
// noble encapsulates to qcn's ek and `qcn crypto decaps` recovers the same
// ss; `qcn crypto encaps` to noble's ek decapsulates in noble to the same ss;
// encaps with a fixed m gives identical ct and ss; a tampered ciphertext gives
// the same implicit-rejection key on both sides; an ek with a coefficient
// >= q is refused by both.
// ML-DSA-44/65/87: keygen from the same seed gives identical keys; qcn-signed
// random messages with random contexts verify in noble; noble-signed ones
// verify with `qcn crypto verify`; tampered signatures are rejected by both.
//
// Prints one count line per check family and exits non-zero on any mismatch.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';

const qcn = process.argv[2];
const ITER = Number(process.env.QCN_INTEROP_ITER || 8);
// QCN_INTEROP_ONLY=ml-kem (or ml-dsa) narrows a manual run; CTest runs all.
const only = process.env.QCN_INTEROP_ONLY || '';
if (!qcn) {
  console.error('usage: node interop.mjs /path/to/qcn');
  process.exit(2);
}

const hex = (u8) => Buffer.from(u8).toString('hex');
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
const eq = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

const counts = new Map();
let failures = 0;

function check(family, ok, detail) {
  const c = counts.get(family) || { ok: 0, total: 0 };
  c.total++;
  if (ok) c.ok++;
  else {
    failures++;
    console.error(`MISMATCH ${family}: ${detail}`);
  }
  counts.set(family, c);
}

// Runs qcn with args; returns { status, json, stderr }.
function run(args) {
  const r = spawnSync(qcn, args, { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 30000 });
  if (r.error) throw r.error;
  let json = null;
  if (r.status === 0 && args.includes('--json')) {
    try {
      json = JSON.parse(r.stdout.trim().split('\n').pop());
    } catch (e) {
      throw new Error(`qcn ${args[1]} printed no JSON: ${r.stdout.slice(0, 200)}`);
    }
  }
  return { status: r.status, json, stderr: r.stderr };
}

function qcnOk(args, family) {
  const r = run(args);
  if (r.status !== 0 || r.json === null) {
    check(family, false, `qcn ${args.slice(0, 3).join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
    return null;
  }
  return r.json;
}

// ---- ML-KEM ---------------------------------------------------------------

const kems = [
  ['ml-kem-512', ml_kem512],
  ['ml-kem-768', ml_kem768],
  ['ml-kem-1024', ml_kem1024],
];

for (const [alg, noble] of kems.filter(([a]) => a.startsWith(only))) {
  for (let i = 0; i < ITER; i++) {
    // Keygen from the same 64-byte seed d || z.
    const seed = randomBytes(64);
    const q = qcnOk(['crypto', 'keygen', '--alg', alg, '--seed', hex(seed), '--json'], `${alg} keygen`);
    if (!q) continue;
    const nk = noble.keygen(new Uint8Array(seed));
    check(`${alg} keygen`, q.ek === hex(nk.publicKey) && q.dk === hex(nk.secretKey) &&
      q.seed === hex(seed), `seed ${hex(seed)}`);

    // noble encapsulates to qcn's ek; qcn decapsulates.
    const ne = noble.encapsulate(unhex(q.ek));
    const d = qcnOk(['crypto', 'decaps', '--alg', alg, '--sk', q.dk, '--ct', hex(ne.cipherText), '--json'],
      `${alg} noble-encaps/qcn-decaps`);
    if (d) check(`${alg} noble-encaps/qcn-decaps`, d.ss === hex(ne.sharedSecret), `seed ${hex(seed)}`);

    // qcn encapsulates to noble's ek; noble decapsulates.
    const nk2 = noble.keygen();
    const e = qcnOk(['crypto', 'encaps', '--alg', alg, '--pk', hex(nk2.publicKey), '--json'],
      `${alg} qcn-encaps/noble-decaps`);
    if (e) {
      const ss = noble.decapsulate(unhex(e.ct), nk2.secretKey);
      check(`${alg} qcn-encaps/noble-decaps`, e.ss === hex(ss), `ct ${e.ct.slice(0, 32)}...`);
    }

    // Deterministic encapsulation with the same m.
    const m = randomBytes(32);
    const em = qcnOk(['crypto', 'encaps', '--alg', alg, '--pk', q.ek, '--m', hex(m), '--json'],
      `${alg} encaps(m)`);
    if (em) {
      const nm = noble.encapsulate(unhex(q.ek), new Uint8Array(m));
      check(`${alg} encaps(m)`, em.ct === hex(nm.cipherText) && em.ss === hex(nm.sharedSecret),
        `m ${hex(m)}`);

      // Tampered ciphertext: both give the implicit-rejection key J(z || c').
      const bad = unhex(em.ct);
      bad[(i * 97) % bad.length] ^= 1 << (i % 8);
      const dq = qcnOk(['crypto', 'decaps', '--alg', alg, '--sk', q.dk, '--ct', hex(bad), '--json'],
        `${alg} tampered-ct`);
      if (dq) {
        const sn = noble.decapsulate(bad, nk.secretKey);
        check(`${alg} tampered-ct`, dq.ss === hex(sn) && dq.ss !== em.ss, `ct byte ${(i * 97) % bad.length}`);
      }
    }
  }

  // An ek with a coefficient equal to q fails the §7.2 check in both.
  const { publicKey } = noble.keygen();
  const badEk = Uint8Array.from(publicKey);
  badEk[0] = 0x01;
  badEk[1] = (badEk[1] & 0xf0) | 0x0d;
  const r = run(['crypto', 'encaps', '--alg', alg, '--pk', hex(badEk), '--json']);
  let nobleRefused = false;
  try {
    noble.encapsulate(badEk);
  } catch {
    nobleRefused = true;
  }
  check(`${alg} bad-ek refused`, r.status === 2 && nobleRefused,
    `qcn exit ${r.status}, noble refused ${nobleRefused}`);
}

// ---- ML-DSA ---------------------------------------------------------------

const dsas = [
  ['ml-dsa-44', ml_dsa44],
  ['ml-dsa-65', ml_dsa65],
  ['ml-dsa-87', ml_dsa87],
];

for (const [alg, noble] of dsas.filter(([a]) => a.startsWith(only))) {
  for (let i = 0; i < ITER; i++) {
    const seed = randomBytes(32);
    const q = qcnOk(['crypto', 'keygen', '--alg', alg, '--seed', hex(seed), '--json'], `${alg} keygen`);
    if (!q) continue;
    const nk = noble.keygen(new Uint8Array(seed));
    check(`${alg} keygen`, q.pk === hex(nk.publicKey) && q.sk === hex(nk.secretKey), `seed ${hex(seed)}`);

    // qcn signs, noble verifies (and rejects a tampered copy).
    const msg = randomBytes(1 + ((i * 131) % 700));
    const ctx = randomBytes((i * 37) % 256);
    const s = qcnOk(['crypto', 'sign', '--alg', alg, '--sk', q.sk, '--msg', hex(msg), '--ctx', hex(ctx),
      '--json'], `${alg} qcn-sign/noble-verify`);
    if (s) {
      const sig = unhex(s.sig);
      check(`${alg} qcn-sign/noble-verify`, noble.verify(sig, msg, nk.publicKey, { context: ctx }),
        `msg ${msg.length} B ctx ${ctx.length} B`);
      sig[(i * 53) % sig.length] ^= 0x20;
      check(`${alg} tampered sig rejected by noble`,
        !noble.verify(sig, msg, nk.publicKey, { context: ctx }), `byte ${(i * 53) % sig.length}`);
    }

    // noble signs, qcn verifies (and rejects a tampered copy).
    const nsig = noble.sign(msg, nk.secretKey, { context: ctx });
    const v = run(['crypto', 'verify', '--alg', alg, '--pk', q.pk, '--msg', hex(msg), '--ctx', hex(ctx),
      '--sig', hex(nsig)]);
    check(`${alg} noble-sign/qcn-verify`, v.status === 0, `exit ${v.status}: ${v.stderr.trim()}`);
    const tsig = Uint8Array.from(nsig);
    tsig[(i * 71) % tsig.length] ^= 0x01;
    const t = run(['crypto', 'verify', '--alg', alg, '--pk', q.pk, '--msg', hex(msg), '--ctx', hex(ctx),
      '--sig', hex(tsig)]);
    check(`${alg} tampered sig rejected by qcn`, t.status === 1, `exit ${t.status}: ${t.stderr.trim()}`);
  }
}

let total = 0;
for (const [family, c] of counts) {
  console.log(`${family}: ${c.ok}/${c.total}`);
  total += c.total;
}
console.log(`${total - failures} passed, ${failures} failed`);
process.exit(failures === 0 && total > 0 ? 0 : 1);
