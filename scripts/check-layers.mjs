// The Worker's layers (ARCHITECTURE.md), checked by reading its source:
// 1. the pure folders (payment, limits, config, http) never name the Worker runtime, the JS
//    bindings or the folders that do (runtime, objects) or the simulation;
// 2. imports between folders run downward only: payment, limits < config < http < runtime < objects < sim
//    (payment and limits do not use each other);
// 3. no circle between files: a file's `use` of a sibling or cousin is an edge (a child's use of its
//    own parent module, which declares it, is not), and the graph has no cycle.
// Test files (tests.rs, testing.rs, sim/) may import fixtures sideways but never the runtime.
// Prints every offence and exits 1 if there is one. `node scripts/check-layers.mjs`
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, basename } from 'node:path';

const root = new URL('../worker/src/', import.meta.url).pathname;
const PURE = ['payment', 'limits', 'config', 'http'];
const RANK = { payment: 0, limits: 0, config: 1, http: 2, runtime: 3, objects: 4, sim: 5 };
const RUNTIME_NAMES = /\b(?:worker|js_sys|web_sys|wasm_bindgen|wasm_bindgen_futures)::|#\[(?:wasm_bindgen|durable_object|event)\b|crate::(?:runtime|objects|sim)\b/;

const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.rs')) files.push(relative(root, path));
  }
})(root);

// A file's module path: payment/slot_machine/mod.rs -> payment::slot_machine.
const modOf = (file) => {
  const parts = file.replace(/\.rs$/, '').split('/');
  if (parts.at(-1) === 'mod' || parts.at(-1) === 'lib') parts.pop();
  return parts.join('::');
};
const byMod = new Map(files.map((f) => [modOf(f), f]));
const isTest = (file) => /(^|\/)(tests|testing)\.rs$/.test(file) || file.startsWith('sim/');
const top = (mod) => mod.split('::')[0];

// The longest module prefix of a path that is a file of ours.
const resolve = (path) => {
  const parts = path.split('::');
  for (let n = parts.length; n > 0; n--) {
    const m = parts.slice(0, n).join('::');
    if (byMod.has(m)) return m;
  }
  return null;
};

const offences = [];
const edges = new Map();
for (const file of files) {
  const mod = modOf(file);
  const text = readFileSync(join(root, file), 'utf8')
    .split('\n')
    .map((line) => line.replace(/\/\/.*$/, ''));
  const folder = top(mod);
  const out = new Set();
  text.forEach((line, i) => {
    const where = `${file}:${i + 1}: ${line.trim()}`;
    if (PURE.includes(folder) && RUNTIME_NAMES.test(line)) offences.push(`pure ${folder}/ names the runtime: ${where}`);
    const paths = [];
    for (const m of line.matchAll(/\bcrate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)/g)) paths.push(m[1]);
    // `super::x` from a file: relative to its parent module.
    for (const m of line.matchAll(/\b((?:super::)+)((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)/g)) {
      const ups = m[1].length / 7;
      const base = file.endsWith('mod.rs') ? mod.split('::') : mod.split('::').slice(0, -1);
      const from = mod.split('::').slice(0, mod.split('::').length - ups);
      // A child's `super::` is its parent: not an edge, unless it reaches through to a sibling.
      const target = [...from, ...m[2].split('::')].join('::');
      void base;
      paths.push(target);
    }
    for (const path of paths) {
      const target = resolve(path);
      if (!target || target === mod || target === '') continue;
      // A child using its own ancestor module file (which declares it) is not an edge.
      if (mod.startsWith(target + '::')) continue;
      out.add(target);
      const [a, b] = [folder, top(target)];
      if (a !== b && a in RANK && b in RANK) {
        const up = RANK[b] > RANK[a] || (RANK[b] === RANK[a] && a !== b);
        if (up && !(isTest(file) && !RUNTIME_NAMES.test(`crate::${b}::`))) offences.push(`${a}/ imports ${b}/ (imports run downward): ${where}`);
      }
    }
  });
  edges.set(mod, out);
}

// Cycles (Tarjan), over every file but tests.rs / testing.rs (the simulation included).
const unitTest = (m) => /(^|\/)(tests|testing)\.rs$/.test(byMod.get(m));
const graph = new Map([...edges].filter(([m]) => !unitTest(m)).map(([m, o]) => [m, [...o].filter((t) => !unitTest(t))]));
let index = 0;
const idx = new Map(), low = new Map(), stack = [], on = new Set();
const strong = (v) => {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const scc = [];
    let w;
    do { w = stack.pop(); on.delete(w); scc.push(w); } while (w !== v);
    if (scc.length > 1) offences.push(`import circle: ${scc.map((m) => byMod.get(m)).join(' <-> ')}`);
  }
};
for (const v of graph.keys()) if (!idx.has(v)) strong(v);

// 4. Each type name once in the project (core, Worker, npm crate): a reader who meets `Reply`
//    knows which one it is. Associated types (`type Output = ...` in an impl) are not names.
const typeNames = new Map();
const repo = new URL('../', import.meta.url).pathname;
for (const dir of ['src', 'worker/src', 'js/src']) {
  (function walk(d) {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) { walk(path); continue; }
      if (!name.endsWith('.rs')) continue;
      readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
        const m = line.match(/^\s*(?:pub(?:\([a-z]+\))? )?(?:struct|enum|trait|union) ([A-Z][A-Za-z0-9]*)/)
          ?? line.match(/^(?:pub(?:\([a-z]+\))? )?type ([A-Z][A-Za-z0-9]*)/);
        if (m) typeNames.set(m[1], [...(typeNames.get(m[1]) ?? []), `${relative(repo, path)}:${i + 1}`]);
      });
    }
  })(join(repo, dir));
}
for (const [name, places] of typeNames) {
  if (places.length > 1) offences.push(`type name ${name} is used ${places.length} times: ${places.join(', ')}`);
}

if (offences.length) {
  for (const o of offences) console.error(o);
  console.error(`\n${offences.length} layering offence(s) in worker/src`);
  process.exit(1);
}
console.log(`layers: ${files.length} files; the pure folders name no runtime, imports run downward, no circle`);
