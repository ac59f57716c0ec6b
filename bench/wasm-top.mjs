// Where the npm package's wasm bytes go: builds a copy of the shipped wasm that keeps its
// function names (the shipped one is stripped), optimises it as scripts/build-npm.sh does,
// and prints twiggy's top items and the bytes per crate. Needs twiggy (setup.sh --bench).
// Usage: node bench/wasm-top.mjs [N]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const N = Number(process.argv[2] ?? 25);
const twiggy = join(ROOT, '.tools/bin/twiggy');
if (!existsSync(twiggy)) throw new Error('twiggy is missing: run `bash scripts/setup.sh --bench`');
const target = join(ROOT, 'target/wasm-top');
const out = join(target, 'out');
mkdirSync(out, { recursive: true });
const run = (cmd, args, env = {}) => execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });

run('cargo', ['build', '-p', 'kelantanpay-js', '--release', '--target', 'wasm32-unknown-unknown', '--locked', '--quiet', '--target-dir', target],
  { CARGO_PROFILE_RELEASE_STRIP: 'false' });
run(join(ROOT, '.tools/bin/wasm-bindgen'), ['--target', 'web', '--no-typescript', '--keep-debug', '--out-dir', out,
  join(target, 'wasm32-unknown-unknown/release/kelantanpay_js.wasm')]);
const named = join(out, 'named.wasm');
// The shipped build's flags (scripts/npm-wasm-opt.flags), plus -g to keep the names.
const optFlags = readFileSync(join(ROOT, 'scripts/npm-wasm-opt.flags'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
run(join(ROOT, 'node_modules/.bin/wasm-opt'), [...optFlags, '-g', '--strip-dwarf', join(out, 'kelantanpay_js_bg.wasm'), '-o', named]);

const rows = JSON.parse(run(twiggy, ['top', '-n', '100000', '-f', 'json', named]));
const code = rows.filter((r) => !/^(custom section|"function names"|"local names")/.test(r.name) && !r.name.includes('names" subsection'));
const total = code.reduce((n, r) => n + r.shallow_size, 0);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const shipped = join(ROOT, 'pkg/kelantanpay_bg.wasm');
const lines = [];
if (existsSync(shipped)) {
  const bytes = readFileSync(shipped);
  lines.push(`Shipped pkg/kelantanpay_bg.wasm: ${kb(bytes.length)} raw, ${kb(gzipSync(bytes, { level: 9 }).length)} gzip (target ≤ 60 KB, goal ≤ 40 KB).`, '');
}
lines.push(`Code and data without names: ${kb(total)} raw. Top ${N} items (twiggy top):`, '', '| bytes | % | item |', '|---|---|---|');
for (const r of code.slice(0, N)) lines.push(`| ${r.shallow_size} | ${(100 * r.shallow_size / total).toFixed(1)} | \`${r.name.slice(0, 110).replace(/\|/g, '\\|')}\` |`);

// Bytes per crate: the first path segment of each mangled name, `<T as crate::...>` read as crate.
const crateOf = (name) => {
  if (/shim/.test(name)) return '(wasm-bindgen shims of the exports)';
  if (/^data segment/.test(name)) return '(data: strings, tables)';
  const m = name.replace(/^<+/, '').match(/^(?:&mut |&)?([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/);
  return m ? m[1] : '(other)';
};
const perCrate = new Map();
for (const r of code) perCrate.set(crateOf(r.name), (perCrate.get(crateOf(r.name)) ?? 0) + r.shallow_size);
lines.push('', 'By crate:', '', '| crate | bytes | % |', '|---|---|---|');
for (const [crate, bytes] of [...perCrate].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  lines.push(`| ${crate} | ${kb(bytes)} | ${(100 * bytes / total).toFixed(1)} |`);
}
console.log(lines.join('\n'));
