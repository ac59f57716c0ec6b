// Workers and bundlers that import a .wasm file as a WebAssembly.Module (wrangler; esbuild
// with --loader:.wasm=copy): Workers cannot compile wasm from bytes at run time.
import wasm from '../kelantanpay_bg.wasm';
import { init } from './api.mjs';

init(wasm);

export { KelantanPay, KelantanPayError, verifyWebhook, signWebhook, parseCallback } from './api.mjs';
