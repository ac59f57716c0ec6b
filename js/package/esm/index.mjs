// Workers and bundlers that import a .wasm file as a WebAssembly.Module (wrangler, esbuild).
import wasmModule from './kelantanpay_bg.wasm';
import { initSync, KelantanPay, KelantanPayError as errorClass } from './kelantanpay.js';

initSync({ module: wasmModule });

export { KelantanPay };
export const KelantanPayError = errorClass();
