// Node, Bun, Deno: the wasm is inlined by the build (esbuild's binary loader), so the
// package also bundles with `esbuild --bundle --platform=node` without a loader or a file to copy.
import wasm from '../kelantanpay_bg.wasm';
import { init } from './api.mjs';

init(wasm);

export { KelantanPay, KelantanPayError, verifyWebhook, signWebhook, parseCallback } from './api.mjs';
