// `qcn crypto keygen|encaps|decaps --alg ml-kem-*` through the real program:
// field sets of the text and --json outputs, round trips, and exit code 2
// with a message naming the bad argument for every kind of bad input
// (malformed hex, wrong length, key-check failure, missing or unknown
// options). Uses only node's standard library.
//
//   node cli_kem.mjs /path/to/qcn
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const qcn = process.argv[2];
if (!qcn) {
  console.error('usage: node cli_kem.mjs /path/to/qcn');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else {
    failed++;
    console.error(`FAIL ${name} ${detail}`);
  }
}

function run(...args) {
  const r = spawnSync(qcn, ['crypto', ...args], { encoding: 'utf8', timeout: 30000 });
  if (r.error) throw r.error;
  return r;
}

function lines(stdout) {
  const out = {};
  for (const l of stdout.trim().split('\n')) {
    const m = /^([a-z]+): ([0-9a-f]*)$/.exec(l);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

// Expects exit 2 and a stderr message that mentions `needle`.
function bad(name, needle, ...args) {
  const r = run(...args);
  check(name, r.status === 2 && r.stderr.includes(needle) && r.stdout === '',
    `exit ${r.status} stderr "${r.stderr.trim()}"`);
}

const sizes = {
  'ml-kem-512': { ek: 800, dk: 1632, ct: 768 },
  'ml-kem-768': { ek: 1184, dk: 2400, ct: 1088 },
  'ml-kem-1024': { ek: 1568, dk: 3168, ct: 1568 },
};

for (const [alg, sz] of Object.entries(sizes)) {
  // Text output: exactly the FIPS names, right sizes.
  const seed = randomBytes(64).toString('hex');
  const k = run('keygen', '--alg', alg, '--seed', seed);
  const kf = lines(k.stdout);
  check(`${alg} keygen text`, k.status === 0 && Object.keys(kf).join(',') === 'ek,dk,seed' &&
    kf.ek.length === 2 * sz.ek && kf.dk.length === 2 * sz.dk && kf.seed === seed, k.stderr);

  // --json carries the same values; same seed, same keys; 0x prefix accepted.
  const kj = run('keygen', '--alg', alg, '--seed', '0x' + seed.toUpperCase(), '--json');
  const j = JSON.parse(kj.stdout);
  check(`${alg} keygen json`, kj.status === 0 && j.alg === alg && j.ek === kf.ek && j.dk === kf.dk &&
    j.seed === seed);

  // Random keygen: a fresh seed each time.
  const r1 = lines(run('keygen', '--alg', alg).stdout);
  const r2 = lines(run('keygen', '--alg', alg).stdout);
  check(`${alg} keygen random`, r1.seed.length === 128 && r1.seed !== r2.seed && r1.ek !== r2.ek);

  // Round trip.
  const e = lines(run('encaps', '--alg', alg, '--pk', kf.ek).stdout);
  check(`${alg} encaps fields`, e.ct.length === 2 * sz.ct && e.ss.length === 64);
  const d = run('decaps', '--alg', alg, '--sk', kf.dk, '--ct', e.ct, '--json');
  check(`${alg} round trip`, d.status === 0 && JSON.parse(d.stdout).ss === e.ss);

  // Bad inputs: each names its argument.
  bad(`${alg} odd hex seed`, '--seed', 'keygen', '--alg', alg, '--seed', seed.slice(1));
  bad(`${alg} short seed`, '--seed', 'keygen', '--alg', alg, '--seed', seed.slice(2));
  bad(`${alg} non-hex seed`, '--seed', 'keygen', '--alg', alg, '--seed', 'zz' + seed.slice(2));
  bad(`${alg} short pk`, '--pk', 'encaps', '--alg', alg, '--pk', kf.ek.slice(2));
  bad(`${alg} long pk`, '--pk', 'encaps', '--alg', alg, '--pk', kf.ek + '00');
  bad(`${alg} non-hex pk`, '--pk', 'encaps', '--alg', alg, '--pk', 'g' + kf.ek.slice(1));
  bad(`${alg} pk fails 7.2`, 'modulus', 'encaps', '--alg', alg, '--pk', 'ffff' + kf.ek.slice(4));
  bad(`${alg} short m`, '--m', 'encaps', '--alg', alg, '--pk', kf.ek, '--m', '00');
  bad(`${alg} sk fails 7.3`, 'hash check', 'decaps', '--alg', alg, '--sk',
    kf.dk.slice(0, 2 * sz.dk - 130) + (kf.dk[2 * sz.dk - 130] === '0' ? '1' : '0') +
    kf.dk.slice(2 * sz.dk - 129), '--ct', e.ct);
  bad(`${alg} short ct`, '--ct', 'decaps', '--alg', alg, '--sk', kf.dk, '--ct', e.ct.slice(4));
  bad(`${alg} missing ct`, '--ct', 'decaps', '--alg', alg, '--sk', kf.dk);
  bad(`${alg} missing pk`, '--pk', 'encaps', '--alg', alg);
  bad(`${alg} wrong option`, '--ct', 'encaps', '--alg', alg, '--pk', kf.ek, '--ct', e.ct);
  // Other sets' key sizes are rejected as wrong length.
  for (const [other, osz] of Object.entries(sizes)) {
    if (other === alg) continue;
    bad(`${alg} ek of ${other}`, '--pk', 'encaps', '--alg', alg, '--pk', '00'.repeat(osz.ek));
  }
}
bad('unknown alg', '--alg', 'keygen', '--alg', 'ml-kem-999');
bad('unknown op', 'frob', 'frob', '--alg', 'ml-kem-768');
bad('value missing', '--pk', 'encaps', '--alg', 'ml-kem-768', '--pk');

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
