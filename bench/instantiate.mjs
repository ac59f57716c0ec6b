// Compile + instantiate time of the Worker's wasm (median of 15), with stub imports: what a cold
// isolate pays before its first request. Needs Node 22 (the wasm uses exception-handling opcodes
// that Node 20 cannot compile); bench/run.mjs fetches one into .tools/ from the npm registry.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bytes = readFileSync(fileURLToPath(new URL('../worker/build/index_bg.wasm', import.meta.url)));
const stubs = (module) => {
  const imports = {};
  for (const { module: name, name: field, kind } of WebAssembly.Module.imports(module)) {
    imports[name] ??= {};
    if (kind === 'function') imports[name][field] = () => {};
    else if (kind === 'table') imports[name][field] = new WebAssembly.Table({ initial: 1024, element: 'externref' });
    else if (kind === 'tag') imports[name][field] = WebAssembly.JSTag ?? new WebAssembly.Tag({ parameters: ['externref'] });
  }
  return imports;
};
const compile = [];
const instantiate = [];
for (let i = 0; i < 15; i += 1) {
  const t0 = performance.now();
  const module = new WebAssembly.Module(bytes);
  const t1 = performance.now();
  new WebAssembly.Instance(module, stubs(module));
  instantiate.push(performance.now() - t1);
  compile.push(t1 - t0);
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [firstCompile, firstInstantiate] = [compile[0], instantiate[0]];
console.log(`Worker wasm in Node ${process.version}: first compile ${firstCompile.toFixed(1)} ms + instantiate ${firstInstantiate.toFixed(2)} ms; median of 15: compile ${median(compile).toFixed(1)} ms + instantiate ${median(instantiate).toFixed(2)} ms (V8 compiles functions lazily, on first call).`);
