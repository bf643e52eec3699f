// Compiles contracts/*.sol with solc (solcjs, pinned in package-lock.json)
// and OpenZeppelin from node_modules, for the Cancun EVM, with the optimizer.
// Usage as a script: node compile.mjs [OUT.json] (default: print a summary).
// As a module: compileAll() -> { ContractName: { abi, bytecode, deployedBytecode } }.
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'contracts');

function findImport(path) {
  for (const base of [join(here, 'node_modules'), srcDir]) {
    const p = join(base, path);
    if (existsSync(p)) return { contents: readFileSync(p, 'utf8') };
  }
  return { error: `not found: ${path}` };
}

export function standardInput() {
  const sources = {};
  for (const f of readdirSync(srcDir).filter((n) => n.endsWith('.sol')).sort()) {
    sources[f] = { content: readFileSync(join(srcDir, f), 'utf8') };
  }
  return {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: 'cancun',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
}

// Compiles (or reuses cachePath when it holds the output for the same input
// and compiler). Throws with solc's messages on any error.
export function compileAll(cachePath) {
  const input = JSON.stringify(standardInput());
  const key = createHash('sha256').update('artifacts-v2').update(solc.version()).update(input).digest('hex');
  if (cachePath && existsSync(cachePath)) {
    const cached = JSON.parse(readFileSync(cachePath, 'utf8'));
    if (cached.key === key) return cached.contracts;
  }
  const out = JSON.parse(solc.compile(input, { import: findImport }));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const contracts = {};
  for (const file of Object.keys(out.contracts)) {
    // Our sources, plus the one OpenZeppelin contract deployed as is.
    if (file.startsWith('@') && !file.endsWith('/TimelockController.sol')) continue;
    for (const [name, c] of Object.entries(out.contracts[file])) {
      contracts[name] = { abi: c.abi, bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object };
    }
  }
  if (cachePath) writeFileSync(cachePath, JSON.stringify({ key, solc: solc.version(), contracts }));
  return contracts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const c = compileAll(process.argv[2]);
  for (const [n, v] of Object.entries(c)) console.log(`${n}: ${(v.bytecode.length - 2) / 2} bytes init code`);
  console.log(`solc ${solc.version()}, ${Date.now() - t0} ms`);
}
