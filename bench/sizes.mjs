// Sizes of what ships: the npm package's wasm and the Worker's, raw and gzip (level 9), against
// their targets. Expects the builds (make build-npm, make build-worker).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FILES = [
  // One wasm file for Workers; dist/node.cjs inlines the same bytes (base64) for Node, Bun, Deno.
  ['npm package', 'pkg/kelantanpay_bg.wasm', 60],
  ['Worker', 'worker/build/index_bg.wasm', 240],
];

export function sizes() {
  return FILES.filter(([, path]) => existsSync(ROOT + path)).map(([what, path, targetKb]) => {
    const bytes = readFileSync(ROOT + path);
    return { what, path, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, targetKb };
  });
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

export function sizeTable() {
  const rows = sizes().map((s) =>
    `| ${s.what} | \`${s.path}\` | ${kb(s.raw)} | ${kb(s.gzip)} | ≤ ${s.targetKb} KB | ${s.gzip <= s.targetKb * 1024 ? 'met' : 'missed'} |`);
  return ['| wasm | file | raw | gzip | target (gzip) | |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

/** The package as npm would publish it: the tarball and what it unpacks to. */
export function packageSize() {
  if (!existsSync(ROOT + 'pkg/package.json')) return null;
  const [report] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', ROOT + 'pkg'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  return `npm package tarball: ${kb(report.size)} (unpacked ${kb(report.unpackedSize)}, ${report.entryCount} files).`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log([sizeTable(), '', packageSize() ?? ''].join('\n'));
