// The declarations as a TypeScript user meets them: tsc --strict over a typed usage sample
// (with lines that must not compile) under node16 and bundler resolution, from the installed
// tarball; publint and arethetypeswrong on the package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, theProject } from './project.mjs';

const run = promisify(execFile);
const bin = (name) => join(ROOT, 'node_modules/.bin', name);

for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) {
  test(`tsc --strict -p ${config}: the sample compiles and the wrong lines do not`, async () => {
    const result = await run(bin('tsc'), ['-p', config], { cwd: theProject(), timeout: 120_000 }).catch((e) => e);
    assert.equal(result.code ?? 0, 0, `${result.stdout}${result.stderr}`);
  });
}

test('tsc catches the sample breaking (the @ts-expect-error lines really fail)', async () => {
  const dir = theProject();
  const result = await run(bin('tsc'), ['--strict', '--noEmit', '--module', 'node16', '--moduleResolution', 'node16', '--lib', 'es2022,dom,esnext.disposable', 'bad.ts'], { cwd: dir, timeout: 120_000 }).catch((e) => e);
  assert.notEqual(result.code ?? 0, 0);
  assert.match(result.stdout, /bad\.ts\(\d+,\d+\): error TS2322: Type '"Desktop"'/);
});

test('publint: no packaging errors or warnings', async () => {
  const { stdout } = await run(bin('publint'), ['--strict', join(ROOT, 'pkg')], { timeout: 60_000 });
  assert.doesNotMatch(stdout, /error|warning|suggestion/i, stdout);
});

test('arethetypeswrong: every resolution mode finds correct declarations', async () => {
  const result = await run(bin('attw'), ['--pack', join(ROOT, 'pkg'), '--format', 'json', '--exclude-entrypoints', './kelantanpay_bg.wasm'], { cwd: theProject(), timeout: 120_000 }).catch((e) => e);
  const report = JSON.parse(result.stdout);
  assert.ok(report.analysis, result.stdout.slice(0, 2000) + result.stderr);
  assert.deepEqual(Object.keys(report.problems ?? {}), [], JSON.stringify(report.problems).slice(0, 3000));
  // The check looked at every mode, so "no problems" means something.
  assert.deepEqual(Object.keys(report.analysis.entrypoints['.'].resolutions).sort(), ['bundler', 'node10', 'node16-cjs', 'node16-esm']);
});
