// The BUILT package as a merchant gets it: `npm pack` of pkg/, installed from the tarball into a
// throwaway project outside the repo (mktemp -d), with the fixture scripts copied in.
// scripts/test-npm.sh makes one and passes it in KP_NPM_PROJECT; a test file run on its own
// makes its own.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TOOLS = join(ROOT, '.tools');
export const RUNTIMES = {
  node20: join(TOOLS, 'node-20.0.0/bin/node'),
  node22: join(TOOLS, 'node-22.23.3/bin/node'),
  bun: join(TOOLS, 'bun-1.4.5/bin/bun'),
  deno: join(TOOLS, 'deno-2.9.6/deno'),
};

export function makeProject() {
  if (!existsSync(join(ROOT, 'pkg/package.json'))) throw new Error('pkg/ is missing: run `bash scripts/build-npm.sh` first');
  const dir = mkdtempSync(join(tmpdir(), 'kp-npm-project-'));
  execFileSync('npm', ['pack', join(ROOT, 'pkg'), '--pack-destination', dir, '--silent'], { cwd: dir, stdio: 'pipe', timeout: 60_000 });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: 'kp-merchant-backend', private: true, type: 'module', dependencies: { kelantanpay: `file:./${tarball}` },
  }, null, 2));
  // A local tarball with no dependencies: nothing is fetched.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent'], { cwd: dir, stdio: 'pipe', timeout: 120_000 });
  cpSync(fileURLToPath(new URL('fixture/', import.meta.url)), dir, { recursive: true });
  return dir;
}

let project;
export function theProject() {
  if (!project && process.env.KP_NPM_PROJECT) project = process.env.KP_NPM_PROJECT;
  if (!project) {
    // Made for this file alone: removed when it ends.
    project = makeProject();
    const made = project;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return project;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(makeProject());
