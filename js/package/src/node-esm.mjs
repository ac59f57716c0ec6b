// Node ES modules: the CommonJS build's one instance, so `import` and `require` share the
// same KelantanPayError class.
import lib from './node.cjs';

export const { KelantanPay, KelantanPayError, verifyWebhook, signWebhook, parseCallback } = lib;
