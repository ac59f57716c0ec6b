// Node (CommonJS): the wasm-bindgen module loads its wasm synchronously from disk.
const lib = require('./kelantanpay.js');

module.exports = { KelantanPay: lib.KelantanPay, KelantanPayError: lib.KelantanPayError() };
