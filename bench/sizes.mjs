// Sizes of what ships: the npm package's wasm and the Worker's, raw and gzip (level 9), against
// their targets. Expects the builds (make build-npm, make build-worker).
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FILES = [
  ['npm package (Node)', 'pkg/node/kelantanpay_bg.wasm', 60],
  ['npm package (ESM/Workers)', 'pkg/esm/kelantanpay_bg.wasm', 60],
  ['Worker', 'worker/build/index_bg.wasm', 200],
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

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(sizeTable());
